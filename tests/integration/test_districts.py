"""A district with its own case system: the simulator runs as a separate process, Tongban's API
serves real HTTP for its callbacks, and a real worker delivers."""

import json
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from werkzeug.serving import make_server

from ops.embedded import free_port
from service.districts.signing import CALLBACK, signed_headers
from service.outbox.names import RELAY
from tests.helpers import (
    act,
    application,
    delivery_error,
    event_types,
    read_case,
    scalar,
    status_of,
    submit,
)
from tests.processes import Simulator, wait_for

ANNING = "530181"  # 安宁市: its own system here; cases come from 西山区's window
SECRET = "anning-shared-secret-0123456789"


@pytest.fixture(scope="module")
def live_api(app):
    """The app on a real port, for the simulator's callbacks."""
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="module")
def sim(live_api, tmp_path_factory):
    s = Simulator(
        tmp_path_factory.mktemp("sim"),
        port=free_port(),
        secret=SECRET,
        district=ANNING,
        tongban=live_api,
    )
    yield s
    s.stop()


@pytest.fixture(scope="module")
def admin(migrated):
    from datetime import timedelta as td

    from service.accounts.credentials import create_staff, issue_token

    with migrated.sessionmaker() as session:
        user = create_staff(session, f"adm{uuid.uuid4().hex[:8]}", "pw-not-used", "admin", None)
        token, _ = issue_token(session, user, td(hours=2))
        session.commit()
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def anning(app, sim, admin, worker):
    """安宁市 switched to its own system while the worker runs: no restart."""
    client = app.test_client()
    connector = {
        "kind": "http",
        "endpoint": f"{sim.url}/deliveries",
        "status_endpoint": f"{sim.url}/status",
        "secret": SECRET,
        "connect_timeout": 1,
        "read_timeout": 2,
    }
    response = client.put(
        f"/api/v1/admin/districts/{ANNING}/connector", json=connector, headers=admin
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["connector"] == "http"
    yield connector
    client.post(f"/api/v1/admin/districts/{ANNING}/resume", headers=admin)
    client.put(
        f"/api/v1/admin/districts/{ANNING}/connector", json={"kind": "internal"}, headers=admin
    )


def to_anning(client, window, files: list[int] | None = None) -> str:
    """A new case for 安宁市 from `window`; `files` are staged scans of its first material."""
    body = application(facts={"insured_district": ANNING})
    body["materials"][0]["files"] = files or []
    response = submit(client, window, body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["case_no"]


def stage_scan(client, window) -> tuple[bytes, dict]:
    """A PDF of its own, staged at the window: its bytes and the upload's answer."""
    import io

    scan = b"%PDF-1.7\n" + uuid.uuid4().hex.encode() * 50
    staged = client.post(
        "/api/v1/uploads",
        headers=window,
        data={"file": (io.BytesIO(scan), "id-card.pdf")},
        content_type="multipart/form-data",
    )
    assert staged.status_code == 201, staged.get_json()
    return scan, staged.get_json()


def received(engine, case_nos, timeout=40):
    wait_for(
        lambda: all(status_of(engine, c) == "received" for c in case_nos),
        timeout,
        f"{case_nos} to be received",
    )


def district_state(client, admin, code=ANNING) -> dict:
    rows = client.get("/api/v1/admin/districts", headers=admin).get_json()
    return next(r for r in rows if r["code"] == code)


def metric_values(client, code=ANNING) -> dict[str, float]:
    """The district's figures on /metrics (the first series of each name: the p50 for latency)."""
    values: dict[str, float] = {}
    for line in client.get("/metrics").get_data(as_text=True).splitlines():
        if not line.startswith("#") and f'district="{code}"' in line:
            values.setdefault(line.split("{", 1)[0], float(line.rsplit(" ", 1)[1]))
    return values


def test_a_district_down_for_a_while_gets_every_case_once_after_it_recovers(
    anning, sim, client, terminal, engine, admin
):
    sim.mode("down")
    xs = terminal("XS-01")
    cases = [to_anning(client, xs) for _ in range(4)]
    wait_for(lambda: district_state(client, admin)["breaker"] != "closed", 30, "breaker to open")
    assert {status_of(engine, c) for c in cases} == {"submitted"}
    assert not set(cases) & set(sim.state()["cases"])
    down = metric_values(client)
    assert down["tongban_district_breaker_open"] == 1
    assert down["tongban_district_failures_total"] >= 2
    assert down["tongban_district_backlog"] >= len(cases)

    sim.mode("healthy")
    received(engine, cases)
    got = sim.state()["cases"]
    assert {c: got.get(c) for c in cases} == {c: 1 for c in cases}
    assert district_state(client, admin)["breaker"] == "closed"
    up = metric_values(client)
    assert up["tongban_district_breaker_open"] == 0
    assert up["tongban_district_deliveries_total"] >= down["tongban_district_deliveries_total"] + 4
    assert up["tongban_district_delivery_latency_seconds"] > 0  # the p50 of intake -> received
    timeline = read_case(client, xs, cases[0])["timeline"]
    assert timeline[-1]["actor"]["name"] == "安宁市业务系统"


def test_cases_for_a_district_system_are_tasks_of_their_own_not_drained(
    anning, sim, client, terminal, engine, worker
):
    sim.mode("healthy")
    cases = [to_anning(client, terminal("XS-01")) for _ in range(3)]
    received(engine, cases)
    with engine.connect() as conn:
        flags = conn.execute(
            text(
                "SELECT o.payload->>'drained' FROM outbox o JOIN cases c ON c.id = o.case_id"
                " WHERE c.case_no = ANY(:nos) AND o.task = 'tongban.deliver_case'"
            ),
            {"nos": cases},
        ).scalars()
        assert list(flags) == ["false"] * 3
    # Each went to the system in a task of its own: no drain ever held one of them.
    assert f"district.{ANNING}" not in "".join(
        line for line in worker.log().splitlines() if "batch" in line or "drained" in line
    )


def test_while_one_district_is_down_another_keeps_being_delivered(
    anning, sim, client, terminal, engine
):
    sim.mode("down")
    xs, fm = terminal("XS-01"), terminal("FM-01")
    to_an = [to_anning(client, xs) for _ in range(3)]
    to_wh = [submit(client, fm, application()).get_json()["case_no"] for _ in range(3)]
    received(engine, to_wh)  # submitted after the 安宁 ones, delivered before any of them
    assert [status_of(engine, c) for c in to_an] == ["submitted"] * 3
    assert not set(to_an) & set(sim.state()["cases"])
    sim.mode("healthy")
    received(engine, to_an)
    assert [sim.state()["cases"][c] for c in to_an] == [1, 1, 1]


def test_a_timeout_is_retried_safely_while_other_districts_go_on(
    anning, sim, client, terminal, engine
):
    sim.mode("slow")  # answers after 5 s; Tongban waits 2 s, so each try times out
    xs, fm = terminal("XS-01"), terminal("FM-01")
    slow_case = to_anning(client, xs)
    wait_for(lambda: "ReadTimeout" in (delivery_error(engine, slow_case) or ""), 20, "a timeout")
    to_wh = [submit(client, fm, application()).get_json()["case_no"] for _ in range(2)]
    received(engine, to_wh)  # submitted after it, delivered while it still waits
    assert status_of(engine, slow_case) == "submitted"
    sim.mode("healthy")
    received(engine, [slow_case])
    state = sim.state()
    # The timed-out tries did reach the system; the Idempotency-Key made them one delivery.
    assert state["cases"][slow_case] == 1 and state["requests"] > 1


def test_a_wrong_secret_is_retried_then_dead_lettered_and_replayed_once_fixed(
    anning, sim, client, terminal, engine, admin
):
    sim.mode("healthy")
    connector_url = f"/api/v1/admin/districts/{ANNING}/connector"
    wrong = {**anning, "secret": "a-secret-the-district-does-not-know"}
    assert client.put(connector_url, json=wrong, headers=admin).status_code == 200
    try:
        case_no = to_anning(client, terminal("XS-01"))

        def dead():
            letters = client.get("/api/v1/admin/dead-letters", headers=admin).get_json()
            return next((d for d in letters["dead_letters"] if d["case_no"] == case_no), None)

        letter = wait_for(dead, 40, "a dead letter")
        # Retried through the budget (3 here), not given up at once like a refusal.
        assert "HTTP 401" in letter["last_error"] and letter["attempts"] >= 3, letter
        assert case_no not in sim.state()["cases"]
    finally:  # the right secret again, whatever happened, for the tests after this one
        assert client.put(connector_url, json=anning, headers=admin).status_code == 200
    replay = client.post(f"/api/v1/admin/dead-letters/{letter['id']}/replay", headers=admin)
    assert replay.status_code == 200
    received(engine, [case_no])
    assert sim.state()["cases"][case_no] == 1


def signed_post(client, code, body: dict, secret=SECRET, at=None):
    raw = json.dumps(body).encode()
    headers = signed_headers(secret, CALLBACK, int(at or time.time()), raw)
    return client.post(
        f"/api/v1/districts/{code}/callbacks",
        data=raw,
        headers={**headers, "Content-Type": "application/json"},
    )


def callback(case_no, type_, at: datetime, **data) -> dict:
    return {
        "event_id": uuid.uuid4().hex,
        "case_no": case_no,
        "type": type_,
        "occurred_at": at.isoformat(),
        "data": data,
    }


def test_callbacks_must_be_signed_and_fresh_and_count_once(anning, sim, client, terminal, engine):
    sim.mode("healthy")
    xs = terminal("XS-01")
    case_no = to_anning(client, xs)
    received(engine, [case_no])
    now = datetime.now(UTC)
    accepted = callback(case_no, "accepted", now)

    assert signed_post(client, ANNING, accepted, secret="not-the-secret-at-all").status_code == 401
    old = signed_post(client, ANNING, accepted, at=time.time() - 3600)
    assert old.status_code == 401 and "replay window" in old.get_json()["detail"]
    unsigned = client.post(f"/api/v1/districts/{ANNING}/callbacks", json=accepted)
    assert unsigned.status_code == 401
    assert status_of(engine, case_no) == "received"

    first = signed_post(client, ANNING, accepted)
    assert first.status_code == 200 and first.get_json()["result"] == "applied"
    again = signed_post(client, ANNING, accepted)  # the same event, replayed in the window
    assert again.get_json()["result"] == "duplicate"
    assert event_types(engine, case_no).count("accept") == 1

    done = callback(
        case_no,
        "completed",
        now + timedelta(minutes=5),
        outcome="approved",
        document_no="安人社〔2026〕9号",
    )
    assert signed_post(client, ANNING, done).get_json()["result"] == "applied"
    late = callback(
        case_no, "accepted", now - timedelta(minutes=5)
    )  # arrives after, happened before
    assert signed_post(client, ANNING, late).get_json()["result"] == "stale"
    assert status_of(engine, case_no) == "completed"

    unknown = signed_post(client, ANNING, callback("530112-20990101-00001", "accepted", now))
    assert unknown.status_code == 404
    not_http = signed_post(client, "530102", callback(case_no, "accepted", now))
    assert not_http.status_code == 404

    def news_kinds():
        news = client.get("/api/v1/notifications", headers=xs).get_json()["notifications"]
        return {n["kind"] for n in news if n["case_no"] == case_no}

    # The news travels to the window through the worker: wait for it, do not race it.
    wait_for(lambda: {"accepted", "completed"} <= news_kinds(), 20, "news at the window")


def test_news_for_a_district_system_is_sent_to_it_not_kept_for_a_back_office(
    anning, sim, client, terminal, engine
):
    sim.mode("healthy")
    window = terminal("XS-01")
    case_no = to_anning(client, window)
    received(engine, [case_no])
    before = sim.state()["deliveries"]
    assert act(client, window, case_no, "withdraw", reason="申请人不再需要").status_code == 200

    def news_sent() -> bool:
        status = scalar(
            engine,
            "SELECT o.status FROM outbox o JOIN cases c ON c.id = o.case_id "
            "WHERE c.case_no = :n AND o.task = 'tongban.notify'",
            n=case_no,
        )
        return status == "done"

    wait_for(news_sent, 30, "the withdrawal news to reach 安宁's system")
    assert sim.state()["deliveries"] == before + 1
    kept = scalar(
        engine,
        "SELECT count(*) FROM notifications n JOIN cases c ON c.id = n.case_id "
        "WHERE c.case_no = :n AND n.center_id IS NULL",
        n=case_no,
    )
    assert kept == 0  # nobody in Tongban works 安宁's cases


def test_a_report_on_a_case_still_on_its_way_is_refused_until_it_arrives(
    anning, sim, client, terminal, engine
):
    sim.mode("down")
    case_no = to_anning(client, terminal("XS-01"))
    early = callback(case_no, "accepted", datetime.now(UTC))
    refused = signed_post(client, ANNING, early)
    assert refused.status_code == 409 and refused.get_json()["type"].endswith("not-delivered-yet")
    sim.mode("healthy")
    received(engine, [case_no])
    assert signed_post(client, ANNING, early).get_json()["result"] == "applied"  # nothing kept
    odd = client.post(
        f"/api/v1/districts/{ANNING}/callbacks",
        json=early,
        headers={"X-Tongban-Timestamp": str(int(time.time())), "X-Tongban-Signature": "签名"},
    )
    assert odd.status_code == 401


def test_scans_reach_the_district_system_by_signed_links(
    anning, sim, client, terminal, engine, live_api
):
    import hashlib

    import httpx

    sim.mode("healthy")
    window = terminal("XS-01")
    scan, staged = stage_scan(client, window)
    case_no = to_anning(client, window, files=[staged["id"]])
    received(engine, [case_no])
    state = sim.state()
    assert case_no in state["files"], (case_no, state)
    [link] = state["files"][case_no]
    assert link["sha256"] == hashlib.sha256(scan).hexdigest()
    fetched = httpx.get(live_api + link["url"])
    assert (
        fetched.status_code == 200 and hashlib.sha256(fetched.content).hexdigest() == link["sha256"]
    )
    forged = httpx.get(live_api + link["url"].replace("signature=", "signature=0"))
    assert forged.status_code == 404
    timeline = read_case(client, window, case_no)["timeline"]
    kinds = [(e["type"], e["actor"]["name"]) for e in timeline]
    fetched_first = kinds.index(("file_downloaded", "安宁市业务系统"))
    assert fetched_first < [e["status_to"] for e in timeline].index("received"), kinds


def test_a_bad_copy_of_a_scan_never_leaves_for_a_district_system(
    anning, sim, client, terminal, engine, settings
):
    from service.materials.store import FileStore

    sim.mode("healthy")
    window = terminal("XS-01")
    scan, staged = stage_scan(client, window)
    path = FileStore(settings.files_dir).path(staged["sha256"])
    path.write_bytes(scan[:-1] + b"!")
    case_no = to_anning(client, window, files=[staged["id"]])
    assert "SHA-256" in wait_for(lambda: delivery_error(engine, case_no), 20, "a failed delivery")
    assert case_no not in sim.state()["cases"] and status_of(engine, case_no) == "submitted"
    path.write_bytes(scan)
    received(engine, [case_no])
    assert sim.state()["cases"][case_no] == 1


def test_a_refusal_goes_to_dead_letters_with_its_reason_and_can_be_replayed(
    anning, sim, client, terminal, engine, admin
):
    sim.mode("rejecting")
    case_no = to_anning(client, terminal("XS-01"))

    def dead():
        letters = client.get("/api/v1/admin/dead-letters", headers=admin).get_json()
        return next((d for d in letters["dead_letters"] if d["case_no"] == case_no), None)

    letter = wait_for(dead, 30, "a dead letter")
    assert "HTTP 422" in letter["last_error"] and "缺少居民户口簿" in letter["last_error"]
    assert letter["attempts"] == 1  # refused for good: not retried
    assert case_no not in sim.state()["cases"]

    sim.mode("healthy")
    replay = client.post(f"/api/v1/admin/dead-letters/{letter['id']}/replay", headers=admin)
    assert replay.status_code == 200
    received(engine, [case_no])
    assert sim.state()["cases"][case_no] == 1


def test_reconciliation_learns_what_a_lost_callback_would_have_said(
    anning, sim, client, terminal, engine, migrated, settings
):
    from service.crypto import FieldCipher
    from service.districts.reconcile import reconcile
    from service.outbox.policy import DeliveryPolicy
    from service.outbox.publisher import Publisher

    sim.mode("healthy")
    case_no = to_anning(client, terminal("XS-01"))
    received(engine, [case_no])
    sim.event(case_no, "accepted", send=False)  # its clerk accepted; the callback never came

    def run():
        return reconcile(
            migrated.sessionmaker,
            FieldCipher(settings.data_key),
            DeliveryPolicy.from_settings(settings),
            Publisher(settings.redis_url),
            quiet_seconds=0,
        )

    assert run().get("applied", 0) >= 1
    assert status_of(engine, case_no) == "accepted"
    assert "applied" not in run()  # asked again: nothing new to apply
    assert event_types(engine, case_no).count("accept") == 1


def test_duplicate_callbacks_change_a_case_once(anning, sim, client, terminal, engine):
    sim.mode("duplicate-callbacks", auto=True)
    case_no = to_anning(client, terminal("XS-01"))
    wait_for(lambda: status_of(engine, case_no) == "completed", 40, "the simulator to complete")
    wait_for(lambda: sim.state()["callbacks_sent"] >= 4, 20, "both duplicates to be sent")
    types = event_types(engine, case_no)
    assert types.count("accept") == 1 and types.count("complete") == 1
    sim.mode("healthy", auto=False)


def test_a_paused_district_waits_without_losing_anything(
    anning, sim, worker, client, terminal, engine, admin
):
    sim.mode("healthy")
    paused = client.post(
        f"/api/v1/admin/districts/{ANNING}/pause", json={"reason": "系统升级"}, headers=admin
    )
    assert paused.status_code == 200 and paused.get_json()["paused"] is True
    case_no = to_anning(client, terminal("XS-01"))
    wait_for(lambda: district_state(client, admin)["backlog"] >= 1, 10, "the case to wait")
    worker.wait_for_runs(RELAY, 3)  # several relay rounds: none may deliver it
    assert status_of(engine, case_no) == "submitted" and case_no not in sim.state()["cases"]
    metrics = client.get("/metrics").get_data(as_text=True)
    assert f'tongban_district_paused{{district="{ANNING}"}} 1' in metrics
    assert f'tongban_district_backlog{{district="{ANNING}"}}' in metrics

    resumed = client.post(f"/api/v1/admin/districts/{ANNING}/resume", headers=admin)
    assert resumed.status_code == 200
    received(engine, [case_no])
    assert sim.state()["cases"][case_no] == 1


def test_connector_settings_are_checked(client, admin, anning):
    bad = client.put(
        f"/api/v1/admin/districts/{ANNING}/connector", json={"kind": "http"}, headers=admin
    )
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "endpoint"
    unknown = client.put(
        "/api/v1/admin/districts/999999/connector", json={"kind": "internal"}, headers=admin
    )
    assert unknown.status_code == 404
    with_secret_hidden = district_state(client, admin)
    assert "secret" not in json.dumps(with_secret_hidden)


def test_no_case_is_stranded_in_the_database(engine, anning):
    with engine.connect() as conn:
        dead = conn.execute(
            text("SELECT count(*) FROM outbox WHERE status = 'dead' AND queue = :q"),
            {"q": f"district.{ANNING}"},
        ).scalar_one()
    assert dead == 0  # the one dead letter above was replayed
