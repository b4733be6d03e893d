"""Chinese names of timeline events on the case page."""

from service.cases.lifecycle import ACTION_ZH

EVENT_ZH: dict[str, str] = {
    **{action.value: name for action, name in ACTION_ZH.items()},
    "submitted": "收件",
    "forwarded": "已转办",
    "received": "办理地接收",
    "claimed": "认领",
    "assigned": "分派",
    "clock_paused": "特别程序（暂停计时）",
    "clock_resumed": "恢复计时",
    "file_attached": "上传扫描件",
    "file_downloaded": "查阅扫描件",
    "files_removed": "扫描件到期删除",
    "contact_viewed": "查看完整邮寄信息",
    "originals_mailed": "原件寄出",
    "originals_arrived": "原件送达",
    "rated": "录入评价",
    "rectification_callback": "差评整改回访",
    "rectification_close": "差评整改办结",
    "rectification_appeal": "差评申诉",
    "appeal_reviewed": "申诉审核",
}

OUTCOME_ZH = {"approved": "准予许可（办结）", "denied": "不予许可（办结）"}


def event_zh(event_type: str) -> str:
    """An event type's Chinese name; an unknown one as it is stored."""
    return EVENT_ZH.get(event_type, event_type)
