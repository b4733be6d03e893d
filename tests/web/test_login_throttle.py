"""The login page counts failures with the API's throttle: guessing stops there too."""

import dataclasses
import random

from tests.web.pages import PASSWORD, login_staff, make_staff


def test_the_login_page_stops_guessing_like_the_api(settings, migrated):
    from service.app import create_app

    strict = create_app(dataclasses.replace(settings, login_failures=2))
    user = make_staff(migrated, "clerk", "530102")
    page = strict.test_client()
    # An address of this run only: failures stay counted in Redis for 15 minutes.
    address = f"10.{random.randrange(256)}.{random.randrange(256)}.7"
    page.environ_base["REMOTE_ADDR"] = address
    assert [login_staff(page, user, password="guess").status_code for _ in range(2)] == [401, 401]
    locked = login_staff(page, user)  # the right password, after too many wrong ones
    assert locked.status_code == 429
    assert "登录失败次数过多" in locked.get_data(as_text=True)

    def api(address):
        return strict.test_client().post(
            "/api/v1/auth/token",
            json={"username": user, "password": PASSWORD},
            environ_base={"REMOTE_ADDR": address},
        )

    assert api(address).status_code == 429  # one count for the page and the API
    assert api("10.255.255.1").status_code == 201  # the user elsewhere is not locked out
