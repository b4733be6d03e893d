"""The open months' base rows up to a watermark, kept so that a report reads only what came
after it.

A report's one pass over its month's events was most of its time (1.2 s of 1.8 s at 1,000,000
cases). The pass is additive: counts and sums by accepting and responsible district, item,
center and agreement (report.BASE_KEYS). Beat counts the city's rows for every event up to a
watermark and keeps them; a report of any scope takes the kept rows of its cases and adds the
rows of the events recorded after the watermark, which the primary key finds at once. Whether a
completion was on time depends on due days that a calendar import may recount, so kept rows
serve only while the calendar's revision is the one they were counted with.

Closing a month does not use them: its frozen figures are counted from the timeline alone.
"""

from datetime import date

from psycopg.errors import LockNotAvailable
from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from service.cases.models import CaseEvent
from service.clock import SHANGHAI, local_today, now_utc
from service.reference import CALENDAR, revision
from service.stats.models import StatMonth, StatPartial
from service.stats.report import (
    BASE_KEYS,
    FIGURES,
    FigureRow,
    base_rows,
    month_bounds,
    month_starts,
    rollup,
)

# Steps wait while the watermark is read; if that cannot start within this (a long
# transaction holds the timeline), try next time rather than hold intake back.
LOCK_TIMEOUT = "1s"


def _watermark(session: Session) -> int | None:
    """The newest event id under which every event has committed or never will; None if
    steps being written did not let go of the timeline within LOCK_TIMEOUT."""
    session.commit()
    session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
    try:
        # Waits for the steps being written and holds new ones back for the one read below.
        session.execute(text("LOCK TABLE case_events IN SHARE MODE"))
    except OperationalError as err:
        session.rollback()
        if isinstance(err.orig, LockNotAvailable):
            return None
        raise
    watermark = session.scalar(select(func.coalesce(func.max(CaseEvent.id), 0)))
    session.commit()
    return watermark


def refresh(session: Session, month: str) -> StatPartial | None:
    """Count `month`'s events up to a fresh watermark and keep the rows; None (and the kept
    rows left as they were) if no watermark could be read now."""
    watermark = _watermark(session)
    if watermark is None:
        return None
    # One snapshot for the calendar's revision and the counts, so that they agree.
    session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    calendar_revision = revision(session, CALENDAR)
    start, end, _first, _last = month_bounds(month)
    rows = [
        {key: getattr(row, key) for key in (*BASE_KEYS, *FIGURES)}
        for row in base_rows(session, start, end, None, up_to_event=watermark)
    ]
    values = {
        "watermark": watermark,
        "calendar_revision": calendar_revision,
        "rows": rows,
        "made_at": now_utc(),
    }
    stmt = insert(StatPartial).values(month=month, **values)
    # Only forward: a slow refresh must not put back rows older than a quicker one's.
    stmt = stmt.on_conflict_do_update(
        index_elements=[StatPartial.month],
        set_=values,
        where=StatPartial.watermark < stmt.excluded.watermark,
    )
    session.execute(stmt)
    session.commit()
    return session.get(StatPartial, month)


def open_months(session: Session, today: date | None = None) -> list[str]:
    """Every month since the first intake that is not closed, up to the current one: just the
    current month, but for the hour or so after a month ends before beat closes it."""
    today = today or local_today()
    current = f"{today:%Y-%m}"
    first = session.scalar(
        select(func.min(CaseEvent.occurred_at)).where(CaseEvent.type == "submitted")
    )
    if first is None:
        return [current]
    last_closed = session.scalar(select(func.max(StatMonth.month))) or ""
    earlier = [f"{day:%Y-%m}" for day in month_starts(first.astimezone(SHANGHAI).date(), today)]
    return [m for m in earlier if m > last_closed] + [current]


def refresh_open_months(session: Session) -> dict[str, int | None]:
    """Refresh every open month's kept rows; drop those of closed months. Month -> watermark
    (None where the timeline was too busy this time)."""
    done = {}
    for month in open_months(session):
        partial = refresh(session, month)
        done[month] = partial and partial.watermark
    session.execute(delete(StatPartial).where(StatPartial.month.in_(select(StatMonth.month))))
    session.commit()
    return done


def kept_base(session: Session, month: str, scope: str | None) -> list | None:
    """`month`'s base rows for the scope from the kept rows and the events after them; None if
    none are kept or they were counted with another calendar."""
    partial = session.get(StatPartial, month)
    if partial is None or partial.calendar_revision != revision(session, CALENDAR):
        return None
    start, end, _first, _last = month_bounds(month)
    kept = [
        FigureRow(row)
        for row in partial.rows
        if scope is None or scope in (row["accepting_district"], row["responsible_district"])
    ]
    later = base_rows(session, start, end, scope, after_event=partial.watermark)
    return rollup([*kept, *later], *BASE_KEYS)
