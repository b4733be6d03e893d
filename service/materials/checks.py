"""The receiving side's check of a case's scans before the case counts as received."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.cases.models import Case
from service.materials.models import CaseFile
from service.materials.store import Store


class FileCorrupt(Exception):
    """A stored file no longer matches its checksum: the delivery must not count."""


def check_files(session: Session, store: Store, cases: list[Case]) -> int:
    """Every file of the cases still matches its checksum, or FileCorrupt; returns how many."""
    if not cases:
        return 0
    case_nos = {case.id: case.case_no for case in cases}
    rows = session.scalars(
        select(CaseFile).where(CaseFile.case_id.in_(case_nos), CaseFile.removed_at.is_(None))
    ).all()
    for row in rows:
        if not store.intact(row.sha256):
            raise FileCorrupt(
                f"{case_nos[row.case_id]}: file {row.id} ({row.material_code}) fails its SHA-256"
            )
    return len(rows)
