"""Publishing outbox rows to the broker as Celery task messages, by task name.

The service only needs to send messages, so it keeps a small Celery client of its own and
never imports the workers. A publish that fails (broker down) is logged and left to the relay:
the row is still pending in the database.
"""

import logging
import time
from collections.abc import Iterable

from celery import Celery

from service.outbox.models import OutboxMessage

log = logging.getLogger("tongban.outbox")

# After a failed publish, skip the fast path for a while: the relay covers it, and intake should
# not wait on a broker that is known to be down.
BACKOFF_AFTER_FAILURE_SECONDS = 10.0


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
        self._down_until = 0.0

    def publish(self, messages: Iterable[OutboxMessage]) -> int:
        """Send each message; stop at the first broker failure. Returns how many were sent."""
        sent = 0
        if time.monotonic() < self._down_until:
            return sent
        for message in messages:
            try:
                self.celery.send_task(
                    message.task,
                    args=[str(message.id)],
                    task_id=str(message.id),
                    queue=message.queue,
                    routing_key=message.queue,
                    retry=False,
                )
            except Exception as exc:  # any broker failure: the relay will try again
                log.warning(
                    "publish failed; the relay will retry",
                    extra={"outbox_id": str(message.id), "error": type(exc).__name__},
                )
                self._down_until = time.monotonic() + BACKOFF_AFTER_FAILURE_SECONDS
                break
            sent += 1
        return sent
