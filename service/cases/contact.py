"""The applicant's personal data in full, for the parties that need it: the name for the
accepting window and the responsible district's staff, the phone and address for the window
mailing the result. Everywhere else they stay masked; each look is on the timeline."""

from typing import Any

from service.accounts.credentials import Principal
from service.audit import security_log
from service.cases.actions import CaseNotFound, at_the_window, sides_of, visible_case
from service.cases.applicant import applicant_of, name_of
from service.cases.events import EventType
from service.cases.lifecycle import Status, TransitionRefused
from service.cases.steps import UnitOfWork
from service.cases.timeline import Actor
from service.clock import now_utc
from service.crypto import FieldCipher


def mailing_contact(
    uow: UnitOfWork, cipher: FieldCipher, principal: Principal, case_no: str
) -> dict[str, Any]:
    """Name, phone and address for the window that took the application, once the case is
    decided and its result is to be mailed. Logged on the timeline."""
    session = uow.session
    case = visible_case(session, principal, case_no, lock=True)
    if principal.kind != "terminal" or not at_the_window(principal, case):
        # Other windows and staff have no step that needs the full data: they never see it.
        raise CaseNotFound(case_no)
    if case.status != Status.COMPLETED or case.result_delivery != "mail":
        raise TransitionRefused(
            "invalid-transition",
            "The full address is shown only to mail a decided case's result by post.",
            "仅在办结后邮寄送达结果时显示完整的联系电话和地址。",
        )
    applicant = applicant_of(cipher, case)
    uow.record(
        case,
        EventType.CONTACT_VIEWED,
        actor=Actor.of(principal, case.accepting_district),
        at=now_utc(),
        data={"purpose": "mail_result", "fields": ["phone", "address"]},
    )
    fields = ["name", "phone", "address"]
    security_log.revealed(session, "contact.reveal", case, principal, fields=fields)
    return {
        "case_no": case.case_no,
        "name": applicant.name,
        "phone": applicant.phone,
        "address": applicant.address,
    }


def applicant_name(
    uow: UnitOfWork, cipher: FieldCipher, principal: Principal, case_no: str
) -> dict[str, Any]:
    """The applicant's full name, for a party of the case: the window that took it (or a
    center above it) or the responsible district's working staff. Logged on the timeline."""
    case = visible_case(uow.session, principal, case_no, lock=True)
    sides = sides_of(principal, case)
    if not sides:
        # Readers who are no party (auditors, other windows) never see it: as if no case.
        raise CaseNotFound(case_no)
    district = case.accepting_district if at_the_window(principal, case) else None
    uow.record(
        case,
        EventType.NAME_VIEWED,
        actor=Actor.of(principal, district or case.responsible_district),
        at=now_utc(),
        data={"fields": ["name"]},
    )
    security_log.revealed(uow.session, "name.reveal", case, principal, fields=["name"])
    return {"case_no": case.case_no, "name": name_of(cipher, case)}
