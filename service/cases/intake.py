"""Intake: turning a terminal's application into a case, exactly once.

The case, its first timeline event, its outbox row and the idempotency record are written in
one transaction; after commit a forwarding task may be published, and if that publish is lost
the outbox row is still there for the relay to find.
"""

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from catalog.repository import agreements_of, district_codes, item_by_code
from catalog.routing import RoutingError, covering_agreement, responsible_district
from service.accounts.credentials import Principal
from service.cases.lifecycle import Status
from service.cases.models import Case, CaseNumberCounter, IdempotencyRecord
from service.cases.timeline import Actor, append_event
from service.clock import local_today, now_utc
from service.crypto import FieldCipher
from service.outbox.models import OutboxMessage
from service.outbox.names import DELIVER_CASE, district_queue
from service.outbox.policy import DeliveryPolicy
from service.outbox.processing import enqueue


class IntakeRefused(RoutingError):
    """The application is well formed but cannot be taken; says why in English and Chinese."""


class IdempotencyConflict(Exception):
    """The Idempotency-Key was used before with a different application."""


@dataclass(frozen=True)
class IntakeResult:
    case: Case
    created: bool  # False when an earlier request with the same key made it
    to_publish: list[OutboxMessage] = field(default_factory=list)


def request_fingerprint(data: dict[str, Any]) -> str:
    return hashlib.sha256(
        json.dumps(data, sort_keys=True, ensure_ascii=False, default=str).encode()
    ).hexdigest()


def _replayed(session: Session, terminal_id: int, key: str, fingerprint: str) -> Case | None:
    record = session.get(IdempotencyRecord, (terminal_id, key))
    if record is None:
        return None
    if record.request_hash != fingerprint:
        raise IdempotencyConflict(key)
    return session.get(Case, record.case_id)


def next_case_no(session: Session, district_code: str, now=None) -> str:
    """A readable, unique case number: accepting district, local date, daily sequence."""
    day = local_today(now)
    stmt = (
        insert(CaseNumberCounter)
        .values(district_code=district_code, day=day, last=1)
        .on_conflict_do_update(
            index_elements=["district_code", "day"],
            set_={"last": CaseNumberCounter.last + 1},
        )
        .returning(CaseNumberCounter.last)
    )
    seq = session.execute(stmt).scalar_one()
    return f"{district_code}-{day:%Y%m%d}-{seq:05d}"


def _check_materials(item_materials: list[dict], handed_in: list[dict]) -> None:
    known = {m["code"]: m for m in item_materials}
    unknown = [m["code"] for m in handed_in if m["code"] not in known]
    if unknown:
        raise IntakeRefused(
            "unknown_material",
            f"Materials {', '.join(unknown)} are not on this item's list.",
            "提交的材料不在该事项的材料清单中：" + "、".join(unknown),
            field="materials",
        )
    given = {m["code"] for m in handed_in}
    missing = [m for m in item_materials if m.get("required") and m["code"] not in given]
    if missing:
        raise IntakeRefused(
            "materials_missing",
            "Required materials missing: " + ", ".join(m["code"] for m in missing),
            "缺少必要材料：" + "、".join(m["name"] for m in missing),
            field="materials",
        )


def submit_application(
    session: Session,
    cipher: FieldCipher,
    terminal: Principal,
    data: dict[str, Any],
    idempotency_key: str,
    policy: DeliveryPolicy,
) -> IntakeResult:
    """Validate routing and coverage, then write the case atomically and commit."""
    assert terminal.kind == "terminal" and terminal.district_code and terminal.center_id
    fingerprint = request_fingerprint(data)
    earlier = _replayed(session, terminal.id, idempotency_key, fingerprint)
    if earlier is not None:
        return IntakeResult(earlier, created=False)

    item = item_by_code(session, data["item_code"])
    if item is None:
        raise IntakeRefused(
            "unknown_item",
            f"No item with code {data['item_code']} in the catalog.",
            "事项编码不存在。",
            field="item_code",
        )
    accepting = terminal.district_code
    responsible = responsible_district(
        item.territorial_basis, data["facts"], district_codes(session)
    )
    now = now_utc()
    terms = covering_agreement(
        agreements_of(session, accepting), accepting, responsible, item.basic_code, local_today(now)
    )
    _check_materials(item.materials, data["materials"])

    applicant = data["applicant"]
    case = Case(
        case_no=next_case_no(session, accepting, now),
        item_id=item.id,
        item_code=item.basic_code,
        item_name=item.name,
        agreement_id=terms.id,
        accepting_district=accepting,
        accepting_center_id=terminal.center_id,
        terminal_id=terminal.id,
        responsible_district=responsible,
        status=Status.SUBMITTED,
        applicant_name=applicant["name"],
        applicant_id_enc=cipher.encrypt(applicant["id_number"], "applicant_id"),
        applicant_id_hash=cipher.lookup_hash(applicant["id_number"], "applicant_id"),
        phone_enc=cipher.encrypt(applicant["phone"], "phone"),
        phone_hash=cipher.lookup_hash(applicant["phone"], "phone"),
        address_enc=applicant["address"] and cipher.encrypt(applicant["address"], "address"),
        facts=data["facts"],
        materials=data["materials"],
        result_delivery=data["result_delivery"],
        note=data["note"],
        created_at=now,
        updated_at=now,
    )
    session.add(case)
    session.flush()
    append_event(
        session,
        case,
        type="submitted",
        status_from=None,
        status_to=Status.SUBMITTED,
        actor=Actor.of(terminal, accepting),
        at=now,
        data={"agreement": terms.code},
    )
    message = enqueue(
        session,
        task=DELIVER_CASE,
        queue=district_queue(responsible),
        payload={"case_id": case.id, "case_no": case.case_no},
        case_id=case.id,
        policy=policy,
    )
    session.add(
        IdempotencyRecord(
            terminal_id=terminal.id, key=idempotency_key, request_hash=fingerprint, case_id=case.id
        )
    )
    try:
        session.commit()
    except IntegrityError:
        # Another request with the same key won the race: answer with what it made.
        session.rollback()
        earlier = _replayed(session, terminal.id, idempotency_key, fingerprint)
        if earlier is None:
            raise
        return IntakeResult(earlier, created=False)
    return IntakeResult(case, created=True, to_publish=[message])
