"""The one Celery object, configured from the same environment as the API.

Settings follow docs/DESIGN.md §5: JSON only, late acks, reject on worker loss, prefetch 1, and a
visibility timeout well above any task's time limit. State lives in PostgreSQL, so there is no
result backend.
"""

from celery import Celery
from celery.schedules import crontab
from celery.signals import setup_logging, task_postrun, task_prerun
from kombu import Queue

from catalog.districts import KUNMING_DISTRICTS
from service import logs
from service.config import load_settings
from service.outbox.names import (
    CHECKPOINT,
    CLOSE_MONTHS,
    KEEP_PARTIALS,
    PURGE_SECURITY_LOG,
    RECONCILE,
    RELAY,
    SUPERVISE,
    TIDY_FILES,
    district_queue,
)

TASK_TIME_LIMIT = 300
DEFAULT_QUEUE = "default"
ALL_QUEUES = [DEFAULT_QUEUE] + [district_queue(d.code) for d in KUNMING_DISTRICTS]


def make_celery() -> Celery:
    settings = load_settings()
    app = Celery(
        "tongban", broker=settings.redis_url, include=["workers.heartbeat", "workers.tasks"]
    )
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        result_backend=None,
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_time_limit=TASK_TIME_LIMIT,
        task_soft_time_limit=TASK_TIME_LIMIT - 30,
        broker_transport_options={"visibility_timeout": TASK_TIME_LIMIT * 4},
        broker_connection_retry_on_startup=True,
        task_default_queue=DEFAULT_QUEUE,
        task_queues=[Queue(name) for name in ALL_QUEUES],
        worker_hijack_root_logger=False,
        timezone="Asia/Shanghai",
        enable_utc=True,
        beat_schedule={
            "heartbeat": {"task": "tongban.heartbeat", "schedule": 30.0},
            "supervise-deadlines": {
                "task": SUPERVISE,
                "schedule": float(settings.supervise_interval_seconds),
                "options": {"expires": float(settings.supervise_interval_seconds)},
            },
            # Hourly, so a month closes early on the 1st even if beat was down at midnight.
            "close-months": {
                "task": CLOSE_MONTHS,
                "schedule": 3600.0,
                "options": {"expires": 3600},
            },
            # So that a report of an open month reads only the events since the last count.
            "keep-partials": {
                "task": KEEP_PARTIALS,
                "schedule": float(settings.stats_partial_seconds),
                "options": {"expires": float(settings.stats_partial_seconds)},
            },
            "tidy-files": {"task": TIDY_FILES, "schedule": 3600.0, "options": {"expires": 3600}},
            "purge-security-log": {
                "task": PURGE_SECURITY_LOG,
                "schedule": 86400.0,
                "options": {"expires": 86400},
            },
            # Daily at midnight (Beijing), before the 1st's month close usually runs.
            "checkpoint": {
                "task": CHECKPOINT,
                "schedule": crontab(minute=0, hour=0),
                "options": {"expires": 3600},
            },
            "reconcile-districts": {
                "task": RECONCILE,
                "schedule": float(settings.reconcile_interval_seconds),
                "options": {"expires": float(settings.reconcile_interval_seconds)},
            },
            "relay-outbox": {
                "task": RELAY,
                "schedule": float(settings.relay_interval_seconds),
                "options": {"expires": float(settings.relay_interval_seconds)},
            },
        },
    )
    app.tongban_settings = settings
    return app


app = make_celery()


@setup_logging.connect
def _json_logs(**_kwargs) -> None:
    """Workers log one JSON object per line, like the API."""
    logs.configure(app.tongban_settings.log_level)


# Each task's log context, by task id, from its start to its end (same worker thread).
_task_contexts: dict[str, list] = {}


@task_prerun.connect
def _open_log_context(task_id: str | None = None, **_kwargs) -> None:
    """A task's lines carry its id, and no request's or earlier task's ids."""
    _task_contexts[task_id or ""] = logs.open_context(task_id=task_id)


@task_postrun.connect
def _close_log_context(task_id: str | None = None, **_kwargs) -> None:
    """What the worker logs after the task (and the next task) carries none of its ids."""
    logs.close_context(_task_contexts.pop(task_id or "", None))
