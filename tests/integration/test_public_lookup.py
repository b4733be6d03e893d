"""Citizens look up a case with its number and the query code (查询码) from the receipt."""

import json
import logging
import uuid

import pytest
from sqlalchemy import text

from service.cases import query_code
from tests.helpers import application, redis_down, scalar, submit


def lookup(client, case_no, code, ip):
    return client.get(
        f"/api/v1/public/cases/{case_no}",
        query_string={"code": code},
        environ_base={"REMOTE_ADDR": ip},
    )


def new_case(client, terminal, **kwargs) -> tuple[str, str]:
    """A case taken at 富民's center, and the query code its intake answer gave."""
    response = submit(client, terminal("FM-01"), application(), **kwargs)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    return body["case_no"], body["query_code"]


def other_code(code: str) -> str:
    """A well-formed code that is not `code`."""
    return ("3" if code[0] != "3" else "4") + code[1:]


def fresh_ip() -> str:
    # Redis outlives each test: every test fails from addresses of its own.
    n = uuid.uuid4().int
    return f"10.{n % 250}.{n // 250 % 250}.{n // 62500 % 250}"


def test_the_intake_answer_carries_the_code(client, terminal):
    headers, body, key = terminal("FM-01"), application(), uuid.uuid4().hex
    first = submit(client, headers, body, key=key)
    assert first.status_code == 201 and first.headers["Cache-Control"] == "no-store"
    code = first.get_json()["query_code"]
    assert len(code) == 11 and code[5] == "-"
    assert query_code.well_formed(query_code.normalize(code))
    # The same window retrying (its first answer lost) gets the same code back.
    again = submit(client, headers, body, key=key)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["query_code"] == code
    # Each case has its own.
    assert new_case(client, terminal)[1] != code


def test_status_and_dates_with_the_right_code(client, terminal):
    case_no, code = new_case(client, terminal)
    found = lookup(client, case_no, code, fresh_ip())
    assert found.status_code == 200
    assert found.headers["Cache-Control"] == "no-store"
    shown = found.get_json()
    assert set(shown) == {
        "case_no",
        "item_name",
        "status",
        "status_zh",
        "stage_zh",
        "accepting_district",
        "responsible_district",
        "submitted_at",
        "updated_at",
        "deadlines",
    }  # fmt: skip — nothing personal, no timeline
    assert shown["status"] == "submitted" and shown["stage_zh"] == "已收件，正在转送办理地"
    assert shown["item_name"] == "社会保障卡申领"
    assert shown["responsible_district"] == "五华区"
    assert [d["kind"] for d in shown["deadlines"]] == ["forward"]
    assert shown["deadlines"][0]["kind_zh"] == "转办时限"
    assert "张" not in json.dumps(shown, ensure_ascii=False)


@pytest.mark.parametrize(
    "typed",
    [
        lambda c: c.lower(),
        lambda c: c.replace("-", ""),
        lambda c: " ".join(c.replace("-", "")),
        lambda c: f"  {c.lower()}  ",
        # Full-width forms, as a Chinese input method may type them.
        lambda c: "".join(chr(ord(ch) + 0xFEE0) for ch in c),
    ],
    ids=["lower", "no-hyphen", "spaced", "padded", "full-width"],
)
def test_the_code_as_people_type_it(client, terminal, typed):
    case_no, code = new_case(client, terminal)
    assert lookup(client, case_no, typed(code), fresh_ip()).status_code == 200


def test_a_wrong_code_and_an_unknown_case_answer_the_same(client, terminal):
    case_no, code = new_case(client, terminal)
    miss = lookup(client, case_no, other_code(code), fresh_ip())
    nothing = lookup(client, "530124-19990101-00001", code, fresh_ip())
    odd = lookup(client, "not-a-case-number", code, fresh_ip())
    assert miss.status_code == nothing.status_code == odd.status_code == 404
    bodies = [
        {k: v for k, v in r.get_json().items() if k != "request_id"} for r in (miss, nothing, odd)
    ]
    assert bodies[0] == bodies[1] == bodies[2]
    assert miss.headers["Cache-Control"] == "no-store"
    assert "查询码" in miss.get_json()["detail_zh"]


@pytest.mark.parametrize("code", ["", "ABCD", "ABCDE-FGHJ0", "ABCDE-FGHJI", "x" * 41])
def test_a_code_of_the_wrong_shape_is_a_field_error(client, code):
    response = lookup(client, "530124-20261125-00001", code, fresh_ip())
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert {e["field"] for e in response.get_json()["errors"]} == {"code"}


def test_the_old_last4_parameter_is_gone(client):
    response = client.get(
        "/api/v1/public/cases/530124-20261125-00001", query_string={"id_last4": "002X"}
    )
    assert response.status_code == 422
    assert "code" in {e["field"] for e in response.get_json()["errors"]}


def test_an_attacker_backs_off_but_the_citizen_gets_in_at_once(client, terminal):
    case_no, code = new_case(client, terminal)
    attacker, wrong = fresh_ip(), other_code(code)
    answers = [lookup(client, case_no, wrong, attacker) for _ in range(50)]
    codes = [a.status_code for a in answers]
    assert codes[:4] == [404] * 4
    assert codes[-1] == 429 and set(codes[5:]) == {429}
    assert int(answers[-1].headers["Retry-After"]) > 0
    assert "请" in answers[-1].get_json()["detail_zh"]
    # Held back means held back: even the right code waits at the failing address.
    assert lookup(client, case_no, code, attacker).status_code == 429
    # The citizen, from another address, is checked at once.
    assert lookup(client, case_no, code, fresh_ip()).status_code == 200


def test_a_crowd_of_addresses_gets_one_guess_each_once_a_case_is_attacked(client, terminal):
    case_no, code = new_case(client, terminal)
    wrong = other_code(code)
    crowd = [fresh_ip() for _ in range(8)]
    first = [lookup(client, case_no, wrong, ip).status_code for ip in crowd]
    # The 5th failure on the case starts holding back each address that fails on it.
    assert first == [404] * 4 + [429] * 4
    again = [lookup(client, case_no, wrong, ip).status_code for ip in crowd[4:]]
    assert again == [429] * 4
    # The right code from an address that has not failed on the case: no wait.
    assert lookup(client, case_no, code, fresh_ip()).status_code == 200
    # Other cases are not held back for those addresses (below their own address limit).
    other_no, other = new_case(client, terminal)
    assert lookup(client, other_no, other, crowd[5]).status_code == 200


def test_the_delay_doubles_up_to_the_maximum():
    from service.cases.lookup_throttle import LookupLimits

    limits = LookupLimits(per_minute=10, failures=5, delay_seconds=30, max_delay_seconds=3600)
    assert [limits.delay(n) for n in (1, 4, 5, 6, 7, 11, 12, 1000)] == [
        0,
        0,
        30,
        60,
        120,
        1920,
        3600,
        3600,
    ]


def test_one_address_cannot_scan_many_cases(client):
    ip = fresh_ip()
    codes = [
        lookup(client, f"530124-20261125-{n:05d}", "ABCDE-FGHJK", ip).status_code
        for n in range(80000, 80007)
    ]
    assert codes[:4] == [404] * 4 and set(codes[5:]) == {429}


def test_look_ups_work_with_redis_down(app, client, terminal, caplog, monkeypatch):
    case_no, code = new_case(client, terminal)
    monkeypatch.setitem(app.extensions, "tongban.redis", redis_down())
    ip = fresh_ip()
    with caplog.at_level(logging.INFO):
        assert lookup(client, case_no, code, ip).status_code == 200
        assert lookup(client, case_no, other_code(code), ip).status_code == 404
    warnings = [r.getMessage() for r in caplog.records if r.name == "tongban.public"]
    assert any("unavailable" in w for w in warnings)
    assert code not in caplog.text and ip not in caplog.text


def _everything_shown(client, terminal, staff, case_no) -> str:
    fm, wh = terminal("FM-01"), terminal("WH-01")
    clerk = staff("clerk", "530102")
    shown = [
        client.get(f"/api/v1/applications/{case_no}", headers=who).get_data(as_text=True)
        for who in (fm, wh, clerk)
    ]
    shown.append(client.get("/api/v1/queue", headers=clerk).get_data(as_text=True))
    shown.append(client.get("/api/v1/notifications", headers=fm).get_data(as_text=True))
    return "\n".join(shown)


def test_the_code_is_nowhere_but_the_intake_answer(
    app, client, terminal, staff, engine, migrated, settings, caplog
):
    from service.crypto import FieldCipher
    from service.districts.payloads import case_payload
    from tests.helpers import deliver_inline

    with caplog.at_level(logging.DEBUG):
        case_no, code = new_case(client, terminal)
        deliver_inline(migrated, settings, case_no)
        assert lookup(client, case_no, code, fresh_ip()).status_code == 200
        assert lookup(client, case_no, other_code(code), fresh_ip()).status_code == 404
        shown = _everything_shown(client, terminal, staff, case_no)
    plain = query_code.normalize(code)
    for text_seen in (shown, caplog.text):
        assert code not in text_seen and plain not in text_seen
    with migrated.sessionmaker() as session:
        from sqlalchemy import select

        from service.cases.models import Case

        case = session.scalar(select(Case).where(Case.case_no == case_no))
        payload = json.dumps(case_payload(session, FieldCipher(settings.data_key), case))
    assert plain not in payload and code not in payload
    events = scalar(
        engine,
        "SELECT json_agg(e)::text FROM case_events e JOIN cases c ON c.id = e.case_id"
        " WHERE c.case_no = :n",
        n=case_no,
    )
    assert plain not in events
    stored = scalar(engine, "SELECT query_code_enc FROM cases WHERE case_no = :n", n=case_no)
    assert plain.encode() not in bytes(stored) and code.encode() not in bytes(stored)
    cipher = FieldCipher(settings.data_key)
    from service.sealed import CASE_QUERY_CODE

    assert cipher.decrypt(bytes(stored), CASE_QUERY_CODE, case_no) == plain


def test_the_client_address_comes_from_the_proxy_only_when_told(app, settings):
    import dataclasses

    from service.app import create_app

    def codes(client, ip_base):
        return [
            client.get(
                f"/api/v1/public/cases/530124-20261125-{base + n:05d}",
                query_string={"code": "ABCDE-FGHJK"},
                environ_base={"REMOTE_ADDR": "10.9.9.9"},
                headers={"X-Forwarded-For": f"{ip_base}.{n % 250}"},
            ).status_code
            for n in range(7)
        ]

    base = 10000 + uuid.uuid4().int % 80000  # case numbers of this run only

    # No proxy configured: the header is the client's word, ignored; one address, limited.
    assert codes(app.test_client(), "172.16.0")[-1] == 429
    behind_one = create_app(dataclasses.replace(settings, proxy_hops=1)).test_client()
    assert set(codes(behind_one, "172.17.0")) == {404}  # seven clients behind the proxy


def test_a_case_from_before_codes_gets_one_at_its_reprint(app, client, terminal, engine, migrated):
    from tests.web.pages import window_client

    case_no, _ = new_case(client, terminal)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE cases SET query_code_enc = NULL WHERE case_no = :n"), {"n": case_no}
        )
    version = scalar(engine, "SELECT version FROM cases WHERE case_no = :n", n=case_no)
    page = window_client(app, migrated).get(f"/window/cases/{case_no}/receipt")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    printed = html.split("data-query-code>")[1].split("<")[0]
    assert query_code.well_formed(query_code.normalize(printed))
    # Issuing the code is no change to the case a window's open form should conflict with.
    assert scalar(engine, "SELECT version FROM cases WHERE case_no = :n", n=case_no) == version
    # Printed again: the same code; and it opens the look-up.
    again = window_client(app, migrated).get(f"/window/cases/{case_no}/receipt")
    assert f"data-query-code>{printed}<" in again.get_data(as_text=True)
    assert lookup(client, case_no, printed, fresh_ip()).status_code == 200


def test_the_accepting_center_alone_may_print_the_code_again(client, terminal, staff):
    case_no, code = new_case(client, terminal)
    path = f"/api/v1/applications/{case_no}/query-code"
    again = client.get(path, headers=terminal("FM-01"))  # another window PC of the center
    assert again.status_code == 200 and again.headers["Cache-Control"] == "no-store"
    assert again.get_json() == {"case_no": case_no, "query_code": code}
    for other in (terminal("WH-01"), terminal("FM-YD-BC"), terminal("AN-01")):
        refused = client.get(path, headers=other)
        assert refused.status_code == 404 and code not in refused.get_data(as_text=True)
    # Staff print no codes, not even of a case their district accepted.
    assert client.get(path, headers=staff("clerk", "530124")).status_code == 403
    assert client.get(path).status_code == 401
