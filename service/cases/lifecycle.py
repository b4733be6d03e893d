"""The case lifecycle (DESIGN.md §3): statuses and which side owns each. Pure Python."""

from enum import StrEnum


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
