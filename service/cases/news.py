"""News of a side's cases (notifications): who hears what, for the API and the window pages."""

from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from service.accounts.credentials import Principal
from service.cases.models import Case, Notification
from service.clock import now_utc


def audience(principal: Principal) -> list:
    """A window sees its own center's news; staff their district's, by role."""
    if principal.kind == "terminal":
        return [Notification.center_id == principal.center_id]
    return [
        Notification.center_id.is_(None),
        or_(Notification.role.is_(None), Notification.role == principal.role),
    ]


def news_for(
    session: Session, principal: Principal, unread: bool, before_id: int | None, limit: int
) -> tuple[list[dict[str, Any]], int | None]:
    """The principal's notifications, newest first; returns them and the id to continue
    before (None on the last page)."""
    if principal.district_code is None:
        return [], None
    stmt = (
        select(Notification, Case.case_no)
        .join(Case, Case.id == Notification.case_id)
        .where(Notification.district_code == principal.district_code, *audience(principal))
        .order_by(Notification.id.desc())
    )
    if unread:
        stmt = stmt.where(Notification.read_at.is_(None))
    if before_id:
        stmt = stmt.where(Notification.id < before_id)
    rows = session.execute(stmt.limit(limit + 1)).all()
    page = rows[:limit]
    entries = [
        {
            "id": n.id,
            "case_no": case_no,
            "kind": n.kind,
            "message_zh": n.message_zh,
            "created_at": n.created_at,
            "read_at": n.read_at,
        }
        for n, case_no in page
    ]
    return entries, page[-1][0].id if len(rows) > limit else None


def mark_read_for(session: Session, principal: Principal, notification_id: int) -> None:
    """Mark one of the principal's notifications read (others' are left alone)."""
    session.execute(
        update(Notification)
        .where(
            Notification.id == notification_id,
            Notification.district_code == principal.district_code,
            Notification.read_at.is_(None),
            *audience(principal),
        )
        .values(read_at=now_utc())
    )
