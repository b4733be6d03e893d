"""Running outbox messages exactly once in effect, the relay, and dead-letter replay.

A message is applied in one transaction that locks its outbox row, records it in the
receiver's inbox, applies the handler's effects and marks the row done. A repeat (the same
task delivered twice, or re-published by the relay) finds the row done or the inbox entry
present and changes nothing. A failure rolls everything back and schedules the next try in the
database (`next_attempt_at`), never in a Celery countdown.
"""

import logging
import uuid
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker

from service.clock import now_utc
from service.districts.models import DistrictConnector
from service.outbox.backoff import retry_delay
from service.outbox.models import InboxRecord, OutboxMessage
from service.outbox.names import district_queue
from service.outbox.policy import DeliveryPolicy
from service.outbox.publisher import Publisher

log = logging.getLogger("tongban.outbox")

# A handler applies one message's effects in the session it is given; it must not commit.
# It may return new outbox rows to publish after commit.
Handler = Callable[[Session, OutboxMessage], list[OutboxMessage] | None]


paused_districts = select(DistrictConnector.district_code).where(DistrictConnector.paused.is_(True))


class Deferred(Exception):
    """Not tried now (the district is paused, or its breaker is open): no attempt is spent."""

    def __init__(self, reason: str, seconds: float):
        super().__init__(reason)
        self.seconds = seconds


class Unavailable(Exception):
    """The receiving system did not answer well (5xx, timeout). Retried with back-off until it
    does: an outage is not the message's fault, so it never makes a dead letter by itself."""


class Permanent(Exception):
    """The receiving system refused the message for good (4xx): a dead letter at once."""


def enqueue(
    session: Session,
    *,
    task: str,
    queue: str,
    payload: dict,
    case_id: int | None,
    policy: DeliveryPolicy,
) -> OutboxMessage:
    """Add an outbox row in the caller's transaction, leased for the fast-path publish."""
    now = now_utc()
    message = OutboxMessage(
        id=uuid.uuid4(),
        case_id=case_id,
        task=task,
        queue=queue,
        payload=payload,
        status="pending",
        attempts=0,
        created_at=now,
        next_attempt_at=now + timedelta(seconds=policy.lease_seconds),
    )
    session.add(message)
    return message


def process(
    sessions: sessionmaker,
    outbox_id: str,
    handler: Handler,
    policy: DeliveryPolicy,
    publisher: Publisher,
) -> str:
    """Apply one message; returns "applied", "duplicate", "retry" or "dead"."""
    message_id = uuid.UUID(outbox_id)
    follow_ups: list[OutboxMessage] = []
    try:
        with sessions() as session, session.begin():
            # Another worker holding it (a duplicate publish) is applying it now: leave it be.
            message = session.scalar(
                select(OutboxMessage)
                .where(OutboxMessage.id == message_id)
                .with_for_update(skip_locked=True)
            )
            if message is None or message.status != "pending":
                return "duplicate"
            first_time = session.scalar(
                insert(InboxRecord)
                .values(consumer=message.task, message_id=message.id)
                .on_conflict_do_nothing()
                .returning(InboxRecord.message_id)
            )
            if first_time is not None:
                follow_ups = handler(session, message) or []
            message.status, message.done_at = "done", now_utc()
            message.last_error = None
    except Deferred as exc:
        return _defer(sessions, message_id, exc)
    except Exception as exc:
        return _record_failure(sessions, message_id, exc, policy)
    publisher.publish(follow_ups)
    return "applied" if first_time is not None else "duplicate"


def _defer(sessions: sessionmaker, message_id: uuid.UUID, exc: Deferred) -> str:
    with sessions() as session, session.begin():
        message = session.get(OutboxMessage, message_id, with_for_update=True)
        if message is None or message.status != "pending":
            return "duplicate"
        message.waiting_on_district = True
        message.last_error = f"deferred: {exc}"[:1000]
        message.next_attempt_at = now_utc() + timedelta(seconds=exc.seconds)
        return "deferred"


def _record_failure(
    sessions: sessionmaker, message_id: uuid.UUID, exc: Exception, policy: DeliveryPolicy
) -> str:
    with sessions() as session, session.begin():
        message = session.get(OutboxMessage, message_id, with_for_update=True)
        if message is None or message.status != "pending":
            return "duplicate"
        message.attempts += 1
        message.last_error = f"{type(exc).__name__}: {exc}"[:1000]
        message.waiting_on_district = isinstance(exc, Unavailable)
        if isinstance(exc, Permanent) or (
            message.attempts >= policy.max_attempts and not message.waiting_on_district
        ):
            message.status = "dead"
            log.error(
                "delivery dead-lettered",
                extra={"outbox_id": str(message_id), "attempts": message.attempts},
            )
            return "dead"
        delay = retry_delay(message.attempts, policy.retry_base_seconds, policy.retry_max_seconds)
        message.next_attempt_at = now_utc() + timedelta(seconds=delay)
        log.warning(
            "delivery failed; will retry",
            extra={"outbox_id": str(message_id), "attempts": message.attempts, "delay_s": delay},
        )
        return "retry"


def relay_due(
    sessions: sessionmaker, publisher: Publisher, policy: DeliveryPolicy, batch: int = 200
) -> int:
    """Re-publish pending rows whose lease or retry time has passed; returns how many.

    Each re-publish counts as an attempt, so a message that kills its worker every time still
    reaches the dead-letter state instead of looping forever.
    """
    with sessions() as session, session.begin():
        now = now_utc()
        # A paused district's backlog waits in the database, taking no worker's time.
        held = [district_queue(code) for code in session.scalars(paused_districts)]
        due = list(
            session.scalars(
                select(OutboxMessage)
                .where(
                    OutboxMessage.status == "pending",
                    OutboxMessage.next_attempt_at <= now,
                    OutboxMessage.queue.not_in(held),
                )
                .order_by(OutboxMessage.next_attempt_at)
                .limit(batch)
                .with_for_update(skip_locked=True)
            )
        )
        for message in due:
            if message.attempts >= policy.max_attempts and not message.waiting_on_district:
                message.status = "dead"
                message.last_error = message.last_error or "not done after every attempt"
                log.error("delivery dead-lettered", extra={"outbox_id": str(message.id)})
        retry = [m for m in due if m.status == "pending"]
        sent = publisher.publish(retry)
        for message in retry[:sent]:
            message.attempts += 1
            message.next_attempt_at = now + timedelta(seconds=policy.lease_seconds)
    if sent:
        log.info("relay re-published", extra={"count": sent})
    return sent


def replay_dead(
    session: Session, ids: list[uuid.UUID] | None, policy: DeliveryPolicy
) -> list[OutboxMessage]:
    """Make dead letters pending again (all of them when `ids` is None); caller commits.

    They are leased as at intake: the caller publishes them, and the relay only steps in if
    that publish is lost.
    """
    query = update(OutboxMessage).where(OutboxMessage.status == "dead")
    if ids is not None:
        query = query.where(OutboxMessage.id.in_(ids))
    rows = session.scalars(
        query.values(
            status="pending",
            attempts=0,
            next_attempt_at=now_utc() + timedelta(seconds=policy.lease_seconds),
            last_error=None,
            waiting_on_district=False,
        ).returning(OutboxMessage)
    )
    return list(rows)
