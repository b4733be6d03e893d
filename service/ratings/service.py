"""Recording a citizen's rating and working the rectification a bad one opens.

The accepting window records the rating once per case. 不满意 or 非常不满意 opens a
rectification for the responsible district with a working-day deadline: it calls the citizen
back, fixes what went wrong and reports the result. If the district thinks the rating was a
mistake it appeals, and a supervisor of the accepting district decides. Every step is on the
case's timeline.
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import policy
from service.accounts.credentials import Principal
from service.cases.actions import CaseNotFound, at_the_window, sides_of, visible_case
from service.cases.events import EventType
from service.cases.lifecycle import RATEABLE, Side, TransitionRefused
from service.cases.models import Case, Notification
from service.cases.steps import UnitOfWork
from service.cases.timeline import Actor
from service.clock import local_today, now_utc
from service.clocks.deadlines import Kind
from service.clocks.models import Deadline
from service.clocks.store import load_calendar
from service.clocks.tracking import open_deadline
from service.outbox.policy import ClockRules
from service.ratings.levels import LEVELS, STEPS, RectificationStatus, is_bad
from service.ratings.models import Rating, Rectification


def rating_refused(session: Session, principal: Principal, case: Case) -> TransitionRefused | None:
    """Why the principal may not record a rating of this case now, or None if they may: the
    rule record_rating enforces, for pages to ask before offering the form."""
    if not at_the_window(principal, case):
        return TransitionRefused(
            "not-your-step", "The accepting window records ratings.", "评价由收件窗口录入。"
        )
    if case.status not in RATEABLE:
        return TransitionRefused(
            "invalid-transition",
            "A case is rated once its result is handed out, or it was rejected or withdrawn.",
            "办件送达结果、不予受理或撤回后，才能录入评价。",
        )
    if session.scalar(select(Rating.id).where(Rating.case_id == case.id)) is not None:
        return TransitionRefused("already-rated", "This case is rated already.", "该办件已评价。")
    return None


def record_rating(
    uow: UnitOfWork, principal: Principal, case_no: str, level: str, comment: str | None
) -> Case:
    """Record the citizen's rating at the accepting side; a bad one opens a rectification."""
    session = uow.session
    case = visible_case(session, principal, case_no, lock=True)
    refused = rating_refused(session, principal, case)
    if refused is not None:
        raise refused
    now = now_utc()
    rating = Rating(
        case_id=case.id,
        level=level,
        comment=comment,
        terminal_id=principal.id if principal.kind == "terminal" else None,
        recorded_by=principal.name,
        recorded_at=now,
    )
    session.add(rating)
    session.flush()
    uow.record(
        case,
        EventType.RATED,
        actor=Actor.of(principal, case.accepting_district),
        at=now,
        reason=comment,
        data={"level": level, "level_zh": LEVELS[level]},
    )
    if is_bad(level):
        _open_rectification(session, case, rating, uow.policy.clocks)
    case.updated_at = now
    return case


def _open_rectification(session: Session, case: Case, rating: Rating, rules: ClockRules) -> None:
    session.add(
        Rectification(
            case_id=case.id,
            rating_id=rating.id,
            district_code=case.responsible_district,
            opened_at=rating.recorded_at,
        )
    )
    open_deadline(
        session,
        load_calendar(session),
        rules,
        case,
        Kind.RECTIFY,
        case.responsible_district,
        local_today(rating.recorded_at),
        rules.rectify_limit_days,
    )
    text = f"办件 {case.case_no} 收到“{LEVELS[rating.level]}”评价，请回访并整改"
    session.add_all(
        Notification(
            district_code=case.responsible_district,
            case_id=case.id,
            role=role,
            kind=kind,
            message_zh=message,
        )
        for role, kind, message in (
            (None, "bad_rating", text),
            ("supervisor", "escalated", "【督办】" + text),
        )
    )


def _locked(session: Session, principal: Principal, rectification_id: int):
    rectification = session.get(Rectification, rectification_id, with_for_update=True)
    case = rectification and session.get(Case, rectification.case_id, with_for_update=True)
    if case is None or not policy.sees_case(
        principal, case.accepting_district, case.responsible_district
    ):
        raise CaseNotFound(f"rectification {rectification_id}")
    return rectification, case


def _event(uow: UnitOfWork, case, principal, district, type_, reason, data) -> None:
    uow.record(
        case,
        type_,
        actor=Actor.of(principal, district),
        at=now_utc(),
        reason=reason,
        data=data,
    )


def _finish_clock(session: Session, case: Case, state: str) -> None:
    deadline = session.scalar(
        select(Deadline).where(Deadline.case_id == case.id, Deadline.kind == Kind.RECTIFY)
    )
    if deadline is not None and deadline.state == "open":
        deadline.state = state
        deadline.met_at = now_utc() if state == "met" else None


def rectification_step(
    uow: UnitOfWork, principal: Principal, rectification_id: int, step: str, text: str
) -> Rectification:
    """The responsible district's steps: callback (回访), close (整改结果), appeal (申诉)."""
    session = uow.session
    rectification, case = _locked(session, principal, rectification_id)
    if Side.RESPONSIBLE not in sides_of(principal, case):
        raise TransitionRefused(
            "not-your-step", "The responsible district works rectifications.", "整改由办理地负责。"
        )
    sources, target = STEPS[step]
    if step == "appeal" and rectification.review_decision is not None:
        raise TransitionRefused(
            "already-reviewed", "An appeal was reviewed already.", "申诉已审核，不能再次申诉。"
        )
    if rectification.status not in sources:
        raise TransitionRefused(
            "invalid-transition",
            f"Cannot {step} a rectification that is {rectification.status}.",
            "整改当前状态不能进行该操作。",
        )
    now, name = now_utc(), principal.name
    if step == "callback":
        rectification.callback_at, rectification.callback_by = now, name
        rectification.callback_summary = text
    elif step == "close":
        rectification.result, rectification.closed_at, rectification.closed_by = text, now, name
        _finish_clock(session, case, "met")
    else:
        rectification.appeal_reason, rectification.appealed_by = text, name
        rectification.appealed_at, rectification.status_before_appeal = now, rectification.status
    rectification.status = target.value
    _event(
        uow,
        case,
        principal,
        case.responsible_district,
        EventType(f"rectification_{step}"),
        text,
        {},
    )
    return rectification


def review_appeal(
    uow: UnitOfWork, principal: Principal, rectification_id: int, decision: str, note: str
) -> Rectification:
    """A supervisor of the accepting district, where the rating was given, upholds the appeal
    (the rating is void) or dismisses it (the rectification goes on)."""
    session = uow.session
    rectification, case = _locked(session, principal, rectification_id)
    if principal.role != "supervisor" or principal.district_code != case.accepting_district:
        raise TransitionRefused(
            "not-your-step",
            "A supervisor of the accepting district reviews appeals.",
            "申诉由收件地督办员审核。",
        )
    if rectification.status != RectificationStatus.APPEALED:
        raise TransitionRefused(
            "invalid-transition", "There is no appeal to review.", "该整改没有待审核的申诉。"
        )
    rectification.review_decision, rectification.review_note = decision, note
    rectification.reviewed_by, rectification.reviewed_at = principal.name, now_utc()
    if decision == "upheld":
        rating = session.get(Rating, rectification.rating_id)
        rating.voided, rating.void_reason = True, note
        rectification.status = RectificationStatus.VOIDED.value
        _finish_clock(session, case, "cancelled")
    else:
        rectification.status = rectification.status_before_appeal
    _event(
        uow,
        case,
        principal,
        case.accepting_district,
        EventType.APPEAL_REVIEWED,
        note,
        {"decision": decision},
    )
    return rectification
