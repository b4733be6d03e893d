"""Nothing lost, nothing twice: worker killed mid-delivery, broker down at intake, a lost
publish, a duplicated task message, and a delivery that fails until its budget runs out."""

import os
import time

import pytest
from sqlalchemy import text

from ops.embedded import EmbeddedRedis
from service.outbox.names import DELIVER_CASE, RELAY
from service.outbox.publisher import Publisher
from tests.helpers import (
    application,
    event_types,
    notifications_of,
    outbox_of,
    status_of,
    submit,
    waiting_on_lock,
)
from tests.processes import Worker, wait_for


def received_once(engine, case_no: str) -> None:
    """Delivered, with one forwarded and one received event and each side told once."""
    wait_for(lambda: status_of(engine, case_no) == "received", 40, f"{case_no} received")
    assert event_types(engine, case_no) == ["submitted", "forwarded", "received"]
    assert outbox_of(engine, case_no)[1] == "done"
    # new case for the back office, received for the window
    wait_for(lambda: notifications_of(engine, case_no) == 2, 20, "both sides notified")


def test_worker_killed_mid_delivery_delivers_exactly_once(
    worker_env, tmp_path, client, terminal, engine
):
    case_no = submit(client, terminal("FM-01"), application()).get_json()["case_no"]
    with engine.connect() as blocker:
        # Hold the case row so the delivery blocks inside its transaction, then kill the worker.
        blocker.execute(text("SELECT 1 FROM cases WHERE case_no = :n FOR UPDATE"), {"n": case_no})
        worker = Worker(worker_env, tmp_path, "doomed")
        wait_for(
            lambda: waiting_on_lock(engine), 30, "the delivery to be in flight (waiting on a lock)"
        )
        worker.kill()
        blocker.rollback()
    assert status_of(engine, case_no) == "submitted"
    assert outbox_of(engine, case_no)[1] == "pending"

    survivor = Worker(worker_env, tmp_path, "survivor")
    try:
        received_once(engine, case_no)
        # A lease and more (four relay rounds, 1 s apart; the lease is 3 s), and every task
        # the survivor took for this delivery finished: a re-publish must change nothing.
        survivor.wait_for_runs(RELAY, 4)
        outbox_id = str(outbox_of(engine, case_no)[0])
        wait_for(
            lambda: (
                survivor.finished(DELIVER_CASE, outbox_id)
                == survivor.received(DELIVER_CASE, outbox_id)
            ),
            20,
            "the survivor to finish every task of the delivery",
        )
        assert event_types(engine, case_no) == ["submitted", "forwarded", "received"]
        assert notifications_of(engine, case_no) == 2
    finally:
        survivor.stop()


@pytest.fixture
def own_broker(tmp_path, settings):
    """A Redis of this test's own, which it may stop and start, and an app and env using it."""
    from dataclasses import replace

    from service.app import create_app

    redis_server = EmbeddedRedis(tmp_path / "redis", persist=False)
    url = redis_server.url
    app = create_app(replace(settings, redis_url=url))
    env = {k: v for k, v in os.environ.items() if k.startswith(("TONGBAN_", "DATABASE_"))}
    env["REDIS_URL"] = url
    state = {"redis": redis_server}
    yield app, env, state
    state["redis"].stop()


def test_broker_down_at_intake_still_201_and_delivered_when_back(
    own_broker, tmp_path, terminal, engine
):
    app, env, state = own_broker
    worker = Worker(env, tmp_path, "broker-outage")
    try:
        port = state["redis"].port
        state["redis"].stop()
        started = time.monotonic()
        response = submit(app.test_client(), terminal("FM-01"), application())
        assert response.status_code == 201, response.get_json()
        assert time.monotonic() - started < 5
        case_no = response.get_json()["case_no"]
        # The worker is running and has seen the broker go: nothing can have carried the case.
        wait_for(lambda: "Connection to broker lost" in worker.log(), 20, "the worker to notice")
        assert status_of(engine, case_no) == "submitted"
        assert outbox_of(engine, case_no)[1:] == ("pending", 0)
        state["redis"] = EmbeddedRedis(tmp_path / "redis", port=port, persist=False)
        received_once(engine, case_no)
    finally:
        worker.stop()


def test_publish_lost_after_commit_is_delivered_by_the_relay(
    worker_env, tmp_path, app, terminal, engine, monkeypatch
):
    publisher = app.extensions["tongban.publisher"]
    monkeypatch.setattr(publisher, "publish", lambda messages: 0)  # commit, then nothing sent
    case_no = submit(app.test_client(), terminal("FM-01"), application()).get_json()["case_no"]
    monkeypatch.undo()
    worker = Worker(worker_env, tmp_path, "relay")
    try:
        received_once(engine, case_no)
        assert outbox_of(engine, case_no)[2] >= 1  # re-published by the relay
    finally:
        worker.stop()


def test_same_task_message_twice_is_applied_once(worker_env, tmp_path, app, terminal, engine):
    case_no = submit(app.test_client(), terminal("FM-01"), application()).get_json()["case_no"]
    message_id = outbox_of(engine, case_no)[0]
    from service.outbox.models import OutboxMessage

    with app.app_context():
        message = app.extensions["tongban.db"].sessionmaker().get(OutboxMessage, message_id)
    # The fast path already published it once; send the very same message twice more.
    assert Publisher(worker_env["REDIS_URL"]).publish([message, message], one_by_one=True) == 2
    worker = Worker(worker_env, tmp_path, "dupes")
    try:
        received_once(engine, case_no)
        # Both copies sent above were taken and finished (as duplicates) by the worker.
        wait_for(
            lambda: worker.finished(DELIVER_CASE, str(message_id)) >= 2,
            20,
            "the worker to finish both copies",
        )
        assert event_types(engine, case_no) == ["submitted", "forwarded", "received"]
        assert notifications_of(engine, case_no) == 2
        with engine.connect() as conn:
            assert (
                conn.execute(
                    text("SELECT count(*) FROM inbox WHERE message_id = :m"), {"m": message_id}
                ).scalar_one()
                == 1
            )
    finally:
        worker.stop()


def test_failing_delivery_goes_to_dead_letters_and_replays(
    worker_env, tmp_path, app, client, terminal, staff, engine
):
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE FUNCTION refuse_receipt() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN IF NEW.type = 'received' THEN "
                "RAISE EXCEPTION 'district system refuses'; END IF; RETURN NEW; END $$;"
                "CREATE TRIGGER refuse_receipt BEFORE INSERT ON case_events "
                "FOR EACH ROW EXECUTE FUNCTION refuse_receipt()"
            )
        )
    worker = Worker(worker_env, tmp_path, "dead")
    try:
        case_no = submit(client, terminal("FM-01"), application()).get_json()["case_no"]
        wait_for(lambda: outbox_of(engine, case_no)[1] == "dead", 40, "dead letter")
        admin = staff("admin", None)
        assert (
            client.get("/api/v1/admin/dead-letters", headers=staff("clerk", "530102")).status_code
            == 403
        )
        dead = client.get("/api/v1/admin/dead-letters", headers=admin).get_json()["dead_letters"]
        entry = next(d for d in dead if d["case_no"] == case_no)
        assert "district system refuses" in entry["last_error"] and entry["attempts"] == 3
        assert status_of(engine, case_no) == "submitted"
        with engine.begin() as conn:
            conn.execute(text("DROP TRIGGER refuse_receipt ON case_events"))
            conn.execute(text("DROP FUNCTION refuse_receipt()"))
        replay = client.post(f"/api/v1/admin/dead-letters/{entry['id']}/replay", headers=admin)
        assert replay.status_code == 200 and replay.get_json() == {"replayed": 1}
        received_once(engine, case_no)
        again = client.post(f"/api/v1/admin/dead-letters/{entry['id']}/replay", headers=admin)
        assert again.status_code == 404
    finally:
        worker.stop()
        with engine.begin() as conn:
            conn.execute(text("DROP TRIGGER IF EXISTS refuse_receipt ON case_events"))
            conn.execute(text("DROP FUNCTION IF EXISTS refuse_receipt()"))
