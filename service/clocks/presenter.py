"""Deadlines as the API shows them: due day, working days left or overdue, in Chinese too."""

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.clock import local_today
from service.clocks.calendar import WorkCalendar
from service.clocks.deadlines import DUE_STATE_ZH, KIND_ZH, Kind, standing
from service.clocks.models import Deadline
from service.clocks.store import load_calendar
from service.outbox.policy import ClockRules

STATE_ZH = {"open": "计时中", "met": "已按时完成", "cancelled": "已取消"}


def deadline_view(
    calendar: WorkCalendar, rules: ClockRules, today: date, d: Deadline
) -> dict[str, Any]:
    """One deadline; an open one says how it stands today, a met one whether it was on time."""
    view: dict[str, Any] = {
        "kind": d.kind,
        "kind_zh": KIND_ZH[Kind(d.kind)],
        "starts_on": d.starts_on.isoformat(),
        "limit_days": d.limit_days,
        "paused_days": d.paused_days,
        "due_on": d.due_on.isoformat(),
        "provisional": d.provisional,
        "state": d.state,
        "state_zh": STATE_ZH[d.state],
    }
    if d.state == "open":
        found = standing(calendar, today, d.due_on, rules.due_soon_days, d.paused_since)
        view |= {
            "due_state": found.state.value,
            "due_state_zh": DUE_STATE_ZH[found.state],
            "working_days_left": found.working_days_left,
        }
    elif d.state == "met" and d.met_at is not None:
        view["on_time"] = local_today(d.met_at) <= d.due_on
    return view


def deadline_views(
    calendar: WorkCalendar, rules: ClockRules, deadlines: Iterable[Deadline]
) -> list[dict[str, Any]]:
    """A case's deadlines, in the order the case meets them."""
    order = {k.value: i for i, k in enumerate(Kind)}
    today = local_today()
    return [
        deadline_view(calendar, rules, today, d)
        for d in sorted(deadlines, key=lambda d: order[d.kind])
    ]


def case_deadlines(session: Session, case_id: int, rules: ClockRules) -> list[dict[str, Any]]:
    """Every deadline of a case as stored, in the order the case meets them."""
    rows = session.scalars(select(Deadline).where(Deadline.case_id == case_id))
    return deadline_views(load_calendar(session), rules, rows)
