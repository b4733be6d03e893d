"""The API's door: authenticate before parsing, per-route body caps, malformed JSON refused in
any JSON type, and district-scoped admins kept to their district (issue 17's reproductions)."""

import io
import json
import time

import pytest
from sqlalchemy import text

from tests.helpers import act, application, submit


class CountingStream(io.RawIOBase):
    """A request body that records how much of it was read."""

    def __init__(self, size: int):
        self.size, self.read_bytes = size, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = min(len(buffer), self.size - self.read_bytes)
        buffer[:n] = b"[" * n
        self.read_bytes += n
        return n


def test_unauthenticated_requests_are_401_before_any_validation(client):
    # No body, no Idempotency-Key: still 401, not 422.
    response = client.post("/api/v1/applications")
    assert response.status_code == 401
    assert response.content_type == "application/problem+json"
    garbage = client.post(
        "/api/v1/cases/x/accept", data="{not json", content_type="application/json"
    )
    assert garbage.status_code == 401


def test_a_huge_body_is_refused_unread_and_fast(client):
    body = CountingStream(22 * 1024 * 1024)
    started = time.perf_counter()
    response = client.post(
        "/api/v1/applications",
        content_type="application/json",
        environ_overrides={"wsgi.input": body, "CONTENT_LENGTH": str(body.size)},
    )
    assert response.status_code == 413  # the body is capped before the credential is read
    assert time.perf_counter() - started < 1
    assert body.read_bytes == 0
    assert client.get("/healthz").status_code == 200


def test_json_routes_take_a_small_body_even_when_authenticated(client, terminal):
    big = json.dumps({"item_code": "x" * (300 * 1024)})
    response = client.post(
        "/api/v1/applications",
        data=big,
        content_type="application/json",
        headers={**terminal("FM-01"), "Idempotency-Key": "k-big"},
    )
    assert response.status_code == 413
    assert response.get_json()["errors"][0]["field"] == "body"


def test_an_application_with_50_materials_fits(client, terminal):
    materials = [{"code": f"M{n:02d}", "originals": 1, "copies": 1} for n in range(50)]
    response = submit(client, terminal("FM-01"), application(materials=materials))
    # Refused for its unknown materials (a 422 naming them), not for its size.
    assert response.status_code == 422
    assert "M49" in response.get_data(as_text=True)


def test_a_wrong_role_is_403_before_validation(client, staff):
    response = client.post("/api/v1/applications", headers=staff("clerk", "530124"))
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("body", "content_type", "status", "field"),
    [
        ('{"applicant": {"name": "\\ud800"}}', "application/json", 422, "applicant.name"),
        ('{"applicant": {"name": "a\\u0000"}}', "application/vnd.api+json", 422, "applicant.name"),
        ('{"materials": [{"code": "\\u0007"}]}', "application/json", 422, "materials.0.code"),
        ("[" * 5000 + "]" * 5000, "application/json", 400, "body"),
        (json.dumps({"materials": [{}] * 2000}), "application/json", 400, "body"),
        ('{"a": "b"', "application/problem+json", 400, "body"),
        (b'{"a": "\xff"}', "application/json", 400, "body"),
    ],
)
def test_malformed_json_in_any_json_type_is_a_4xx_naming_the_field(
    client, terminal, body, content_type, status, field
):
    response = client.post(
        "/api/v1/applications",
        data=body,
        content_type=content_type,
        headers={**terminal("FM-01"), "Idempotency-Key": "k-malformed"},
    )
    assert response.status_code == status
    assert response.content_type == "application/problem+json"
    assert response.get_json()["errors"][0]["field"] == field


def test_deep_nesting_unauthenticated_is_401_not_500(client):
    response = client.post(
        "/api/v1/applications", data="[" * 100000, content_type="application/json"
    )
    assert response.status_code == 401


@pytest.fixture
def xishan_admin(staff):
    return staff("admin", "530112")


def _connector_row(engine, code):
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT kind, endpoint, paused FROM district_connectors WHERE district_code = :c"),
            {"c": code},
        ).one_or_none()


def test_a_district_admin_cannot_touch_another_districts_connector(client, engine, xishan_admin):
    before = _connector_row(engine, "530102")
    takeover = client.put(
        "/api/v1/admin/districts/530102/connector",
        json={
            "kind": "http",
            "endpoint": "https://evil.example/in",
            "secret": "s" * 32,
        },
        headers=xishan_admin,
    )
    assert takeover.status_code == 404
    for step in ("pause", "resume"):
        body = {"reason": "维护"} if step == "pause" else None
        answer = client.post(
            f"/api/v1/admin/districts/530102/{step}", json=body, headers=xishan_admin
        )
        assert answer.status_code == 404
    assert _connector_row(engine, "530102") == before
    # Their own district they may pause and resume; the security log says who did.
    own = client.post(
        "/api/v1/admin/districts/530112/pause", json={"reason": "维护"}, headers=xishan_admin
    )
    assert own.status_code == 200 and own.get_json()["paused"] is True
    assert (
        client.post("/api/v1/admin/districts/530112/resume", headers=xishan_admin).status_code
        == 200
    )
    with engine.connect() as conn:
        logged = conn.execute(
            text(
                "SELECT action, actor_role, target, details->>'reason' FROM security_events"
                " WHERE district_code = '530112' AND target_type = 'district' ORDER BY id"
            )
        ).all()
    assert [tuple(r) for r in logged[-2:]] == [
        ("district.pause", "admin", "530112", "维护"),
        ("district.resume", "admin", "530112", None),
    ]


def test_a_connector_change_is_logged_without_its_secret(client, engine, staff):
    changed = client.put(
        "/api/v1/admin/districts/530113/connector",
        json={"kind": "http", "endpoint": "https://dongchuan.example/in", "secret": "k" * 32},
        headers=staff("admin", None),
    )
    assert changed.status_code == 200
    reset = client.put(
        "/api/v1/admin/districts/530113/connector",
        json={"kind": "internal"},
        headers=staff("admin", None),
    )
    assert reset.status_code == 200
    with engine.connect() as conn:
        details = (
            conn.execute(
                text(
                    "SELECT details::text FROM security_events"
                    " WHERE action = 'district.connector_change' AND target = '530113' ORDER BY id"
                )
            )
            .scalars()
            .all()
        )
    assert "dongchuan.example" in details[-2] and '"signing_changed": true' in details[-2]
    assert all("k" * 32 not in d for d in details)


def test_city_wide_settings_need_a_city_wide_admin(client, xishan_admin):
    catalog = client.post(
        "/api/v1/admin/catalog/imports",
        data={"file": (io.BytesIO(b"x"), "c.xlsx")},
        headers=xishan_admin,
    )
    calendar = client.put(
        "/api/v1/admin/calendar/years/2027",
        data={"file": (io.BytesIO(b"x"), "c.csv")},
        headers=xishan_admin,
    )
    close = client.post("/api/v1/admin/stats/months/2026-01/close", headers=xishan_admin)
    for response in (catalog, calendar, close):
        assert response.status_code == 403
        assert "city-wide" in response.get_json()["detail"]


def test_dead_letters_are_scoped_to_the_admins_district(client, engine, staff, xishan_admin):
    from uuid import uuid4

    ids = {"530102": uuid4(), "530112": uuid4()}
    with engine.begin() as conn:
        for district, message_id in ids.items():
            conn.execute(
                text(
                    "INSERT INTO outbox (id, task, queue, payload, status, attempts,"
                    " next_attempt_at, created_at)"
                    " VALUES (:id, 'tongban.deliver_case', :q, '{}', 'dead', 3, now(), now())"
                ),
                {"id": message_id, "q": f"district.{district}"},
            )
    listed = client.get("/api/v1/admin/dead-letters?limit=200", headers=xishan_admin).get_json()
    queues = {d["queue"] for d in listed["dead_letters"]}
    assert queues == {"district.530112"}
    other = client.post(f"/api/v1/admin/dead-letters/{ids['530102']}/replay", headers=xishan_admin)
    assert other.status_code == 404
    everything = client.post("/api/v1/admin/dead-letters/replay", headers=xishan_admin).get_json()
    assert everything["replayed"] == 1
    with engine.connect() as conn:
        status = conn.execute(
            text("SELECT status FROM outbox WHERE id = :id"), {"id": ids["530102"]}
        ).scalar_one()
    assert status == "dead"
    city = client.post(
        f"/api/v1/admin/dead-letters/{ids['530102']}/replay", headers=staff("admin", None)
    )
    assert city.status_code == 200


def test_accepting_side_steps_belong_to_the_center_that_took_the_case(client, terminal):
    case_no = submit(client, terminal("FM-01"), application()).get_json()["case_no"]
    community = terminal("FM-YD-BC")
    refused = act(client, community, case_no, "withdraw", reason="申请人要求")
    assert refused.status_code == 409 and refused.get_json()["type"].endswith("/not-your-step")
    # The community station's case can be worked by the centers above it.
    below = submit(client, community, application()).get_json()["case_no"]
    street = act(client, terminal("FM-YD"), below, "withdraw", reason="申请人要求")
    assert street.status_code == 200, street.get_json()


def test_administrators_are_no_party_to_cases(client, terminal, staff):
    case_no = submit(client, terminal("FM-01"), application()).get_json()["case_no"]
    for role in ("admin",):
        headers = staff(role, None)
        assert client.get(f"/api/v1/applications/{case_no}", headers=headers).status_code == 403
        assert client.get(f"/api/v1/cases/{case_no}/files", headers=headers).status_code == 403
    auditor = staff("auditor", None)
    shown = client.get(f"/api/v1/applications/{case_no}", headers=auditor)
    assert shown.status_code == 200
    assert "*" in shown.get_json()["applicant"]["id_number"]
    assert shown.get_json()["applicant"]["name"] == "张*"  # auditors read masked lists only
    queue = client.get("/api/v1/queue?district=530102", headers=auditor).get_json()["cases"]
    assert queue and all(entry["applicant"]["name"].endswith("*") for entry in queue)
    assert client.get(f"/api/v1/cases/{case_no}/applicant-name", headers=auditor).status_code == 403
    clerk = staff("clerk", "530102")
    assert (
        client.get(f"/api/v1/applications/{case_no}", headers=clerk).get_json()["applicant"]["name"]
        == "张*"
    )  # a party too reads the name masked, unless it asks (and is logged)
    revealed = client.get(f"/api/v1/cases/{case_no}/applicant-name", headers=clerk)
    assert revealed.get_json()["name"] == "张𠈌"


def test_metrics_need_the_token_or_an_allowed_network(settings, migrated):
    import dataclasses

    from service.app import create_app

    token = "m" * 32
    scraper = create_app(dataclasses.replace(settings, metrics_token=token)).test_client()
    outside = {"REMOTE_ADDR": "203.0.113.9"}
    assert scraper.get("/metrics", environ_base=outside).status_code == 401
    wrong = {"Authorization": "Bearer " + "x" * 32}
    assert scraper.get("/metrics", headers=wrong, environ_base=outside).status_code == 401
    right = scraper.get(
        "/metrics", headers={"Authorization": f"Bearer {token}"}, environ_base=outside
    )
    assert right.status_code == 200 and "tongban_" in right.get_data(as_text=True)
    assert scraper.get("/metrics").status_code == 200  # the host itself (127.0.0.1)


def test_api_answers_are_not_cached_or_sniffed(client, terminal):
    case_no = submit(client, terminal("FM-01"), application()).get_json()["case_no"]
    for response in (
        client.get(f"/api/v1/applications/{case_no}", headers=terminal("FM-01")),
        client.get("/api/v1/applications/nope"),
    ):
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_result_is_mailed_only_to_an_address_on_file(client, terminal, engine):
    from service.cases.actions import ActionInvalid, _details
    from service.cases.lifecycle import Action
    from service.cases.models import Case

    body = application()
    del body["applicant"]["address"]
    case_no = submit(client, terminal("FM-01"), body).get_json()["case_no"]
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        case = session.query(Case).filter_by(case_no=case_no).one()
        with pytest.raises(ActionInvalid) as refused:
            _details(case, Action.DELIVER_RESULT, {"method": "mail", "tracking_no": "1"})
        assert refused.value.field == "method"
        assert _details(case, Action.DELIVER_RESULT, {"method": "window"}) == {"method": "window"}


def test_a_body_of_escaped_quotes_costs_linear_time(client):
    # An unterminated string of escaped quotes once cost a rescan to the end for each quote.
    body = "[]" * 33 + '"\\' * 120_000
    started = time.perf_counter()
    response = client.post("/api/v1/auth/token", data=body, content_type="application/json")
    assert response.status_code == 400
    assert time.perf_counter() - started < 1


def test_head_is_checked_as_get(client, staff, terminal):
    clerk = staff("clerk", "530102")
    for path in ("/api/v1/admin/terminals", "/api/v1/admin/staff"):
        assert client.head(path, headers=clerk).status_code == 403
    assert client.head("/api/v1/auth/totp", headers=terminal("FM-01")).status_code == 403
    assert (
        client.head("/api/v1/admin/terminals", headers=staff("security_admin", None)).status_code
        == 200
    )


def test_a_file_name_with_a_newline_is_stored_harmless(client, terminal):
    window = terminal("FM-01")
    png = b"\x89PNG\r\n\x1a\n" + bytes(64)
    # The RFC 5987 form carries the newline (a raw one would break the part's header).
    body = (
        b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename*=UTF-8''a%0Ab%7F.png"
        b"\r\nContent-Type: image/png\r\n\r\n" + png + b"\r\n--XyZ--\r\n"
    )
    staged = client.post(
        "/api/v1/uploads",
        headers=window,
        data=body,
        content_type="multipart/form-data; boundary=XyZ",
    )
    assert staged.status_code == 201, staged.get_json()
    assert staged.get_json()["original_name"] == "a_b_.png"
    body = application()
    body["materials"][0]["files"] = [staged.get_json()["id"]]
    case_no = submit(client, window, body).get_json()["case_no"]
    download = client.get(
        f"/api/v1/cases/{case_no}/files/{staged.get_json()['id']}", headers=window
    )
    assert download.status_code == 200 and download.data == png


def test_a_district_security_admin_leaves_other_security_admins_sessions_alone(client, staff):
    mine, other = staff("security_admin", "530112"), staff("security_admin", "530112")
    clerk = staff("clerk", "530112")
    listed = client.get("/api/v1/admin/sessions", headers=mine).get_json()["sessions"]
    roles = {s["role"] for s in listed}
    assert "security_admin" not in roles and "clerk" in roles
    city = client.get("/api/v1/admin/sessions", headers=staff("security_admin", None)).get_json()
    theirs = [
        s["id"] for s in city["sessions"] if s["role"] == "security_admin" and s["kind"] == "staff"
    ]
    assert theirs
    assert (
        client.delete(f"/api/v1/admin/sessions/staff/{theirs[0]}", headers=mine).status_code == 404
    )
    assert client.get("/api/v1/auth/me", headers=other).status_code == 200
    assert client.get("/api/v1/auth/me", headers=clerk).status_code == 200
