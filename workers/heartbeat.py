"""A beat-driven heartbeat, so operators can see that beat and a worker are both alive."""

import socket
import time

import redis
from celery import shared_task

HEARTBEAT_KEY = "tongban:heartbeat"


@shared_task(name="tongban.heartbeat", bind=True, ignore_result=True)
def heartbeat(self) -> None:
    """Record when a worker last ran a beat-scheduled task, and which worker it was."""
    client = redis.Redis.from_url(self.app.tongban_settings.redis_url)
    client.hset(HEARTBEAT_KEY, mapping={"at": time.time(), "worker": socket.gethostname()})
