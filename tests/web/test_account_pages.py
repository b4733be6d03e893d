"""The login page's code, enrolment with a QR code, and the password change after a reset."""

import pyotp

from tests.web.pages import PASSWORD, csrf_of, login_staff, make_staff


def test_a_supervisor_without_an_authenticator_enrols_one_before_any_page(app, migrated):
    from service.accounts.credentials import create_staff

    with migrated.sessionmaker() as session:
        create_staff(session, "page-enrol-sup", PASSWORD, "supervisor", "530102")
        session.commit()
    client = app.test_client()
    assert login_staff(client, "page-enrol-sup").headers["Location"] == "/login/totp"
    assert client.get("/supervisor/").headers["Location"] == "/login/totp"
    page = client.get("/login/totp")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<svg" in html and "绑定身份验证器" in html
    secret = html.split('<code class="secret">')[1].split("</code>")[0]
    wrong = client.post("/login/totp", data={"code": "12", "csrf_token": csrf_of(html)})
    assert wrong.status_code == 422
    done = client.post(
        "/login/totp", data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf_of(html)}
    )
    assert done.status_code == 302 and done.headers["Location"] == "/supervisor/"
    assert client.get("/supervisor/").status_code == 200


def test_the_login_page_asks_for_the_code(app, migrated):
    username = make_staff(migrated, "admin", None)
    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    assert "动态验证码" in html
    refused = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": csrf_of(html)}
    )
    assert refused.status_code == 401 and "动态验证码" in refused.get_data(as_text=True)
    assert login_staff(client, username).status_code == 302


def test_a_reset_password_is_changed_on_the_page_first(app, migrated):
    from sqlalchemy import select

    from service.accounts import manage
    from service.accounts.models import StaffUser

    username = make_staff(migrated, "clerk", "530102")
    with migrated.sessionmaker() as session:
        user = session.scalar(select(StaffUser).where(StaffUser.username == username))
        temporary = manage.reset_password(session, user)
        session.commit()
    client = app.test_client()
    assert login_staff(client, username, temporary).headers["Location"] == "/login/password"
    html = client.get("/login/password").get_data(as_text=True)
    assert "您的密码已被重置" in html
    form = {"current_password": temporary, "csrf_token": csrf_of(html)}
    weak = client.post(
        "/login/password",
        data={**form, "new_password": "password1234", "confirm_password": "password1234"},
    )
    assert weak.status_code == 422 and "密码过于常见" in weak.get_data(as_text=True)
    done = client.post(
        "/login/password",
        data={**form, "new_password": "harbour-lights-88", "confirm_password": "harbour-lights-88"},
    )
    assert done.status_code == 302 and done.headers["Location"] == "/office/"
    assert client.get("/login/account").status_code == 200
