"""Appending to a case's timeline, and who did it."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.districts import DISTRICT_NAMES
from service.accounts.credentials import Principal
from service.audit.chain import GENESIS, link
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
    """Add the next event of the case, chained to the one before; call it before changing
    `case.status`. The caller holds the case's row lock, so the chain cannot fork."""
    last = session.execute(
        select(CaseEvent.seq, CaseEvent.hash)
        .where(CaseEvent.case_id == case.id)
        .order_by(CaseEvent.seq.desc())
        .limit(1)
    ).first()
    seq, prev_hash = (last.seq + 1, last.hash) if last else (1, GENESIS)
    fields = {
        "case_id": case.id,
        "seq": seq,
        "type": type,
        "status_from": case.status if status_from is CURRENT else status_from,
        "status_to": status_to,
        "actor_kind": actor.kind,
        "actor_id": actor.id,
        "actor_name": actor.name,
        "district_code": actor.district_code,
        "reason": reason,
        "data": data or {},
        "occurred_at": at,
    }
    event = CaseEvent(**fields, prev_hash=prev_hash, hash=link(prev_hash, fields))
    session.add(event)
    return event
