"""Paper originals by mail: the window records the posting, the responsible district the arrival.

Only materials the item asks originals of (paper, one original or more) can be posted; the case
shows what is still in transit.
"""

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.accounts.credentials import Principal
from service.cases.actions import ActionInvalid, CaseNotFound, sides_of, visible_case
from service.cases.events import EventType
from service.cases.lifecycle import ENDED, Side, TransitionRefused
from service.cases.models import Case
from service.cases.steps import UnitOfWork
from service.cases.timeline import Actor
from service.clock import local_today, now_utc
from service.materials.models import OriginalMailing


def needs_originals(case: Case) -> dict[str, str]:
    """Material code -> name, for materials whose paper originals must reach the district."""
    return {
        m["code"]: m["name"]
        for m in case.item_version.materials
        if m.get("originals", 0) > 0 and m.get("form") in ("paper", "both")
    }


# Which side posts originals, which records their arrival.
_WHO = {
    "mail": (Side.ACCEPTING, "原件由收件窗口寄出。"),
    "arrival": (Side.RESPONSIBLE, "原件到达由办理地登记。"),
}


def originals_refused(principal: Principal, case: Case, step: str) -> TransitionRefused | None:
    """Why the principal may not record originals posted (`mail`) or arrived (`arrival`) now,
    or None if they may: the rule the steps enforce, for pages to ask before offering them."""
    side, what_zh = _WHO[step]
    if side not in sides_of(principal, case):
        return TransitionRefused("not-your-step", f"Not your side's step: {side}.", what_zh)
    if case.status in ENDED:
        return TransitionRefused(
            "invalid-transition", "The case is closed or withdrawn.", "办件已归档或撤回。"
        )
    return None


def _side(session, principal, case_no, step: str) -> Case:
    case = visible_case(session, principal, case_no, lock=True)
    refused = originals_refused(principal, case, step)
    if refused is not None:
        raise refused
    return case


def record_mailing(
    uow: UnitOfWork,
    principal: Principal,
    case_no: str,
    materials: list[str],
    carrier: str,
    tracking_no: str,
    mailed_on: date,
) -> OriginalMailing:
    """The window posted originals."""
    session = uow.session
    case = _side(session, principal, case_no, "mail")
    wanted = needs_originals(case)
    unknown = [c for c in materials if c not in wanted]
    if unknown:
        raise ActionInvalid(
            "materials",
            f"No originals are asked of: {', '.join(unknown)}",
            "这些材料无需寄送原件：" + "、".join(unknown),
        )
    if mailed_on > local_today():
        raise ActionInvalid("mailed_on", "Must not be in the future.", "寄出日期不能晚于今天。")
    mailing = OriginalMailing(
        case_id=case.id,
        materials=sorted(set(materials)),
        carrier=carrier,
        tracking_no=tracking_no,
        mailed_on=mailed_on,
        mailed_by=principal.name,
    )
    session.add(mailing)
    session.flush()
    uow.record(
        case,
        EventType.ORIGINALS_MAILED,
        actor=Actor.of(principal, case.accepting_district),
        at=now_utc(),
        data={"mailing": mailing.id, "carrier": carrier, "tracking_no": tracking_no},
    )
    return mailing


def record_arrival(
    uow: UnitOfWork, principal: Principal, case_no: str, mailing_id: int
) -> OriginalMailing:
    """The responsible district received the envelope."""
    session = uow.session
    case = _side(session, principal, case_no, "arrival")
    mailing = session.get(OriginalMailing, mailing_id)
    if mailing is None or mailing.case_id != case.id:
        raise CaseNotFound(f"{case_no} mailing {mailing_id}")
    if mailing.arrived_on is not None:
        raise TransitionRefused("already-arrived", "Recorded already.", "已登记到达。")
    mailing.arrived_on, mailing.received_by = local_today(), principal.name
    uow.record(
        case,
        EventType.ORIGINALS_ARRIVED,
        actor=Actor.of(principal, case.responsible_district),
        at=now_utc(),
        data={"mailing": mailing.id},
    )
    return mailing


def mailings_of(session: Session, case: Case) -> list[OriginalMailing]:
    """The case's mailings of originals, first posted first."""
    return list(
        session.scalars(
            select(OriginalMailing)
            .where(OriginalMailing.case_id == case.id)
            .order_by(OriginalMailing.id)
        )
    )


def originals_view(case: Case, mailings: list[OriginalMailing]) -> dict:
    """What originals the case needs, what was posted, and what is still in transit."""
    wanted = needs_originals(case)
    posted = {code for m in mailings for code in m.materials}
    return {
        "needed": [{"code": c, "name": n} for c, n in wanted.items()],
        "not_posted": sorted(set(wanted) - posted),
        "mailings": [
            {
                "id": m.id,
                "materials": m.materials,
                "carrier": m.carrier,
                "tracking_no": m.tracking_no,
                "mailed_on": m.mailed_on.isoformat(),
                "arrived_on": m.arrived_on and m.arrived_on.isoformat(),
                "in_transit": m.arrived_on is None,
            }
            for m in mailings
        ],
    }
