"""How long a published message may take, and how often and how long we retry."""

from dataclasses import dataclass, field

from service.config import Settings


@dataclass(frozen=True)
class ClockRules:
    """Working-day limits that are settings rather than agreement or item data."""

    accept_limit_days: int = 5  # decide on a received case (Administrative Licensing Law art. 32)
    due_soon_days: int = 2  # warn when this many working days or fewer are left
    rectify_limit_days: int = 15  # fix what a bad rating found

    @classmethod
    def from_settings(cls, settings: Settings) -> "ClockRules":
        return cls(
            accept_limit_days=settings.accept_limit_days,
            due_soon_days=settings.due_soon_days,
            rectify_limit_days=settings.rectify_limit_days,
        )


@dataclass(frozen=True)
class DeliveryPolicy:
    lease_seconds: float  # a published row not done by then is re-published by the relay
    max_attempts: int  # then dead-letter
    retry_base_seconds: float
    retry_max_seconds: float
    breaker_threshold: int = 5  # failures in a row that open a district's circuit breaker
    breaker_cooldown_seconds: float = 30  # then one probe after this long
    # Every step that moves a case also moves its clocks; they travel with the same policy.
    clocks: ClockRules = field(default_factory=ClockRules)

    @classmethod
    def from_settings(cls, settings: Settings) -> "DeliveryPolicy":
        return cls(
            lease_seconds=settings.outbox_lease_seconds,
            max_attempts=settings.delivery_max_attempts,
            retry_base_seconds=settings.retry_base_seconds,
            retry_max_seconds=settings.retry_max_seconds,
            breaker_threshold=settings.breaker_threshold,
            breaker_cooldown_seconds=settings.breaker_cooldown_seconds,
            clocks=ClockRules.from_settings(settings),
        )
