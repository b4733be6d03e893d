"""A case as the API shows it: names resolved, personal data decrypted only to be masked."""

from typing import Any

from sqlalchemy.orm import Session

from catalog.districts import DISTRICT_NAMES
from catalog.models import Agreement
from service.accounts.models import ServiceCenter
from service.cases.lifecycle import STATUS_ZH, Status
from service.cases.models import Case
from service.cases.personal import mask_address, mask_id_number, mask_phone
from service.crypto import FieldCipher


def _place(code: str) -> dict[str, str]:
    return {"code": code, "name": DISTRICT_NAMES.get(code, code)}


def present_case(session: Session, cipher: FieldCipher, case: Case) -> dict[str, Any]:
    center = session.get(ServiceCenter, case.accepting_center_id)
    agreement = session.get(Agreement, case.agreement_id)
    address = case.address_enc and cipher.decrypt(case.address_enc, "address")
    return {
        "case_no": case.case_no,
        "status": case.status,
        "status_zh": STATUS_ZH[Status(case.status)],
        "item": {"code": case.item_code, "name": case.item_name},
        "agreement": agreement.code,
        "accepting_district": _place(case.accepting_district),
        "accepting_center": {"code": center.code, "name": center.name},
        "responsible_district": _place(case.responsible_district),
        "applicant": {
            "name": case.applicant_name,
            "id_number": mask_id_number(cipher.decrypt(case.applicant_id_enc, "applicant_id")),
            "phone": mask_phone(cipher.decrypt(case.phone_enc, "phone")),
            "address": address and mask_address(address),
        },
        "facts": case.facts,
        "materials": case.materials,
        "result_delivery": case.result_delivery,
        "note": case.note,
        "version": case.version,
        "created_at": case.created_at,
        "updated_at": case.updated_at,
        "timeline": case.events,
    }
