"""Citizens look up a case with its number and the last 4 characters of their ID number."""

from tests.helpers import application, submit


def lookup(client, case_no, last4, ip):
    return client.get(
        f"/api/v1/public/cases/{case_no}",
        query_string={"id_last4": last4},
        environ_base={"REMOTE_ADDR": ip},
    )


def test_coarse_status_with_the_right_last4_only(client, terminal):
    body = application()
    case_no = submit(client, terminal("FM-01"), body).get_json()["case_no"]
    last4 = body["applicant"]["id_number"][-4:]
    found = lookup(client, case_no, last4.lower(), "10.0.0.1")
    assert found.status_code == 200
    shown = found.get_json()
    assert shown["stage_zh"] == "已收件，正在转送办理地"
    assert shown["responsible_district"] == "五华区"
    assert set(shown) == {
        "case_no",
        "item_name",
        "status_zh",
        "stage_zh",
        "accepting_district",
        "responsible_district",
        "updated_at",
    }  # fmt: skip — nothing personal, no timeline
    wrong = "0000" if last4 != "0000" else "1111"
    miss = lookup(client, case_no, wrong, "10.0.0.2")
    nothing = lookup(client, "530124-19990101-00001", last4, "10.0.0.3")
    assert miss.status_code == nothing.status_code == 404
    assert miss.get_json()["detail_zh"] == nothing.get_json()["detail_zh"]


def test_bad_last4_is_a_field_error(client):
    response = lookup(client, "530124-20261125-00001", "12", "10.0.0.4")
    assert response.status_code == 422
    assert {e["field"] for e in response.get_json()["errors"]} == {"id_last4"}


def test_lookups_are_rate_limited_per_client(client, terminal):
    case_no = submit(client, terminal("FM-01"), application()).get_json()["case_no"]
    codes = [lookup(client, f"{case_no}", "0000", "10.0.0.9").status_code for _ in range(7)]
    assert codes[:5] == [404] * 5  # limit is 5 a minute in the tests
    limited = lookup(client, case_no, "0000", "10.0.0.9")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "60"
    assert "频繁" in limited.get_json()["detail_zh"]


def test_the_client_address_comes_from_the_proxy_only_when_told(app, settings, terminal):
    import dataclasses

    from service.app import create_app

    case_no = submit(app.test_client(), terminal("FM-01"), application()).get_json()["case_no"]
    prefix = case_no[:-5]  # other numbers of the same day: only the address limit can apply

    def codes(client, ip_base):
        return [
            client.get(
                f"/api/v1/public/cases/{prefix}{n:05d}",
                query_string={"id_last4": "0000"},
                environ_base={"REMOTE_ADDR": "10.9.9.9"},
                headers={"X-Forwarded-For": f"{ip_base}.{n}"},
            ).status_code
            for n in range(90000, 90007)
        ]

    # No proxy configured: the header is the client's word, ignored; one address, limited.
    assert codes(app.test_client(), "172.16.0")[-1] == 429
    behind_one = create_app(dataclasses.replace(settings, proxy_hops=1)).test_client()
    assert set(codes(behind_one, "172.17.0")) == {404}  # seven clients behind the proxy
