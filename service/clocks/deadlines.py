"""Which deadlines a case has, when each falls due, and how it stands today. Plain Python.

- forwarding: Tongban must deliver the case to the responsible district (agreement setting,
  1 working day after intake by default);
- acceptance: the responsible district decides to accept, reject or ask for a supplement
  (5 working days after receipt by default, as art. 32 of the Administrative Licensing Law sets
  for supplement notices); a supplement stops it, and the next receipt starts it again, so the
  time the applicant takes falls before acceptance;
- completion: the item's promised limit, counted from acceptance; special procedures (hearing,
  testing, expert review) pause it and the working days paused are added back;
- rectification: after a bad rating, the responsible district's limit to call back and fix.
"""

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from service.cases.events import Kind
from service.clocks.calendar import Due, WorkCalendar

KIND_ZH = {
    Kind.FORWARD: "转办时限",
    Kind.ACCEPT: "受理时限",
    Kind.COMPLETE: "办结时限",
    Kind.RECTIFY: "整改时限",
}


class DueState(StrEnum):
    ON_TIME = "on_time"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    PAUSED = "paused"


DUE_STATES = [s.value for s in DueState]

DUE_STATE_ZH = {
    DueState.ON_TIME: "正常",
    DueState.DUE_SOON: "即将到期",
    DueState.OVERDUE: "已超期",
    DueState.PAUSED: "特别程序中（暂停计时）",
}

# Special procedures that stop the completion clock (特别程序).
PROCEDURES = {
    "hearing": "听证",
    "testing": "检验检测",
    "expert_review": "专家评审",
    "inspection": "现场核查",
    "public_notice": "公示公告",
}


def due_on(calendar: WorkCalendar, starts_on: date, limit_days: int, paused_days: int) -> Due:
    """The last day to meet a deadline: the limit plus the working days spent paused."""
    return calendar.add(starts_on, limit_days + paused_days)


@dataclass(frozen=True)
class Standing:
    state: DueState
    working_days_left: int  # negative: working days overdue


def standing(
    calendar: WorkCalendar, today: date, due: date, warn_days: int, paused_since: date | None
) -> Standing:
    """How an open deadline stands today. Overdue starts the day after the due day.

    While paused the clock stands still: the days left are those left when it stopped.
    """
    if paused_since is not None:
        return Standing(DueState.PAUSED, calendar.left(min(paused_since, today), due))
    left = calendar.left(today, due)
    if today > due:
        return Standing(DueState.OVERDUE, left)
    if left <= warn_days:
        return Standing(DueState.DUE_SOON, left)
    return Standing(DueState.ON_TIME, left)
