"""Time: stored in UTC, shown and counted in days in Asia/Shanghai."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def now_utc() -> datetime:
    return datetime.now(UTC)


def local_today(at: datetime | None = None) -> date:
    """The calendar day in Asia/Shanghai at `at` (default: now)."""
    return (at or now_utc()).astimezone(SHANGHAI).date()


def to_local(at: datetime) -> datetime:
    return at.astimezone(SHANGHAI)
