"""Steps people take on a case: the responsible district's back office and the accepting window.

Each step locks the case, checks the version the client read (optimistic concurrency: a stale
version is a conflict, never a lost update), asks the state machine, and records the event in
the caller's unit of work (service/cases/steps.py), whose handlers move the clocks and tell
the other side.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from catalog.refusals import Conflict, DomainError, NotFound
from service import policy
from service.accounts.credentials import Principal
from service.accounts.models import ServiceCenter, StaffUser
from service.cases.events import EventType, event_of
from service.cases.lifecycle import (
    ASSIGNABLE,
    TRANSITIONS,
    Action,
    Side,
    Status,
    TransitionRefused,
    allowed_actions,
    decide,
)
from service.cases.models import Case
from service.cases.steps import UnitOfWork
from service.cases.timeline import Actor
from service.clock import now_utc


class CaseNotFound(NotFound):
    """No such case (or record of one), or not one the caller may see: the same answer."""

    def __init__(self, what: str):
        super().__init__(f"No case {what}.", "未找到该办件。")


class VersionConflict(Conflict):
    """The case changed since the client read it: reload and retry, never a lost update."""

    code = "version-conflict"
    title = "The case changed"

    def __init__(self, current: int):
        super().__init__(
            f"The case changed since you read it (now version {current}); reload and retry.",
            "办件已被他人更新，请刷新后重试。",
            "version",
        )
        self.current = current


class ActionInvalid(DomainError):
    """The step is allowed but its details are wrong; `field` names what to fix."""

    def __init__(self, field: str, message: str, message_zh: str):
        super().__init__(message, message_zh, field)


def visible_case(session: Session, principal: Principal, case_no: str, lock: bool = False) -> Case:
    """The case if the principal's district is involved; otherwise CaseNotFound (a 404)."""
    query = select(Case).where(Case.case_no == case_no)
    case = session.scalar(query.with_for_update() if lock else query)
    if case is None or not policy.sees_case(
        principal, case.accepting_district, case.responsible_district
    ):
        raise CaseNotFound(case_no)
    return case


def _centers_above(session: Session, center_id: int) -> list[int]:
    """The ids of the centers above a center, nearest first (at most two: three levels)."""
    above = []
    center = session.get(ServiceCenter, center_id)
    while center is not None and center.parent_id is not None and len(above) < 3:
        above.append(center.parent_id)
        center = session.get(ServiceCenter, center.parent_id)
    return above


def sides_of(principal: Principal, case: Case) -> frozenset[Side]:
    """Which sides of this case the principal may act for (the rule is service.policy's)."""
    session = object_session(case)
    return policy.sides_of(
        principal,
        case.accepting_district,
        case.responsible_district,
        case.accepting_center_id,
        lambda center_id: _centers_above(session, center_id),
    )


def at_the_window(principal: Principal, case: Case) -> bool:
    """Whether the principal acts for the window that took the case (or a center above it)."""
    return Side.ACCEPTING in sides_of(principal, case)


def locked_case(session: Session, principal: Principal, case_no: str, version: int) -> Case:
    """The case, row-locked, if visible and still at the version the client read."""
    case = visible_case(session, principal, case_no, lock=True)
    if case.version != version:
        raise VersionConflict(case.version)
    return case


def material_names(case: Case) -> dict[str, str]:
    """Material code -> name, from the item version the case was accepted under."""
    return {m["code"]: m["name"] for m in case.item_version.materials}


def _check_codes(field: str, codes: list[str], known: dict[str, str]) -> None:
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise ActionInvalid(
            field,
            f"Not on this item's materials list: {', '.join(unknown)}",
            "不在该事项材料清单中：" + "、".join(unknown),
        )


def _details(case: Case, action: Action, data: dict[str, Any]) -> dict:
    """Validate the step's details against the case and return what the event records."""
    if action == Action.REQUEST_SUPPLEMENT:
        known = material_names(case)
        _check_codes("materials", [m["code"] for m in data["materials"]], known)
        return {
            "materials": [
                {"code": m["code"], "name": known[m["code"]], "problem": m["problem"]}
                for m in data["materials"]
            ]
        }
    if action == Action.SUPPLEMENT:
        known = material_names(case)
        handed_in = [m["code"] for m in data["materials"]]
        _check_codes("materials", handed_in, known)
        missing = [m["code"] for m in latest_supplement_request(case) if m["code"] not in handed_in]
        if missing:
            raise ActionInvalid(
                "materials",
                f"Still missing what was requested: {', '.join(missing)}",
                "仍缺少补正告知中的材料：" + "、".join(known[c] for c in missing),
            )
        return {"materials": data["materials"]}
    if action == Action.COMPLETE:
        return {"outcome": data["outcome"], "document_no": data["document_no"]}
    if action == Action.DELIVER_RESULT:
        if data["method"] == "mail" and case.address_enc is None:
            raise ActionInvalid(
                "method",
                "No mailing address is on file for this applicant: hand the result out at the "
                "window, or record the address first.",
                "申请人未登记邮寄地址，不能邮寄送达，请窗口领取。",
            )
        return {k: data.get(k) for k in ("method", "carrier", "tracking_no") if data.get(k)}
    return {}


def latest_supplement_request(case: Case) -> list[dict]:
    """The materials (code, name, problem) the latest supplement request listed."""
    for event in sorted(case.events, key=lambda e: e.seq, reverse=True):
        if event.type == EventType.SUPPLEMENT_REQUESTED:
            return event.data.get("materials", [])
    return []


def perform(
    uow: UnitOfWork,
    principal: Principal,
    case_no: str,
    action: Action,
    data: dict[str, Any],
    at: datetime | None = None,
) -> Case:
    """Take one lifecycle step for `principal` in the unit of work.

    `at` is when the step happened, if not now: a district system reporting a step later.
    """
    case = locked_case(uow.session, principal, case_no, data["version"])
    refused = step_refused(principal, case, action)
    if refused is not None:
        raise refused
    details = _details(case, action, data)
    owner, _sources, target = TRANSITIONS[action]
    acting_for = case.accepting_district if owner == Side.ACCEPTING else case.responsible_district
    uow.record(
        case,
        event_of(action),
        status_to=target,
        actor=Actor.of(principal, acting_for),
        at=at or now_utc(),
        reason=data.get("reason") or data.get("note"),
        data=details,
    )
    if action == Action.COMPLETE:
        case.result = details
    return case


def _can_work(user: StaffUser, district: str) -> bool:
    return user.district_code == district and user.role in policy.WORKING_ROLES and user.active


def working_staff(session: Session, district: str) -> list[StaffUser]:
    """The active clerks and supervisors of a district: whom a case there may be assigned to."""
    users = session.scalars(
        select(StaffUser).where(StaffUser.district_code == district).order_by(StaffUser.username)
    )
    return [u for u in users if _can_work(u, district)]


def _assign_refused(principal: Principal, case: Case) -> TransitionRefused | None:
    """Why the principal may not take this case on or hand it out now, if they may not."""
    if Side.RESPONSIBLE not in sides_of(principal, case):
        return TransitionRefused(
            "not-your-step",
            "Only the responsible district's clerks and supervisors take cases on.",
            "只有办理地的受理人员可以认领或分派办件。",
        )
    if case.status not in ASSIGNABLE:
        return TransitionRefused(
            "invalid-transition",
            f"A case that is {case.status} is not worked any more.",
            "办件当前状态不能认领或分派。",
        )
    return None


def claim_refused(principal: Principal, case: Case) -> TransitionRefused | None:
    """Why the principal may not claim this case now, or None if they may: the rule assign()
    enforces, for pages to ask before offering the step."""
    refused = _assign_refused(principal, case)
    held_by_another = case.assignee_id not in (None, principal.id)
    if refused is None and held_by_another and principal.role != "supervisor":
        return TransitionRefused(
            "already-claimed",
            "Another clerk has this case; a supervisor can reassign it.",
            "该办件已被其他人员认领，如需调整请联系督办员分派。",
        )
    return refused


def step_refused(
    principal: Principal,
    case: Case,
    action: Action,
    sides: frozenset[Side] | None = None,
) -> TransitionRefused | None:
    """Why the principal may not take this lifecycle step now, or None if they may: the one
    rule that perform() enforces, the API's `actions` lists and the case page offers (the
    state machine, on the sides the policy gives the principal). A step with a rule of its own
    beyond the status adds it here. `sides` saves working them out again for each step."""
    try:
        decide(Status(case.status), action, sides_of(principal, case) if sides is None else sides)
    except TransitionRefused as refused:
        return refused
    return None


def open_steps(principal: Principal, case: Case) -> list[Action]:
    """The lifecycle steps the principal may take on the case now, in the lifecycle's order."""
    sides = sides_of(principal, case)
    possible = allowed_actions(Status(case.status), sides)
    return [action for action in possible if step_refused(principal, case, action, sides) is None]


def assign_refused(principal: Principal, case: Case) -> TransitionRefused | None:
    """Why the principal may not hand this case to a colleague now, or None if they may: the
    rule assign() enforces, for pages to ask before offering the step."""
    refused = _assign_refused(principal, case)
    if refused is None and principal.role != "supervisor":
        return TransitionRefused(
            "not-your-step", "Only supervisors assign cases.", "只有督办员可以分派办件。"
        )
    return refused


def assign(
    uow: UnitOfWork, principal: Principal, case_no: str, version: int, username: str | None
) -> Case:
    """Claim a case (no username) or, as a supervisor, assign it to a colleague."""
    session = uow.session
    case = locked_case(session, principal, case_no, version)
    refused = (claim_refused if username is None else assign_refused)(principal, case)
    if refused is not None:
        raise refused
    if username is None:
        assignee = session.get(StaffUser, principal.id)
    else:
        assignee = session.scalar(select(StaffUser).where(StaffUser.username == username))
        if assignee is None or not _can_work(assignee, case.responsible_district):
            raise ActionInvalid(
                "username",
                "No active clerk or supervisor of the responsible district by that name.",
                "办理地没有该受理人员。",
            )
    uow.record(
        case,
        EventType.CLAIMED if username is None else EventType.ASSIGNED,
        actor=Actor.of(principal, case.responsible_district),
        at=now_utc(),
        data={"assignee": assignee.username},
    )
    case.assignee_id, case.updated_at = assignee.id, now_utc()
    return case
