"""Chinese names of timeline events on the case page (from the event table)."""

from service.cases.events import EVENTS, EventType

EVENT_ZH: dict[str, str] = {event.value: info.label_zh for event, info in EVENTS.items()}

OUTCOME_ZH = {"approved": "准予许可（办结）", "denied": "不予许可（办结）"}


def event_zh(event_type: str) -> str:
    """An event type's Chinese name; one no longer known, as it is stored."""
    try:
        return EVENTS[EventType(event_type)].label_zh
    except ValueError:
        return event_type
