"""Running outbox messages exactly once in effect, the relay, and dead-letter replay.

A message is applied in one transaction that locks its outbox row, records it in the
receiver's inbox, applies the handler's effects and marks the row done. A repeat (the same
task delivered twice, or re-published by the relay) finds the row done or the inbox entry
present and changes nothing. A failure rolls everything back and schedules the next try in the
database (`next_attempt_at`), never in a Celery countdown.
"""

import logging
import uuid
from collections.abc import Callable, Collection
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker

from service import logs
from service.clock import now_utc
from service.outbox.backoff import retry_delay
from service.outbox.models import InboxRecord, OutboxMessage
from service.outbox.names import DRAINED_FLAG
from service.outbox.policy import DeliveryPolicy
from service.outbox.publisher import Publisher

log = logging.getLogger("tongban.outbox")

# A handler applies one message's effects in the session it is given; it must not commit.
# It may return new outbox rows to publish after commit.
Handler = Callable[[Session, OutboxMessage], list[OutboxMessage] | None]
# A batch handler does the same for many messages of one queue at once. It raises OneByOne when
# they cannot be applied together (a district system takes them one request at a time).
BatchHandler = Callable[[Session, list[OutboxMessage]], list[OutboxMessage]]
# The queues whose messages wait in the database for now, taking no worker's time (a paused
# district's; its connector says so, which this package does not read itself).
Held = Callable[[Session], Collection[str]]

# A drain applies up to BATCH messages per transaction, and at most ROUNDS transactions before
# it hands the rest to a new drain task, so one busy district does not keep a worker forever.
BATCH = 50
ROUNDS = 10


class Deferred(Exception):
    """Not tried now (the district is paused, or its breaker is open): no attempt is spent."""

    def __init__(self, reason: str, seconds: float):
        super().__init__(reason)
        self.seconds = seconds


class OneByOne(Exception):
    """These messages must be applied each in its own transaction, by `process`."""


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
    *,
    untried_only: bool = False,
) -> str:
    """Apply one message; returns "applied", "duplicate", "retry" or "dead".

    `untried_only` leaves alone a message someone has tried meanwhile: its next try waits for
    its back-off, not for whoever else holds its id.
    """
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
            if untried_only and (message.attempts or message.waiting_on_district):
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


def drain(
    sessions: sessionmaker,
    queue: str,
    task: str,
    batch_handler: BatchHandler,
    handler: Handler,
    policy: DeliveryPolicy,
    publisher: Publisher,
    held: Held,
) -> int:
    """Apply the queue's new messages of `task` (not tried yet) in batches; returns how many.

    Each batch is one transaction: the messages are locked (skipping any a worker holds), put in
    the inbox, applied and marked done together, so a crash anywhere leaves all of them pending
    for the next drain or the relay. A batch that fails is rolled back and its messages are
    applied one by one, so one bad message costs only itself a retry.
    """

    def apply_batch() -> int:
        ids: list[uuid.UUID] = []
        try:
            with sessions() as session, session.begin():
                if queue in held(session):
                    return 0  # the relay takes them once the district is resumed
                messages = list(session.scalars(_fresh(queue, task)))
                ids = [m.id for m in messages]
                if not messages:
                    return 0
                first_time = set(
                    session.scalars(
                        insert(InboxRecord)
                        .values([{"consumer": task, "message_id": m.id} for m in messages])
                        .on_conflict_do_nothing()
                        .returning(InboxRecord.message_id)
                    )
                )
                todo = [m for m in messages if m.id in first_time]
                follow_ups = batch_handler(session, todo) if todo else []
                done_at = now_utc()
                for message in messages:
                    message.status, message.done_at, message.last_error = "done", done_at, None
        except Exception as exc:
            if not isinstance(exc, OneByOne):
                log.warning(
                    "batch failed; applying its messages one by one",
                    extra={
                        "queue": queue,
                        "count": len(ids),
                        # Not the message: a database error's quotes the row's values.
                        "error": logs.error_text(exc),
                    },
                )
            # Another drain may fall back on the same rows: each is tried once, not twice.
            for message_id in ids:
                process(sessions, str(message_id), handler, policy, publisher, untried_only=True)
            return len(ids)
        publisher.publish(follow_ups)
        log.info("batch applied", extra={"queue": queue, "count": len(ids)})
        return len(ids)

    publisher.drain_started(queue)
    total = 0
    for _ in range(ROUNDS):
        claimed = apply_batch()
        total += claimed
        if claimed < BATCH:
            break
        # More are waiting: keep a drain queued, so a free worker process joins in (each skips
        # the rows the other holds) and takes over when this one has done its rounds.
        publisher.drain(queue)
    return total


def _fresh(queue: str, task: str):
    """The queue's messages of `task` that nobody has tried yet, oldest first, locked."""
    return (
        select(OutboxMessage)
        .where(
            OutboxMessage.queue == queue,
            OutboxMessage.task == task,
            OutboxMessage.status == "pending",
            OutboxMessage.attempts == 0,
            OutboxMessage.waiting_on_district.is_(False),
            OutboxMessage.payload[DRAINED_FLAG].as_boolean().is_(True),
        )
        .order_by(OutboxMessage.created_at)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    )


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
    sessions: sessionmaker,
    publisher: Publisher,
    policy: DeliveryPolicy,
    held: Held,
    batch: int = 200,
) -> int:
    """Re-publish pending rows whose lease or retry time has passed; returns how many.

    Each re-publish counts as an attempt, so a message that kills its worker every time still
    reaches the dead-letter state instead of looping forever.
    """
    with sessions() as session, session.begin():
        now = now_utc()
        held_queues = held(session)
        due = list(
            session.scalars(
                select(OutboxMessage)
                .where(
                    OutboxMessage.status == "pending",
                    OutboxMessage.next_attempt_at <= now,
                    OutboxMessage.queue.not_in(held_queues),
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
        sent = publisher.publish(retry, one_by_one=True)
        for message in retry[:sent]:
            message.attempts += 1
            message.next_attempt_at = now + timedelta(seconds=policy.lease_seconds)
    if sent:
        log.info("relay re-published", extra={"count": sent})
    return sent


def replay_dead(
    session: Session,
    ids: list[uuid.UUID] | None,
    policy: DeliveryPolicy,
    queues: list[str] | None = None,
) -> list[OutboxMessage]:
    """Make dead letters pending again (all of them when `ids` is None; only those bound for
    `queues` when given); caller commits.

    They are leased as at intake: the caller publishes them, and the relay only steps in if
    that publish is lost.
    """
    query = update(OutboxMessage).where(OutboxMessage.status == "dead")
    if ids is not None:
        query = query.where(OutboxMessage.id.in_(ids))
    if queues is not None:
        query = query.where(OutboxMessage.queue.in_(queues))
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
