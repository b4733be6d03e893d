"""The official calendar as stored, importing a newly announced year, and recomputing the
deadlines that were counted without it."""

from dataclasses import dataclass
from datetime import date

from marshmallow import EXCLUDE, Schema, ValidationError
from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from catalog.rows import Day, Label, RowError, Text
from catalog.tabular import RawTable
from service.clock import now_utc
from service.clocks.calendar import HOLIDAY, WORKDAY, WorkCalendar, bundled, official_calendar
from service.clocks.deadlines import due_on
from service.clocks.models import CalendarDay, CalendarYear, Deadline
from service.db import transaction_cache
from service.reference import CALENDAR, LatestBuilt, changed_here

CALENDAR_LOCK = 0x7B0C_CA1E
SHEET = "日历"
DATE, KIND, NAME = "日期", "类型", "名称"
KIND_LABELS = {HOLIDAY: "放假", WORKDAY: "上班"}


class CalendarImportError(Exception):
    """The file has errors; nothing was changed."""

    def __init__(self, errors: list[RowError]):
        super().__init__(f"{len(errors)} errors in the calendar file")
        self.errors = errors


class _DaySchema(Schema):
    class Meta:
        unknown = EXCLUDE

    day = Day(required=True, data_key=DATE)
    kind = Label(KIND_LABELS, required=True, data_key=KIND)
    name = Text(50, load_default=None, data_key=NAME)


@dataclass(frozen=True)
class YearImported:
    year: int
    holidays: int
    workdays: int
    recomputed: int  # deadlines counted again with the year known


# Per transaction: the calendar this transaction loaded.
_CACHED = "tongban.calendar"

# The process's last calendar: it changes once a year, and a delivery or an application needs it.
_latest: LatestBuilt[WorkCalendar] = LatestBuilt(CALENDAR)


def _read_calendar(session: Session) -> WorkCalendar:
    imported: dict[int, dict[date, str]] = {
        year: {} for year in session.scalars(select(CalendarYear.year))
    }
    for day, year, kind in session.execute(
        select(CalendarDay.day, CalendarDay.year, CalendarDay.kind)
    ):
        imported[year][day] = kind
    return official_calendar(imported)


def load_calendar(session: Session) -> WorkCalendar:
    """Bundled official data plus every imported year, as this transaction sees them.

    A delivery or an application counts days two or three times in one transaction, so the
    calendar is kept for the transaction; and across transactions the process keeps the last
    one it built, reusing it while the stored calendar's revision is unchanged. An import
    committed elsewhere gives a new revision, so the next transaction builds it anew; an
    import in this transaction drops the transaction's copy.
    """
    cached = transaction_cache(session, _CACHED)
    if "calendar" not in cached:
        cached["calendar"] = _latest.get(session, lambda: _read_calendar(session))
    return cached["calendar"]


def known_years(session: Session) -> list[dict]:
    """Every year with official data and where it came from."""
    imported = {y.year: y for y in session.scalars(select(CalendarYear))}
    years = sorted(set(bundled()[1]) | set(imported))
    return [
        {
            "year": year,
            "source": imported[year].source if year in imported else "chinese-calendar",
            "imported_by": imported[year].imported_by if year in imported else None,
            "imported_at": imported[year].imported_at if year in imported else None,
        }
        for year in years
    ]


def _parse(year: int, table: RawTable) -> tuple[dict[date, tuple[str, str | None]], list[RowError]]:
    errors = [RowError(SHEET, 1, h, "缺少此列。") for h in (DATE, KIND) if h not in table.headers]
    if errors:
        return {}, errors
    days: dict[date, tuple[str, str | None]] = {}
    rows: dict[date, int] = {}
    for number, cells in table.rows:
        try:
            data = _DaySchema().load({k: v for k, v in cells.items() if v is not None})
        except ValidationError as err:
            for column, messages in err.normalized_messages().items():
                errors += [RowError(SHEET, number, column, m) for m in messages]
            continue
        day, kind = data["day"], data["kind"]
        if day.year != year:
            errors.append(RowError(SHEET, number, DATE, f"不是{year}年的日期。"))
        elif day in rows:
            errors.append(RowError(SHEET, number, DATE, f"与第{rows[day]}行日期重复。"))
        elif kind == WORKDAY and day.weekday() < 5:
            errors.append(RowError(SHEET, number, KIND, "该日本为工作日，只需列出调休上班的周末。"))
        else:
            rows[day] = number
            days[day] = (kind, data["name"])
    if not errors and not any(kind == HOLIDAY for kind, _ in days.values()):
        errors.append(RowError(SHEET, 1, KIND, f"没有列出{year}年的任何放假日期。"))
    return days, errors


def recompute(session: Session, calendar: WorkCalendar) -> int:
    """Count again every running deadline and every one counted without official data.

    Running ones too, because an imported year may correct a year that was already known.
    """
    n = 0
    query = select(Deadline).where(or_(Deadline.provisional.is_(True), Deadline.state == "open"))
    # In id order, as a batch of deliveries flushes its deadlines: the two never deadlock.
    for deadline in session.scalars(query.order_by(Deadline.id).with_for_update()):
        due = due_on(calendar, deadline.starts_on, deadline.limit_days, deadline.paused_days)
        deadline.due_on, deadline.provisional = due.day, due.provisional
        n += 1
    return n


def import_year(
    session: Session, year: int, table: RawTable, *, by: str, source: str
) -> YearImported:
    """Replace `year`'s official days with the file's and recompute provisional deadlines.

    All or nothing: raises CalendarImportError listing every error; the caller commits.
    """
    days, errors = _parse(year, table)
    if errors:
        raise CalendarImportError(errors)
    # Two imports of the same year take turns rather than collide.
    session.execute(select(func.pg_advisory_xact_lock(CALENDAR_LOCK, year)))
    session.execute(delete(CalendarDay).where(CalendarDay.year == year))
    record = session.get(CalendarYear, year) or CalendarYear(year=year)
    record.source, record.imported_by = source[:200], by[:100]
    record.imported_at = now_utc()
    session.add(record)
    session.flush()
    session.add_all(
        CalendarDay(day=day, year=year, kind=kind, name=name) for day, (kind, name) in days.items()
    )
    session.flush()
    # This transaction's calendar has just changed, and so has the revision it read.
    transaction_cache(session, _CACHED).clear()
    changed_here(session)
    recomputed = recompute(session, load_calendar(session))
    kinds = [kind for kind, _ in days.values()]
    return YearImported(year, kinds.count(HOLIDAY), kinds.count(WORKDAY), recomputed)
