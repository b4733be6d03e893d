"""What the pages show: personal data masked, scans only to those who may read them, the
queue's and the supervisor's lists, the receipt's wording, the timeline's labels, and which
steps are offered."""

import dataclasses
import re

import pytest
from sqlalchemy import text

from service.cases.events import EventType
from service.cases.personal import mask_address, mask_id_number, mask_phone
from service.web.casepage.labels import EVENT_ZH, event_zh
from tests.helpers import application, deliver_inline, event_types, scalar, submit
from tests.web.pages import (
    PNG,
    case_form,
    case_with_scan,
    login_window,
    make_terminal_key,
    post_supplement,
    request_supplement,
    staff_client,
    window_client,
)


def _set_due_state(engine, case_no: str, state: str) -> None:
    """Move the case's open clock to `state`: its due date, and the state the supervision job
    would store for it (which the queue filters and counts by)."""
    shift = {"overdue": -30, "due_soon": 1}[state]
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE deadlines SET due_state = :s, due_on = CURRENT_DATE + :d"
                " WHERE state = 'open' AND case_id = (SELECT id FROM cases WHERE case_no = :n)"
            ),
            {"s": state, "d": shift, "n": case_no},
        )


def _received_case(client, terminal, migrated, settings) -> str:
    response = submit(client, terminal("FM-01"), application())
    assert response.status_code == 201
    case_no = response.get_json()["case_no"]
    deliver_inline(migrated, settings, case_no)
    return case_no


def test_pages_mask_the_id_number_phone_and_address(app, migrated, client, terminal):
    body = application()
    applicant = body["applicant"]
    case_no = submit(client, terminal("FM-01"), body).get_json()["case_no"]
    window = window_client(app, migrated)
    office, _ = staff_client(app, migrated)
    pages = {
        "window case page": window.get(f"/cases/{case_no}"),
        "receipt": window.get(f"/window/cases/{case_no}/receipt"),
        "office case page": office.get(f"/cases/{case_no}"),
        "queue": office.get("/office/"),
    }
    for name, response in pages.items():
        page = response.get_data(as_text=True)
        assert response.status_code == 200, name
        assert case_no in page, name
        for field in ("id_number", "phone", "address"):
            assert applicant[field] not in page, (name, field)
        assert mask_id_number(applicant["id_number"]) in page, name
    for name in ("window case page", "receipt", "office case page"):
        assert mask_phone(applicant["phone"]) in pages[name].get_data(as_text=True), name
    for name in ("window case page", "office case page"):
        assert mask_address(applicant["address"]) in pages[name].get_data(as_text=True), name


def test_another_centers_window_sees_no_scans(app, migrated, client, terminal, engine):
    case_no, scan_id = case_with_scan(client, terminal("FM-01"))
    # The center that took the application in sees and opens its scan.
    own = window_client(app, migrated, "FM-01")
    assert "身份证正面.png" in own.get(f"/cases/{case_no}").get_data(as_text=True)
    assert own.get(f"/cases/{case_no}/scans/{scan_id}").status_code == 200
    # Another center of the same district sees the case, but neither the scan nor its name.
    street = window_client(app, migrated, "FM-YD")
    page = street.get(f"/cases/{case_no}?scan={scan_id}")
    assert page.status_code == 200
    assert "身份证正面.png" not in page.get_data(as_text=True)
    assert f"/scans/{scan_id}" not in page.get_data(as_text=True)
    response = street.get(f"/cases/{case_no}/scans/{scan_id}")
    assert response.status_code == 404 and response.data != PNG
    assert event_types(engine, case_no).count("file_downloaded") == 1  # the own window's only


def _due_count(page: str, state: str) -> int:
    found = re.search(rf'class="chip due-{state}">.*?<b>(\d+)</b>', page, re.S)
    assert found, f"no {state} count on the queue"
    return int(found.group(1))


def test_queue_filters_and_counts_by_due_state(app, migrated, client, terminal, settings, engine):
    overdue = _received_case(client, terminal, migrated, settings)
    on_time = _received_case(client, terminal, migrated, settings)
    office, _ = staff_client(app, migrated)
    before = office.get("/office/").get_data(as_text=True)
    _set_due_state(engine, overdue, "overdue")
    page = office.get("/office/").get_data(as_text=True)
    assert _due_count(page, "overdue") == _due_count(before, "overdue") + 1
    assert _due_count(page, "on_time") == _due_count(before, "on_time") - 1
    filtered = office.get("/office/?due=overdue").get_data(as_text=True)
    assert overdue in filtered and on_time not in filtered
    assert 'name="due" value="overdue" checked' in filtered
    row = re.search(
        rf'<tr class="(row-[a-z_]+)">\s*<td><a class="mono" href="/cases/{overdue}"', filtered
    )
    assert row and row.group(1) == "row-overdue"
    filtered = office.get("/office/?due=on_time").get_data(as_text=True)
    assert on_time in filtered and overdue not in filtered


def _section(page: str, title: str) -> str:
    start = page.index(f"<h2>{title}")
    return page[start : page.index("</section>", start)]


def test_supervisor_page_lists_overdue_and_due_soon_cases_and_connectors(
    app, migrated, client, terminal, settings, engine
):
    from catalog.repository import agreements_of
    from service.districts.models import DistrictConnector

    overdue = _received_case(client, terminal, migrated, settings)
    soon = _received_case(client, terminal, migrated, settings)
    _set_due_state(engine, overdue, "overdue")
    _set_due_state(engine, soon, "due_soon")
    # A partner district's connector paused for the page to say so; as it was, afterwards.
    with migrated.sessionmaker() as session:
        partners = {d for a in agreements_of(session, "530102") for d in a.districts}
        spare = sorted(partners - {"530102"})[0]
        row = session.get(DistrictConnector, spare)
        added = row is None
        if added:
            row = DistrictConnector(district_code=spare, kind="internal")
            session.add(row)
        was = row.paused, row.paused_reason
        row.paused, row.paused_reason = True, "系统升级测试"
        session.commit()
    try:
        boss, _ = staff_client(app, migrated, "supervisor")
        page = boss.get("/supervisor/").get_data(as_text=True)
    finally:
        with migrated.sessionmaker() as session:
            row = session.get(DistrictConnector, spare)
            if added:
                session.delete(row)
            else:
                row.paused, row.paused_reason = was
            session.commit()
    late, coming = _section(page, "已超期办件"), _section(page, "即将到期办件")
    assert overdue in late and soon not in late
    assert soon in coming and overdue not in coming
    connectors = _section(page, "办理地系统连接")
    assert "已暂停（系统升级测试）" in connectors
    assert "正常" in connectors


def test_every_event_type_has_a_chinese_label():
    # append_event refuses a type outside the enum (tests/unit/test_events.py), so the enum is
    # every type the service can write.
    for event in EventType:
        assert re.search(r"[\u4e00-\u9fff]", event_zh(event)), event
        assert EVENT_ZH[event.value] == event_zh(event)


def test_receipt_names_the_intake_clerk_and_the_configured_limit(
    app, migrated, fumin_case, engine, monkeypatch
):
    policy = app.extensions["tongban.policy"]
    clocks = dataclasses.replace(policy.clocks, accept_limit_days=7)
    monkeypatch.setitem(
        app.extensions, "tongban.policy", dataclasses.replace(policy, clocks=clocks)
    )
    clerk = scalar(
        engine,
        "SELECT e.actor_name FROM case_events e JOIN cases c ON c.id = e.case_id"
        " WHERE c.case_no = :n AND e.type = 'submitted'",
        n=fumin_case,
    )
    # Printed again later at another window PC of the same center.
    page = (
        window_client(app, migrated)
        .get(f"/window/cases/{fumin_case}/receipt")
        .get_data(as_text=True)
    )
    assert "办理地收到后7个工作日内决定是否受理" in page
    assert f"窗口经办：{clerk}　" in page
    assert "窗口经办：网页终端" not in page


@pytest.mark.parametrize("role", ["clerk", "supervisor"])
def test_claim_is_offered_only_when_the_service_would_take_it(
    app, migrated, client, terminal, settings, role
):
    case_no = _received_case(client, terminal, migrated, settings)
    holder, _ = staff_client(app, migrated)
    assert "认领办件" in holder.get(f"/cases/{case_no}").get_data(as_text=True)
    response = holder.post(f"/cases/{case_no}/claim", data=case_form(holder, case_no))
    assert response.status_code == 303
    assert "认领办件" not in holder.get(f"/cases/{case_no}").get_data(as_text=True)  # own case
    other, _ = staff_client(app, migrated, role)
    page = other.get(f"/cases/{case_no}").get_data(as_text=True)
    response = other.post(f"/cases/{case_no}/claim", data=case_form(other, case_no))
    if role == "clerk":
        # Another clerk holds it: assign() refuses, so the page does not offer it.
        assert "认领办件" not in page
        assert response.status_code == 409 and "已被其他人员认领" in response.get_data(as_text=True)
    else:
        assert "认领办件" in page  # a supervisor may take it over
        assert response.status_code == 303


def test_a_stale_supplement_form_attaches_nothing(app, migrated, fumin_case, settings, engine):
    request_supplement(app, migrated, settings, fumin_case)
    window = window_client(app, migrated)
    read = int(case_form(window, fumin_case)["version"])
    response = post_supplement(window, fumin_case, version=str(read - 1))
    assert response.status_code == 409
    assert "办件已被他人更新" in response.get_data(as_text=True)
    assert "file_attached" not in event_types(engine, fumin_case)
    files = scalar(
        engine,
        "SELECT count(*) FROM case_files f JOIN cases c ON c.id = f.case_id WHERE c.case_no = :n",
        n=fumin_case,
    )
    assert files == 0
    # The current form goes through, scans and all.
    response = post_supplement(window, fumin_case)
    assert response.status_code == 303
    assert "file_attached" in event_types(engine, fumin_case)


def test_the_window_sees_the_full_address_only_to_mail_the_result(app, migrated, settings, client):
    key = make_terminal_key(migrated, "FM-01")
    api = {"Authorization": f"Bearer {key}"}
    case_no = submit(client, api, application(result_delivery="mail")).get_json()["case_no"]
    deliver_inline(migrated, settings, case_no)
    office, _ = staff_client(app, migrated)
    for step, extra in (
        ("accept", {}),
        ("complete", {"outcome": "approved", "document_no": "五社保〔2026〕8号"}),
    ):
        form = {**case_form(office, case_no), **extra}
        assert office.post(f"/cases/{case_no}/steps/{step}", data=form).status_code == 303
    window = app.test_client()
    login_window(window, key)
    page = window.get(f"/cases/{case_no}").get_data(as_text=True)
    assert "13912345678" not in page and "显示完整邮寄信息" in page
    shown = window.get(f"/cases/{case_no}?contact=mail").get_data(as_text=True)
    assert "13912345678" in shown and "云南省昆明市五华区华山西路1号" in shown
    assert "查看完整邮寄信息" in shown  # the look is on the timeline
    other = window_client(app, migrated, "FM-YD")  # another center of the district
    assert "13912345678" not in other.get(f"/cases/{case_no}?contact=mail").get_data(as_text=True)


def test_the_receipt_prints_the_query_code_at_the_accepting_center_only(
    app, migrated, client, terminal
):
    response = submit(client, terminal("FM-01"), application())
    case_no, code = response.get_json()["case_no"], response.get_json()["query_code"]
    page = window_client(app, migrated).get(f"/window/cases/{case_no}/receipt")
    html = page.get_data(as_text=True)
    assert f'查询码：<strong class="mono" data-query-code>{code}</strong>' in html
    assert "凭办件编号和查询码可随时查询" in html and "后4位" not in html
    assert page.headers["Cache-Control"] == "no-store"
    # The responsible district's window, and another center of the accepting district, may
    # see the case (and print its receipt) but not the citizen's code.
    for center in ("WH-01", "FM-YD-BC"):
        other = window_client(app, migrated, center).get(f"/window/cases/{case_no}/receipt")
        shown = other.get_data(as_text=True)
        assert other.status_code == 200 and code not in shown
        assert "请到收件窗口（富民县政务服务中心）补打回执查看" in shown
    # The case pages show it to nobody.
    office, _ = staff_client(app, migrated)
    for who in (window_client(app, migrated), office):
        assert code not in who.get(f"/cases/{case_no}").get_data(as_text=True)
