"""The whole lifecycle both ways on real PostgreSQL, each test in a transaction rolled back at
the end; the deliveries a worker would make are applied in this process (`deliver`). The worker
itself is proven by tests/integration (test_faults, test_batches, test_districts)."""

from sqlalchemy import text

from tests.helpers import (
    act,
    application,
    event_types,
    read_case,
    status_of,
    submit,
)


def news(client, headers, case_no):
    body = client.get("/api/v1/notifications", headers=headers).get_json()
    return [n["kind"] for n in body["notifications"] if n["case_no"] == case_no]


def test_fumin_window_to_wuhua_back_office_and_back(deliver, client, terminal, staff, engine):
    window, clerk, supervisor = (
        terminal("FM-01"),
        staff("clerk", "530102"),
        staff("supervisor", "530102"),
    )
    case_no = submit(client, window, application()).get_json()["case_no"]
    deliver(case_no)
    assert event_types(engine, case_no) == ["submitted", "forwarded", "received"]
    assert "received" in news(client, window, case_no)

    queue = client.get("/api/v1/queue?status=received", headers=clerk).get_json()["cases"]
    entry = next(c for c in queue if c["case_no"] == case_no)
    assert entry["applicant"]["id_number"].count("*") == 10

    assert act(client, clerk, case_no, "claim").status_code == 200
    asked = act(
        client,
        clerk,
        case_no,
        "request-supplement",
        materials=[
            {"code": "M03", "problem": "申领登记表未签字"},
            {"code": "M04", "problem": "照片不符合规格"},
        ],
    )
    assert asked.status_code == 200, asked.get_json()
    assert "supplement_requested" in news(client, window, case_no)
    seen_at_window = read_case(client, window, case_no)
    assert seen_at_window["status"] == "supplement_requested"
    assert [m["code"] for m in seen_at_window["supplement_requested"]] == ["M03", "M04"]
    assert "supplement" in seen_at_window["actions"]

    partial = act(client, window, case_no, "supplement", materials=[{"code": "M03"}])
    assert partial.status_code == 422 and "M04" in partial.get_json()["detail"]
    handed_in = act(
        client, window, case_no, "supplement", materials=[{"code": "M03"}, {"code": "M04"}]
    )
    assert handed_in.status_code == 200
    deliver(case_no)

    assert act(client, supervisor, case_no, "accept").status_code == 200
    done = act(
        client, clerk, case_no, "complete", outcome="approved", document_no="五社保〔2026〕118号"
    )
    assert done.status_code == 200
    assert "completed" in news(client, window, case_no)
    assert read_case(client, window, case_no)["result"]["document_no"] == "五社保〔2026〕118号"

    mailed = act(
        client,
        window,
        case_no,
        "deliver-result",
        method="mail",
        carrier="中国邮政",
        tracking_no="1180012345678",
    )
    assert mailed.status_code == 200
    assert act(client, window, case_no, "close").status_code == 200
    case = read_case(client, clerk, case_no)
    assert case["status"] == "closed" and case["actions"] == []
    assert [e["type"] for e in case["timeline"]] == [
        "submitted", "forwarded", "received", "claimed", "request_supplement", "supplement",
        "received", "accept", "complete", "deliver_result", "close",
    ]  # fmt: skip
    districts = {e["type"]: e["district"] for e in case["timeline"]}
    assert districts["accept"] == "530102" and districts["supplement"] == "530124"
    assert all(e["actor"]["name"] for e in case["timeline"])


def test_wuhua_window_to_fumin_back_office_with_a_rejection(
    deliver, client, terminal, staff, engine
):
    window, clerk = terminal("WH-HS"), staff("clerk", "530124")
    case_no = submit(client, window, application(facts={"insured_district": "530124"})).get_json()[
        "case_no"
    ]
    assert case_no.startswith("530102-")
    deliver(case_no)
    missing_reason = act(client, clerk, case_no, "reject")
    assert missing_reason.status_code == 422
    assert {e["field"] for e in missing_reason.get_json()["errors"]} == {"reason"}
    assert act(client, clerk, case_no, "reject", reason="申请人不在本县参保").status_code == 200
    assert "rejected" in news(client, window, case_no)
    rejected = read_case(client, window, case_no)
    assert rejected["timeline"][-1]["reason"] == "申请人不在本县参保"
    assert act(client, window, case_no, "close").status_code == 200
    assert status_of(engine, case_no) == "closed"


def outbox_tasks(engine, case_no) -> list[str]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT o.task FROM outbox o JOIN cases c ON c.id = o.case_id "
                    "WHERE c.case_no = :n ORDER BY o.created_at"
                ),
                {"n": case_no},
            ).scalars()
        )


def test_news_inside_tongban_is_written_with_the_step_itself(
    deliver, client, terminal, staff, engine
):
    window, clerk = terminal("FM-01"), staff("clerk", "530102")
    case_no = submit(client, window, application()).get_json()["case_no"]
    deliver(case_no)
    # No waiting: the delivery's own transaction wrote both sides' news.
    assert news(client, window, case_no) == ["received"]
    assert news(client, clerk, case_no) == ["new_case"]
    assert act(client, window, case_no, "withdraw", reason="申请人不再需要").status_code == 200
    assert news(client, clerk, case_no) == ["withdrawn", "new_case"]
    # One task for the whole journey: the delivery; no news went through the outbox.
    assert outbox_tasks(engine, case_no) == ["tongban.deliver_case"]


def test_withdrawal_by_the_applicant(deliver, client, terminal, staff, engine):
    window, clerk = terminal("FM-YD"), staff("clerk", "530102")
    case_no = submit(client, window, application()).get_json()["case_no"]
    deliver(case_no)
    assert act(client, window, case_no, "withdraw", reason="申请人不再需要").status_code == 200
    assert "withdrawn" in news(client, clerk, case_no)
    late = act(client, clerk, case_no, "accept")
    assert late.status_code == 409
    assert "已撤回" in late.get_json()["detail_zh"]


def test_the_full_address_only_for_the_window_mailing_the_result(
    deliver, client, terminal, staff, engine
):
    window, clerk = terminal("FM-01"), staff("clerk", "530102")
    case_no = submit(client, window, application(result_delivery="mail")).get_json()["case_no"]
    path = f"/api/v1/cases/{case_no}/mailing-contact"
    deliver(case_no)
    assert read_case(client, window, case_no)["applicant"]["phone"] == "139****5678"
    early = client.get(path, headers=window)
    assert early.status_code == 409  # nothing to mail yet
    assert act(client, clerk, case_no, "accept").status_code == 200
    done = {"outcome": "approved", "document_no": "五社保〔2026〕9号"}
    assert act(client, clerk, case_no, "complete", **done).status_code == 200
    contact = client.get(path, headers=window)
    assert contact.status_code == 200, contact.get_json()
    assert contact.get_json()["phone"] == "13912345678"
    assert contact.get_json()["address"] == "云南省昆明市五华区华山西路1号"
    assert "contact_viewed" in event_types(engine, case_no)
    assert client.get(path, headers=terminal("FM-YD")).status_code == 404  # another center
    assert client.get(path, headers=clerk).status_code == 403  # staff mail nothing
    assert read_case(client, window, case_no)["applicant"]["phone"] == "139****5678"


def test_same_district_goes_through_the_same_path(deliver, client, terminal, staff, engine):
    window, clerk = terminal("WH-01"), staff("clerk", "530102")
    case_no = submit(client, window, application()).get_json()["case_no"]
    deliver(case_no)
    assert event_types(engine, case_no) == ["submitted", "forwarded", "received"]
    assert act(client, clerk, case_no, "accept").status_code == 200
    assert (
        act(client, clerk, case_no, "complete", outcome="denied", document_no="D-1").status_code
        == 200
    )
    assert act(client, window, case_no, "deliver-result", method="window").status_code == 200


def test_refusals_uninvolved_districts_and_stale_versions(deliver, client, terminal, staff, engine):
    window, clerk = terminal("FM-01"), staff("clerk", "530102")
    case_no = submit(client, window, application()).get_json()["case_no"]
    deliver(case_no)
    for outsider in (staff("clerk", "530112"), terminal("AN-01")):
        assert act(client, outsider, case_no, "accept", version=1).status_code == 404
        assert client.get(f"/api/v1/applications/{case_no}", headers=outsider).status_code == 404

    wrong_side = act(client, window, case_no, "accept")
    assert wrong_side.status_code == 409 and "办理地" in wrong_side.get_json()["detail_zh"]
    too_early = act(client, clerk, case_no, "complete", outcome="approved", document_no="X")
    assert too_early.status_code == 409
    assert "accepted" in too_early.get_json()["detail"]

    version = read_case(client, clerk, case_no)["version"]
    assert act(client, clerk, case_no, "claim", version=version).status_code == 200
    stale = act(client, clerk, case_no, "accept", version=version)
    assert stale.status_code == 409 and stale.get_json()["type"].endswith("/version-conflict")
    auditor = staff("auditor", None)
    assert act(client, auditor, case_no, "accept").status_code == 403  # auditors only read


def test_queue_filters_and_pagination(deliver, client, terminal, staff, engine):
    clerk = staff("clerk", "530102")
    numbers = [
        submit(client, terminal("FM-YD-BC"), application()).get_json()["case_no"] for _ in range(3)
    ]
    for n in numbers:
        deliver(n)
    seen, cursor = [], None
    while True:
        params = {"center": "FM-YD-BC", "limit": 2} | ({"cursor": cursor} if cursor else {})
        page = client.get("/api/v1/queue", headers=clerk, query_string=params).get_json()
        seen += [c["case_no"] for c in page["cases"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert set(numbers) <= set(seen) and len(seen) == len(set(seen))
    by_item = client.get("/api/v1/queue", headers=clerk, query_string={"item": "000113002000"})
    assert all(c["item"]["code"] == "000113002000" for c in by_item.get_json()["cases"])
    assert client.get("/api/v1/queue", headers=staff("auditor", None)).status_code == 422


def test_forged_queue_and_notification_cursors_are_problems(client, staff, terminal):
    from service.pagination import encode_cursor

    clerk = staff("clerk", "530102")
    window = terminal("FM-01")
    # A window has no queue: refused before its cursor is read.
    for path, key, window_status in (
        ("/api/v1/notifications", [True], 400),
        ("/api/v1/notifications", [10**30], 400),
        ("/api/v1/queue", ["2026-01-01T00:00:00", 1], 403),  # no time zone
        ("/api/v1/queue", ["2026-01-01T00:00:00+08:00", 10**30], 403),
    ):
        for who, status in ((clerk, 400), (window, window_status)):
            response = client.get(path, headers=who, query_string={"cursor": encode_cursor(key)})
            assert response.status_code == status, (path, key, response.status_code)
            assert response.content_type == "application/problem+json"
