"""Supervision (督办): marking open deadlines due soon or overdue, and telling people once.

Run by beat every few minutes. Each deadline remembers the state supervision last found, so a
second scan on the same day changes nothing and tells no one anything twice.
"""

from collections import Counter
from datetime import date, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from service.cases.models import Case, Notification
from service.clock import local_today, now_utc
from service.clocks.deadlines import KIND_ZH, DueState, Kind, standing
from service.clocks.models import Deadline
from service.clocks.store import load_calendar
from service.outbox.policy import ClockRules


def _news(case_no: str, deadline: Deadline, state: DueState, left: int) -> str:
    what = KIND_ZH[Kind(deadline.kind)]
    if state == DueState.OVERDUE:
        return f"办件 {case_no} 的{what}已于{deadline.due_on:%Y-%m-%d}到期，已超期{-left}个工作日"
    return f"办件 {case_no} 的{what}将于{deadline.due_on:%Y-%m-%d}到期，剩余{left}个工作日"


BATCH = 500


def supervise(session: Session, rules: ClockRules, today: date | None = None) -> dict[str, int]:
    """Update every open deadline's due state; notify on becoming due soon or overdue.

    Commits batch by batch, so a long scan never holds many rows at once. Returns how many
    deadlines changed into each state.
    """
    today = today or local_today()
    calendar = load_calendar(session)
    changed: Counter[str] = Counter()
    # A deadline further off than this cannot be due soon, whatever the holidays in between.
    horizon = today + timedelta(days=rules.due_soon_days * 2 + 14)
    after = 0
    while True:
        query = (
            select(Deadline, Case.case_no)
            .join(Case, Case.id == Deadline.case_id)
            .where(
                Deadline.state == "open",
                Deadline.id > after,
                or_(Deadline.due_on <= horizon, Deadline.due_state != DueState.ON_TIME.value),
            )
            .order_by(Deadline.id)
            .limit(BATCH)
            .with_for_update(of=Deadline, skip_locked=True)  # a concurrent scan has these
        )
        rows = session.execute(query).all()
        for deadline, case_no in rows:
            _check(session, calendar, rules, today, deadline, case_no, changed)
        session.commit()
        if len(rows) < BATCH:
            return dict(changed)
        after = rows[-1][0].id


def _check(session, calendar, rules, today, deadline: Deadline, case_no: str, changed) -> None:
    found = standing(calendar, today, deadline.due_on, rules.due_soon_days, deadline.paused_since)
    if found.state == deadline.due_state:
        return
    deadline.due_state, deadline.due_state_at = found.state.value, now_utc()
    changed[found.state.value] += 1
    if found.state not in (DueState.DUE_SOON, DueState.OVERDUE):
        return
    text = _news(case_no, deadline, found.state, found.working_days_left)
    news = [(None, found.state.value, text)]
    if found.state == DueState.OVERDUE:
        news.append(("supervisor", "escalated", "【督办】" + text))
    session.add_all(
        Notification(
            district_code=deadline.district_code,
            case_id=deadline.case_id,
            role=role,
            kind=kind,
            message_zh=message,
        )
        for role, kind, message in news
    )
