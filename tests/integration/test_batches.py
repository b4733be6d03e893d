"""New deliveries for a back office Tongban serves are drained in batches: many cases in one
transaction of a real worker, each still applied exactly once, none lost when the worker dies
mid-batch, and one bad case in a batch costs only itself a retry."""

import json
from dataclasses import replace

import pytest
from sqlalchemy import text

from service.outbox.names import DELIVER_CASE, RELAY
from tests.helpers import (
    application,
    delivery_error,
    event_types,
    notifications_of,
    outbox_of,
    status_of,
    submit,
    waiting_on_lock,
)
from tests.integration.test_materials import PDF, stage, with_scans
from tests.processes import Worker, wait_for


@pytest.fixture
def long_lease_client(settings, migrated):
    """An API whose deliveries the relay leaves alone for a minute, so what this module sees
    is the drain's work, not the relay re-publishing rows one by one."""
    from service.app import create_app

    return create_app(replace(settings, outbox_lease_seconds=60)).test_client()


def submit_many(client, headers, n: int) -> list[str]:
    return [submit(client, headers, application()).get_json()["case_no"] for _ in range(n)]


def delivered_once(engine, case_nos: list[str]) -> None:
    for case_no in case_nos:
        wait_for(lambda n=case_no: status_of(engine, n) == "received", 60, f"{case_no} received")
    for case_no in case_nos:
        assert event_types(engine, case_no) == ["submitted", "forwarded", "received"]
        assert outbox_of(engine, case_no)[1:] == ("done", 0)
        assert notifications_of(engine, case_no) == 2


def batches(worker: Worker) -> list[int]:
    """The sizes of the batches the worker applied, from its log."""
    sizes = []
    for line in worker.log().splitlines():
        if '"batch applied"' in line:
            sizes.append(json.loads(line[line.index("{") :])["count"])
    return sizes


def test_a_backlog_is_applied_in_batches_each_case_once(
    worker_env, tmp_path, long_lease_client, terminal, engine
):
    case_nos = submit_many(long_lease_client, terminal("FM-01"), 60)
    worker = Worker(worker_env, tmp_path, "batches")
    try:
        delivered_once(engine, case_nos)
        sizes = batches(worker)
        assert sum(sizes) >= len(case_nos)
        assert max(sizes) > 1  # not one transaction per case
        drains = worker.log().count('"queue drained"')
        assert 1 <= drains < len(case_nos)  # not one task per case
        worker.wait_for_runs(RELAY, 2)  # two relay rounds more must change nothing
        assert all(
            event_types(engine, n) == ["submitted", "forwarded", "received"] for n in case_nos
        )
    finally:
        worker.stop()


def test_worker_killed_mid_batch_loses_nothing_and_repeats_nothing(
    worker_env, tmp_path, long_lease_client, terminal, engine
):
    window = terminal("FM-01")
    case_nos = submit_many(long_lease_client, window, 10)
    with engine.connect() as blocker:
        # Hold one case of the batch, so the drain waits inside its transaction with the other
        # nine already taken; then kill the worker.
        blocker.execute(
            text("SELECT 1 FROM cases WHERE case_no = :n FOR UPDATE"), {"n": case_nos[4]}
        )
        doomed = Worker(worker_env, tmp_path, "doomed-batch")
        wait_for(lambda: waiting_on_lock(engine), 30, "the batch to wait on the held case")
        doomed.kill()
        blocker.rollback()
    assert {status_of(engine, n) for n in case_nos} == {"submitted"}
    assert {outbox_of(engine, n)[1] for n in case_nos} == {"pending"}

    survivor = Worker(worker_env, tmp_path, "survivor-batch")
    try:
        # The next application for the district queues a drain, which takes the whole backlog.
        case_nos += submit_many(long_lease_client, window, 1)
        delivered_once(engine, case_nos)
    finally:
        survivor.stop()


def test_one_bad_case_in_a_batch_costs_only_itself_a_retry(
    long_lease_client, terminal, engine, settings, migrated
):
    from service.crypto import FieldCipher
    from service.districts.connectors import paused_queues
    from service.districts.delivery import make_handlers
    from service.materials.storage import open_store
    from service.materials.store import FileStore
    from service.outbox.names import district_queue
    from service.outbox.policy import DeliveryPolicy
    from service.outbox.processing import drain, process
    from service.outbox.publisher import Publisher

    window = terminal("FM-01")
    good = submit_many(long_lease_client, window, 2)
    data = PDF + b"goes bad in the store"
    staged = stage(long_lease_client, window, data).get_json()
    FileStore(settings.files_dir).path(staged["sha256"]).write_bytes(data[:-1] + b"!")
    body = with_scans(M01=[staged["id"]])
    bad = submit(long_lease_client, window, body).get_json()["case_no"]
    good += submit_many(long_lease_client, window, 2)

    policy = DeliveryPolicy.from_settings(settings)
    handlers, deliver_cases = make_handlers(
        policy, FieldCipher(settings.data_key), open_store(settings)
    )
    applied = drain(
        migrated.sessionmaker,
        district_queue("530102"),
        DELIVER_CASE,
        deliver_cases,
        handlers[DELIVER_CASE],
        policy,
        Publisher(settings.redis_url),
        paused_queues,
    )
    assert applied >= 5
    for case_no in good:
        assert event_types(engine, case_no) == ["submitted", "forwarded", "received"]
    assert status_of(engine, bad) == "submitted"
    assert "SHA-256" in delivery_error(engine, bad)
    assert outbox_of(engine, bad)[1:] == ("pending", 1)  # the relay tries it again later

    # Another drain that fell back on the same batch leaves the tried one to its back-off.
    outcome = process(
        migrated.sessionmaker,
        str(outbox_of(engine, bad)[0]),
        handlers[DELIVER_CASE],
        policy,
        Publisher(settings.redis_url),
        untried_only=True,
    )
    assert outcome == "duplicate"
    assert outbox_of(engine, bad)[1:] == ("pending", 1)
