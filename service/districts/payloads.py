"""What a district's own case system receives about a case: everything it needs to decide it."""

from dataclasses import asdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.districts import DISTRICT_NAMES
from service.accounts.models import ServiceCenter
from service.cases.applicant import applicant_of
from service.cases.models import Case
from service.crypto import FieldCipher
from service.districts.signing import FILE, signature
from service.materials.models import CaseFile


def _place(code: str) -> dict[str, str]:
    return {"code": code, "name": DISTRICT_NAMES.get(code, code)}


LINK_SECONDS = 24 * 3600


def file_links(session: Session, secret: str, case: Case, now: int) -> list[dict[str, Any]]:
    """The case's scans with their checksums and short-lived signed download links (relative
    to Tongban's address): the district system fetches each and checks its SHA-256."""
    expires = now + LINK_SECONDS
    rows = session.scalars(
        select(CaseFile).where(CaseFile.case_id == case.id, CaseFile.removed_at.is_(None))
    ).all()
    return [
        {
            "material_code": f.material_code,
            "purpose": f.purpose,
            "sha256": f.sha256,
            "size": f.size,
            "content_type": f.content_type,
            "url": f"/api/v1/districts/{case.responsible_district}/files/{f.id}"
            f"?expires={expires}&signature={signature(secret, FILE, expires, str(f.id).encode())}",
        }
        for f in rows
    ]


def case_payload(session: Session, cipher: FieldCipher, case: Case) -> dict[str, Any]:
    """The case with the applicant's data in clear (the channel is the district's own), the
    item version it was accepted under, and its materials' metadata."""
    version = case.item_version
    catalog = {m["code"]: m for m in version.materials}
    center = session.get(ServiceCenter, case.accepting_center_id)
    return {
        "case_no": case.case_no,
        "submitted_at": case.created_at.isoformat(),
        "item": {
            "code": case.item_code,
            "name": case.item_name,
            "version": version.version_no,
            "implementation_code": version.implementation_code,
            "promised_limit_days": version.promised_limit_days,
        },
        "agreement": case.agreement.code,
        "accepting_district": _place(case.accepting_district),
        "accepting_center": {"code": center.code, "name": center.name},
        "responsible_district": _place(case.responsible_district),
        "applicant": asdict(applicant_of(cipher, case)),
        "facts": case.facts,
        "materials": [
            {
                **m,
                "name": catalog.get(m["code"], {}).get("name"),
                "form": catalog.get(m["code"], {}).get("form"),
            }
            for m in case.materials
        ],
        "deferred_materials": case.deferred_materials,
        "result_delivery": case.result_delivery,
        "note": case.note,
    }
