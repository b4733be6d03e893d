"""Attaching scans to a case, reading them back, and checking them on delivery.

The file is stored before its row is committed, so a committed case never points at a missing
file; a stored file whose row never committed is an orphan that `sweep_orphans` removes.
"""

import re
from datetime import timedelta
from typing import BinaryIO

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service import policy
from service.accounts.credentials import Principal
from service.audit import security_log
from service.cases.actions import (
    ActionInvalid,
    CaseNotFound,
    at_the_window,
    material_names,
    sides_of,
    visible_case,
)
from service.cases.events import EventType
from service.cases.lifecycle import Side, Status, TransitionRefused
from service.cases.models import Case, CaseEvent
from service.cases.steps import Handlers, UnitOfWork
from service.cases.timeline import Actor
from service.clock import now_utc
from service.materials.models import CaseFile
from service.materials.store import Refused, Store
from service.policy import Permission

ORPHAN_AGE = timedelta(hours=1)


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def safe_file_name(name: str | None) -> str:
    """A file name as it may be stored and sent back in a header: control characters (a
    newline would break the download's Content-Disposition) become "_"; at most 200 chars."""
    cleaned = _CONTROL.sub("_", name or "").strip()
    return (cleaned or "scan")[:200]


def _readable_case(session: Session, principal: Principal, case_no: str, lock: bool) -> Case:
    # Scans are personal data: statistics auditors read the case, not its scans (as the API).
    if not policy.allows(principal, Permission.READ_FILES):
        raise CaseNotFound(case_no)
    case = visible_case(session, principal, case_no, lock=lock)
    # A window sees the files of its own center's cases only (and of centers below it), not of
    # its whole district.
    if principal.kind == "terminal" and not at_the_window(principal, case):
        raise CaseNotFound(case_no)
    return case


def attach(
    uow: UnitOfWork,
    store: Store,
    principal: Principal,
    case_no: str,
    material_code: str,
    stream: BinaryIO,
    name: str,
    limit: int,
) -> CaseFile:
    """Store a scan and attach it to the case against one of its materials."""
    session = uow.session
    case = _readable_case(session, principal, case_no, lock=False)
    if principal.kind != "terminal" or Side.ACCEPTING not in sides_of(principal, case):
        raise TransitionRefused(
            "not-your-step", "The accepting window attaches scans.", "材料扫描件由收件窗口上传。"
        )
    if case.status != Status.SUPPLEMENT_REQUESTED:
        raise TransitionRefused(
            "invalid-transition",
            "Scans for an application go with it (POST /uploads, then name them in it); later "
            "ones are attached only when a supplement is asked for.",
            "收件时的材料扫描件随申请一并提交；之后仅在补正时上传。",
        )
    if material_code not in material_names(case):
        raise Refused(
            "unknown-material",
            f"{material_code} is not on this item's materials list.",
            "该材料不在事项的材料清单中。",
        )
    stored = store.put(stream, limit)  # before the row: never a row without its file
    case = _readable_case(session, principal, case_no, lock=True)
    now = now_utc()
    row = CaseFile(
        case_id=case.id,
        material_code=material_code,
        purpose="supplement" if case.status == Status.SUPPLEMENT_REQUESTED else "intake",
        sha256=stored.sha256,
        size=stored.size,
        content_type=stored.content_type,
        original_name=safe_file_name(name),
        uploaded_by=principal.name,
        uploaded_at=now,
    )
    session.add(row)
    session.flush()
    uow.record(
        case,
        EventType.FILE_ATTACHED,
        actor=Actor.of(principal, case.accepting_district),
        at=now,
        data={"file_id": row.id, "material": material_code, "sha256": stored.sha256},
    )
    return row


def stage(
    session: Session, store: Store, terminal: Principal, stream: BinaryIO, name: str, limit: int
) -> CaseFile:
    """Store a scan for an application the window is about to submit (the caller commits).

    The application names it among its materials; until then it belongs to no case.
    """
    stored = store.put(stream, limit)
    row = CaseFile(
        case_id=None,
        terminal_id=terminal.id,
        material_code=None,
        purpose="intake",
        sha256=stored.sha256,
        size=stored.size,
        content_type=stored.content_type,
        original_name=safe_file_name(name),
        uploaded_by=terminal.name,
        uploaded_at=now_utc(),
    )
    session.add(row)
    session.flush()
    return row


def files_of(session: Session, principal: Principal, case_no: str) -> list[CaseFile]:
    case = _readable_case(session, principal, case_no, lock=False)
    return list(
        session.scalars(select(CaseFile).where(CaseFile.case_id == case.id).order_by(CaseFile.id))
    )


def open_for_download(
    uow: UnitOfWork, store: Store, principal: Principal, case_no: str, file_id: int
) -> tuple[CaseFile, BinaryIO]:
    """The file, for someone allowed to read it; the download goes on the timeline."""
    session = uow.session
    case = _readable_case(session, principal, case_no, lock=True)
    row = session.get(CaseFile, file_id)
    if row is None or row.case_id != case.id or row.removed_at is not None:
        raise CaseNotFound(f"{case_no} file {file_id}")
    stream = store.open(row.sha256)
    uow.record(
        case,
        EventType.FILE_DOWNLOADED,
        actor=Actor.of(principal, principal.district_code or case.responsible_district),
        at=now_utc(),
        data={"file_id": row.id, "material": row.material_code},
    )
    security_log.record(
        session,
        "file.download",
        target_type="case_file",
        target=f"{case.case_no}/{row.id}",
        district_code=principal.district_code or case.responsible_district,
        details={"material": row.material_code},
        principal=principal,
    )
    return row, stream


def sweep_orphans(session: Session, store: Store, older_than: timedelta = ORPHAN_AGE) -> int:
    """Remove staged scans no application named in time, and stored files no row points at
    (their upload never finished). Commits; returns how many stored files went."""
    cutoff = now_utc() - older_than
    session.execute(
        delete(CaseFile).where(CaseFile.case_id.is_(None), CaseFile.uploaded_at < cutoff)
    )
    session.commit()
    referenced = set(session.scalars(select(CaseFile.sha256)))
    removed = 0
    for sha256 in list(store.stored_before(cutoff)):
        if sha256 not in referenced:
            store.delete(sha256)
            removed += 1
    return removed


def remove_expired(uow: UnitOfWork, store: Store, retention_days: int) -> int:
    """Remove the scans of cases closed more than `retention_days` ago; the timeline says so.

    A stored file is deleted only when no scan still kept points at the same content.
    Commits the unit of work case by case; returns how many scans were removed.
    """
    session = uow.session
    cutoff = now_utc() - timedelta(days=retention_days)
    closed_long_ago = (
        select(CaseEvent.case_id)
        .where(CaseEvent.type == "close", CaseEvent.occurred_at < cutoff)
        .scalar_subquery()
    )
    case_ids = session.scalars(
        select(CaseFile.case_id)
        .where(CaseFile.removed_at.is_(None), CaseFile.case_id.in_(closed_long_ago))
        .distinct()
    ).all()
    removed = 0
    for case_id in case_ids:
        case = session.get(Case, case_id, with_for_update=True)
        rows = session.scalars(
            select(CaseFile).where(CaseFile.case_id == case_id, CaseFile.removed_at.is_(None))
        ).all()
        now = now_utc()
        for row in rows:
            row.removed_at = now
        session.flush()
        for sha in {row.sha256 for row in rows}:
            still_kept = session.scalar(
                select(CaseFile.id).where(CaseFile.sha256 == sha, CaseFile.removed_at.is_(None))
            )
            if still_kept is None:
                store.delete(sha)
        uow.record(
            case,
            EventType.FILES_REMOVED,
            actor=Actor("system", None, "材料保存期限到期", case.accepting_district),
            at=now,
            data={"files": len(rows), "retention_days": retention_days},
        )
        uow.commit()
        removed += len(rows)
    return removed


def staged_files(session: Session, terminal: Principal, ids: list[int]) -> list[CaseFile]:
    """The terminal's own staged scans among `ids` that no application has used yet."""
    if not ids:
        return []
    return list(
        session.scalars(
            select(CaseFile)
            .where(
                CaseFile.id.in_(ids),
                CaseFile.case_id.is_(None),
                CaseFile.terminal_id == terminal.id,
            )
            .order_by(CaseFile.id)
        )
    )


def subscribe(handlers: Handlers) -> None:
    """Scans a step names must be the case's own."""

    @handlers.before(EventType.SUPPLEMENTED)
    def supplement_scans_are_its_own(uow: UnitOfWork, case: Case, at, data: dict) -> None:
        """The scans a supplement names must be this case's, uploaded by its window for this
        supplement (POST /cases/{no}/files), each under the material it is named for."""
        named = {file_id: m["code"] for m in data["materials"] for file_id in m.get("files", [])}
        if not named:
            return
        rows = uow.session.execute(
            select(CaseFile.id, CaseFile.material_code).where(
                CaseFile.id.in_(named),
                CaseFile.case_id == case.id,
                CaseFile.purpose == "supplement",
                CaseFile.removed_at.is_(None),
            )
        ).all()
        refused = sorted(set(named) - {file_id for file_id, code in rows if code == named[file_id]})
        if refused:
            raise ActionInvalid(
                "materials",
                f"Not scans uploaded for this case's supplement under that material: {refused}",
                "所列扫描件不是本办件补正时为该材料上传的，请重新上传。",
            )
