"""Helpers for page tests with Flask's test client: logins, CSRF tokens, forms."""

import re
import uuid

from sqlalchemy import select

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "correct-horse-电池-staple"


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def make_staff(migrated, role: str, district: str | None) -> str:
    """A new staff user with PASSWORD; returns the username."""
    from service.accounts.credentials import create_staff

    username = f"w{uuid.uuid4().hex[:10]}"
    with migrated.sessionmaker() as session:
        create_staff(session, username, PASSWORD, role, district, f"测试{role}")
        session.commit()
    return username


def make_terminal_key(migrated, center_code: str) -> str:
    from service.accounts.credentials import create_terminal
    from service.accounts.models import ServiceCenter

    with migrated.sessionmaker() as session:
        center = session.scalar(select(ServiceCenter).where(ServiceCenter.code == center_code))
        _terminal, key = create_terminal(session, center, f"网页终端{uuid.uuid4().hex[:6]}")
        session.commit()
    return key


def login_staff(client, username: str, password: str = PASSWORD):
    token = csrf_of(client.get("/login").get_data(as_text=True))
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )


def login_window(client, key: str):
    token = csrf_of(client.get("/login/window").get_data(as_text=True))
    return client.post("/login/window", data={"key": key, "csrf_token": token})


def page_token(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return csrf_of(response.get_data(as_text=True))


def case_form(client, case_no: str) -> dict[str, str]:
    """The hidden fields every step form on the case page carries: the case version read and
    the session's CSRF token."""
    page = client.get(f"/cases/{case_no}").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', page)
    assert version, "no step form on the case page"
    return {"version": version.group(1), "csrf_token": csrf_of(page)}
