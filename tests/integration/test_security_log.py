"""The security log (安全审计): one entry per privileged or sensitive action, with who, from
which address and what, written with the action. Reading it: test_security_log_reading.py;
keeping it: test_security_log_retention.py; reveals on cases: tests/rules."""

import dataclasses
import json
import random
import uuid
from datetime import timedelta

from sqlalchemy import select, text

from tests.integration.test_accounts import GOOD, bearer, login, make_user

ADDRESS = "203.0.113.7"
AT = {"REMOTE_ADDR": ADDRESS}


def entries(engine, action: str, target: str | None = None) -> list[dict]:
    """The log's entries of an action (about a target), oldest first."""
    sql = "SELECT * FROM security_events WHERE action = :a"
    if target is not None:
        sql += " AND target = :t"
    with engine.connect() as conn:
        rows = conn.execute(text(sql + " ORDER BY id"), {"a": action, "t": target}).mappings()
        return [dict(r) for r in rows]


def staff_user(migrated, role: str, district: str | None) -> tuple[str, dict]:
    """(username, bearer headers) of a new account with a full token."""
    from service.accounts.credentials import create_staff, issue_token

    username = f"sl-{uuid.uuid4().hex[:10]}"
    with migrated.sessionmaker() as session:
        user = create_staff(session, username, GOOD, role, district)
        token, _ = issue_token(session, user, timedelta(hours=1))
        session.commit()
    return username, {"Authorization": f"Bearer {token}"}


def by(entry: dict, username: str) -> None:
    """The entry names the actor and the address the request came from."""
    assert entry["actor_name"] == username, entry
    assert entry["address"] == ADDRESS, entry


# Sign-in


def test_logins_failures_and_lockouts_name_the_user_and_the_address(
    app, settings, migrated, engine
):
    from service.app import create_app

    username, _ = make_user(migrated)
    strict = create_app(dataclasses.replace(settings, login_failures=2)).test_client()
    # An address of this run only: the throttle's counts outlive a test session in Redis.
    address = f"203.0.113.{random.randrange(8, 250)}"
    ok = login(strict, username, address=address)
    assert ok.status_code == 201
    for _ in range(2):
        assert login(strict, username, "wrong-guess-123", address=address).status_code == 401
    assert login(strict, username, address=address).status_code == 429

    logins = entries(engine, "login", username)
    assert [(e["outcome"], e["address"]) for e in logins] == [
        ("ok", address),
        ("failed", address),
        ("failed", address),
    ]
    assert logins[0]["actor_name"] == username and logins[0]["actor_kind"] == "staff"
    assert logins[1]["details"]["reason"] == "invalid-credentials"
    (lockout,) = entries(engine, "login.lockout", username)
    assert lockout["outcome"] == "refused" and lockout["address"] == address
    assert lockout["details"]["retry_after"] > 0
    assert not any(GOOD in json.dumps(e["details"]) for e in logins)


# Second factor, accounts and roles


def test_totp_enrolment_reset_and_role_change(client, migrated, engine):
    import pyotp

    from service.accounts.models import StaffUser

    username, _ = make_user(migrated, role="supervisor")
    step = login(client, username, address=ADDRESS)
    assert step.get_json()["purpose"] == "enroll_totp"
    headers = bearer(step)
    secret = client.get("/api/v1/auth/totp", headers=headers).get_json()["secret"]
    enrolled = client.post(
        "/api/v1/auth/totp",
        json={"code": pyotp.TOTP(secret).now()},
        headers=headers,
        environ_base=AT,
    )
    assert enrolled.status_code == 201, enrolled.get_json()
    by(entries(engine, "totp.enrol", username)[-1], username)

    admin_name, admin = staff_user(migrated, "security_admin", None)
    with migrated.sessionmaker() as session:
        user_id = session.scalar(select(StaffUser.id).where(StaffUser.username == username))
    reset = client.post(
        f"/api/v1/admin/staff/{user_id}/reset-password",
        json={"reset_totp": True},
        headers=admin,
        environ_base=AT,
    )
    assert reset.status_code == 200
    (totp_reset,) = entries(engine, "totp.reset", username)
    by(totp_reset, admin_name)
    assert reset.get_json()["temporary_password"] not in json.dumps(
        entries(engine, "password.reset", username)[-1]["details"]
    )
    changed = client.put(
        f"/api/v1/admin/staff/{user_id}/role",
        json={"role": "clerk", "district_code": "530112"},
        headers=admin,
        environ_base=AT,
    )
    assert changed.status_code == 200
    (role_change,) = entries(engine, "account.role_change", username)
    by(role_change, admin_name)
    assert role_change["details"]["before"] == {"role": "supervisor", "district_code": "530102"}
    assert role_change["details"]["after"] == {"role": "clerk", "district_code": "530112"}


def test_terminal_key_issue_rotation_and_revocation(client, migrated, engine):
    admin_name, admin = staff_user(migrated, "security_admin", None)
    made = client.post(
        "/api/v1/admin/terminals",
        json={"center_code": "FM-01", "name": f"审计终端{uuid.uuid4().hex[:4]}"},
        headers=admin,
        environ_base=AT,
    )
    assert made.status_code == 201, made.get_json()
    terminal_id = str(made.get_json()["terminal"]["id"])
    key = made.get_json()["api_key"]
    rotated = client.post(
        f"/api/v1/admin/terminals/{terminal_id}/rotate-key", headers=admin, environ_base=AT
    )
    assert rotated.status_code == 200
    revoked = client.post(
        f"/api/v1/admin/terminals/{terminal_id}/revoke", headers=admin, environ_base=AT
    )
    assert revoked.status_code == 200
    for action in ("terminal.create", "terminal.rotate_key", "terminal.revoke"):
        (entry,) = entries(engine, action, terminal_id)
        by(entry, admin_name)
        assert key not in json.dumps(entry["details"])
        assert rotated.get_json()["api_key"] not in json.dumps(entry["details"])


# System administration


def test_a_connector_change_shows_before_and_after_without_secrets(client, migrated, engine):
    admin_name, admin = staff_user(migrated, "admin", None)
    path = "/api/v1/admin/districts/530114/connector"
    changed = client.put(
        path,
        json={
            "kind": "http",
            "endpoint": "https://svc:hunter2-pw@jinning.example/in?token=abc123xyz",
            "secret": "s" * 32,
        },
        headers=admin,
        environ_base=AT,
    )
    assert changed.status_code == 200, changed.get_json()
    back = client.put(path, json={"kind": "internal"}, headers=admin, environ_base=AT)
    assert back.status_code == 200
    first, second = entries(engine, "district.connector_change", "530114")[-2:]
    by(first, admin_name)
    assert first["details"]["after"]["endpoint"] == "https://jinning.example/in?[redacted]"
    assert first["details"]["after"]["signing"] == "set" and first["details"]["before"]["kind"]
    assert second["details"]["before"] == first["details"]["after"]
    assert second["details"]["after"]["kind"] == "internal"
    for entry in (first, second):
        logged = json.dumps(entry["details"])
        assert "hunter2" not in logged and "abc123xyz" not in logged and "s" * 32 not in logged


def test_pause_resume_and_dead_letter_replay(client, migrated, engine):
    admin_name, admin = staff_user(migrated, "admin", None)
    for step, body in (("pause", {"reason": "系统维护"}), ("resume", None)):
        answer = client.post(
            f"/api/v1/admin/districts/530115/{step}", json=body, headers=admin, environ_base=AT
        )
        assert answer.status_code == 200, answer.get_json()
        by(entries(engine, f"district.{step}", "530115")[-1], admin_name)
    replay = client.post("/api/v1/admin/dead-letters/replay", headers=admin, environ_base=AT)
    assert replay.status_code == 200, replay.get_json()
    entry = entries(engine, "dead_letters.replay")[-1]
    by(entry, admin_name)
    assert entry["details"]["replayed"] == replay.get_json()["replayed"]


def test_catalog_and_statistics_exports_are_logged(client, migrated, engine):
    admin_name, admin = staff_user(migrated, "admin", None)
    exported = client.get(
        "/api/v1/admin/catalog/export",
        headers=admin,
        query_string={"format": "xlsx"},
        environ_base=AT,
    )
    assert exported.status_code == 200
    entry = entries(engine, "catalog.export")[-1]
    by(entry, admin_name)
    assert entry["details"] == {"format": "xlsx"}

    auditor_name, auditor = staff_user(migrated, "auditor", None)
    figures = client.get(
        "/api/v1/stats/monthly",
        headers=auditor,
        query_string={"month": "2026-01", "format": "csv"},
        environ_base=AT,
    )
    assert figures.status_code == 200
    entry = entries(engine, "stats.export", "2026-01")[-1]
    by(entry, auditor_name)
    assert entry["details"]["format"] == "csv" and entry["details"]["scope"] == "city"
