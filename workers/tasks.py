"""Outbox tasks: each takes an outbox id (never an object) and applies it once in effect.

Retries are not Celery retries: a failure is recorded on the outbox row with the next attempt
time, and the relay (beat) re-publishes when that time comes.
"""

import logging

from celery import shared_task

import service.models  # noqa: F401 - maps every table before the first session
from service.audit import chain
from service.audit.checkpoint import Book
from service.audit.retention import purge, retention_days
from service.cases.checkpoints import take_checkpoint
from service.cases.steps import UnitOfWork
from service.clocks.supervision import supervise
from service.crypto import FieldCipher
from service.db import Database
from service.districts.connectors import paused_queues
from service.districts.delivery import make_handlers
from service.districts.reconcile import reconcile
from service.materials.service import remove_expired, sweep_orphans
from service.materials.storage import open_store
from service.outbox.names import (
    CHECKPOINT,
    CLOSE_MONTHS,
    DRAIN,
    DRAINED_TASK,
    KEEP_PARTIALS,
    PURGE_SECURITY_LOG,
    RECONCILE,
    RELAY,
    SUPERVISE,
    TIDY_FILES,
)
from service.outbox.policy import DeliveryPolicy
from service.outbox.processing import drain, process, relay_due
from service.outbox.publisher import Publisher
from service.stats.closing import close_due_months
from service.stats.partial import refresh_open_months
from service.wiring import install
from workers.celery_app import app

log = logging.getLogger("tongban.worker")

settings = app.tongban_settings
database = Database(settings)
policy = DeliveryPolicy.from_settings(settings)
publisher = Publisher(settings.redis_url)
cipher = FieldCipher.from_settings(settings)
files = open_store(settings)
book = Book.from_settings(settings)
# Read at start, so a retention under the floor stops the worker instead of a nightly task.
SECURITY_LOG_DAYS = retention_days()
install()
chain.use_key(settings.chain_key)
HANDLERS, DELIVER_CASES = make_handlers(policy, cipher, files)


def _outbox_task(name: str):
    handler = HANDLERS[name]

    @shared_task(name=name, ignore_result=True)
    def run(outbox_id: str) -> str:
        outcome = process(database.sessionmaker, outbox_id, handler, policy, publisher)
        log.info("outbox message %s", outcome, extra={"task": name, "outbox_id": outbox_id})
        return outcome

    return run


OUTBOX_TASKS = {name: _outbox_task(name) for name in HANDLERS}


@shared_task(name=DRAIN, ignore_result=True)
def drain_deliveries(queue: str) -> int:
    """Apply every new delivery waiting in a district queue, in batches."""
    applied = drain(
        database.sessionmaker,
        queue,
        DRAINED_TASK,
        DELIVER_CASES,
        HANDLERS[DRAINED_TASK],
        policy,
        publisher,
        paused_queues,
    )
    log.info("queue drained", extra={"queue": queue, "applied": applied})
    return applied


@shared_task(name=RELAY, ignore_result=True)
def relay_outbox() -> int:
    """Re-publish outbox rows whose lease or retry time has passed."""
    return relay_due(database.sessionmaker, publisher, policy, paused_queues)


@shared_task(name=SUPERVISE, ignore_result=True)
def supervise_deadlines() -> dict[str, int]:
    """Mark deadlines due soon or overdue and tell the districts (idempotent)."""
    with database.sessionmaker() as session:
        changed = supervise(session, policy.clocks)
    if changed:
        log.info("supervision", extra={"changed": changed})
    return changed


@shared_task(name=RECONCILE, ignore_result=True)
def reconcile_districts() -> dict[str, int]:
    """Ask district systems about delivered cases that have been quiet for a while."""
    results = reconcile(
        database.sessionmaker, cipher, policy, publisher, settings.reconcile_quiet_seconds
    )
    if results:
        log.info("reconciliation", extra={"results": results})
    return results


@shared_task(name=CLOSE_MONTHS, ignore_result=True)
def close_months() -> list[str]:
    """Freeze every finished month's statistics that is not frozen yet."""
    with database.sessionmaker() as session:
        closed = close_due_months(session, book=book)
    if closed:
        log.info("months closed", extra={"months": closed})
    return closed


@shared_task(name=KEEP_PARTIALS, ignore_result=True)
def keep_partials() -> dict[str, int] | None:
    """Count every open month's figures up to now, so its report reads only what follows."""
    with database.sessionmaker() as session:
        kept = refresh_open_months(session)
    if kept is None:
        log.warning("timeline too busy to count; kept figures left as they were")
    return kept


@shared_task(name=TIDY_FILES, ignore_result=True)
def tidy_files() -> dict[str, int]:
    """Remove scans past their retention, and stored files whose upload never committed."""
    with database.sessionmaker() as session:
        expired = remove_expired(UnitOfWork(session, policy), files, settings.file_retention_days)
        orphans = sweep_orphans(session, files)
    if expired or orphans:
        log.info("files tidied", extra={"expired": expired, "orphans": orphans})
    return {"expired": expired, "orphans": orphans}


@shared_task(name=PURGE_SECURITY_LOG, ignore_result=True)
def purge_security_log() -> int:
    """Remove security-log entries past their retention (the database keeps 180 days anyway)."""
    with database.sessionmaker() as session:
        deleted = purge(session, SECURITY_LOG_DAYS)
    if deleted:
        log.info("security log purged", extra={"deleted": deleted})
    return deleted


@shared_task(name=CHECKPOINT, ignore_result=True)
def checkpoint() -> str:
    """Take a signed checkpoint of the timelines and the security log into the checkpoint
    directory (service/cases/checkpoints.py)."""
    name = take_checkpoint(database.engine, book)
    log.info("checkpoint written", extra={"checkpoint": name})
    return name
