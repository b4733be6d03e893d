"""Moving a case's clocks with its steps: each step opens, meets or cancels deadlines.

Called in the same transaction as the step itself, so a case never moves without its clocks.
"""

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.cases.events import EVENTS, Clocks, EventType
from service.cases.models import Case, CaseEvent
from service.cases.steps import Handlers, UnitOfWork
from service.clock import local_today
from service.clocks.calendar import WorkCalendar
from service.clocks.deadlines import DueState, Kind, due_on, standing
from service.clocks.models import ClockPause, Deadline
from service.clocks.store import load_calendar
from service.db import transaction_cache
from service.outbox.policy import ClockRules

# Per transaction, {case id: {kind: Deadline}} for the cases whose clocks it has read: a step
# (or a batch of deliveries) reads each case's deadlines once, and changes them as objects.
_CLOCKS = "tongban.deadlines"


def read_clocks(session: Session, case_ids: list[int]) -> None:
    """Read the deadlines of many cases in one query, before tracking each of them."""
    known = transaction_cache(session, _CLOCKS)
    for case_id in case_ids:
        known[case_id] = {}
    for deadline in session.scalars(select(Deadline).where(Deadline.case_id.in_(case_ids))):
        known[deadline.case_id][deadline.kind] = deadline


def start_clocks(session: Session, case: Case) -> None:
    """A case created in this transaction has no deadlines yet: nothing to read."""
    transaction_cache(session, _CLOCKS)[case.id] = {}


def deadlines_of(session: Session, case: Case) -> list[Deadline]:
    """The case's deadlines as this transaction has them, its own changes included."""
    return list(_clocks(session, case).values())


def _clocks(session: Session, case: Case) -> dict[str, Deadline]:
    known = transaction_cache(session, _CLOCKS)
    if case.id not in known:
        read_clocks(session, [case.id])
    return known[case.id]


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
    clocks = _clocks(session, case)
    deadline = clocks.get(kind.value) or Deadline(case_id=case.id, kind=kind.value)
    clocks[kind.value] = deadline
    due = due_on(calendar, starts_on, limit_days, 0)
    deadline.district_code, deadline.starts_on, deadline.limit_days = (
        district,
        starts_on,
        limit_days,
    )
    deadline.paused_days, deadline.paused_since = 0, None
    deadline.due_on, deadline.provisional = due.day, due.provisional
    deadline.state, deadline.met_at = "open", None
    # Supervision's first scan finds the real state and tells people; nothing is told yet.
    deadline.due_state, deadline.due_state_at = DueState.ON_TIME.value, None
    session.add(deadline)
    return deadline


def _finish(session: Session, case: Case, kinds: list[Kind], state: str, at: datetime) -> None:
    clocks = _clocks(session, case)
    for kind in kinds:
        deadline = clocks.get(kind.value)
        if deadline is not None and deadline.state == "open":
            deadline.state, deadline.met_at = state, at if state == "met" else None


def end_pause(
    calendar: WorkCalendar,
    rules: ClockRules,
    deadline: Deadline,
    pause: ClockPause,
    at: datetime,
    note: str | None = None,
) -> int:
    """End a pause: add the working days it took to the deadline; returns how many."""
    today = local_today(at)
    days = paused_working_days(calendar, deadline.starts_on, pause.started_on, today)
    pause.ended_on, pause.ended_at, pause.end_note, pause.working_days = today, at, note, days
    deadline.paused_days += days
    deadline.paused_since = None
    due = due_on(calendar, deadline.starts_on, deadline.limit_days, deadline.paused_days)
    deadline.due_on, deadline.provisional = due.day, due.provisional
    # The state it stands in now, so a resume never makes supervision tell anyone twice.
    deadline.due_state = standing(calendar, today, due.day, rules.due_soon_days, None).state
    return days


def running_pause(session: Session, case: Case) -> ClockPause | None:
    return session.scalar(
        select(ClockPause).where(ClockPause.case_id == case.id, ClockPause.ended_at.is_(None))
    )


def _end_running_pause(
    session: Session, calendar: WorkCalendar, rules: ClockRules, case: Case, at: datetime
) -> None:
    """A case completed or withdrawn mid-procedure: the pause ends with it."""
    pause = running_pause(session, case)
    deadline = _clocks(session, case).get(Kind.COMPLETE.value)
    if pause is not None and deadline is not None:
        end_pause(calendar, rules, deadline, pause, at)


def paused_working_days(calendar: WorkCalendar, starts_on: date, since: date, until: date) -> int:
    """Working days paused: from the pause's day (never the clock's own day 0, which did not
    count anyway) up to, not including, the resume day."""
    day = timedelta(days=1)
    since = max(since, starts_on + day)
    if until <= since:
        return 0
    return calendar.count(since - day, until - day).working_days


def working_days_taken(session: Session, case: Case, at: datetime) -> int | None:
    """Working days from acceptance (day 0) to `at`'s local day, less the days a special
    procedure paused the clock (a running one included); None when no completion clock runs."""
    deadline = _clocks(session, case).get(Kind.COMPLETE.value)
    if deadline is None or deadline.state != "open":
        return None
    calendar = load_calendar(session)
    today = local_today(at)
    paused = deadline.paused_days
    if deadline.paused_since is not None:
        paused += paused_working_days(calendar, deadline.starts_on, deadline.paused_since, today)
    return max(calendar.count(deadline.starts_on, today).working_days - paused, 0)


def track(session: Session, case: Case, event: EventType, at: datetime, rules: ClockRules) -> None:
    """Open, meet or cancel the case's deadlines as the event's row in `EVENTS` says."""
    effect = EVENTS[EventType(event)].clocks
    if effect == Clocks():
        return
    calendar = load_calendar(session)
    if effect.ends_pause:
        _end_running_pause(session, calendar, rules, case, at)
    _finish(session, case, list(effect.meets), "met", at)
    _finish(session, case, list(effect.cancels), "cancelled", at)
    if effect.starts is not None:
        district, limit_days = _limit(case, effect.starts, rules)
        open_deadline(
            session, calendar, rules, case, effect.starts, district, local_today(at), limit_days
        )


def _limit(case: Case, kind: Kind, rules: ClockRules) -> tuple[str, int]:
    """Whose deadline of this kind it is, and its limit in working days."""
    if kind == Kind.FORWARD:
        return case.accepting_district, case.agreement.forward_limit_days
    if kind == Kind.ACCEPT:
        return case.responsible_district, rules.accept_limit_days
    if kind == Kind.COMPLETE:
        return case.responsible_district, case.item_version.promised_limit_days
    raise ValueError(f"no event starts a {kind} deadline")  # rectification: ratings' own


def subscribe(handlers: Handlers) -> None:
    """The clocks move with every step, in its transaction, as its row in `EVENTS` says."""

    @handlers.before(EventType.COMPLETED)
    def time_taken(uow: UnitOfWork, case: Case, at: datetime, data: dict) -> dict:
        # Kept on the (hash-chained) event: the time a case took is fixed when it is decided.
        return {"working_days": working_days_taken(uow.session, case, at)}

    @handlers.after()
    def move_clocks(uow: UnitOfWork, case: Case, event: CaseEvent) -> None:
        track(uow.session, case, EventType(event.type), event.occurred_at, uow.policy.clocks)
