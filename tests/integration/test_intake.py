"""Intake on real PostgreSQL: validation, routing refusals, idempotency, atomicity."""

import re
import threading
import uuid
from datetime import timedelta

from sqlalchemy import select, text

from service.cases.models import Case, CaseEvent
from service.clock import local_today
from service.outbox.models import OutboxMessage
from tests.helpers import (
    application,
    count,
    make_id_number,
    read_case,
    submit,
    with_wrong_check_digit,
)

PROBLEM = "application/problem+json"


def fields_at_fault(response) -> set[str]:
    return {e["field"] for e in response.get_json().get("errors", [])}


def test_terminal_submits_and_reads_back(client, terminal, db):
    fm = terminal("FM-01")
    body = application()
    response = submit(client, fm, body)
    assert response.status_code == 201, response.get_json()
    case = response.get_json()
    assert re.fullmatch(r"530124-\d{8}-\d{5}", case["case_no"])
    assert case["responsible_district"] == {"code": "530102", "name": "五华区"}
    assert case["accepting_center"]["code"] == "FM-01"
    assert case["status"] == "submitted" and case["status_zh"] == "已收件"
    assert case["agreement"] == "KM-WH-FM-2022"
    assert case["applicant"]["name"] == "张*"  # masked for everyone in the case view
    assert case["applicant"]["id_number"].count("*") == 10
    assert case["created_at"].endswith("+08:00")
    assert [e["type"] for e in case["timeline"]] == ["submitted"]
    assert response.headers["Location"].endswith(case["case_no"])

    read = client.get(f"/api/v1/applications/{case['case_no']}", headers=fm)
    assert read.status_code == 200
    assert read.get_json()["case_no"] == case["case_no"]
    # Outside the BMP, sealed and read back intact by a party who asks for it.
    name = client.get(f"/api/v1/cases/{case['case_no']}/applicant-name", headers=fm)
    assert name.get_json()["name"] == "张𠈌"

    row = db.scalar(select(Case).where(Case.case_no == case["case_no"]))
    outbox = db.scalars(select(OutboxMessage).where(OutboxMessage.case_id == row.id)).all()
    assert len(outbox) == 1
    assert outbox[0].queue == "district.530102" and outbox[0].status == "pending"
    # 五华's back office is Tongban's own: the delivery is left to the district's drain.
    assert outbox[0].payload == {"case_id": row.id, "case_no": row.case_no, "drained": True}


def test_case_numbers_are_unique_and_sequential_per_district(client, terminal):
    fm = terminal("FM-YD")
    numbers = [submit(client, fm, application()).get_json()["case_no"] for _ in range(3)]
    assert len(set(numbers)) == 3
    seqs = [int(n.rsplit("-", 1)[1]) for n in numbers]
    assert seqs == sorted(seqs) and seqs[2] - seqs[0] == 2


def test_every_bad_field_is_named_in_one_problem(client, terminal):
    body = application(item_code="123", extra="x")
    body["applicant"] |= {"name": "Zhang", "phone": "12345", "id_number": "1234"}
    body["facts"] = {"insured_district": "53"}
    body["materials"] = [{"code": "M01"}, {"code": "M01"}]
    response = submit(client, terminal("FM-01"), body)
    assert response.status_code == 422
    assert response.content_type == PROBLEM
    assert fields_at_fault(response) == {
        "item_code",
        "extra",
        "applicant.name",
        "applicant.phone",
        "applicant.id_number",
        "facts.insured_district",
        "materials",
    }


def test_a_material_with_a_refused_code_is_named_not_a_500(client, terminal):
    # Found by schemathesis: the duplicate check ran on an entry whose code had been refused.
    body = application()
    body["materials"] = [{"code": ""}, {"code": "M01"}, {"code": "M01"}]
    response = submit(client, terminal("FM-01"), body)
    assert response.status_code == 422, response.get_data(as_text=True)
    errors = {e["field"]: e["messages"] for e in response.get_json()["errors"]}
    assert set(errors) == {"materials.0.code", "materials"}, errors


def test_bad_id_checksum_is_refused_and_says_so(client, terminal):
    body = application()
    body["applicant"]["id_number"] = with_wrong_check_digit(make_id_number())
    response = submit(client, terminal("FM-01"), body)
    assert response.status_code == 422
    errors = {e["field"]: e["messages"] for e in response.get_json()["errors"]}
    assert list(errors) == ["applicant.id_number"]
    assert "GB 11643" in errors["applicant.id_number"][0]


def test_missing_idempotency_key_is_named(client, terminal):
    response = client.post("/api/v1/applications", json=application(), headers=terminal("FM-01"))
    assert response.status_code == 422
    assert fields_at_fault(response) == {"Idempotency-Key"}


def test_mailed_result_needs_an_address(client, terminal):
    body = application(result_delivery="mail")
    body["applicant"]["address"] = None
    response = submit(client, terminal("FM-01"), body)
    assert response.status_code == 422
    assert fields_at_fault(response) == {"applicant.address"}


def test_item_outside_any_agreement_is_refused_with_the_reason(client, terminal, engine):
    before = count(engine, "cases")
    # 户口迁移 is in 五华–富民 but not in 西山–安宁.
    body = application(item_code="000114001000", facts={"household_district": "530112"})
    body["materials"] = [{"code": c} for c in ("M01", "M02", "M03", "M04")]
    response = submit(client, terminal("AN-01"), body)
    problem = response.get_json()
    assert response.status_code == 422 and response.content_type == PROBLEM
    assert problem["type"].endswith("/item-not-covered")
    assert "不在两地通办协议" in problem["detail_zh"]
    assert count(engine, "cases") == before


def test_districts_without_agreement_are_refused(client, terminal):
    response = submit(client, terminal("FM-01"), application(facts={"insured_district": "530112"}))
    assert response.status_code == 422
    assert response.get_json()["type"].endswith("/no-agreement")


def test_missing_fact_for_the_items_basis_names_the_field(client, terminal):
    response = submit(
        client, terminal("FM-01"), application(facts={"household_district": "530102"})
    )
    assert response.status_code == 422
    assert fields_at_fault(response) == {"facts.insured_district"}


def test_missing_materials_are_listed_all_at_once(client, terminal):
    response = submit(client, terminal("FM-01"), application(materials=[{"code": "M01"}]))
    assert response.status_code == 422
    problem = response.get_json()
    assert problem["type"].endswith("/materials-missing")
    assert [(m["code"], m["deferrable"]) for m in problem["materials"]] == [
        ("M03", False),
        ("M04", True),
    ]
    assert "社会保障卡申领登记表" in problem["detail_zh"]
    assert "近期免冠彩色证件照（缺少，可容缺受理" in problem["detail_zh"]
    assert problem["errors"][0]["field"] == "materials"


def test_deferred_material_with_a_commitment_is_accepted_and_shown(client, terminal, engine):
    fm = terminal("FM-01")
    promised = (local_today() + timedelta(days=5)).isoformat()
    body = application(
        materials=[{"code": "M01"}, {"code": "M03"}],
        deferred_materials=[{"code": "M04", "promised_by": promised, "note": "照片次日补交"}],
    )
    response = submit(client, fm, body)
    assert response.status_code == 201, response.get_json()
    case = read_case(client, fm, response.get_json()["case_no"])
    assert case["deferred_materials"] == [
        {
            "code": "M04",
            "name": "近期免冠彩色证件照",
            "promised_by": promised,
            "note": "照片次日补交",
        }
    ]
    assert case["materials"][1] == {
        "code": "M03",
        "name": "社会保障卡申领登记表",
        "originals": 0,
        "copies": 0,
        "note": None,
        "files": [],
    }
    assert case["timeline"][0]["data"]["deferred"] == [{"code": "M04", "promised_by": promised}]


def test_deferral_only_where_the_item_allows_it_and_with_a_sensible_date(client, terminal):
    fm = terminal("FM-01")
    soon = (local_today() + timedelta(days=3)).isoformat()
    not_allowed = application(
        materials=[{"code": "M01"}, {"code": "M04"}],
        deferred_materials=[{"code": "M03", "promised_by": soon}],
    )
    response = submit(client, fm, not_allowed)
    assert response.status_code == 422
    assert response.get_json()["materials"][0]["reason_zh"] == "该材料不允许容缺受理"

    for promised in ("2020-01-01", (local_today() + timedelta(days=90)).isoformat()):
        late = application(
            materials=[{"code": "M01"}, {"code": "M03"}],
            deferred_materials=[{"code": "M04", "promised_by": promised}],
        )
        response = submit(client, fm, late)
        assert response.status_code == 422
        assert fields_at_fault(response) == {"deferred_materials.0.promised_by"}

    twice = application(deferred_materials=[{"code": "M04", "promised_by": soon}])
    response = submit(client, fm, twice)
    assert response.status_code == 422
    assert fields_at_fault(response) == {"deferred_materials"}


def test_same_key_same_body_returns_the_same_case(client, terminal, engine):
    fm, body, key = terminal("FM-01"), application(), uuid.uuid4().hex
    first = submit(client, fm, body, key)
    before = count(engine, "cases")
    again = submit(client, fm, body, key)
    assert first.status_code == again.status_code == 201
    assert again.get_json()["case_no"] == first.get_json()["case_no"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert count(engine, "cases") == before


def test_same_key_other_body_is_a_conflict(client, terminal, engine):
    fm, key = terminal("FM-01"), uuid.uuid4().hex
    assert submit(client, fm, application(), key).status_code == 201
    before = count(engine, "cases")
    other = application(note="另一份申请")
    response = submit(client, fm, other, key)
    assert response.status_code == 409 and response.content_type == PROBLEM
    assert fields_at_fault(response) == {"Idempotency-Key"}
    assert count(engine, "cases") == before


def test_keys_are_per_terminal(client, terminal):
    key = uuid.uuid4().hex
    one = submit(client, terminal("FM-01"), application(), key).get_json()["case_no"]
    two = submit(client, terminal("FM-01"), application(), key).get_json()["case_no"]
    assert one != two


def test_concurrent_retries_with_one_key_make_one_case(app, terminal, db):
    fm, body, key = terminal("FM-01"), application(), uuid.uuid4().hex
    results = []

    def post():
        results.append(submit(app.test_client(), fm, body, key))

    threads = [threading.Thread(target=post) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {r.status_code for r in results} == {201}
    assert len({r.get_json()["case_no"] for r in results}) == 1


def test_failure_after_case_insert_leaves_nothing(client, terminal, engine):
    tables = ("cases", "case_events", "outbox", "idempotency_keys", "case_number_counters")
    fm = terminal("FM-01")
    submit(client, fm, application())  # today's counter row exists before we count
    before = {t: count(engine, t) for t in tables}
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE FUNCTION fail_outbox() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'injected outbox failure'; END $$;"
                "CREATE TRIGGER fail_outbox BEFORE INSERT ON outbox "
                "FOR EACH ROW EXECUTE FUNCTION fail_outbox()"
            )
        )
    try:
        response = submit(client, fm, application())
    finally:
        with engine.begin() as conn:
            conn.execute(text("DROP TRIGGER fail_outbox ON outbox; DROP FUNCTION fail_outbox()"))
    assert response.status_code == 500 and response.content_type == PROBLEM
    assert "未保存" in response.get_json()["detail_zh"]
    assert {t: count(engine, t) for t in tables} == before
    counters = "SELECT sum(last) FROM case_number_counters"
    with engine.connect() as conn:
        total_before = conn.execute(text(counters)).scalar_one()
    assert submit(client, fm, application()).status_code == 201
    with engine.connect() as conn:
        assert conn.execute(text(counters)).scalar_one() == total_before + 1


def test_personal_data_is_encrypted_at_rest(client, terminal, engine):
    body = application()
    id_number, phone = body["applicant"]["id_number"], body["applicant"]["phone"]
    case_no = submit(client, terminal("FM-01"), body).get_json()["case_no"]
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT row_to_json(c)::text FROM cases c WHERE case_no = :n"), {"n": case_no}
        ).scalar_one()
    assert id_number not in row and phone not in row and "华山西路" not in row


def test_timeline_is_append_only(client, terminal, engine, db):
    case_no = submit(client, terminal("FM-01"), application()).get_json()["case_no"]
    event = db.scalar(select(CaseEvent).join(Case).where(Case.case_no == case_no))
    for statement in ("UPDATE case_events SET reason = 'x' WHERE id = :i",
                      "DELETE FROM case_events WHERE id = :i"):  # fmt: skip
        with engine.connect() as conn:
            try:
                conn.execute(text(statement), {"i": event.id})
                raise AssertionError(f"allowed: {statement}")
            except Exception as exc:
                assert "append-only" in str(exc)
