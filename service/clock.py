"""Time: stored in UTC, shown and counted in days in Asia/Shanghai."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def now_utc() -> datetime:
    return datetime.now(UTC)


def local_today(at: datetime | None = None) -> date:
    """The calendar day in Asia/Shanghai at `at` (default: now)."""
    return (at or now_utc()).astimezone(SHANGHAI).date()


def local_midnight(day: date) -> datetime:
    """The start of `day` in Asia/Shanghai, as an aware datetime."""
    return datetime.combine(day, time(), tzinfo=SHANGHAI)


def to_local(at: datetime) -> datetime:
    return at.astimezone(SHANGHAI)
