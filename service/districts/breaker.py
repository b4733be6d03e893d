"""A circuit breaker per district: after repeated failures stop calling, then probe. Pure Python.

closed: calls go through; `threshold` failures in a row open it.
open: no calls until `cooldown` has passed; then one call may go through as a probe (half-open).
half_open: the probe's success closes it; its failure opens it again for another cooldown. A
probe that never reports (its worker died) is replaced by another after a further cooldown.
"""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


@dataclass(frozen=True)
class Breaker:
    state: str = CLOSED
    failures: int = 0
    opened_at: datetime | None = None

    def admits(
        self, now: datetime, cooldown: timedelta, probe_time: timedelta = timedelta(0)
    ) -> tuple[bool, "Breaker"]:
        """Whether a call may go now, and the breaker after deciding (it may turn half-open).

        A probe in flight holds the breaker for `probe_time` (the call's own timeout) at least,
        so a slow probe is never joined by a second one.
        """
        if self.state == CLOSED:
            return True, self
        wait = max(cooldown, probe_time) if self.state == HALF_OPEN else cooldown
        if self.opened_at is None or now - self.opened_at >= wait:
            return True, replace(self, state=HALF_OPEN, opened_at=now)
        return False, self

    def succeeded(self) -> "Breaker":
        return Breaker()

    def failed(self, now: datetime, threshold: int) -> "Breaker":
        failures = self.failures + 1
        if self.state == HALF_OPEN or failures >= threshold:
            return Breaker(OPEN, failures, now)
        return Breaker(CLOSED, failures, None)

    def retry_after(self, now: datetime, cooldown: timedelta) -> float:
        """Seconds until a probe may go (0 if calls go through now)."""
        if self.state == CLOSED or self.opened_at is None:
            return 0.0
        return max(0.0, (self.opened_at + cooldown - now).total_seconds())
