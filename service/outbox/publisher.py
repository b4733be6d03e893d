"""Publishing outbox rows to the broker as Celery task messages, by task name.

The service only needs to send messages, so it keeps a small Celery client of its own and
never imports the workers. A publish that fails (broker down) is logged and left to the relay:
the row is still pending in the database.

New deliveries of cases are not sent one message per row: a district queue gets one drain task
(coalesced by a short-lived Redis key), which applies every delivery waiting for the district in
a few transactions. That key is only a hint: a drain lost with it is covered by the relay when
the rows' lease runs out, like any lost publish.
"""

import contextlib
import logging
import time
from collections.abc import Iterable

import redis
from celery import Celery

from service.outbox.models import OutboxMessage
from service.outbox.names import DRAIN, DRAINED_FLAG, DRAINED_TASK

log = logging.getLogger("tongban.outbox")

# After a failed publish, skip the fast path for a while: the relay covers it, and intake should
# not wait on a broker that is known to be down.
BACKOFF_AFTER_FAILURE_SECONDS = 10.0

# How long a queued drain task stands for the messages published after it. Longer than a drain
# waits in a busy queue; if one is lost, the relay publishes its rows after their lease.
DRAIN_PENDING_SECONDS = 30


def drained(message: OutboxMessage) -> bool:
    """Whether the row is left to its queue's drain rather than published as a task."""
    return message.task == DRAINED_TASK and bool((message.payload or {}).get(DRAINED_FLAG))


def _drain_key(queue: str) -> str:
    return f"tongban:drain-queued:{queue}"


class Publisher:
    def __init__(self, broker_url: str):
        self.celery = Celery("tongban-publisher", broker=broker_url, set_as_current=False)
        self.celery.conf.update(
            task_serializer="json",
            accept_content=["json"],
            broker_connection_retry=False,
            broker_connection_timeout=1,
            broker_transport_options={"socket_connect_timeout": 1, "socket_timeout": 2},
        )
        self.redis = redis.Redis.from_url(broker_url, socket_connect_timeout=1, socket_timeout=2)
        self._down_until = 0.0

    def publish(self, messages: Iterable[OutboxMessage], *, one_by_one: bool = False) -> int:
        """Send each message (a drained one as its queue's drain task, unless `one_by_one`);
        stop at the first broker failure. Returns how many were sent or left to a drain."""
        sent = 0
        if time.monotonic() < self._down_until:
            return sent
        drains: set[str] = set()
        for message in messages:
            if one_by_one or not drained(message):
                if not self._send(message.task, str(message.id), message.queue, str(message.id)):
                    break
            elif message.queue not in drains:
                if not self.drain(message.queue):
                    break
                drains.add(message.queue)
            sent += 1
        return sent

    def drain(self, queue: str) -> bool:
        """Queue a drain task for the queue, unless one is queued and not started yet; False if
        the broker failed (the relay covers what it would have taken)."""
        key = _drain_key(queue)
        try:
            if not self.redis.set(key, "1", nx=True, ex=DRAIN_PENDING_SECONDS):
                return True
        except Exception as exc:  # any broker failure: the relay will take the rows
            return self._failed(exc, queue=queue)
        if self._send(DRAIN, queue, queue):
            return True
        with contextlib.suppress(redis.RedisError):  # else it expires by itself
            self.redis.delete(key)
        return False

    def drain_started(self, queue: str) -> None:
        """A drain is taking the queue's messages: what is published from now on needs a new
        one. Called before the drain reads, so nothing committed meanwhile is missed. If Redis
        does not answer, the key expires by itself and the drain goes on."""
        with contextlib.suppress(redis.RedisError):
            self.redis.delete(_drain_key(queue))

    def _send(self, task: str, arg: str, queue: str, task_id: str | None = None) -> bool:
        try:
            self.celery.send_task(
                task, args=[arg], task_id=task_id, queue=queue, routing_key=queue, retry=False
            )
        except Exception as exc:  # any broker failure: the relay will try again
            return self._failed(exc, outbox_id=task_id, queue=queue)
        return True

    def _failed(self, exc: Exception, **context: str | None) -> bool:
        log.warning(
            "publish failed; the relay will retry",
            extra={**context, "error": type(exc).__name__},
        )
        self._down_until = time.monotonic() + BACKOFF_AFTER_FAILURE_SECONDS
        return False
