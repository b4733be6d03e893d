"""How long a published message may take, and how often and how long we retry."""

from dataclasses import dataclass

from service.config import Settings


@dataclass(frozen=True)
class DeliveryPolicy:
    lease_seconds: float  # a published row not done by then is re-published by the relay
    max_attempts: int  # then dead-letter
    retry_base_seconds: float
    retry_max_seconds: float

    @classmethod
    def from_settings(cls, settings: Settings) -> "DeliveryPolicy":
        return cls(
            lease_seconds=settings.outbox_lease_seconds,
            max_attempts=settings.delivery_max_attempts,
            retry_base_seconds=settings.retry_base_seconds,
            retry_max_seconds=settings.retry_max_seconds,
        )
