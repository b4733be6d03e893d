"""Back-off for the citizen's look-up: failures slow down whoever fails, never the right code.

Three things are kept in Redis:

- every try from an address, in one-minute windows, capped (one address cannot scan many
  cases, nor load the database);
- failures per address and per case over a day; from the `failures`-th one on, the address is
  held back for `delay` seconds, doubling with each further failure up to `max_delay`;
- when a case has had that many failures from anywhere, an address that fails on it is held
  back from that case the same way, by the case's count: a crowd of addresses gets one guess
  each per delay, while an address that has not failed on the case (the citizen at home)
  still has its code checked at once.

A held-back address is refused before its code is checked, so waiting is not optional. Nothing
is counted for a right code. If Redis is down the look-up still answers (logged).
"""

import logging
import math
import time
from dataclasses import dataclass

import redis

log = logging.getLogger("tongban.public")

FAILURE_WINDOW_SECONDS = 24 * 3600
_PREFIX = "tongban:lookup"


@dataclass(frozen=True)
class LookupLimits:
    per_minute: int  # tries from one address in a minute, right or wrong
    failures: int  # failures before the first delay
    delay_seconds: int
    max_delay_seconds: int

    @classmethod
    def from_settings(cls, settings) -> "LookupLimits":
        """The limits the app was configured with."""
        return cls(
            per_minute=settings.public_lookups_per_minute,
            failures=settings.lookup_failures,
            delay_seconds=settings.lookup_delay_seconds,
            max_delay_seconds=settings.lookup_max_delay_seconds,
        )

    def delay(self, failures: int) -> int:
        """Seconds to hold back after `failures` failures (0 below the threshold)."""
        if failures < self.failures:
            return 0
        doublings = min(failures - self.failures, 32)  # 2**32 s is past any sane maximum
        return min(self.delay_seconds * 2**doublings, self.max_delay_seconds)


class LookupThrottle:
    """The look-up's limits for one Redis. `address` is the client's; `case_no` is None when what
    was asked is not shaped like a case number (no case to protect, and no key to make of it)."""

    def __init__(self, client: redis.Redis, limits: LookupLimits):
        self._redis = client
        self._limits = limits

    def wait_before(self, address: str, case_no: str | None) -> int:
        """Count this try; seconds the address must still wait before it is checked (0: go)."""
        minute = int(time.time() // 60)
        tries = f"{_PREFIX}:tries:{address}:{minute}"
        try:
            pipe = self._redis.pipeline()
            pipe.incr(tries)
            pipe.expire(tries, 120)
            pipe.pttl(f"{_PREFIX}:hold:addr:{address}")
            if case_no is not None:
                pipe.pttl(f"{_PREFIX}:hold:case:{case_no}:{address}")
            count, _, *held = pipe.execute()
        except redis.RedisError:
            log.warning("look-up throttle unavailable; allowing look-up")
            return 0
        waits = [math.ceil(ms / 1000) for ms in held if ms > 0]
        if count > self._limits.per_minute:
            waits.append(60 - int(time.time()) % 60)
        return max(waits, default=0)

    def failed(self, address: str, case_no: str | None) -> int:
        """Record a wrong code or unknown case; seconds the address is now held back (0: none)."""
        counters = [f"{_PREFIX}:fail:addr:{address}"]
        if case_no is not None:
            counters.append(f"{_PREFIX}:fail:case:{case_no}")
        try:
            pipe = self._redis.pipeline()
            for key in counters:
                # The window starts at the first failure and is not stretched by later ones.
                pipe.set(key, 0, nx=True, ex=FAILURE_WINDOW_SECONDS)
                pipe.incr(key)
            address_failures, case_failures, *_ = [*pipe.execute()[1::2], 0]
            address_wait = self._limits.delay(address_failures)
            case_wait = self._limits.delay(case_failures)
            pipe = self._redis.pipeline()
            if address_wait:
                pipe.set(f"{_PREFIX}:hold:addr:{address}", 1, ex=address_wait)
            if case_wait:
                pipe.set(f"{_PREFIX}:hold:case:{case_no}:{address}", 1, ex=case_wait)
            pipe.execute()
        except redis.RedisError:
            log.warning("look-up throttle unavailable; failure not counted")
            return 0
        if case_wait:
            # Addresses are personal data: the log says how hard a case is tried, not by whom.
            log.info(
                "look-up failures on a case", extra={"case_no": case_no, "failures": case_failures}
            )
        return max(address_wait, case_wait)
