"""Every reveal of a secret or of full personal data, and every download of a scan, is in the
security log with who and from where, next to its timeline event."""

import json

from tests.helpers import act, application, submit
from tests.integration.test_districts import stage_scan

ADDRESS = "203.0.113.7"
AT = {"REMOTE_ADDR": ADDRESS}


def entries(engine, action: str, target: str) -> list[dict]:
    from sqlalchemy import text

    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT * FROM security_events WHERE action = :a AND target = :t ORDER BY id"),
            {"a": action, "t": target},
        ).mappings()
        return [dict(r) for r in rows]


def test_query_code_scan_and_contact_reveals_are_logged(deliver, client, terminal, staff, engine):
    window, clerk = terminal("FM-01"), staff("clerk", "530102")
    scan, staged = stage_scan(client, window)
    body = application(result_delivery="mail")
    for material in body["materials"]:
        material["files"] = [staged["id"]] if material["code"] == "M01" else []
    case_no = submit(client, window, body).get_json()["case_no"]

    shown = client.get(
        f"/api/v1/applications/{case_no}/query-code", headers=window, environ_base=AT
    )
    assert shown.status_code == 200, shown.get_json()
    (reveal,) = entries(engine, "query_code.reveal", case_no)
    assert (reveal["actor_kind"], reveal["address"]) == ("terminal", ADDRESS)
    assert reveal["actor_name"] and reveal["district_code"] == "530124"
    code = shown.get_json()["query_code"]
    assert code not in json.dumps(reveal, default=str)
    assert code.replace("-", "") not in json.dumps(reveal, default=str)

    deliver(case_no)
    listed = client.get(f"/api/v1/cases/{case_no}/files", headers=clerk).get_json()
    file_id = listed[0]["id"]
    got = client.get(f"/api/v1/cases/{case_no}/files/{file_id}", headers=clerk, environ_base=AT)
    assert got.status_code == 200 and got.data == scan
    (download,) = entries(engine, "file.download", f"{case_no}/{file_id}")
    assert (download["actor_kind"], download["actor_role"]) == ("staff", "clerk")
    assert download["address"] == ADDRESS and download["details"] == {"material": "M01"}

    assert act(client, clerk, case_no, "accept").status_code == 200
    done = {"outcome": "approved", "document_no": "五社保〔2026〕9号"}
    assert act(client, clerk, case_no, "complete", **done).status_code == 200
    contact = client.get(
        f"/api/v1/cases/{case_no}/mailing-contact", headers=window, environ_base=AT
    )
    assert contact.status_code == 200, contact.get_json()
    (seen,) = entries(engine, "contact.reveal", case_no)
    assert (seen["actor_kind"], seen["address"]) == ("terminal", ADDRESS)
    assert seen["actor_name"] == reveal["actor_name"]
    logged = json.dumps(seen, default=str)
    assert "13912345678" not in logged and "华山西路" not in logged
    # A look that is refused reveals nothing, and logs nothing.
    assert client.get(f"/api/v1/cases/{case_no}/mailing-contact", headers=clerk).status_code == 403
    assert len(entries(engine, "contact.reveal", case_no)) == 1
