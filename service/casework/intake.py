"""Intake: turning a terminal's application into a case, exactly once.

The case, its first timeline event, its outbox row and the idempotency record are written in
one transaction; after commit a forwarding task may be published, and if that publish is lost
the outbox row is still there for the relay to find.
"""

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from catalog.elements import is_required
from catalog.refusals import Conflict
from catalog.routing import RoutingError, covering_agreement, responsible_district
from service.accounts.credentials import Principal
from service.cases import catalog_cache, query_code
from service.cases.applicant import sealed_applicant
from service.cases.events import EventType
from service.cases.lifecycle import Status
from service.cases.models import Case, CaseNumberCounter, IdempotencyRecord
from service.cases.steps import UnitOfWork
from service.cases.timeline import Actor, start_chain
from service.clock import local_today, now_utc
from service.clocks.tracking import start_clocks
from service.crypto import FieldCipher
from service.materials.models import CaseFile


class IntakeRefused(RoutingError):
    """The application is well formed but cannot be taken; says why in English and Chinese."""


class IdempotencyConflict(Conflict):
    """The Idempotency-Key was used before with a different application."""

    code = "idempotency-key-reused"
    title = "Idempotency-Key already used"

    def __init__(self) -> None:
        super().__init__(
            "This Idempotency-Key was used with a different application.",
            "该申请已提交过（幂等键已用于另一份申请），请刷新页面或为新申请生成新的键后重新提交。",
            "Idempotency-Key",
        )


@dataclass(frozen=True)
class IntakeResult:
    case: Case
    created: bool  # False when an earlier request with the same key made it


def request_fingerprint(data: dict[str, Any]) -> str:
    return hashlib.sha256(
        json.dumps(data, sort_keys=True, ensure_ascii=False, default=str).encode()
    ).hexdigest()


def _replayed(session: Session, terminal_id: int, key: str, fingerprint: str) -> Case | None:
    record = session.get(IdempotencyRecord, (terminal_id, key))
    if record is None:
        return None
    if record.request_hash != fingerprint:
        raise IdempotencyConflict()
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


class MaterialsRefused(IntakeRefused):
    """Materials are missing or wrongly deferred; lists every one at once for the window."""

    def __init__(self, problems: list[dict[str, Any]]):
        names = "；".join(f"{p['name']}（{p['reason_zh']}）" for p in problems)
        super().__init__(
            "materials_missing",
            "Materials problems: " + "; ".join(f"{p['code']} {p['reason']}" for p in problems),
            f"材料不符合要求，共{len(problems)}项：{names}",
            field="materials",
            extensions={"materials": problems},
        )
        self.problems = problems


def check_materials(
    item_materials: list[dict], handed_in: list[dict], deferred: list[dict]
) -> list[dict[str, Any]]:
    """Every problem with what was handed in and what was deferred (容缺), or []."""
    known = {m["code"]: m for m in item_materials}
    problems = []

    def problem(code, reason, reason_zh):
        name = known[code]["name"] if code in known else code
        deferrable = bool(known.get(code, {}).get("deferrable"))
        problems.append(
            {
                "code": code,
                "name": name,
                "deferrable": deferrable,
                "reason": reason,
                "reason_zh": reason_zh,
            }
        )

    for m in [*handed_in, *deferred]:
        if m["code"] not in known:
            problem(m["code"], "is not on this item's list", "不在该事项的材料清单中")
    for m in deferred:
        if m["code"] in known and not known[m["code"]].get("deferrable"):
            problem(m["code"], "may not be deferred (no 容缺受理)", "该材料不允许容缺受理")
    given = {m["code"] for m in [*handed_in, *deferred]}
    for m in item_materials:
        if is_required(m) and m["code"] not in given:
            if m.get("deferrable"):
                problem(
                    m["code"],
                    "is required; it may be deferred with a commitment date",
                    "缺少，可容缺受理：请登记申请人承诺补交的日期",
                )
            else:
                problem(m["code"], "is required", "缺少，必须提交")
    return problems


def claim_scans(session: Session, terminal: Principal, case: Case, materials: list[dict]) -> int:
    """Attach the staged scans the application names to its case; refuses unknown ones."""
    wanted = {file_id: m["code"] for m in materials for file_id in m["files"]}
    if not wanted:
        return 0
    rows = session.scalars(
        select(CaseFile)
        .where(
            CaseFile.id.in_(wanted),
            CaseFile.case_id.is_(None),
            CaseFile.terminal_id == terminal.id,
        )
        .with_for_update()
    ).all()
    missing = sorted(set(wanted) - {r.id for r in rows})
    if missing:
        raise IntakeRefused(
            "unknown_upload",
            f"No scans {missing} uploaded by this window and not yet used.",
            "所列扫描件不存在或已被使用，请重新上传。",
            field="materials",
        )
    for row in rows:
        row.case_id, row.material_code = case.id, wanted[row.id]
    return len(rows)


def submit_application(
    uow: UnitOfWork,
    cipher: FieldCipher,
    terminal: Principal,
    data: dict[str, Any],
    idempotency_key: str,
) -> IntakeResult:
    """Validate routing and coverage, then write the case in the unit of work (its handlers
    start the forwarding clock and queue the delivery to the responsible district)."""
    session = uow.session
    assert terminal.kind == "terminal" and terminal.district_code and terminal.center_id
    fingerprint = request_fingerprint(data)
    earlier = _replayed(session, terminal.id, idempotency_key, fingerprint)
    if earlier is not None:
        return IntakeResult(earlier, created=False)

    now = now_utc()
    today = local_today(now)
    item = catalog_cache.item_in_force(session, data["item_code"], today)
    if item is None:
        raise IntakeRefused(
            "unknown_item",
            f"No item with code {data['item_code']} in the catalog.",
            "事项编码不存在。",
            field="item_code",
        )
    accepting = terminal.district_code
    responsible = responsible_district(
        item.territorial_basis, data["facts"], catalog_cache.known_districts(session, today)
    )
    code = item.basic_code
    candidates = catalog_cache.terms_for(session, accepting, code, today)
    terms = covering_agreement(candidates, accepting, responsible, code, today)
    problems = check_materials(item.materials, data["materials"], data["deferred_materials"])
    if problems:
        raise MaterialsRefused(problems)
    if data["result_delivery"] not in item.delivery_modes:
        raise IntakeRefused(
            "delivery_not_offered",
            f"This item's result cannot be delivered by {data['result_delivery']}.",
            "该事项不提供所选的结果送达方式。",
            field="result_delivery",
        )
    names = {m["code"]: m["name"] for m in item.materials}
    deferred = [
        {**m, "promised_by": m["promised_by"].isoformat(), "name": names[m["code"]]}
        for m in data["deferred_materials"]
    ]

    case_no = next_case_no(session, accepting, now)
    case = Case(
        case_no=case_no,
        item_id=item.item_id,
        item_version=item,
        item_code=item.basic_code,
        item_name=item.name,
        agreement=catalog_cache.agreement(session, terms.id, today),
        accepting_district=accepting,
        accepting_center_id=terminal.center_id,
        terminal_id=terminal.id,
        responsible_district=responsible,
        status=Status.SUBMITTED,
        **sealed_applicant(cipher, case_no, data["applicant"]),
        query_code_enc=query_code.encrypt(cipher, case_no, query_code.new_code()),
        facts=data["facts"],
        materials=data["materials"],
        deferred_materials=deferred,
        result_delivery=data["result_delivery"],
        note=data["note"],
        created_at=now,
        updated_at=now,
    )
    session.add(case)
    session.flush()
    start_chain(session, case)
    start_clocks(session, case)
    scans = claim_scans(session, terminal, case, data["materials"])
    first = uow.record(
        case,
        EventType.SUBMITTED,
        status_from=None,
        status_to=Status.SUBMITTED,
        actor=Actor.of(terminal, accepting),
        at=now,
        data={
            "agreement": terms.code,
            "item_version": item.version_no,
            "deferred": [{"code": m["code"], "promised_by": m["promised_by"]} for m in deferred],
            "scans": scans,
        },
    )
    session.add(
        IdempotencyRecord(
            terminal_id=terminal.id, key=idempotency_key, request_hash=fingerprint, case_id=case.id
        )
    )
    try:
        session.flush()
    except IntegrityError:
        # Another request with the same key won the race (its insert held ours until it
        # committed): nothing of this one may stay; answer with what the other made.
        session.rollback()
        uow.outbox.clear()
        earlier = _replayed(session, terminal.id, idempotency_key, fingerprint)
        if earlier is None:
            raise
        return IntakeResult(earlier, created=False)
    # The timeline is the one event just written: known without reading it back.
    set_committed_value(case, "events", [first])
    return IntakeResult(case, created=True)
