"""What a case's timeline records: every event type, and in one table what each means for the
rest of the system (docs/DESIGN.md §3). Plain Python.

Adding a step means adding its `EventType` and its row in `EVENTS`: the Chinese label on the
case page, the clocks it starts, meets, cancels or pauses (service/clocks/tracking.py), who is
told (service/districts/delivery.py), the monthly figure it counts in (service/stats/report.py) and
the type a district system reports it by (service/districts/callbacks.py) are all read from
here. `tests/unit/test_events.py` fails when a type has no row or a row is incomplete.

The stored values never change: they are hash-chained into every case's timeline and counted
by the statistics, so a name here may read better than its value (ACCEPTED is "accept").
"""

from dataclasses import dataclass
from enum import StrEnum

from service.cases.lifecycle import Action, Side


class Kind(StrEnum):
    """A deadline a case runs against (see service/clocks/deadlines.py)."""

    FORWARD = "forward"
    ACCEPT = "accept"
    COMPLETE = "complete"
    RECTIFY = "rectify"


class EventType(StrEnum):
    # The lifecycle (docs/DESIGN.md §3).
    SUBMITTED = "submitted"
    FORWARDED = "forwarded"
    RECEIVED = "received"
    ACCEPTED = "accept"
    SUPPLEMENT_REQUESTED = "request_supplement"
    SUPPLEMENTED = "supplement"
    REJECTED = "reject"
    WITHDRAWN = "withdraw"
    COMPLETED = "complete"
    RESULT_DELIVERED = "deliver_result"
    CLOSED = "close"
    # Work on a case that leaves its status as it is.
    CLAIMED = "claimed"
    ASSIGNED = "assigned"
    CLOCK_PAUSED = "clock_paused"
    CLOCK_RESUMED = "clock_resumed"
    FILE_ATTACHED = "file_attached"
    FILE_DOWNLOADED = "file_downloaded"
    FILES_REMOVED = "files_removed"
    CONTACT_VIEWED = "contact_viewed"
    NAME_VIEWED = "name_viewed"
    ORIGINALS_MAILED = "originals_mailed"
    ORIGINALS_ARRIVED = "originals_arrived"
    RATED = "rated"
    RECTIFICATION_CALLBACK = "rectification_callback"
    RECTIFICATION_CLOSE = "rectification_close"
    RECTIFICATION_APPEAL = "rectification_appeal"
    APPEAL_REVIEWED = "appeal_reviewed"


@dataclass(frozen=True)
class Clocks:
    """What an event does to the case's deadlines, applied in this order: a running pause
    ends, deadlines are met, others cancelled, then one starts."""

    ends_pause: bool = False
    meets: tuple[Kind, ...] = ()
    cancels: tuple[Kind, ...] = ()
    starts: Kind | None = None


@dataclass(frozen=True)
class News:
    """Who is told of the event (the other side of the case), and in which words."""

    side: Side
    kind: str  # the notification's kind, as the API and pages filter on it
    text_zh: str  # with {no} for the case number


@dataclass(frozen=True)
class EventInfo:
    label_zh: str
    action: Action | None = None  # the lifecycle step that records it, if one does
    clocks: Clocks = Clocks()
    news: News | None = None
    measure: str | None = None  # the monthly figure that counts it (service/stats/report.py)
    callback: str | None = None  # the type a district system reports it by


# In the order the monthly figures are exported: do not reorder the rows that have a measure
# (a closed month's export must stay byte for byte the same).
EVENTS: dict[EventType, EventInfo] = {
    EventType.SUBMITTED: EventInfo("收件", clocks=Clocks(starts=Kind.FORWARD), measure="submitted"),
    EventType.FORWARDED: EventInfo(
        "已转办", clocks=Clocks(meets=(Kind.FORWARD,)), measure="forwarded"
    ),
    EventType.RECEIVED: EventInfo(
        "办理地接收", clocks=Clocks(starts=Kind.ACCEPT), callback="received"
    ),
    EventType.ACCEPTED: EventInfo(
        "受理",
        Action.ACCEPT,
        Clocks(meets=(Kind.ACCEPT,), starts=Kind.COMPLETE),
        News(Side.ACCEPTING, "accepted", "办件 {no} 已受理"),
        measure="accepted",
        callback="accepted",
    ),
    EventType.SUPPLEMENT_REQUESTED: EventInfo(
        "一次性告知补正",
        Action.REQUEST_SUPPLEMENT,
        Clocks(meets=(Kind.ACCEPT,)),
        News(Side.ACCEPTING, "supplement_requested", "办件 {no} 需要补正材料，请一次性告知申请人"),
        measure="supplements_requested",
        callback="supplement_requested",
    ),
    EventType.REJECTED: EventInfo(
        "不予受理",
        Action.REJECT,
        Clocks(meets=(Kind.ACCEPT,)),
        News(Side.ACCEPTING, "rejected", "办件 {no} 不予受理"),
        measure="rejected",
        callback="rejected",
    ),
    EventType.WITHDRAWN: EventInfo(
        "撤回申请",
        Action.WITHDRAW,
        Clocks(ends_pause=True, cancels=(Kind.FORWARD, Kind.ACCEPT, Kind.COMPLETE)),
        News(Side.RESPONSIBLE, "withdrawn", "办件 {no} 已由申请人撤回"),
        measure="withdrawn",
    ),
    EventType.COMPLETED: EventInfo(
        "办结",
        Action.COMPLETE,
        Clocks(ends_pause=True, meets=(Kind.COMPLETE,)),
        News(Side.ACCEPTING, "completed", "办件 {no} 已办结，请送达结果"),
        measure="completed",
        callback="completed",
    ),
    EventType.SUPPLEMENTED: EventInfo("补正材料", Action.SUPPLEMENT),
    EventType.RESULT_DELIVERED: EventInfo("送达结果", Action.DELIVER_RESULT),
    EventType.CLOSED: EventInfo("归档", Action.CLOSE),
    EventType.CLAIMED: EventInfo("认领"),
    EventType.ASSIGNED: EventInfo("分派"),
    EventType.CLOCK_PAUSED: EventInfo("特别程序（暂停计时）"),
    EventType.CLOCK_RESUMED: EventInfo("恢复计时"),
    EventType.FILE_ATTACHED: EventInfo("上传扫描件"),
    EventType.FILE_DOWNLOADED: EventInfo("查阅扫描件"),
    EventType.FILES_REMOVED: EventInfo("扫描件到期删除"),
    EventType.CONTACT_VIEWED: EventInfo("查看完整邮寄信息"),
    EventType.NAME_VIEWED: EventInfo("查看申请人完整姓名"),
    EventType.ORIGINALS_MAILED: EventInfo("原件寄出"),
    EventType.ORIGINALS_ARRIVED: EventInfo("原件送达"),
    EventType.RATED: EventInfo("录入评价"),
    EventType.RECTIFICATION_CALLBACK: EventInfo("差评整改回访"),
    EventType.RECTIFICATION_CLOSE: EventInfo("差评整改办结"),
    EventType.RECTIFICATION_APPEAL: EventInfo("差评申诉"),
    EventType.APPEAL_REVIEWED: EventInfo("申诉审核"),
}


def event_of(action: Action) -> EventType:
    """The event a lifecycle step records."""
    return _BY_ACTION[action]


_BY_ACTION: dict[Action, EventType] = {
    info.action: event for event, info in EVENTS.items() if info.action is not None
}
# figure name -> event type, in the export's order
MEASURES: dict[str, EventType] = {
    info.measure: event for event, info in EVENTS.items() if info.measure is not None
}
# what a district system reports -> the event it stands for
CALLBACKS: dict[str, EventType] = {
    info.callback: event for event, info in EVENTS.items() if info.callback is not None
}
