"""The pages write the same security-log entries as the API: window logins (good key or not)
and the receipt's query code, with the terminal and the address."""

from sqlalchemy import text

from tests.helpers import application, submit
from tests.web.pages import login_window, make_terminal_key

ADDRESS = "203.0.113.7"


def entries(engine, action: str) -> list[dict]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT * FROM security_events WHERE action = :a ORDER BY id"), {"a": action}
        ).mappings()
        return [dict(r) for r in rows]


def test_window_logins_and_the_receipts_query_code_are_logged(
    app, migrated, engine, client, terminal
):
    window = app.test_client()
    window.environ_base["REMOTE_ADDR"] = ADDRESS
    bad = login_window(window, "tbk_not-a-real-key")
    assert bad.status_code == 401
    failed = entries(engine, "window.login")[-1]
    assert (failed["outcome"], failed["address"], failed["target"]) == ("failed", ADDRESS, None)
    assert "not-a-real-key" not in str(failed)

    good = login_window(window, make_terminal_key(migrated, "FM-01"))
    assert good.status_code == 302
    signed_in = entries(engine, "window.login")[-1]
    assert (signed_in["outcome"], signed_in["address"]) == ("ok", ADDRESS)
    assert signed_in["actor_kind"] == "terminal" and signed_in["district_code"] == "530124"

    case_no = submit(client, terminal("FM-01"), application()).get_json()["case_no"]
    receipt = window.get(f"/window/cases/{case_no}/receipt")
    assert receipt.status_code == 200 and "data-query-code" in receipt.get_data(as_text=True)
    (reveal,) = [e for e in entries(engine, "query_code.reveal") if e["target"] == case_no]
    assert reveal["actor_id"] == signed_in["actor_id"] and reveal["address"] == ADDRESS
