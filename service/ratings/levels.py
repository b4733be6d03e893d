"""The five rating levels of 好差评 and the rectification steps. Plain Python."""

from enum import StrEnum

LEVELS: dict[str, str] = {
    "very_satisfied": "非常满意",
    "satisfied": "满意",
    "basically_satisfied": "基本满意",
    "dissatisfied": "不满意",
    "very_dissatisfied": "非常不满意",
}
BAD_LEVELS = frozenset({"dissatisfied", "very_dissatisfied"})


class RectificationStatus(StrEnum):
    OPEN = "open"  # waiting for the call-back
    CALLED_BACK = "called_back"  # the citizen was called; fixing
    APPEALED = "appealed"  # the district says the rating was a mistake; a supervisor reviews
    CLOSED = "closed"  # fixed, with a result
    VOIDED = "voided"  # appeal upheld: the rating does not count


RECTIFICATION_STATUSES = [s.value for s in RectificationStatus]

STATUS_ZH = {
    RectificationStatus.OPEN: "待回访",
    RectificationStatus.CALLED_BACK: "已回访，整改中",
    RectificationStatus.APPEALED: "申诉审核中",
    RectificationStatus.CLOSED: "已整改",
    RectificationStatus.VOIDED: "申诉成立，评价作废",
}

# step -> (statuses it may start from, status it leads to)
STEPS: dict[str, tuple[tuple[RectificationStatus, ...], RectificationStatus]] = {
    "callback": ((RectificationStatus.OPEN,), RectificationStatus.CALLED_BACK),
    "close": ((RectificationStatus.CALLED_BACK,), RectificationStatus.CLOSED),
    "appeal": (
        (RectificationStatus.OPEN, RectificationStatus.CALLED_BACK),
        RectificationStatus.APPEALED,
    ),
}


def is_bad(level: str) -> bool:
    """不满意 and 非常不满意 open a rectification."""
    return level in BAD_LEVELS
