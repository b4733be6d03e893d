"""The responsible district's queue: one query for the API and the back-office pages.

The district and role scoping lives here, so that every caller sees exactly the same cases.
"""

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from service import policy
from service.accounts.credentials import Principal
from service.accounts.models import ServiceCenter, StaffUser
from service.cases.applicant import masked_name
from service.cases.lifecycle import STATUS_ZH, Status
from service.cases.models import Case
from service.casework.presenter import present_queue_entry
from service.clock import local_midnight, local_today
from service.clocks.deadlines import Kind
from service.clocks.models import Deadline
from service.clocks.presenter import deadline_view
from service.clocks.store import load_calendar
from service.crypto import FieldCipher
from service.outbox.policy import ClockRules
from service.pagination import MAX_ID, bad_cursor, decode_cursor, encode_cursor

# A query with no filters, as QueueQuerySchema loads an empty query string.
NO_FILTERS: dict[str, Any] = {
    "status": [],
    "due": [],
    "item": None,
    "center": None,
    "assigned": None,
    "submitted_from": None,
    "submitted_to": None,
}


def queue_district(principal: Principal, requested: str | None) -> str | None:
    """The district whose queue the principal reads: their own, or for city-wide staff the one
    they chose (None if they chose none)."""
    district = principal.district_code or requested
    scope = policy.case_scope(principal)
    if district is not None and scope is not None and district not in scope:
        return principal.district_code
    return district


def _local_midnight(day: date, days: int = 0) -> datetime:
    return local_midnight(day + timedelta(days=days))


def _base(district: str):
    # The responsible district's running clock: acceptance, then completion (one at a time).
    clock = aliased(Deadline)
    stmt = (
        select(Case, ServiceCenter, StaffUser.display_name, clock)
        .join(ServiceCenter, ServiceCenter.id == Case.accepting_center_id)
        .outerjoin(StaffUser, StaffUser.id == Case.assignee_id)
        .outerjoin(
            clock,
            (clock.case_id == Case.id)
            & (clock.state == "open")
            & clock.kind.in_([Kind.ACCEPT, Kind.COMPLETE]),
        )
        .where(Case.responsible_district == district)
    )
    return stmt, clock


def _filtered(stmt: Select, clock, principal: Principal, query: dict[str, Any]) -> Select:
    if query["due"]:
        stmt = stmt.where(clock.due_state.in_(query["due"]))
    if query["status"]:
        stmt = stmt.where(Case.status.in_(query["status"]))
    if query["item"]:
        stmt = stmt.where(Case.item_code == query["item"])
    if query["center"]:
        stmt = stmt.where(ServiceCenter.code == query["center"])
    if query["assigned"] == "me":
        stmt = stmt.where(Case.assignee_id == principal.id)
    elif query["assigned"] == "none":
        stmt = stmt.where(Case.assignee_id.is_(None))
    if query["submitted_from"]:
        stmt = stmt.where(Case.created_at >= _local_midnight(query["submitted_from"]))
    if query["submitted_to"]:
        stmt = stmt.where(Case.created_at < _local_midnight(query["submitted_to"], days=1))
    return stmt


def queue_rows(
    session: Session,
    cipher: FieldCipher,
    rules: ClockRules,
    principal: Principal,
    district: str,
    query: dict[str, Any],
    after: tuple[datetime, int] | None,
    limit: int,
) -> tuple[list[dict[str, Any]], tuple[datetime, int] | None]:
    """A page of the district's queue, newest first, filtered as QueueQuerySchema loads it;
    returns the entries and the key to continue after (None on the last page)."""
    stmt, clock = _base(district)
    stmt = _filtered(stmt, clock, principal, query).order_by(Case.created_at.desc(), Case.id.desc())
    if after:
        created, case_id = after
        stmt = stmt.where(
            (Case.created_at < created) | ((Case.created_at == created) & (Case.id < case_id))
        )
    rows = session.execute(stmt.limit(limit + 1)).all()
    page = rows[:limit]
    calendar, today = load_calendar(session), local_today()
    entries = [
        present_queue_entry(
            cipher,
            c,
            center,
            name,
            due and deadline_view(calendar, rules, today, due),
        )
        for c, center, name, due in page
    ]
    more = len(rows) > limit
    return entries, (page[-1][0].created_at, page[-1][0].id) if more else None


def queue_counts(session: Session, district: str) -> dict[str, dict]:
    """How many of the district's cases are in each status and each due state (for filters)."""
    stmt, clock = _base(district)
    inner = stmt.with_only_columns(Case.status, clock.due_state).subquery()
    by_status = dict(
        session.execute(select(inner.c.status, func.count()).group_by(inner.c.status)).all()
    )
    by_due = dict(
        session.execute(
            select(inner.c.due_state, func.count())
            .where(inner.c.due_state.is_not(None))
            .group_by(inner.c.due_state)
        ).all()
    )
    return {"status": by_status, "due": by_due}


def encode_queue_cursor(last: tuple[datetime, int]) -> str:
    """The cursor that continues a queue after the entry `last` (created_at, id)."""
    return encode_cursor([last[0].isoformat(), last[1]])


def decode_queue_cursor(cursor: str) -> tuple[datetime, int]:
    """(created_at, id) from a queue cursor; a malformed one is a 400 problem."""
    key = decode_cursor(cursor)
    try:
        at, case_id = datetime.fromisoformat(key[0]), int(key[1])
    except (ValueError, TypeError, IndexError) as exc:
        raise bad_cursor() from exc
    if at.tzinfo is None or not 0 < case_id <= MAX_ID:
        raise bad_cursor()
    return at, case_id


# What waits for the accepting window: a supplement to hand in, a result to hand out, a case
# to rate or close.
WINDOW_STEPS = (
    Status.SUPPLEMENT_REQUESTED,
    Status.COMPLETED,
    Status.RESULT_DELIVERED,
    Status.REJECTED,
    Status.WITHDRAWN,
)


def window_todo(session: Session, principal: Principal, limit: int) -> list[dict[str, Any]]:
    """The cases of this window's own service center that wait for a step of the window,
    longest waiting first."""
    rows = session.scalars(
        select(Case)
        .where(Case.accepting_center_id == principal.center_id, Case.status.in_(WINDOW_STEPS))
        .order_by(Case.updated_at, Case.id)
        .limit(limit)
    )
    return [
        {
            "case_no": c.case_no,
            "item_name": c.item_name,
            "applicant_name": masked_name(c),
            "status": c.status,
            "status_zh": STATUS_ZH[Status(c.status)],
            "updated_at": c.updated_at,
        }
        for c in rows
    ]
