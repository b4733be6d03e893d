"""Special procedures (特别程序: hearing, testing, expert review...) stop the completion clock.

The responsible district pauses with the procedure and a reason and resumes when it ends; the
working days in between are added to the completion deadline. Both steps are on the timeline.
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.accounts.credentials import Principal
from service.cases.actions import ActionInvalid, locked_case, sides_of
from service.cases.events import EventType
from service.cases.lifecycle import Side, Status, TransitionRefused
from service.cases.models import Case
from service.cases.steps import UnitOfWork
from service.cases.timeline import Actor
from service.clock import local_today, now_utc
from service.clocks.deadlines import PROCEDURES, Kind
from service.clocks.models import ClockPause, Deadline
from service.clocks.store import load_calendar
from service.clocks.tracking import end_pause, running_pause


def _running_clock(session: Session, case: Case) -> Deadline | None:
    return session.scalar(
        select(Deadline).where(
            Deadline.case_id == case.id, Deadline.kind == Kind.COMPLETE, Deadline.state == "open"
        )
    )


def clock_refused(
    session: Session, principal: Principal, case: Case, step: str
) -> TransitionRefused | ActionInvalid | None:
    """Why the principal may not `pause` or `resume` the case's completion clock now, or None
    if they may: the rule pause() and resume() enforce, for pages to ask before offering."""
    if Side.RESPONSIBLE not in sides_of(principal, case):
        return TransitionRefused(
            "not-your-step",
            "Only the responsible district pauses or resumes the clock.",
            "只有办理地可以暂停或恢复计时。",
        )
    deadline = _running_clock(session, case)
    if case.status != Status.ACCEPTED or deadline is None:
        return TransitionRefused(
            "invalid-transition",
            "Only an accepted case that is being worked has a clock to pause.",
            "只有已受理、正在办理的办件可以暂停或恢复计时。",
        )
    if step == "pause" and deadline.paused_since is not None:
        return TransitionRefused(
            "already-paused", "The clock is already paused.", "该办件已在特别程序中，计时已暂停。"
        )
    if step == "resume" and (deadline.paused_since is None or running_pause(session, case) is None):
        return ActionInvalid("version", "The clock is not paused.", "该办件的计时未暂停。")
    return None


def _completion_clock(session: Session, principal: Principal, case: Case, step: str) -> Deadline:
    refused = clock_refused(session, principal, case, step)
    if refused is not None:
        raise refused
    return _running_clock(session, case)


def pause(
    uow: UnitOfWork, principal: Principal, case_no: str, version: int, procedure: str, reason: str
) -> Case:
    """Stop the completion clock for a special procedure."""
    session = uow.session
    case = locked_case(session, principal, case_no, version)
    deadline = _completion_clock(session, principal, case, "pause")
    now = now_utc()
    today = local_today(now)
    session.add(
        ClockPause(
            case_id=case.id, procedure=procedure, reason=reason, started_on=today, started_at=now
        )
    )
    deadline.paused_since, deadline.due_state = today, "paused"
    uow.record(
        case,
        EventType.CLOCK_PAUSED,
        actor=Actor.of(principal, case.responsible_district),
        at=now,
        reason=reason,
        data={"procedure": procedure, "procedure_zh": PROCEDURES[procedure]},
    )
    case.updated_at = now
    return case


def resume(
    uow: UnitOfWork, principal: Principal, case_no: str, version: int, note: str | None
) -> Case:
    """Start the completion clock again, adding the working days paused."""
    session = uow.session
    case = locked_case(session, principal, case_no, version)
    deadline = _completion_clock(session, principal, case, "resume")
    running = running_pause(session, case)
    now = now_utc()
    days = end_pause(load_calendar(session), uow.policy.clocks, deadline, running, now, note)
    uow.record(
        case,
        EventType.CLOCK_RESUMED,
        actor=Actor.of(principal, case.responsible_district),
        at=now,
        reason=note,
        data={
            "procedure": running.procedure,
            "working_days_paused": days,
            "due_on": deadline.due_on.isoformat(),
        },
    )
    case.updated_at = now
    return case
