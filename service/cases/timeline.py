"""Appending to a case's timeline, and who did it."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session

from catalog.districts import DISTRICT_NAMES
from service.accounts.credentials import Principal
from service.audit.chain import GENESIS, link
from service.cases.events import EventType
from service.cases.models import Case, CaseEvent
from service.db import transaction_cache

CURRENT = object()  # status_from default: the case's status before this event

# Per transaction, {case id: (seq, hash) of its last event} for the chain heads it has read or
# written, so a step of several events, or a batch of deliveries, reads each case's head once.
# The caller holds the case's row lock, so no one else moves it.
_HEADS = "tongban.chain_heads"


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


def _heads(session: Session) -> dict[int, tuple[int, str]]:
    return transaction_cache(session, _HEADS)


def start_chain(session: Session, case: Case) -> None:
    """A case created in this transaction has no events yet: its first needs no look-up."""
    _heads(session)[case.id] = (0, GENESIS)


def read_heads(session: Session, case_ids: list[int]) -> None:
    """Read the chain heads of many locked cases in one query, before appending to each."""
    heads = _heads(session)
    for case_id in case_ids:
        heads[case_id] = (0, GENESIS)
    rows = session.execute(
        select(CaseEvent.case_id, CaseEvent.seq, CaseEvent.hash)
        .where(CaseEvent.case_id.in_(case_ids))
        .order_by(CaseEvent.case_id, CaseEvent.seq.desc())
        .ext(distinct_on(CaseEvent.case_id))
    )
    for case_id, seq, hash_ in rows:
        heads[case_id] = (seq, hash_)


def append_event(
    session: Session,
    case: Case,
    *,
    type: EventType,
    status_to: str,
    actor: Actor,
    at: datetime,
    status_from: str | object | None = CURRENT,
    reason: str | None = None,
    data: dict | None = None,
) -> CaseEvent:
    """Add the next event of the case, chained to the one before; call it before changing
    `case.status`. The caller holds the case's row lock, so the chain cannot fork.

    An unknown type is a ValueError before anything is read or written: every type has its
    row in `EVENTS` (label, clocks, news, figures)."""
    type = EventType(type)
    heads = _heads(session)
    if case.id not in heads:
        read_heads(session, [case.id])
    last_seq, prev_hash = heads[case.id]
    seq = last_seq + 1
    fields = {
        "case_id": case.id,
        "seq": seq,
        "type": type.value,
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
    heads[case.id] = (seq, event.hash)
    return event
