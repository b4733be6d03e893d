"""The open months' base rows up to a watermark, kept so that a report reads only what came
after it.

A report's one pass over its month's events was most of its time (1.2 s of 1.8 s at 1,000,000
cases). The pass is additive: counts and sums by accepting and responsible district, item,
center and agreement (report.BASE_KEYS). Beat counts the city's rows for every event up to a
watermark and keeps them; a report of any scope takes the kept rows of its cases and adds the
rows of the events recorded after the watermark, which the primary key finds at once.

Kept rows serve only while they were counted by the same query (a deploy may add or redefine a
figure) and with the same calendar (whether a completion was on time depends on due days that
a calendar import may recount). Closing a month does not use them: its frozen figures are
counted from the timeline alone.
"""

import time
from datetime import date

from psycopg.errors import LockNotAvailable
from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from service.cases.models import CaseEvent
from service.clock import local_today, now_utc
from service.reference import CALENDAR, revision
from service.stats.models import StatMonth, StatPartial
from service.stats.report import (
    BASE_KEYS,
    FIGURES,
    FigureRow,
    base_rows,
    counting_signature,
    month_bounds,
    month_of,
    months_with_cases,
    rollup,
)

# The watermark is read under a lock that new steps queue behind, so it is asked for briefly
# (below PostgreSQL's deadlock_timeout, so an autovacuum is never cancelled for it) and again
# after a pause; a round that cannot get it keeps the rows it has.
LOCK_TIMEOUT = "150ms"
LOCK_TRIES = 3
LOCK_PAUSE_SECONDS = 1.0


def watermark(session: Session) -> int | None:
    """The newest event id under which every event has committed or never will (None if
    steps being written did not let go of the timeline in LOCK_TRIES tries). Commits the
    session's transaction first."""
    for attempt in range(LOCK_TRIES):
        if attempt:
            time.sleep(LOCK_PAUSE_SECONDS)
        session.commit()
        session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
        try:
            # As a month's close does: wait for the steps being written, and hold new ones
            # back for the one read below. An event id is drawn after its INSERT has locked
            # the table, so none under the newest one seen can commit afterwards.
            session.execute(text("LOCK TABLE case_events IN SHARE MODE"))
        except OperationalError as err:
            session.rollback()
            if not isinstance(err.orig, LockNotAvailable):
                raise
            continue
        newest = session.scalar(select(func.coalesce(func.max(CaseEvent.id), 0)))
        session.commit()
        return newest
    return None


def refresh(session: Session, month: str, up_to: int) -> None:
    """Count `month`'s events up to event `up_to` (a `watermark`) and keep the rows. Commits
    the session's transaction first."""
    session.commit()
    # One snapshot for the calendar's revision and the counts, so that they agree.
    session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    calendar_revision = revision(session, CALENDAR)
    start, end, _first, _last = month_bounds(month)
    rows = [
        {key: getattr(row, key) for key in (*BASE_KEYS, *FIGURES)}
        for row in base_rows(session, start, end, None, up_to_event=up_to)
    ]
    session.commit()  # written apart: two refreshes at once must not fail to serialize
    values = {
        "watermark": up_to,
        "calendar_revision": calendar_revision,
        "counted_as": counting_signature(),
        "rows": rows,
        "made_at": now_utc(),
    }
    stmt = insert(StatPartial).values(month=month, **values)
    # Never back: a slow refresh must not put back rows older than a quicker one's.
    stmt = stmt.on_conflict_do_update(
        index_elements=[StatPartial.month],
        set_=values,
        where=StatPartial.watermark <= stmt.excluded.watermark,
    )
    session.execute(stmt)
    session.commit()


def open_months(session: Session, today: date | None = None) -> list[str]:
    """Every month since the first intake that is not closed, up to the current one: just the
    current month, but for the hour or so after a month ends before beat closes it."""
    today = today or local_today()
    last_closed = session.scalar(select(func.max(StatMonth.month))) or ""
    earlier = [m for m in months_with_cases(session, today) if m > last_closed]
    return [*earlier, month_of(today)]


def refresh_open_months(session: Session) -> dict[str, int] | None:
    """Count every open month up to one watermark and keep the rows; drop closed months' rows.
    Month -> watermark, or None (rows left as they were) if the timeline was too busy."""
    up_to = watermark(session)
    if up_to is None:
        return None
    months = open_months(session)
    for month in months:
        refresh(session, month, up_to)
    session.execute(delete(StatPartial).where(StatPartial.month.in_(select(StatMonth.month))))
    session.commit()
    return dict.fromkeys(months, up_to)


def kept_base(session: Session, month: str, scope: str | None) -> list | None:
    """`month`'s base rows for the scope from the kept rows and the events after them; None if
    none are kept that this code and this calendar can use."""
    partial = session.get(StatPartial, month, populate_existing=True)
    if (
        partial is None
        or partial.counted_as != counting_signature()
        or partial.calendar_revision != revision(session, CALENDAR)
    ):
        return None
    start, end, _first, _last = month_bounds(month)
    kept = [
        FigureRow(row)
        for row in partial.rows
        if scope is None or scope in (row["accepting_district"], row["responsible_district"])
    ]
    later = base_rows(session, start, end, scope, after_event=partial.watermark)
    return rollup([*kept, *later], *BASE_KEYS)
