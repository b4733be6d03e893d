"""Retry delays: exponential back-off with jitter, so retries after an outage do not stampede."""

import random


def retry_delay(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Seconds to wait before try `attempt + 1`: half fixed, half random, doubling, capped."""
    ceiling = min(cap, base * 2 ** max(0, attempt - 1))
    return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)
