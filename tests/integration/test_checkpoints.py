"""Signed checkpoints against a database superuser who holds even the chain key.

Each test has a checkpoint directory of its own (the app's book is swapped for it), so the
files it takes, edits and deletes are nobody else's. Tampering is done as the database
superuser and undone in `finally`, as in test_stats.py.
"""

import hashlib
import json
from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import text
from sqlalchemy.orm import Session

from service.audit import checkpoint as ck
from service.cases.checkpoints import take_checkpoint
from tests.helpers import act, new_delivered_case

EVENTS = (
    "SELECT id, case_id, seq, type, status_from, status_to, actor_kind, actor_id, actor_name,"
    " district_code, reason, data, occurred_at, prev_hash, hash FROM case_events"
    " WHERE case_id = (SELECT id FROM cases WHERE case_no = :n) ORDER BY seq"
)


@pytest.fixture
def book(app, settings, tmp_path, monkeypatch):
    """A checkpoint directory of the test's own, used by the API and the CLI too."""
    own = ck.Book(tmp_path / "checkpoints", settings.checkpoint_key)
    monkeypatch.setitem(app.extensions, "tongban.checkpoints", own)
    return own


@pytest.fixture
def accepted(client, terminal, staff, migrated, settings):
    """new_case() -> the number of a new case, delivered and accepted (three events or more)."""
    window = terminal("FM-01")
    clerk = staff("clerk", "530102")

    def new_case() -> str:
        case_no = new_delivered_case(client, window, migrated, settings)
        accepted = act(client, clerk, case_no, "accept")
        assert accepted.status_code == 200, accepted.get_json()
        return case_no

    new_case.clerk = clerk  # type: ignore[attr-defined]
    return new_case


def verify(client, staff):
    response = client.get("/api/v1/admin/audit/verify", headers=staff("auditor", None))
    assert response.status_code == 200
    return response.get_json()


def rewrite_events(engine, events):
    """What a database superuser can do: rewrite timeline rows with the trigger off."""
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE case_events DISABLE TRIGGER case_events_append_only"))
        for e in events:
            conn.execute(
                text(
                    "UPDATE case_events SET reason = :reason, prev_hash = :p, hash = :h"
                    " WHERE id = :id"
                ),
                {"reason": e["reason"], "p": e["prev_hash"], "h": e["hash"], "id": e["id"]},
            )
        conn.execute(text("ALTER TABLE case_events ENABLE TRIGGER case_events_append_only"))


def test_an_edit_relinked_with_the_real_chain_key_is_caught_by_the_checkpoint(
    book, accepted, client, staff, engine
):
    from service.audit.chain import GENESIS, link
    from service.cases.verify import verify_timelines

    case_no = accepted()
    name = take_checkpoint(engine, book)
    with engine.connect() as conn:
        kept = [dict(r._mapping) for r in conn.execute(text(EVENTS), {"n": case_no})]
    assert len(kept) >= 3
    # An attacker who stole the chain key edits seq 2 and re-links every event after it.
    relinked, prev = [], GENESIS
    for event in kept:
        edited = {**event, "reason": "改过的理由"} if event["seq"] == 2 else dict(event)
        edited["prev_hash"] = prev
        edited["hash"] = link(prev, edited)
        relinked.append(edited)
        prev = edited["hash"]
    rewrite_events(engine, relinked)
    try:
        with engine.connect() as conn:
            assert verify_timelines(Session(bind=conn))["ok"] is True  # the chain alone holds
        found = verify(client, staff)
        assert found["ok"] is False, found
        assert found["first_broken"]["checkpoint"] == name
        assert found["first_broken"]["case_no"] == case_no
        assert found["first_broken"]["seq"] == kept[-1]["seq"]  # the head the checkpoint signed
        assert "checkpoint signed" in found["first_broken"]["reason"]
    finally:
        rewrite_events(engine, kept)
    assert verify(client, staff)["ok"] is True


def test_an_edited_or_missing_checkpoint_is_named(book, accepted, client, staff, engine):
    accepted()
    names = [take_checkpoint(engine, book) for _ in range(3)]
    ok = verify(client, staff)
    assert ok["ok"] is True and ok["checkpoints_checked"] == 3 and ok["heads_checked"] > 0
    first = book.directory / names[0]
    original = first.read_bytes()
    doc = json.loads(original)
    doc["timeline"]["heads"][0][3] = "0" * 64  # a pinned hash made to match a rewrite
    first.write_text(json.dumps(doc))
    try:
        found = verify(client, staff)["first_broken"]
        assert found["checkpoint"] == names[0] and "signature" in found["reason"]
    finally:
        first.write_bytes(original)
    assert verify(client, staff)["ok"] is True
    (book.directory / names[1]).unlink()
    found = verify(client, staff)
    assert found["ok"] is False
    assert found["first_broken"]["checkpoint"] == names[2]
    assert "missing" in found["first_broken"]["reason"]


def test_events_after_or_during_a_checkpoint_raise_no_alarm(book, accepted, client, engine, staff):
    from service.audit.chain import link

    moved, untouched = accepted(), accepted()
    take_checkpoint(engine, book)
    done = {"outcome": "approved", "document_no": "五社保〔2025〕9号"}
    assert act(client, accepted.clerk, moved, "complete", **done).status_code == 200
    created = accepted()  # a case the checkpoint never saw
    # An event in flight while the next checkpoint is taken: inserted, not yet committed.
    with engine.connect() as conn:
        head = dict(conn.execute(text(EVENTS), {"n": untouched}).mappings().all()[-1])
    late = {**head, "seq": head["seq"] + 1, "type": "claimed", "status_from": head["status_to"]}
    late |= {
        "reason": None,
        "data": {},
        "occurred_at": datetime.now(UTC),
        "prev_hash": head["hash"],
    }
    late["hash"] = link(head["hash"], late)
    in_flight = engine.connect()
    tx = in_flight.begin()
    in_flight.execute(
        text(
            "INSERT INTO case_events (case_id, seq, type, status_from, status_to, actor_kind,"
            " actor_id, actor_name, district_code, reason, data, occurred_at, prev_hash, hash)"
            " VALUES (:case_id, :seq, :type, :status_from, :status_to, :actor_kind, :actor_id,"
            " :actor_name, :district_code, :reason, CAST(:data AS jsonb), :occurred_at,"
            " :prev_hash, :hash)"
        ),
        {**late, "data": "{}"},
    )
    try:
        second = take_checkpoint(engine, book)
        tx.commit()
    finally:
        in_flight.close()
    pinned = {h[1]: h[2] for h in book.read(second)["timeline"]["heads"]}
    assert moved in pinned and created in pinned  # changed since the first checkpoint
    assert untouched not in pinned  # its new event had not committed
    assert verify(client, staff)["ok"] is True
    third = take_checkpoint(engine, book)
    assert {h[1]: h[2] for h in book.read(third)["timeline"]["heads"]} == {untouched: late["seq"]}
    assert verify(client, staff)["ok"] is True


def test_an_edited_or_removed_security_log_row_is_caught(book, client, staff, engine, migrated):
    from service.audit import security_log

    take_checkpoint(engine, book)  # the first one's range reaches back to the log's start
    with migrated.sessionmaker() as session:
        entry = security_log.record(
            session,
            "stats.export",
            target_type="stat_month",
            target="2025-03",
            district_code=None,
        )
        session.commit()
        row_id = entry.id
    name = take_checkpoint(engine, book)
    entry = book.read(name)["security_log"]
    assert entry["after_id"] < row_id <= entry["last_id"] and entry["since"] is not None

    def as_superuser(statement):
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE security_events DISABLE TRIGGER USER"))
            conn.execute(text(statement), {"id": row_id})
            conn.execute(text("ALTER TABLE security_events ENABLE TRIGGER USER"))

    as_superuser("UPDATE security_events SET target = '2025-04' WHERE id = :id")
    try:
        found = verify(client, staff)
        assert found["ok"] is False and found["first_broken"]["checkpoint"] == name
        assert "changed" in found["first_broken"]["reason"]
    finally:
        as_superuser("UPDATE security_events SET target = '2025-03' WHERE id = :id")
    assert verify(client, staff)["ok"] is True
    with engine.connect() as conn:
        saved = dict(
            conn.execute(text("SELECT * FROM security_events WHERE id = :id"), {"id": row_id})
            .mappings()
            .one()
        )
    as_superuser("DELETE FROM security_events WHERE id = :id")  # a recent row: no purge
    try:
        found = verify(client, staff)
        assert found["ok"] is False and "missing" in found["first_broken"]["reason"]
    finally:
        with engine.begin() as conn:
            columns = ", ".join(saved)
            values = ", ".join(
                "CAST(:details AS jsonb)" if c == "details" else f":{c}" for c in saved
            )
            conn.execute(
                text(f"INSERT INTO security_events ({columns}) VALUES ({values})"),
                {**saved, "details": json.dumps(saved["details"])},
            )
    assert verify(client, staff)["ok"] is True


def test_the_cli_and_beat_write_checkpoints_and_a_closed_month_carries_them(
    app, book, client, staff, engine, monkeypatch
):
    runner = app.test_cli_runner()
    with app.app_context():
        with time_machine.travel(datetime(2019, 1, 15, 2, 0, tzinfo=UTC)):
            taken = runner.invoke(args=["checkpoint"])
        public = runner.invoke(args=["checkpoint-public-key"]).output.strip()
    assert taken.exit_code == 0, taken.output
    assert "2019-01-15T020000" in taken.output
    import workers.tasks

    monkeypatch.setattr(workers.tasks, "book", book)
    after = workers.tasks.checkpoint.apply().get()  # what beat runs daily
    names = book.names()
    assert names[-1] == after and len(names) == 2
    assert sorted(p.name for p in book.directory.iterdir()) == sorted([*names, "heads-cache.json"])
    for name in names:
        assert ck.signature_holds(book.read(name), ck.public_key_from_text(public))
    assert workers.tasks.app.conf.beat_schedule["checkpoint"]["task"] == "tongban.checkpoint"

    admin = staff("admin", None)
    closed = client.post("/api/v1/admin/stats/months/2019-01/close", headers=admin)
    assert closed.status_code == 200, closed.get_json()
    manifest = closed.get_json()["manifest"]
    with engine.connect() as conn:
        content = conn.execute(
            text("SELECT content FROM stat_month_files WHERE month = '2019-01' AND scope = 'audit'")
        ).scalar_one()
    assert manifest["tongban-2019-01-checkpoints.json"] == hashlib.sha256(content).hexdigest()
    exported = json.loads(content)
    assert exported["public_key"] == public
    # The one taken in January, and the first after it, which covers January's last hours.
    assert [c["file"] for c in exported["checkpoints"]] == names
    for copy in exported["checkpoints"]:
        assert copy["checkpoint"] == book.read(copy["file"])
        written = (book.directory / copy["file"]).read_bytes()
        assert copy["sha256"] == hashlib.sha256(written).hexdigest()
