"""Moving a case's clocks with its steps: each step opens, meets or cancels deadlines.

Called in the same transaction as the step itself, so a case never moves without its clocks.
"""

from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from catalog.models import Agreement
from service.cases.models import Case
from service.clock import local_today
from service.clocks.calendar import WorkCalendar
from service.clocks.deadlines import Kind, due_on, standing
from service.clocks.models import ClockPause, Deadline
from service.clocks.store import load_calendar
from service.outbox.policy import ClockRules


def open_deadline(
    session: Session,
    calendar: WorkCalendar,
    rules: ClockRules,
    case: Case,
    kind: Kind,
    district: str,
    starts_on: date,
    limit_days: int,
) -> Deadline:
    """Start (or start again) a case's deadline of this kind."""
    deadline = session.scalar(
        select(Deadline).where(Deadline.case_id == case.id, Deadline.kind == kind)
    ) or Deadline(case_id=case.id, kind=kind.value)
    due = due_on(calendar, starts_on, limit_days, 0)
    deadline.district_code, deadline.starts_on, deadline.limit_days = (
        district,
        starts_on,
        limit_days,
    )
    deadline.paused_days, deadline.paused_since = 0, None
    deadline.due_on, deadline.provisional = due.day, due.provisional
    deadline.state, deadline.met_at = "open", None
    deadline.due_state = standing(calendar, starts_on, due.day, rules.due_soon_days, False).state
    deadline.due_state_at = None
    session.add(deadline)
    return deadline


def _finish(session: Session, case: Case, kinds: list[Kind], state: str, at: datetime) -> None:
    session.execute(
        update(Deadline)
        .where(Deadline.case_id == case.id, Deadline.kind.in_(kinds), Deadline.state == "open")
        .values(state=state, met_at=at if state == "met" else None)
    )


def end_open_pause(session: Session, calendar: WorkCalendar, case: Case, at: datetime) -> None:
    """Close a pause still running when the case completes or is withdrawn."""
    pause = session.scalar(
        select(ClockPause).where(ClockPause.case_id == case.id, ClockPause.ended_at.is_(None))
    )
    if pause is not None:
        today = local_today(at)
        pause.ended_on, pause.ended_at = today, at
        pause.working_days = paused_working_days(calendar, pause.started_on, today)


def paused_working_days(calendar: WorkCalendar, since: date, until: date) -> int:
    """Working days from the pause's day up to, not including, the resume day."""
    if until <= since:
        return 0
    day = timedelta(days=1)
    return calendar.count(since - day, until - day).working_days


def track(session: Session, case: Case, event: str, at: datetime, rules: ClockRules) -> None:
    """Open, meet or cancel the case's deadlines for a timeline event of type `event`."""
    today = local_today(at)
    calendar = load_calendar(session)

    def start(kind: Kind, district: str, limit_days: int) -> None:
        open_deadline(session, calendar, rules, case, kind, district, today, limit_days)

    if event == "submitted":
        agreement = session.get(Agreement, case.agreement_id)
        start(Kind.FORWARD, case.accepting_district, agreement.forward_limit_days)
    elif event == "forwarded":
        _finish(session, case, [Kind.FORWARD], "met", at)
    elif event == "received":
        start(Kind.ACCEPT, case.responsible_district, rules.accept_limit_days)
    elif event in ("request_supplement", "reject"):
        _finish(session, case, [Kind.ACCEPT], "met", at)
    elif event == "accept":
        _finish(session, case, [Kind.ACCEPT], "met", at)
        start(Kind.COMPLETE, case.responsible_district, case.item_version.promised_limit_days)
    elif event == "complete":
        _finish(session, case, [Kind.COMPLETE], "met", at)
        end_open_pause(session, calendar, case, at)
    elif event == "withdraw":
        _finish(session, case, [Kind.FORWARD, Kind.ACCEPT, Kind.COMPLETE], "cancelled", at)
        end_open_pause(session, calendar, case, at)
