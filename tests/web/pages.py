"""Helpers for page tests with Flask's test client: logins, CSRF tokens, forms."""

import io
import re
import time
import uuid

import pyotp
from sqlalchemy import select

from tests.helpers import (
    SOCIAL_SECURITY_CARD,
    application,
    deliver_inline,
    make_id_number,
    submit,
)

PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "correct-horse-电池-staple"


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


# Authenticator secrets of the users made here whose role needs one, by username.
TOTP_SECRETS: dict[str, str] = {}
_LAST_STEP: dict[str, int] = {}


def make_staff(migrated, role: str, district: str | None) -> str:
    """A new staff user with PASSWORD (and an authenticator, for roles that need one);
    returns the username."""
    from service.accounts import totp
    from service.accounts.credentials import create_staff
    from service.config import load_settings
    from service.crypto import FieldCipher

    username = f"w{uuid.uuid4().hex[:10]}"
    with migrated.sessionmaker() as session:
        user = create_staff(session, username, PASSWORD, role, district, f"测试{role}")
        if totp.totp_required(user):
            TOTP_SECRETS[username] = totp.enrol(user, FieldCipher(load_settings().data_key))
            user.totp_enabled = True
        session.commit()
    return username


def otp_for(username: str) -> str:
    """A code for the user's next login, never one used before (a code is good once): the
    current step's, or the next step's (accepted for clock drift), or wait for a later step."""
    secret = TOTP_SECRETS.get(username)
    if secret is None:
        return ""
    while True:
        now = int(time.time()) // 30
        for step in (now - 1, now, now + 1):
            if step > _LAST_STEP.get(username, 0):
                _LAST_STEP[username] = step
                return pyotp.TOTP(secret).at(step * 30)
        time.sleep(1)


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
    data = {"username": username, "password": password, "csrf_token": token}
    if username in TOTP_SECRETS:
        data["otp"] = otp_for(username)
    return client.post("/login", data=data)


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


def intake_form(client, **fields):
    """Fill in and post the 社保卡 intake form at a signed-in window; `fields` override."""
    html = client.get(f"/window/items/{SOCIAL_SECURITY_CARD}").get_data(as_text=True)
    data = {
        "csrf_token": csrf_of(html),
        "idempotency_key": re.search(r'name="idempotency_key" value="([^"]+)"', html).group(1),
        "name": "李四",
        "id_number": make_id_number(),
        "phone": "13912345678",
        "insured_district": "530102",
        "result_delivery": "window",
        "got_M01": "1",
        "got_M03": "1",
        "got_M04": "1",
    }
    data.update(fields)
    return client.post(
        f"/window/items/{SOCIAL_SECURITY_CARD}", data=data, content_type="multipart/form-data"
    )


def case_with_scan(client, headers: dict, name: str = "身份证正面.png") -> tuple[str, int]:
    """An application through the API whose first material has one scan: (case_no, scan id)."""
    staged = client.post(
        "/api/v1/uploads",
        headers=headers,
        data={"file": (io.BytesIO(PNG), name)},
        content_type="multipart/form-data",
    )
    assert staged.status_code == 201, staged.get_json()
    scan_id = staged.get_json()["id"]
    body = application()
    body["materials"][0]["files"] = [scan_id]
    response = submit(client, headers, body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["case_no"], scan_id


def window_client(app, migrated, center: str = "FM-01"):
    """A test client signed in as a new window terminal of `center`."""
    client = app.test_client()
    login_window(client, make_terminal_key(migrated, center))
    return client


def staff_client(app, migrated, role: str = "clerk", district: str | None = "530102"):
    """A test client signed in as a new staff user: (client, username)."""
    client = app.test_client()
    username = make_staff(migrated, role, district)
    login_staff(client, username)
    return client, username


def request_supplement(app, migrated, settings, case_no: str) -> None:
    """Deliver the case to 五华 and have a clerk there ask for 申领登记表 (M03) again."""
    deliver_inline(migrated, settings, case_no)
    office, _ = staff_client(app, migrated)
    response = office.post(
        f"/cases/{case_no}/steps/request_supplement",
        data={**case_form(office, case_no), "need_M03": "1", "problem_M03": "未签字"},
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:300]


def post_supplement(window, case_no: str, scan_name: str = "登记表.png", **fields):
    """The window's supplement form for M03 with one scan; `fields` override (version...)."""
    return window.post(
        f"/cases/{case_no}/steps/supplement",
        data={
            **case_form(window, case_no),
            "got_M03": "1",
            "scan_M03": (io.BytesIO(PNG), scan_name),
            **fields,
        },
        content_type="multipart/form-data",
    )
