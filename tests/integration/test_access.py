"""Who may read what: districts see their own cases, others get 404."""

import pytest

from tests.helpers import application, submit


@pytest.fixture
def fm_case(client, terminal):
    return submit(client, terminal("FM-01"), application()).get_json()["case_no"]


def read(client, case_no, headers):
    return client.get(f"/api/v1/applications/{case_no}", headers=headers)


def test_both_sides_read_the_case(client, fm_case, terminal, staff):
    assert read(client, fm_case, terminal("FM-YD-BC")).status_code == 200  # accepting district
    assert read(client, fm_case, staff("clerk", "530102")).status_code == 200  # responsible
    assert read(client, fm_case, staff("supervisor", "530124")).status_code == 200
    assert read(client, fm_case, staff("auditor", None)).status_code == 200  # city-wide


def test_other_districts_get_404_like_a_missing_case(client, fm_case, terminal, staff):
    for headers in (terminal("XS-01"), staff("clerk", "530181"), staff("auditor", "530112")):
        theirs = read(client, fm_case, headers)
        missing = read(client, "530124-20000101-99999", headers)
        assert theirs.status_code == missing.status_code == 404
        assert theirs.get_json()["type"] == missing.get_json()["type"]
        assert theirs.get_json()["detail_zh"] == missing.get_json()["detail_zh"]


def test_requests_without_valid_credentials_get_401(client, fm_case):
    for headers in ({}, {"Authorization": "Bearer tbk_nope_nope"}, {"Authorization": "Basic x"}):
        response = read(client, fm_case, headers)
        assert response.status_code == 401
        assert response.content_type == "application/problem+json"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_only_terminals_submit(client, staff):
    response = submit(client, staff("clerk", "530124"), application())
    assert response.status_code == 403


def test_staff_login_me_and_logout(app, client, migrated):
    from service.accounts.credentials import create_staff

    with migrated.sessionmaker() as session:
        create_staff(session, "login-test", "correct horse battery", "clerk", "530124")
        session.commit()
    bad = client.post("/api/v1/auth/token", json={"username": "login-test", "password": "nope"})
    assert bad.status_code == 401 and bad.get_json()["detail_zh"] == "用户名或密码错误。"
    good = client.post(
        "/api/v1/auth/token", json={"username": "login-test", "password": "correct horse battery"}
    )
    assert good.status_code == 201
    headers = {"Authorization": f"Bearer {good.get_json()['token']}"}
    me = client.get("/api/v1/auth/me", headers=headers).get_json()
    assert me["role"] == "clerk" and me["district_code"] == "530124"
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401


def test_password_guessing_is_throttled_by_name_and_address_pair(app, settings, migrated):
    import dataclasses
    import random
    import uuid

    from service.accounts.credentials import create_staff
    from service.app import create_app

    # Names and addresses of this run only: failures stay counted in Redis for 15 minutes.
    run = uuid.uuid4().hex[:8]
    guessed, bystander = f"guessed-at-{run}", f"bystander-{run}"
    net = f"10.{random.randrange(256)}.{random.randrange(256)}"
    with migrated.sessionmaker() as session:
        create_staff(session, guessed, "the right password", "clerk", "530124")
        create_staff(session, bystander, "another right one", "clerk", "530124")
        session.commit()
    strict = create_app(dataclasses.replace(settings, login_failures=3)).test_client()

    def login(name, password, host):
        return strict.post(
            "/api/v1/auth/token",
            json={"username": name, "password": password},
            environ_base={"REMOTE_ADDR": f"{net}.{host}"},
        )

    assert [login(guessed, "guess", 9).status_code for _ in range(3)] == [401] * 3
    locked = login(guessed, "the right password", 9)  # right, but too late from there
    assert locked.status_code == 429 and 0 < int(locked.headers["Retry-After"]) <= 30
    assert "登录失败次数过多" in locked.get_json()["detail_zh"]
    # The guesser's failures do not lock the user out at their own desk, nor anyone else.
    assert login(guessed, "the right password", 8).status_code == 201
    assert login(bystander, "another right one", 9).status_code == 201
    # One address guessing at many names is stopped too (at 4 times the limit, for NAT).
    names = [f"nobody-{run}-{n}" for n in range(12)]
    assert {login(name, "guess", 100).status_code for name in names} == {401}
    assert login(bystander, "another right one", 100).status_code == 429
    assert login(bystander, "another right one", 101).status_code == 201


def test_the_delay_grows_with_each_failure_past_the_limit():
    from service.accounts.login import LoginLimits

    limits = LoginLimits(failures=3, window_seconds=900, delay_seconds=30, max_delay_seconds=900)
    assert [limits.delay_after(n) for n in range(1, 10)] == [0, 0, 30, 60, 120, 240, 480, 900, 900]
    assert limits.delay_after(10**6) == 900


def test_unknown_names_cost_one_hash_check_like_wrong_passwords(migrated, monkeypatch):
    from service.accounts import credentials

    with migrated.sessionmaker() as session:
        credentials.create_staff(session, "timed-user", "the right password", "clerk", "530124")
        session.commit()
    credentials._dummy_hash()  # made once per process, before any login is timed
    checks = []
    real = credentials.check_password_hash
    monkeypatch.setattr(
        credentials, "check_password_hash", lambda h, p: checks.append(h) or real(h, p)
    )
    monkeypatch.setattr(
        credentials,
        "generate_password_hash",
        lambda *a, **k: pytest.fail("no hash may be generated at login"),
    )
    with migrated.sessionmaker() as session:
        assert credentials.check_staff_password(session, "nobody-at-all", "x" * 12) is None
        assert credentials.check_staff_password(session, "timed-user", "x" * 12) is None
    # One check each, with the same method and parameters (werkzeug's scrypt defaults).
    assert len(checks) == 2
    assert checks[0].rsplit("$", 2)[0] == checks[1].rsplit("$", 2)[0]


def test_terminal_key_is_stored_only_as_a_hash(terminal, engine):
    from sqlalchemy import text

    key = terminal("FM-01")["Authorization"].split()[1]
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT row_to_json(t)::text FROM terminals t")).scalars().all()
    secret = key.split("_", 2)[2]  # the part after tbk_<prefix>_; it may hold "_" itself
    assert not any(key in row or secret in row for row in rows)
