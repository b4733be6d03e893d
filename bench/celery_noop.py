"""The service's Celery app with one extra task that does nothing but note when it ran.

The benchmark's worker is started with `-A bench.celery_noop`: every real task is there (the app
includes workers.tasks), and the no-op runs on the same broker, queues and settings, so it is
the baseline forwarding is compared with.
"""

import time

import redis

from bench.noop import DONE_KEY, NOOP
from workers.celery_app import app

_client: redis.Redis | None = None


@app.task(name=NOOP, ignore_result=True)
def noop(_message_id: str) -> None:
    """Record the time it ran; the least any task that tells someone it ran can do."""
    global _client
    if _client is None:
        _client = redis.Redis.from_url(app.tongban_settings.redis_url)
    _client.rpush(DONE_KEY, time.time())


__all__ = ["app", "noop"]
