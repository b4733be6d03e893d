"""The case lifecycle (docs/DESIGN.md §3): statuses, actions, and who may take each. Pure Python.

submitted -> forwarded -> received -> accepted -> completed -> result_delivered -> closed
                              |-> supplement_requested -> supplemented -> received
                              |-> rejected -> closed
withdrawn: by the applicant at the accepting side, before completion
"""

from enum import StrEnum

from catalog.refusals import Conflict


class Status(StrEnum):
    SUBMITTED = "submitted"
    FORWARDED = "forwarded"
    RECEIVED = "received"
    ACCEPTED = "accepted"
    SUPPLEMENT_REQUESTED = "supplement_requested"
    SUPPLEMENTED = "supplemented"
    REJECTED = "rejected"
    COMPLETED = "completed"
    RESULT_DELIVERED = "result_delivered"
    WITHDRAWN = "withdrawn"
    CLOSED = "closed"


# Chinese labels shown at the window and to citizens.
STATUS_ZH: dict[Status, str] = {
    Status.SUBMITTED: "已收件",
    Status.FORWARDED: "已转办",
    Status.RECEIVED: "办理地已接收",
    Status.ACCEPTED: "已受理",
    Status.SUPPLEMENT_REQUESTED: "待补正",
    Status.SUPPLEMENTED: "已补正",
    Status.REJECTED: "不予受理",
    Status.COMPLETED: "已办结",
    Status.RESULT_DELIVERED: "已送达",
    Status.WITHDRAWN: "已撤回",
    Status.CLOSED: "已归档",
}


class Side(StrEnum):
    """Who owns a step: the accepting district, the responsible district, or the relay."""

    ACCEPTING = "accepting"
    RESPONSIBLE = "responsible"
    SYSTEM = "system"


class Action(StrEnum):
    FORWARD = "forward"
    RECEIVE = "receive"
    ACCEPT = "accept"
    REQUEST_SUPPLEMENT = "request_supplement"
    SUPPLEMENT = "supplement"
    REJECT = "reject"
    COMPLETE = "complete"
    DELIVER_RESULT = "deliver_result"
    WITHDRAW = "withdraw"
    CLOSE = "close"


ACTION_ZH: dict[Action, str] = {
    Action.FORWARD: "转办",
    Action.RECEIVE: "接收",
    Action.ACCEPT: "受理",
    Action.REQUEST_SUPPLEMENT: "一次性告知补正",
    Action.SUPPLEMENT: "补正材料",
    Action.REJECT: "不予受理",
    Action.COMPLETE: "办结",
    Action.DELIVER_RESULT: "送达结果",
    Action.WITHDRAW: "撤回申请",
    Action.CLOSE: "归档",
}

_BEFORE_COMPLETION = (
    Status.SUBMITTED,
    Status.FORWARDED,
    Status.RECEIVED,
    Status.ACCEPTED,
    Status.SUPPLEMENT_REQUESTED,
    Status.SUPPLEMENTED,
)

# action -> (owner, statuses it may start from, status it leads to)
TRANSITIONS: dict[Action, tuple[Side, tuple[Status, ...], Status]] = {
    Action.FORWARD: (Side.SYSTEM, (Status.SUBMITTED,), Status.FORWARDED),
    Action.RECEIVE: (Side.SYSTEM, (Status.FORWARDED, Status.SUPPLEMENTED), Status.RECEIVED),
    Action.ACCEPT: (Side.RESPONSIBLE, (Status.RECEIVED,), Status.ACCEPTED),
    Action.REQUEST_SUPPLEMENT: (
        Side.RESPONSIBLE,
        (Status.RECEIVED,),
        Status.SUPPLEMENT_REQUESTED,
    ),
    Action.REJECT: (Side.RESPONSIBLE, (Status.RECEIVED,), Status.REJECTED),
    Action.COMPLETE: (Side.RESPONSIBLE, (Status.ACCEPTED,), Status.COMPLETED),
    Action.SUPPLEMENT: (Side.ACCEPTING, (Status.SUPPLEMENT_REQUESTED,), Status.SUPPLEMENTED),
    Action.DELIVER_RESULT: (Side.ACCEPTING, (Status.COMPLETED,), Status.RESULT_DELIVERED),
    Action.WITHDRAW: (Side.ACCEPTING, _BEFORE_COMPLETION, Status.WITHDRAWN),
    Action.CLOSE: (
        Side.ACCEPTING,
        (Status.RESULT_DELIVERED, Status.REJECTED, Status.WITHDRAWN),
        Status.CLOSED,
    ),
}

FINAL_STATUSES = frozenset({Status.CLOSED})

# Status groups, named once here rather than in the packages that ask.
# Worked by the responsible district's back office: claimed, assigned.
ASSIGNABLE = frozenset(
    {Status.RECEIVED, Status.ACCEPTED, Status.SUPPLEMENT_REQUESTED, Status.SUPPLEMENTED}
)
# Done with from the citizen's side: the service can be rated.
RATEABLE = frozenset({Status.RESULT_DELIVERED, Status.REJECTED, Status.WITHDRAWN, Status.CLOSED})
# Nothing more happens to the case's paper or scans.
ENDED = frozenset({Status.CLOSED, Status.WITHDRAWN})
# On its way to the responsible district (first delivery or a supplement).
IN_FLIGHT = frozenset({Status.SUBMITTED, Status.FORWARDED, Status.SUPPLEMENTED})

# How far along the lifecycle each status is: a district system's report of a step at or behind
# the case's rank is stale and never rolls the case back.
RANK: dict[Status, int] = {
    Status.SUBMITTED: 0,
    Status.FORWARDED: 1,
    Status.RECEIVED: 2,
    Status.SUPPLEMENT_REQUESTED: 2,
    Status.SUPPLEMENTED: 2,
    Status.ACCEPTED: 3,
    Status.REJECTED: 4,
    Status.COMPLETED: 4,
    Status.RESULT_DELIVERED: 5,
    Status.WITHDRAWN: 6,
    Status.CLOSED: 6,
}


class TransitionRefused(Conflict):
    """The action is not allowed now (not the caller's side, or not in this status); `code`
    says which, `reason` and `reason_zh` say why."""

    title = "Step not allowed"

    def __init__(self, code: str, reason: str, reason_zh: str):
        super().__init__(reason, reason_zh, code=code)
        self.reason, self.reason_zh = reason, reason_zh


def decide(status: Status, action: Action, sides: frozenset[Side]) -> Status:
    """The status `action` leads to from `status`, if one of `sides` owns it; else refuse."""
    owner, sources, target = TRANSITIONS[action]
    if owner not in sides:
        raise TransitionRefused(
            "not-your-step",
            f"'{action}' belongs to the {owner} side of the case.",
            f"“{ACTION_ZH[action]}”应由{'收件地' if owner == Side.ACCEPTING else '办理地'}办理。",
        )
    if status not in sources:
        allowed = ", ".join(sources)
        raise TransitionRefused(
            "invalid-transition",
            f"Cannot {action} a case that is {status}; allowed only when {allowed}.",
            f"办件当前状态为“{STATUS_ZH[status]}”，不能进行“{ACTION_ZH[action]}”。",
        )
    return target


def allowed_actions(status: Status, sides: frozenset[Side]) -> list[Action]:
    """What the given sides may do next, for the UI and the API's `actions` field."""
    return [
        action
        for action, (owner, sources, _target) in TRANSITIONS.items()
        if owner in sides and status in sources
    ]
