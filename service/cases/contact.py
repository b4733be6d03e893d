"""The applicant's phone and address in full, for the one step that needs them: the accepting
window mailing the result. Everywhere else they stay masked; each look is on the timeline."""

from typing import Any

from service.accounts.credentials import Principal
from service.audit import security_log
from service.cases.actions import CaseNotFound, at_the_window, visible_case
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
    address = case.address_enc and cipher.decrypt(case.address_enc, "address")
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
        "name": case.applicant_name,
        "phone": cipher.decrypt(case.phone_enc, "phone"),
        "address": address,
    }
