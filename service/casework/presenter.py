"""A case as the API shows it: names resolved, personal data decrypted only to be masked."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.districts import DISTRICT_NAMES
from service.accounts.credentials import Principal
from service.accounts.models import ServiceCenter, StaffUser
from service.cases.actions import latest_supplement_request, material_names, open_steps
from service.cases.applicant import applicant_of, masked_name
from service.cases.lifecycle import STATUS_ZH, Status
from service.cases.models import Case
from service.cases.personal import mask_address, mask_id_number, mask_phone
from service.clocks.calendar import WorkCalendar
from service.clocks.models import Deadline
from service.clocks.presenter import case_deadlines, deadline_views
from service.crypto import FieldCipher
from service.materials.models import OriginalMailing
from service.materials.originals import mailings_of, originals_view
from service.outbox.policy import ClockRules
from service.ratings.levels import LEVELS
from service.ratings.levels import STATUS_ZH as RECTIFICATION_ZH
from service.ratings.models import Rating, Rectification
from service.sealed import CASE_ID_NUMBER


def _place(code: str) -> dict[str, str]:
    return {"code": code, "name": DISTRICT_NAMES.get(code, code)}


def _assignee(session: Session, case: Case) -> str | None:
    if case.assignee_id is None:
        return None
    return session.get(StaffUser, case.assignee_id).display_name


def _named(case: Case, materials: list[dict]) -> list[dict]:
    names = material_names(case)
    return [{**m, "name": names.get(m["code"], m["code"])} for m in materials]


def _rating(session: Session, case: Case) -> dict[str, Any] | None:
    row = session.execute(
        select(Rating, Rectification)
        .outerjoin(Rectification, Rectification.rating_id == Rating.id)
        .where(Rating.case_id == case.id)
    ).first()
    if row is None:
        return None
    rating, rectification = row
    return {
        "level": rating.level,
        "level_zh": LEVELS[rating.level],
        "comment": rating.comment,
        "voided": rating.voided,
        "rectification": rectification
        and {
            "id": rectification.id,
            "status": rectification.status,
            "status_zh": RECTIFICATION_ZH[rectification.status],
        },
    }


def present_case(
    session: Session, cipher: FieldCipher, case: Case, principal: Principal, rules: ClockRules
) -> dict[str, Any]:
    """The case as stored."""
    center = session.get(ServiceCenter, case.accepting_center_id)
    return _present(
        cipher,
        case,
        principal,
        center={"code": center.code, "name": center.name},
        assignee=_assignee(session, case),
        deadlines=case_deadlines(session, case.id, rules),
        rating=_rating(session, case),
        mailings=mailings_of(session, case),
    )


def present_new_case(
    cipher: FieldCipher,
    case: Case,
    principal: Principal,
    rules: ClockRules,
    written: tuple[WorkCalendar, list[Deadline]],
) -> dict[str, Any]:
    """A case the terminal `principal` has just submitted, from what it wrote: its center, the
    deadlines it opened (with the calendar it counted them by), no assignee, rating or mailing
    yet. Its timeline must be loaded already."""
    calendar, deadlines = written
    return _present(
        cipher,
        case,
        principal,
        center={"code": principal.center_code, "name": principal.center_name},
        assignee=None,
        deadlines=deadline_views(calendar, rules, deadlines),
        rating=None,
        mailings=[],
    )


def _present(
    cipher: FieldCipher,
    case: Case,
    principal: Principal,
    *,
    center: dict[str, str],
    assignee: str | None,
    deadlines: list[dict[str, Any]],
    rating: dict[str, Any] | None,
    mailings: list[OriginalMailing],
) -> dict[str, Any]:
    agreement = case.agreement
    applicant = applicant_of(cipher, case)
    return {
        "case_no": case.case_no,
        "status": case.status,
        "status_zh": STATUS_ZH[Status(case.status)],
        "item": {
            "code": case.item_code,
            "name": case.item_name,
            "version": case.item_version.version_no,
            "version_effective_from": case.item_version.effective_from.isoformat(),
        },
        "agreement": agreement.code,
        "accepting_district": _place(case.accepting_district),
        "accepting_center": center,
        "responsible_district": _place(case.responsible_district),
        # Masked for everyone: a party reads the full name on purpose, and it is logged
        # (service/cases/contact.py:applicant_name).
        "applicant": {
            "name": masked_name(case),
            "id_number": mask_id_number(applicant.id_number),
            "phone": mask_phone(applicant.phone),
            "address": applicant.address and mask_address(applicant.address),
        },
        "facts": case.facts,
        "materials": _named(case, case.materials),
        "deferred_materials": _named(case, case.deferred_materials),
        "result_delivery": case.result_delivery,
        "note": case.note,
        "version": case.version,
        "created_at": case.created_at,
        "updated_at": case.updated_at,
        "timeline": case.events,
        "assignee": assignee,
        "result": case.result,
        "deadlines": deadlines,
        "rating": rating,
        "originals": originals_view(case, mailings),
        "supplement_requested": (
            latest_supplement_request(case) if case.status == Status.SUPPLEMENT_REQUESTED else []
        ),
        "actions": [a.value for a in open_steps(principal, case)],
    }


def present_queue_entry(
    cipher: FieldCipher,
    case: Case,
    center: ServiceCenter,
    assignee: str | None,
    due: dict[str, Any] | None,
) -> dict[str, Any]:
    """A row of a queue: enough to pick a case, with personal data masked (the name too)."""
    return {
        "case_no": case.case_no,
        "status": case.status,
        "status_zh": STATUS_ZH[Status(case.status)],
        "item": {"code": case.item_code, "name": case.item_name},
        "accepting_district": _place(case.accepting_district),
        "accepting_center": {"code": center.code, "name": center.name},
        "applicant": {
            "name": masked_name(case),
            "id_number": mask_id_number(
                cipher.decrypt(case.applicant_id_enc, CASE_ID_NUMBER, case.case_no)
            ),
        },
        "assignee": assignee,
        "due": due,
        "version": case.version,
        "created_at": case.created_at,
        "updated_at": case.updated_at,
    }
