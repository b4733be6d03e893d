"""Accounts: administration by security admins, passwords, second factor, idle sessions, and
the security log."""

import uuid
from datetime import timedelta

import pyotp
import pytest
import time_machine
from sqlalchemy import select, text

from tests.helpers import application, submit

GOOD = "lantern-ridge-0417"


def _name(prefix: str = "acct") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def make_user(migrated, role="clerk", district="530102", password=GOOD, totp=False):
    """(username, totp secret or None) of a new account made directly in the database."""
    from service.accounts import totp as totp_module
    from service.accounts.credentials import create_staff
    from service.config import load_settings
    from service.crypto import FieldCipher

    username = _name(role.replace("_", "-"))
    with migrated.sessionmaker() as session:
        user = create_staff(session, username, password, role, district)
        secret = None
        if totp:
            secret = totp_module.enrol(user, FieldCipher(load_settings().data_key))
            user.totp_enabled = True
        session.commit()
    return username, secret


def login(client, username, password=GOOD, otp=None, address="127.0.0.1"):
    body = {"username": username, "password": password}
    if otp is not None:
        body["otp"] = otp
    return client.post("/api/v1/auth/token", json=body, environ_base={"REMOTE_ADDR": address})


def bearer(response) -> dict:
    assert response.status_code == 201, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def events(engine, action: str, target: str) -> list[dict]:
    with engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(
                text("SELECT * FROM security_events WHERE action = :a AND target = :t ORDER BY id"),
                {"a": action, "t": target},
            ).mappings()
        ]


# Passwords


def test_password_rule():
    from service.accounts.passwords import password_problems

    assert password_problems("x" * 11) == ["Shorter than minimum length 12."]
    assert password_problems("PASSWORD1234") == ["This password is too common."]
    assert password_problems("qwertyuiop123") == ["This password is too common."]
    assert password_problems("zhang-wei-stuff-9", "zhang-wei") == [
        "The password must not contain the username."
    ]
    assert password_problems(GOOD) == []


def test_short_and_common_new_passwords_are_refused(client, migrated):
    username, _ = make_user(migrated)
    headers = bearer(login(client, username))
    for weak, message in (
        ("Abcdefgh123", "Shorter than minimum length 12."),
        ("password1234", "This password is too common."),
    ):
        answer = client.post(
            "/api/v1/auth/password",
            json={"current_password": GOOD, "new_password": weak},
            headers=headers,
        )
        assert answer.status_code == 422, answer.get_json()
        assert answer.get_json()["errors"] == [{"field": "new_password", "messages": [message]}]
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200


def test_changing_the_password_ends_every_session_and_gives_a_new_one(client, migrated, engine):
    username, _ = make_user(migrated)
    first, second = bearer(login(client, username)), bearer(login(client, username))
    wrong = client.post(
        "/api/v1/auth/password",
        json={"current_password": "not-the-password", "new_password": "a-brand-new-one-42"},
        headers=first,
    )
    assert wrong.status_code == 422 and wrong.get_json()["errors"][0]["field"] == (
        "current_password"
    )
    changed = client.post(
        "/api/v1/auth/password",
        json={"current_password": GOOD, "new_password": "a-brand-new-one-42"},
        headers=first,
    )
    assert changed.status_code == 201 and changed.get_json()["purpose"] == "full"
    for old in (first, second):
        assert client.get("/api/v1/auth/me", headers=old).status_code == 401
    assert client.get("/api/v1/auth/me", headers=bearer(changed)).status_code == 200
    assert login(client, username, "a-brand-new-one-42").status_code == 201
    outcomes = [e["outcome"] for e in events(engine, "password.change", username)]
    assert outcomes == ["failed", "ok"]


# Account administration


def test_security_admin_creates_resets_deactivates_and_reactivates(client, staff, engine):
    admin = staff("security_admin", None)
    username = _name()
    created = client.post(
        "/api/v1/admin/staff",
        json={"username": username, "role": "clerk", "district_code": "530124"},
        headers=admin,
    )
    assert created.status_code == 201, created.get_json()
    user_id, temporary = created.get_json()["staff"]["id"], created.get_json()["temporary_password"]
    assert created.get_json()["staff"]["must_change_password"] is True

    # The temporary password gives a token for changing it, and for nothing else.
    step = login(client, username, temporary)
    assert step.get_json()["purpose"] == "change_password"
    refused = client.get("/api/v1/queue", headers=bearer(step))
    assert refused.status_code == 403
    assert refused.get_json()["type"].endswith("/password-change-required")
    changed = client.post(
        "/api/v1/auth/password",
        json={"current_password": temporary, "new_password": GOOD},
        headers=bearer(step),
    )
    assert changed.get_json()["purpose"] == "full"
    token = bearer(changed)
    assert client.get("/api/v1/queue", headers=token).status_code == 200

    # A reset: old sessions end, the next login may only change the password.
    reset = client.post(f"/api/v1/admin/staff/{user_id}/reset-password", json={}, headers=admin)
    assert reset.status_code == 200
    assert client.get("/api/v1/auth/me", headers=token).status_code == 401
    assert login(client, username).status_code == 401
    again = login(client, username, reset.get_json()["temporary_password"])
    assert again.get_json()["purpose"] == "change_password"

    # Deactivation stops a token at once; reactivation lets the user log in again.
    assert (
        client.post(f"/api/v1/admin/staff/{user_id}/deactivate", headers=admin).status_code == 200
    )
    assert client.get("/api/v1/auth/me", headers=bearer(again)).status_code == 401
    assert login(client, username, reset.get_json()["temporary_password"]).status_code == 401
    assert (
        client.post(f"/api/v1/admin/staff/{user_id}/reactivate", headers=admin).status_code == 200
    )
    assert login(client, username, reset.get_json()["temporary_password"]).status_code == 201

    for action in (
        "account.create",
        "password.reset",
        "account.deactivate",
        "account.reactivate",
        "login",
    ):
        found = events(engine, action, username)
        assert found, action
    create = events(engine, "account.create", username)[0]
    assert create["actor_role"] == "security_admin" and create["district_code"] == "530124"
    assert temporary not in str(events(engine, "account.create", username))


def test_a_deactivated_users_token_stops_at_once(client, staff, migrated):
    username, _ = make_user(migrated)
    token = bearer(login(client, username))
    assert client.get("/api/v1/queue", headers=token).status_code == 200
    with migrated.sessionmaker() as session:
        from service.accounts.models import StaffUser

        user_id = session.scalar(select(StaffUser.id).where(StaffUser.username == username))
    admin = staff("security_admin", "530102")
    assert (
        client.post(f"/api/v1/admin/staff/{user_id}/deactivate", headers=admin).status_code == 200
    )
    assert client.get("/api/v1/queue", headers=token).status_code == 401


def test_district_security_admin_stays_in_their_district(client, staff, migrated):
    from service.accounts.models import StaffUser

    wuhua = staff("security_admin", "530102")
    own, _ = make_user(migrated, district="530102")
    other, _ = make_user(migrated, district="530112")
    with migrated.sessionmaker() as session:
        ids = dict(
            session.execute(
                select(StaffUser.username, StaffUser.id).where(StaffUser.username.in_([own, other]))
            ).all()
        )
    assert client.get(f"/api/v1/admin/staff/{ids[own]}", headers=wuhua).status_code == 200
    for path in ("", "/deactivate", "/reset-password"):
        method = client.get if not path else client.post
        kwargs = {"json": {}} if path else {}
        answer = method(f"/api/v1/admin/staff/{ids[other]}{path}", headers=wuhua, **kwargs)
        assert answer.status_code == 404, path
    listed = client.get("/api/v1/admin/staff?limit=200", headers=wuhua).get_json()["staff"]
    assert {u["district_code"] for u in listed} == {"530102"}
    for body in (
        {"username": _name(), "role": "clerk", "district_code": "530112"},
        {"username": _name(), "role": "auditor"},
        {"username": _name(), "role": "security_admin", "district_code": "530102"},
    ):
        answer = client.post("/api/v1/admin/staff", json=body, headers=wuhua)
        assert answer.status_code == 403, body
    city = staff("security_admin", None)
    made = client.post(
        "/api/v1/admin/staff",
        json={"username": _name(), "role": "security_admin", "district_code": "530112"},
        headers=city,
    )
    assert made.status_code == 201


def test_only_security_admins_manage_accounts(client, staff):
    for role, district in (("admin", None), ("security_auditor", None), ("supervisor", "530102")):
        answer = client.get("/api/v1/admin/staff", headers=staff(role, district))
        assert answer.status_code == 403, role
    assert client.get("/api/v1/admin/staff").status_code == 401


def test_role_change_ends_sessions(client, staff, migrated, engine):
    from service.accounts.models import StaffUser

    username, _ = make_user(migrated)
    token = bearer(login(client, username))
    with migrated.sessionmaker() as session:
        user_id = session.scalar(select(StaffUser.id).where(StaffUser.username == username))
    changed = client.put(
        f"/api/v1/admin/staff/{user_id}/role",
        json={"role": "supervisor", "district_code": "530102"},
        headers=staff("security_admin", None),
    )
    assert changed.status_code == 200 and changed.get_json()["role"] == "supervisor"
    assert client.get("/api/v1/auth/me", headers=token).status_code == 401
    # A supervisor needs a second factor: the next login is for enrolling one.
    assert login(client, username).get_json()["purpose"] == "enroll_totp"
    assert events(engine, "account.role_change", username)[0]["details"]["before"]["role"] == (
        "clerk"
    )


def test_terminal_create_rotate_and_revoke(client, staff, engine):
    admin = staff("security_admin", "530124")
    made = client.post(
        "/api/v1/admin/terminals", json={"center_code": "FM-01", "name": "测试窗口"}, headers=admin
    )
    assert made.status_code == 201, made.get_json()
    terminal_id, old = made.get_json()["terminal"]["id"], made.get_json()["api_key"]
    assert submit(client, {"Authorization": f"Bearer {old}"}, application()).status_code == 201
    rotated = client.post(f"/api/v1/admin/terminals/{terminal_id}/rotate-key", headers=admin)
    new = rotated.get_json()["api_key"]
    assert (
        client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {old}"}).status_code == 401
    )
    assert (
        client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {new}"}).status_code == 200
    )
    revoked = client.post(f"/api/v1/admin/terminals/{terminal_id}/revoke", headers=admin)
    assert revoked.status_code == 200 and revoked.get_json()["active"] is False
    assert (
        client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {new}"}).status_code == 401
    )
    # Another district's terminals and centers are not theirs.
    other = client.post(
        "/api/v1/admin/terminals", json={"center_code": "WH-01", "name": "x"}, headers=admin
    )
    assert other.status_code == 422 and other.get_json()["errors"][0]["field"] == "center_code"
    wuhua = staff("security_admin", "530102")
    assert (
        client.post(f"/api/v1/admin/terminals/{terminal_id}/rotate-key", headers=wuhua).status_code
        == 404
    )
    actions = [e["action"] for e in _terminal_events(engine, terminal_id)]
    assert actions == ["terminal.create", "terminal.rotate_key", "terminal.revoke"]
    assert old not in str(_terminal_events(engine, terminal_id))


def _terminal_events(engine, terminal_id):
    with engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT * FROM security_events WHERE target_type = 'terminal'"
                    " AND target = :t ORDER BY id"
                ),
                {"t": str(terminal_id)},
            ).mappings()
        )


def test_sessions_are_listed_and_revoked(client, staff, migrated, engine):
    username, _ = make_user(migrated, district="530124")
    token = bearer(login(client, username, address="10.9.8.7"))
    admin = staff("security_admin", "530124")
    listed = client.get("/api/v1/admin/sessions", headers=admin).get_json()["sessions"]
    mine = [s for s in listed if s["holder"] == username]
    assert len(mine) == 1 and mine[0]["address"] == "10.9.8.7" and mine[0]["last_seen_at"]
    assert {s["district_code"] for s in listed} == {"530124"}
    wuhua = staff("security_admin", "530102")
    path = f"/api/v1/admin/sessions/staff/{mine[0]['id']}"
    assert client.delete(path, headers=wuhua).status_code == 404
    assert client.delete(path, headers=admin).status_code == 204
    assert client.get("/api/v1/auth/me", headers=token).status_code == 401
    assert events(engine, "session.revoke", username)


# Second factor


def test_admin_needs_the_code_and_a_code_is_good_once(client, migrated, engine):
    username, secret = make_user(migrated, "admin", None, totp=True)
    missing = login(client, username)
    assert missing.status_code == 401 and missing.get_json()["type"].endswith("/otp-required")
    code = pyotp.TOTP(secret).now()
    wrong = login(client, username, otp=f"{(int(code) + 500000) % 1000000:06d}")
    assert wrong.status_code == 401 and wrong.get_json()["type"].endswith("/invalid-otp")
    assert login(client, username, otp=code).get_json()["purpose"] == "full"
    replay = login(client, username, otp=code)
    assert replay.status_code == 401 and replay.get_json()["type"].endswith("/invalid-otp")
    wrong_password = login(client, username, "not-the-password", otp=code)
    assert wrong_password.get_json()["type"].endswith("/invalid-credentials")
    reasons = [e["details"].get("reason") for e in events(engine, "login", username)]
    assert "otp-required" in reasons and "invalid-otp" in reasons and None in reasons


def test_enrolment_with_a_qr_code(client, migrated):
    username, _ = make_user(migrated, "security_auditor", None)
    step = login(client, username)
    assert step.get_json()["purpose"] == "enroll_totp"
    headers = bearer(step)
    refused = client.get("/api/v1/admin/security-events", headers=headers)
    assert refused.status_code == 403
    assert refused.get_json()["type"].endswith("/totp-enrollment-required")
    shown = client.get("/api/v1/auth/totp", headers=headers).get_json()
    assert shown["qr_svg"].startswith("<svg") and "otpauth://totp/" in shown["provisioning_uri"]
    assert client.get("/api/v1/auth/totp", headers=headers).get_json()["secret"] == shown["secret"]
    bad = client.post("/api/v1/auth/totp", json={"code": "12345"}, headers=headers)
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "code"
    code = pyotp.TOTP(shown["secret"]).now()
    done = client.post("/api/v1/auth/totp", json={"code": code}, headers=headers)
    assert done.status_code == 201 and done.get_json()["purpose"] == "full"
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401
    full = bearer(done)
    assert client.get("/api/v1/admin/security-events", headers=full).status_code == 200
    assert client.get("/api/v1/auth/totp", headers=full).status_code == 409
    # The secret is stored encrypted, never in clear.
    with migrated.engine.connect() as conn:
        row = conn.execute(
            text("SELECT row_to_json(s)::text FROM staff_users s WHERE username = :u"),
            {"u": username},
        ).scalar_one()
    assert shown["secret"] not in row


# Idle timeout


def test_an_idle_token_is_refused(client, migrated):
    username, _ = make_user(migrated)
    token = bearer(login(client, username))
    with time_machine.travel(timedelta(minutes=20)):
        assert client.get("/api/v1/auth/me", headers=token).status_code == 200  # seen again
    with time_machine.travel(timedelta(minutes=45)):
        assert client.get("/api/v1/auth/me", headers=token).status_code == 200  # 25 min idle
    with time_machine.travel(timedelta(minutes=76)):
        assert client.get("/api/v1/auth/me", headers=token).status_code == 401  # 31 min idle


# Security log


def test_security_log_is_for_security_auditors_and_append_only(client, staff, engine):
    auditor = staff("security_auditor", None)
    client.post(
        "/api/v1/auth/token",
        json={"username": _name("nobody"), "password": "wrong-password"},
        environ_base={"REMOTE_ADDR": "10.1.2.3"},
    )
    page = client.get("/api/v1/admin/security-events?action=login&limit=1", headers=auditor)
    assert page.status_code == 200, page.get_json()
    body = page.get_json()
    assert body["events"][0]["address"] == "10.1.2.3" and body["events"][0]["outcome"] == "failed"
    assert body["events"][0]["actor_kind"] is None and body["next_cursor"]
    more = client.get(
        f"/api/v1/admin/security-events?action=login&cursor={body['next_cursor']}",
        headers=auditor,
    )
    assert more.get_json()["events"][0]["id"] < body["events"][0]["id"]
    later = client.get(
        "/api/v1/admin/security-events?since=2999-01-01T00:00:00%2B08:00", headers=auditor
    )
    assert later.get_json()["events"] == []
    for role in ("security_admin", "admin", "auditor"):
        answer = client.get("/api/v1/admin/security-events", headers=staff(role, None))
        assert answer.status_code == 403, role
    district = staff("security_auditor", "530112")
    seen = client.get("/api/v1/admin/security-events?limit=200", headers=district).get_json()
    assert {e["district_code"] for e in seen["events"]} <= {"530112"}
    for statement in ("UPDATE security_events SET outcome = 'ok'", "DELETE FROM security_events"):
        with engine.begin() as conn, pytest.raises(Exception, match="append-only"):
            conn.execute(text(statement))


def test_record_outside_a_request_names_the_system(migrated):
    from service.audit import security_log

    with migrated.sessionmaker() as session:
        event = security_log.record(
            session,
            "connector.change",
            target_type="district",
            target="530102",
            district_code="530102",
            details={
                "secret": "s3cr3t-value",
                "endpoint": "https://x.example",
                "id": "11010519491231002X",
            },
        )
        session.flush()
        assert event.actor_kind == "system" and event.address is None
        assert event.details["secret"] == "[redacted]"
        assert "19491231" not in event.details["id"]
        session.rollback()


# CLI


@pytest.fixture
def app_context(app):
    with app.app_context():
        yield


def test_account_commands(app, app_context, migrated, engine):
    runner = app.test_cli_runner()
    username = _name("cli")
    made = runner.invoke(
        args=[
            "create-user",
            "--username",
            username,
            "--role",
            "clerk",
            "--district",
            "530102",
            "--generate-password",
        ]
    )
    assert made.exit_code == 0, made.output
    assert "temporary password:" in made.output
    weak = runner.invoke(
        args=["create-user", "--username", _name("cli"), "--role", "clerk", "--district", "530102"],
        input="short\n",
    )
    assert weak.exit_code != 0
    for args in (
        ["reset-password", username],
        ["deactivate-user", username],
        ["reactivate-user", username],
        ["set-role", username, "--role", "auditor"],
    ):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, (args, result.output)
    assert '"role": "auditor"' in runner.invoke(args=["list-users"]).output
    create = events(engine, "account.create", username)[0]
    assert create["actor_kind"] == "system"
    made = runner.invoke(args=["create-terminal", "--center", "FM-01", "--name", "命令行窗口"])
    terminal_id = __import__("json").loads(made.output.splitlines()[0])["terminal_id"]
    assert runner.invoke(args=["rotate-terminal-key", str(terminal_id)]).exit_code == 0
    assert runner.invoke(args=["revoke-terminal", str(terminal_id)]).exit_code == 0
    assert runner.invoke(args=["rotate-terminal-key", str(terminal_id)]).exit_code != 0
    assert runner.invoke(args=["list-sessions"]).exit_code == 0
