"""The monthly report, computed from the timeline exactly as docs/statistics.md defines it.

A case step counts in the month (Asia/Shanghai) of its timeline event: intake in the month of
`submitted`, acceptance of `accept`, and so on, so a case that crosses a month end counts in both
months, once for each step. Completion is on time when its local date is no later than the
completion deadline, which already includes the working days a special procedure paused it.
"""

import hashlib
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Date, and_, cast, func, literal, or_, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from catalog.districts import DISTRICT_NAMES
from catalog.models import Agreement
from catalog.repository import item_names
from service.accounts.models import ServiceCenter
from service.cases.events import MEASURES as EVENT_MEASURES
from service.cases.events import EventType
from service.cases.lifecycle import STATUS_ZH, Status
from service.cases.models import Case, CaseEvent
from service.cases.personal import mask_name
from service.clock import SHANGHAI, local_midnight, local_today
from service.clocks.calendar import WorkCalendar
from service.clocks.deadlines import KIND_ZH, Kind
from service.clocks.models import Deadline
from service.ratings.levels import LEVELS
from service.ratings.models import Rating, Rectification
from service.stats.models import StatMonth

# figure -> the timeline event type that counts it, from the event table (in the export's order)
MEASURES: dict[str, str] = {name: event.value for name, event in EVENT_MEASURES.items()}
MEASURES_ZH: dict[str, str] = {
    "submitted": "收件量",
    "forwarded": "转办量",
    "accepted": "受理量",
    "supplements_requested": "补正告知",
    "rejected": "不予受理",
    "withdrawn": "撤回",
    "completed": "办结量",
    "completed_on_time": "按时办结",
    "working_days_to_complete": "办结用时合计（工作日）",
}
# Counts and sums: every view adds them up. Rates and averages are derived (see `derived`).
FIGURES = [*MEASURES, "completed_on_time", "working_days_to_complete"]
DERIVED_ZH = {"on_time_rate": "按时办结率", "average_working_days": "平均办结用时（工作日）"}


def month_bounds(month: str) -> tuple[datetime, datetime, date, date]:
    """[start, end) in UTC-aware datetimes, and the first and last local days, of YYYY-MM."""
    first = date.fromisoformat(f"{month}-01")
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return local_midnight(first), local_midnight(following), first, following - timedelta(days=1)


def _local_day(column):
    return cast(func.timezone("Asia/Shanghai", column), Date)


def _in_scope(scope: str | None):
    if scope is None:
        return literal(True)
    return or_(Case.accepting_district == scope, Case.responsible_district == scope)


def _counts(session: Session, start, end, scope, *group, **options) -> list:
    """The figures, grouped by `group`, for the steps that happened in [start, end); options
    as `_counts_statement` takes them."""
    return session.execute(_counts_statement(start, end, scope, *group, **options)).all()


def _counts_statement(
    start,
    end,
    scope,
    *group,
    after_event: int = 0,
    up_to_event: int | None = None,
    where=None,
):
    """The query of `_counts`: steps recorded after event `after_event` (and up to
    `up_to_event`)."""
    # Looked up for completions only, not joined for every event of the month.
    on_time = (
        select(Deadline.id)
        .where(
            Deadline.case_id == CaseEvent.case_id,
            Deadline.kind == Kind.COMPLETE,
            Deadline.due_on >= _local_day(CaseEvent.occurred_at),
        )
        .exists()
    )
    columns = [
        func.count().filter(CaseEvent.type == event).label(name) for name, event in MEASURES.items()
    ]
    completion = CaseEvent.type == EventType.COMPLETED.value
    columns.append(func.count().filter(and_(completion, on_time)).label("completed_on_time"))
    columns.append(
        func.coalesce(
            func.sum(CaseEvent.data["working_days"].as_integer()).filter(completion), 0
        ).label("working_days_to_complete")
    )
    stmt = (
        select(*group, *columns)
        .select_from(CaseEvent)
        .join(Case, Case.id == CaseEvent.case_id)
        .where(
            CaseEvent.occurred_at >= start,
            CaseEvent.occurred_at < end,
            CaseEvent.type.in_(list(MEASURES.values())),
            CaseEvent.id > after_event,
            literal(True) if up_to_event is None else CaseEvent.id <= up_to_event,
            _in_scope(scope),
            literal(True) if where is None else where,
        )
    )
    if group:
        stmt = stmt.group_by(*group).order_by(*group)
    return stmt


def derived(figures: dict) -> dict:
    """The figures with the on-time rate (on time over completed) and the average working days
    to complete added; both None when nothing was completed."""
    done = figures.get("completed")
    return {
        **figures,
        "on_time_rate": round(figures["completed_on_time"] / done, 4) if done else None,
        "average_working_days": (
            round(figures["working_days_to_complete"] / done, 2) if done else None
        ),
    }


def _figures(row) -> dict[str, int]:
    return derived({name: getattr(row, name) or 0 for name in FIGURES})


def _month_of_event():
    return func.to_char(func.timezone("Asia/Shanghai", CaseEvent.occurred_at), "YYYY-MM")


def late_counts(session: Session, after_event: int, before: datetime, scope: str | None) -> list:
    """Figures of events recorded after event `after_event` that happened before `before`, by
    month and district pair: corrections to closed months."""
    month = _month_of_event()
    return _counts(
        session,
        datetime(2000, 1, 1, tzinfo=SHANGHAI),
        before,
        scope,
        month.label("month"),
        Case.accepting_district,
        Case.responsible_district,
        after_event=after_event,
    )


# The month's one pass over its events is grouped by these; every view is a sum of its rows.
BASE_KEYS = (
    "accepting_district",
    "responsible_district",
    "item_code",
    "accepting_center_id",
    "agreement_id",
)


_BASE_GROUP = [getattr(Case, key) for key in BASE_KEYS]


def base_rows(
    session: Session, start, end, scope, *, after_event: int = 0, up_to_event: int | None = None
) -> list:
    """The figures of the steps in [start, end) by BASE_KEYS, for the city (scope None) or the
    cases a district accepted or is responsible for."""
    return _counts(
        session, start, end, scope, *_BASE_GROUP, after_event=after_event, up_to_event=up_to_event
    )


@cache
def counting_signature() -> str:
    """A digest of the query that counts base rows: rows counted by another version of it (a
    figure added, or counted another way) must not be added to rows counted by this one."""
    never = datetime(2000, 1, 1, tzinfo=SHANGHAI)
    stmt = _counts_statement(never, never, None, *_BASE_GROUP, up_to_event=0)
    return hashlib.sha256(str(stmt.compile(dialect=postgresql.dialect())).encode()).hexdigest()


def rollup(rows, *keys: str) -> list[dict]:
    """Sum the month's base rows over everything but `keys`, in key order."""
    sums: dict[tuple, dict[str, int]] = {}
    for row in rows:
        key = tuple(getattr(row, k) for k in keys)
        into = sums.setdefault(key, dict.fromkeys(FIGURES, 0))
        for figure in FIGURES:
            into[figure] += getattr(row, figure)
    return [
        FigureRow(**dict(zip(keys, key, strict=True)), **figures)
        for key, figures in sorted(sums.items(), key=lambda kv: tuple(str(k) for k in kv[0]))
    ]


class FigureRow(dict):
    """A row of keys and figures, read like a result row (row.submitted)."""

    __getattr__ = dict.get


def _matrix(rows) -> list[dict]:
    rows = rollup(rows, "accepting_district", "responsible_district")
    return [
        {
            "accepting": r.accepting_district,
            "accepting_name": DISTRICT_NAMES.get(r.accepting_district),
            "responsible": r.responsible_district,
            "responsible_name": DISTRICT_NAMES.get(r.responsible_district),
            **_figures(r),
        }
        for r in rows
    ]


def _items(session, base, last_day: date) -> list[dict]:
    rows = rollup(base, "item_code")
    # The catalog's name at the month's end: reading it off the cases was a GROUP BY over all.
    names = item_names(session, [r.item_code for r in rows], last_day)
    return [{"code": r.item_code, "name": names.get(r.item_code), **_figures(r)} for r in rows]


def _centers(session, base) -> list[dict]:
    rows = rollup(base, "accepting_center_id")
    centers = {c.id: c for c in session.scalars(select(ServiceCenter))}
    out = [
        {
            "code": centers[r.accepting_center_id].code,
            "name": centers[r.accepting_center_id].name,
            "district": centers[r.accepting_center_id].district_code,
            **_figures(r),
        }
        for r in rows
    ]
    return sorted(out, key=lambda c: c["code"])


def month_of(day: date) -> str:
    return f"{day:%Y-%m}"


def months_with_cases(session: Session, today: date | None = None) -> list[str]:
    """Every month from the first intake up to, not including, the current one."""
    first = session.scalar(
        select(func.min(CaseEvent.occurred_at)).where(CaseEvent.type == "submitted")
    )
    if first is None:
        return []
    until = today or local_today()
    return [month_of(day) for day in month_starts(first.astimezone(SHANGHAI).date(), until)]


def month_starts(first: date, until: date):
    """The first day of every month from `first`'s month up to, not including, `until`'s."""
    day = first.replace(day=1)
    while day < until.replace(day=1):
        yield day
        day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _agreements(session, start, end, scope, base) -> list[dict]:
    """Each agreement's month, and its total since it took effect.

    The total adds the frozen figures of closed months (as reported, so they stay what was
    published) to figures computed now for months not closed, so it never rescans years of
    timeline once months are closed.
    """
    scope_key = scope or "city"
    this_month = {r.agreement_id: r for r in rollup(base, "agreement_id")}
    # Only each closed month's agreements of this scope, picked out in SQL: the whole frozen
    # reports of every closed month took longer to load than the month's own figures.
    frozen = StatMonth.reports[scope_key]["agreements"]
    closed, watermarks = {}, []
    for month, watermark, agreements in session.execute(
        select(StatMonth.month, StatMonth.watermark, frozen)
    ):
        closed[month] = {a["code"]: a["month"] for a in agreements}
        watermarks.append(watermark)
    corrections = _closed_month_corrections(session, start, scope, watermarks)
    out = []
    for agreement in session.scalars(select(Agreement).order_by(Agreement.code)):
        month = _figures(this_month[agreement.id]) if agreement.id in this_month else None
        total = dict(month or dict.fromkeys(FIGURES, 0))
        for earlier in [
            *_earlier(session, agreement, start, scope, closed),
            corrections.get(agreement.id, {}),
        ]:
            for figure in FIGURES:
                total[figure] += earlier.get(figure, 0)
        if month is None and not any(total[f] for f in FIGURES):
            continue
        total = derived(total)
        out.append(
            {
                "code": agreement.code,
                "name": agreement.name,
                "since": agreement.effective_from.isoformat(),
                "month": month or derived(dict.fromkeys(FIGURES, 0)),
                "since_start": total,
            }
        )
    return out


def _closed_month_corrections(session, start: datetime, scope, watermarks: list[int]) -> dict:
    """By agreement, the steps that belong to a closed month before `start` but were recorded
    after it closed (after its watermark): its frozen figures lack them, the total must not."""
    if not watermarks:
        return {}
    late = (
        select(StatMonth.month)
        .where(StatMonth.month == _month_of_event(), StatMonth.watermark < CaseEvent.id)
        .exists()
    )
    rows = _counts(
        session,
        datetime(2000, 1, 1, tzinfo=SHANGHAI),
        start,
        scope,
        Case.agreement_id,
        after_event=min(watermarks),
        where=late,
    )
    return {r.agreement_id: {f: getattr(r, f) for f in FIGURES} for r in rows}


def _earlier(session, agreement: Agreement, start: datetime, scope, closed: dict):
    """The figures of every month between the agreement's start and `start`: frozen ones for
    closed months, one query per run of consecutive months not closed."""
    run: list[date] = []

    def counted(months: list[date]) -> dict:
        run_start = max(
            month_bounds(f"{months[0]:%Y-%m}")[0], local_midnight(agreement.effective_from)
        )
        run_end = month_bounds(f"{months[-1]:%Y-%m}")[1]
        rows = _counts(session, run_start, run_end, scope, Case.agreement_id)
        return next((_figures(r) for r in rows if r.agreement_id == agreement.id), {})

    for first in month_starts(agreement.effective_from, start.date()):
        key = f"{first:%Y-%m}"
        if key in closed:
            if run:
                yield counted(run)
                run = []
            yield closed[key].get(agreement.code, {})
        else:
            run.append(first)
    if run:
        yield counted(run)


def _ratings(session, start, end, scope) -> list[dict]:
    counts = dict(
        session.execute(
            select(Rating.level, func.count())
            .join(Case, Case.id == Rating.case_id)
            .where(
                Rating.recorded_at >= start,
                Rating.recorded_at < end,
                Rating.voided.is_(False),
                _in_scope(scope),
            )
            .group_by(Rating.level)
        ).all()
    )
    return [{"level": k, "level_zh": v, "count": counts.get(k, 0)} for k, v in LEVELS.items()]


def _rectifications(session, start, end, last_day, scope) -> dict[str, int]:
    base = (
        select(func.count())
        .select_from(Rectification)
        .join(Case, Case.id == Rectification.case_id)
        .where(_in_scope(scope))
    )
    open_at_end = and_(
        Rectification.opened_at < end,
        Rectification.status != "voided",
        or_(Rectification.closed_at.is_(None), Rectification.closed_at >= end),
    )
    overdue = base.join(
        Deadline, and_(Deadline.case_id == Case.id, Deadline.kind == Kind.RECTIFY)
    ).where(open_at_end, Deadline.due_on < last_day)
    return {
        "opened": session.scalar(
            base.where(Rectification.opened_at >= start, Rectification.opened_at < end)
        ),
        "closed": session.scalar(
            base.where(Rectification.closed_at >= start, Rectification.closed_at < end)
        ),
        "open_at_month_end": session.scalar(base.where(open_at_end)),
        "overdue_at_month_end": session.scalar(overdue),
    }


def _overdue(session, calendar: WorkCalendar, end, last_day, scope) -> list[dict]:
    """Acceptance and completion deadlines overdue at the month's end, or met late in it.

    Overdue starts the day after the due day, so at the end of the last day a deadline due
    before that day and not met by then is overdue.
    """
    month_start = local_midnight(last_day.replace(day=1))
    late_in_month = and_(
        Deadline.state == "met",
        _local_day(Deadline.met_at) > Deadline.due_on,
        Deadline.met_at >= month_start,
        Deadline.met_at < end,
    )
    still_open = and_(
        Deadline.due_on < last_day,
        Deadline.state != "cancelled",
        Deadline.paused_since.is_(None),  # a special procedure stops the clock
        or_(Deadline.met_at.is_(None), Deadline.met_at >= end),
    )
    rows = session.execute(
        select(
            Deadline.kind,
            Deadline.due_on,
            Deadline.met_at,
            Case.case_no,
            Case.item_name,
            Case.accepting_district,
            Case.responsible_district,
            Case.applicant_name_masked,
            Case.applicant_name,  # only for cases `reencrypt` has not sealed yet
            Case.status,
        )
        .join(Case, Case.id == Deadline.case_id)
        .where(
            Deadline.kind.in_([Kind.ACCEPT, Kind.COMPLETE]),
            Case.created_at < end,
            _in_scope(scope),
            or_(late_in_month, still_open),
        )
        .order_by(Case.case_no, Deadline.kind)
    ).all()
    # Thousands of rows share a few hundred (due, until) pairs; each count walks the days.
    overdue_days = cache(lambda due, until: calendar.count(due, until).working_days)
    out = []
    for r in rows:
        met_by_end = r.met_at is not None and r.met_at < end
        finished = r.met_at.astimezone(SHANGHAI).date() if met_by_end else None
        out.append(
            {
                "case_no": r.case_no,
                "item": r.item_name,
                "accepting": DISTRICT_NAMES.get(r.accepting_district),
                "responsible": DISTRICT_NAMES.get(r.responsible_district),
                "applicant": r.applicant_name_masked or mask_name(r.applicant_name or ""),
                "deadline": KIND_ZH[Kind(r.kind)],
                "due_on": r.due_on.isoformat(),
                "finished_on": finished.isoformat() if finished else None,
                "working_days_overdue": overdue_days(r.due_on, finished or last_day),
                "status_zh": STATUS_ZH[Status(r.status)],
            }
        )
    return out


def monthly_report(
    session: Session,
    calendar: WorkCalendar,
    month: str,
    scope: str | None,
    base: list | None = None,
) -> dict[str, Any]:
    """Every view of the month for the city (scope None) or one district's cases. `base` is
    the month's base rows for the scope if the caller has them (service/stats/partial.py);
    without it they are counted from the timeline in one pass."""
    start, end, _first, last_day = month_bounds(month)
    # The month in progress is judged as of today, not as of a last day still to come.
    as_of = min(last_day, local_today())
    if base is None:
        base = base_rows(session, start, end, scope)
    totals = FigureRow(dict.fromkeys(FIGURES, 0))
    for row in base:
        for figure in FIGURES:
            totals[figure] += getattr(row, figure)
    return {
        "month": month,
        "scope": scope or "city",
        "scope_name": DISTRICT_NAMES.get(scope, "昆明市") if scope else "昆明市",
        "totals": _figures(totals),
        "matrix": _matrix(base),
        "items": _items(session, base, last_day),
        "centers": _centers(session, base),
        "agreements": _agreements(session, start, end, scope, base),
        "ratings": _ratings(session, start, end, scope),
        "as_of": as_of.isoformat(),
        "rectifications": _rectifications(session, start, end, as_of, scope),
        "overdue": _overdue(session, calendar, end, as_of, scope),
    }
