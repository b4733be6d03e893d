"""Appending to a case's timeline, and who did it."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog.districts import DISTRICT_NAMES
from service.accounts.credentials import Principal
from service.cases.models import Case, CaseEvent

CURRENT = object()  # status_from default: the case's status before this event


@dataclass(frozen=True)
class Actor:
    kind: str  # terminal, staff or system
    id: int | None
    name: str
    district_code: str

    @classmethod
    def of(cls, principal: Principal, district_code: str) -> "Actor":
        return cls(principal.kind, principal.id, principal.name, district_code)


def relay_actor(district_code: str) -> Actor:
    return Actor("system", None, "通办转办服务", district_code)


def connector_actor(district_code: str) -> Actor:
    return Actor("system", None, "办理地接收（内部连接器）", district_code)


def district_system_actor(district_code: str) -> Actor:
    name = DISTRICT_NAMES.get(district_code, district_code)
    return Actor("system", None, f"{name}业务系统", district_code)


def append_event(
    session: Session,
    case: Case,
    *,
    type: str,
    status_to: str,
    actor: Actor,
    at: datetime,
    status_from: str | object | None = CURRENT,
    reason: str | None = None,
    data: dict | None = None,
) -> CaseEvent:
    """Add the next event of the case; call it before changing `case.status`."""
    last = session.scalar(select(func.max(CaseEvent.seq)).where(CaseEvent.case_id == case.id))
    event = CaseEvent(
        case_id=case.id,
        seq=(last or 0) + 1,
        type=type,
        status_from=case.status if status_from is CURRENT else status_from,
        status_to=status_to,
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_name=actor.name,
        district_code=actor.district_code,
        reason=reason,
        data=data or {},
        occurred_at=at,
    )
    session.add(event)
    return event
