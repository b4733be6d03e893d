"""The pages with Flask's test client: login, CSRF, scoping as the API's, Chinese form errors,
and no 500 on odd input."""

import io
import re

import pytest
from sqlalchemy import text

from service.accounts.credentials import credential_digest
from tests.helpers import (
    event_types,
    make_id_number,
    status_of,
    with_wrong_check_digit,
)
from tests.web.pages import (
    PNG,
    case_form,
    csrf_of,
    intake_form,
    login_staff,
    login_window,
    make_staff,
    make_terminal_key,
    otp_for,
    page_token,
    post_supplement,
)


def _client(app):
    return app.test_client()


def test_pages_need_login_and_keep_the_target(app):
    c = _client(app)
    response = c.get("/office/?due=overdue")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    assert c.get("/").headers["Location"] == "/login"


def test_staff_login_logout_revokes_the_token(app, migrated, engine):
    c = _client(app)
    user = make_staff(migrated, "clerk", "530102")
    response = login_staff(c, user)
    assert response.status_code == 302 and response.headers["Location"] == "/office/"
    assert c.get("/office/").status_code == 200
    # The cookie names the token by its hash only: it is no bearer credential for the API.
    cookie = c.get_cookie("tongban_session").value
    assert "tbs_" not in cookie
    token = csrf_of(c.get("/office/").get_data(as_text=True))
    assert c.post("/logout", data={"csrf_token": token}).status_code == 302
    assert c.get("/office/").status_code == 302
    with engine.connect() as conn:
        revoked = conn.execute(
            text(
                "SELECT t.revoked_at IS NOT NULL FROM staff_tokens t JOIN staff_users u"
                " ON u.id = t.user_id WHERE u.username = :u"
            ),
            {"u": user},
        ).scalar_one()
    assert revoked


def test_wrong_password_and_missing_fields_in_chinese(app, migrated):
    c = _client(app)
    user = make_staff(migrated, "clerk", "530102")
    response = login_staff(c, user, password="wrong")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)
    token = page_token(c, "/login")
    response = c.post("/login", data={"username": user, "csrf_token": token})
    assert response.status_code == 422
    assert "密码：此项必填。" in response.get_data(as_text=True)


def test_login_redirects_only_within_the_site(app, migrated):
    c = _client(app)
    user = make_staff(migrated, "clerk", "530102")
    token = page_token(c, "/login")
    response = c.post(
        "/login?next=//evil.example/x",
        data={"username": user, "password": "correct-horse-电池-staple", "csrf_token": token},
    )
    assert response.headers["Location"] == "/office/"


def test_window_logs_in_with_its_terminal_key_only(app, migrated):
    c = _client(app)
    response = login_window(c, "tbk_nonsense")
    assert response.status_code == 401 and "终端密钥无效" in response.get_data(as_text=True)
    assert login_window(c, make_terminal_key(migrated, "FM-01")).headers["Location"] == "/window/"
    # A window is no back office.
    assert c.get("/office/").status_code == 403
    assert "无权访问" in c.get("/office/").get_data(as_text=True)


def test_window_logout_ends_the_session_on_the_server(app, migrated, engine):
    c = _client(app)
    key = make_terminal_key(migrated, "FM-01")
    login_window(c, key)
    copied = _client(app)
    copied.set_cookie("tongban_session", c.get_cookie("tongban_session").value)
    assert copied.get("/window/").status_code == 200
    token = csrf_of(c.get("/window/").get_data(as_text=True))
    assert c.post("/logout", data={"csrf_token": token}).status_code == 302
    # The terminal's key is not revoked (the PC's API use shares it), but that login is over.
    response = copied.get("/window/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    with engine.connect() as conn:
        states = conn.execute(
            text(
                "SELECT s.revoked_at IS NOT NULL FROM window_sessions s"
                " JOIN terminals t ON t.id = s.terminal_id WHERE t.key_hash = :h"
            ),
            {"h": credential_digest(key)[1]},
        ).all()
    assert [tuple(r) for r in states] == [(True,)]
    # Logging in again starts a new one.
    login_window(c, key)
    assert c.get("/window/").status_code == 200


def test_posts_without_the_session_token_are_refused(app, migrated, fumin_case, engine):
    c = _client(app)
    login_staff(c, make_staff(migrated, "clerk", "530102"))
    # Another site's form: no token, or a token of another session.
    for data in ({"version": "1"}, {"version": "1", "csrf_token": "forged"}):
        response = c.post(f"/cases/{fumin_case}/claim", data=data)
        assert response.status_code == 400
        assert "页面已过期" in response.get_data(as_text=True)
    fresh = _client(app)
    response = fresh.post("/login", data={"username": "x", "password": "y"})
    assert response.status_code == 400
    with engine.connect() as conn:
        assignee = conn.execute(
            text("SELECT assignee_id FROM cases WHERE case_no = :n"), {"n": fumin_case}
        ).scalar_one()
    assert assignee is None


def test_other_districts_case_is_404_on_every_page(app, migrated, fumin_case):
    xishan = _client(app)
    login_staff(xishan, make_staff(migrated, "clerk", "530112"))
    token = page_token(xishan, "/office/")
    for response in (
        xishan.get(f"/cases/{fumin_case}"),
        xishan.get(f"/cases/{fumin_case}/scans/1"),
        xishan.post(f"/cases/{fumin_case}/claim", data={"version": "1", "csrf_token": token}),
        xishan.post(
            f"/cases/{fumin_case}/steps/accept", data={"version": "1", "csrf_token": token}
        ),
        xishan.post(
            f"/cases/{fumin_case}/rating", data={"level": "satisfied", "csrf_token": token}
        ),
    ):
        assert response.status_code == 404
        assert "不属于本辖区" in response.get_data(as_text=True)
    assert fumin_case not in xishan.get("/office/").get_data(as_text=True)
    window = _client(app)
    login_window(window, make_terminal_key(migrated, "AN-01"))
    assert window.get(f"/cases/{fumin_case}").status_code == 404
    assert window.get(f"/window/cases/{fumin_case}/receipt").status_code == 404
    # Both sides of the case see it.
    wuhua = _client(app)
    login_staff(wuhua, make_staff(migrated, "clerk", "530102"))
    assert wuhua.get(f"/cases/{fumin_case}").status_code == 200
    fumin = _client(app)
    login_window(fumin, make_terminal_key(migrated, "FM-01"))
    page = fumin.get(f"/cases/{fumin_case}").get_data(as_text=True)
    # The name masked, and the full one a click away for a party, that click on the timeline.
    assert fumin_case in page and "张𠈌" not in page and "显示完整姓名" in page
    revealed = fumin.get(f"/cases/{fumin_case}?name=1").get_data(as_text=True)
    assert "张𠈌" in revealed and "查看申请人完整姓名" in revealed


def test_intake_errors_are_chinese_and_keep_the_scans(app, migrated):
    c = _client(app)
    login_window(c, make_terminal_key(migrated, "FM-01"))
    response = intake_form(
        c,
        id_number=with_wrong_check_digit(make_id_number()),
        phone="12",
        got_M03="",
        scan_M01=(io.BytesIO(PNG), "身份证.png"),
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "身份证号码校验位不正确" in page
    assert "请填写11位手机号码或带区号的固定电话" in page
    # The scan was staged once and rides along in the re-rendered form.
    staged = re.findall(r'name="staged_M01" value="(\d+)"', page)
    assert len(staged) == 1 and "已上传：身份证.png" in page
    # Fix the fields; a required material still missing is named with the intake's reason.
    response = intake_form(c, got_M03="", staged_M01=staged[0])
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "缺少，必须提交" in page
    response = intake_form(c, staged_M01=staged[0])
    assert response.status_code == 303
    receipt = c.get(response.headers["Location"]).get_data(as_text=True)
    assert "跨区通办收件回执" in receipt and "扫描件1份" in receipt


def test_a_scan_that_is_no_image_is_refused_in_chinese(app, migrated):
    c = _client(app)
    login_window(c, make_terminal_key(migrated, "FM-01"))
    response = intake_form(c, scan_M01=(io.BytesIO(b"MZ not a scan"), "virus.exe"))
    assert response.status_code == 422
    assert "virus.exe：" in response.get_data(as_text=True)


def test_step_errors_are_chinese(app, migrated, fumin_case, settings):
    from tests.helpers import deliver_inline

    deliver_inline(migrated, settings, fumin_case)
    c = _client(app)
    login_staff(c, make_staff(migrated, "clerk", "530102"))
    hidden = case_form(c, fumin_case)
    version, token = hidden["version"], hidden["csrf_token"]
    # A supplement request must name at least one material.
    response = c.post(
        f"/cases/{fumin_case}/steps/request_supplement",
        data={"version": version, "csrf_token": token},
    )
    assert response.status_code == 422
    assert "材料：长度应为1至50个字符。" in response.get_data(as_text=True)
    # Completing before accepting is refused with the state machine's reason.
    response = c.post(
        f"/cases/{fumin_case}/steps/complete",
        data={"version": version, "csrf_token": token, "outcome": "approved", "document_no": "1"},
    )
    assert response.status_code == 409
    assert "不能进行“办结”" in response.get_data(as_text=True)
    # A stale version is a conflict, never a lost update.
    response = c.post(
        f"/cases/{fumin_case}/steps/accept", data={"version": "999", "csrf_token": token}
    )
    assert response.status_code == 409 and "办件已被他人更新" in response.get_data(as_text=True)
    assert status_of(migrated.engine, fumin_case) == "received"
    response = c.post(
        f"/cases/{fumin_case}/steps/accept", data={"version": version, "csrf_token": token}
    )
    assert response.status_code == 303
    assert status_of(migrated.engine, fumin_case) == "accepted"
    response = c.post(
        f"/cases/{fumin_case}/steps/complete",
        data={"version": str(int(version) + 1), "csrf_token": token, "outcome": "approved"},
    )
    assert response.status_code == 422
    assert "文书编号：此项必填。" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "path",
    [
        "/cases/%E4%BD%A0" + "x" * 300,
        "/cases/530124-20261201-00001/scans/99999999999999999999",
        "/office/?status=bogus&due=late&cursor=%%%&submitted_from=yesterday",
        "/office/?cursor=eyJ4IjoxfQ",
        "/reports/?month=2999-01",
        "/reports/?month=13&district=999999",
        "/reports/download?month=2026-11&format=exe",
        "/window/items/" + "9" * 40,
        "/supervisor/?x=%00",
    ],
)
def test_odd_input_is_never_a_500(app, migrated, path):
    staff = _client(app)
    login_staff(staff, make_staff(migrated, "supervisor", "530102"))
    window = _client(app)
    login_window(window, make_terminal_key(migrated, "FM-01"))
    for c in (staff, window):
        assert c.get(path).status_code < 500


def test_pages_load_nothing_from_elsewhere(app, migrated):
    c = _client(app)
    login_staff(c, make_staff(migrated, "supervisor", "530102"))
    for path in ("/supervisor/", "/office/", "/reports/"):
        response = c.get(path)
        page = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
        assert not re.search(r'(src|href)="(https?:)?//', page), path
    assert c.get("/assets/app.css").status_code == 200


def test_supplement_round_and_mailed_result_through_the_pages(app, migrated, fumin_case, settings):
    from tests.helpers import deliver_inline

    deliver_inline(migrated, settings, fumin_case)
    office = _client(app)
    login_staff(office, make_staff(migrated, "clerk", "530102"))

    response = office.post(
        f"/cases/{fumin_case}/steps/request_supplement",
        data={
            **case_form(office, fumin_case),
            "need_M03": "1",
            "problem_M03": "申领登记表未签字",
            "problem_M04": "not asked for: unticked",
        },
    )
    assert response.status_code == 303
    assert status_of(migrated.engine, fumin_case) == "supplement_requested"

    window = _client(app)
    login_window(window, make_terminal_key(migrated, "FM-01"))
    page = window.get(f"/cases/{fumin_case}").get_data(as_text=True)
    assert "社会保障卡申领登记表（申领登记表未签字）" in page
    # It waits on the home page of this center's windows, not of another center's.
    assert fumin_case in window.get("/window/").get_data(as_text=True)
    street = _client(app)
    login_window(street, make_terminal_key(migrated, "FM-YD"))
    assert fumin_case not in street.get("/window/").get_data(as_text=True)
    response = post_supplement(window, fumin_case)
    assert response.status_code == 303
    assert status_of(migrated.engine, fumin_case) == "supplemented"
    # The supplement's scan is on the case, for the responsible district to view in the page.
    deliver_inline(migrated, settings, fumin_case)
    page = office.get(f"/cases/{fumin_case}").get_data(as_text=True)
    scan_id = re.search(r"scan=(\d+)#scan\">登记表.png", page).group(1)
    viewer = office.get(f"/cases/{fumin_case}?scan={scan_id}").get_data(as_text=True)
    assert f"/cases/{fumin_case}/scans/{scan_id}" in viewer
    scan = office.get(f"/cases/{fumin_case}/scans/{scan_id}")
    assert scan.status_code == 200 and scan.data == PNG and scan.mimetype == "image/png"

    for step, extra in (("accept", {}), ("complete", {"outcome": "denied", "document_no": "N1"})):
        data = {**case_form(office, fumin_case), **extra}
        assert office.post(f"/cases/{fumin_case}/steps/{step}", data=data).status_code == 303
    # Mailing the result needs a tracking number; the message says so in Chinese.
    data = {**case_form(window, fumin_case), "method": "mail", "carrier": "中国邮政"}
    response = window.post(f"/cases/{fumin_case}/steps/deliver_result", data=data)
    assert response.status_code == 422
    assert "快递单号：邮寄送达时必填。" in response.get_data(as_text=True)
    data["tracking_no"] = "1180012345678"
    response = window.post(f"/cases/{fumin_case}/steps/deliver_result", data=data)
    assert response.status_code == 303
    assert status_of(migrated.engine, fumin_case) == "result_delivered"
    page = window.get(f"/cases/{fumin_case}").get_data(as_text=True)
    assert "不予许可" in page and "录入好差评" in page


def test_supervisor_assigns_and_the_clerk_pauses_the_clock(
    app, migrated, fumin_case, settings, engine
):
    from tests.helpers import deliver_inline

    deliver_inline(migrated, settings, fumin_case)
    clerk = make_staff(migrated, "clerk", "530102")
    boss = _client(app)
    login_staff(boss, make_staff(migrated, "supervisor", "530102"))
    page = boss.get(f"/cases/{fumin_case}").get_data(as_text=True)
    assert f'<option value="{clerk}">' in page  # only the district's working staff are offered
    data = {**case_form(boss, fumin_case), "username": "nobody-here"}
    response = boss.post(f"/cases/{fumin_case}/assign", data=data)
    assert response.status_code == 422 and "办理地没有该受理人员" in response.get_data(as_text=True)
    data["username"] = clerk
    assert boss.post(f"/cases/{fumin_case}/assign", data=data).status_code == 303

    c = _client(app)
    login_staff(c, clerk)

    def post(path, **fields):
        return c.post(f"/cases/{fumin_case}/{path}", data={**case_form(c, fumin_case), **fields})

    assert post("steps/accept").status_code == 303
    response = post("pause", procedure="expert_review")
    assert response.status_code == 422 and "原因：此项必填。" in response.get_data(as_text=True)
    assert post("pause", procedure="expert_review", reason="组织专家评审").status_code == 303
    assert "特别程序中（暂停计时）" in c.get(f"/cases/{fumin_case}").get_data(as_text=True)
    assert post("resume").status_code == 303
    types = event_types(engine, fumin_case)
    assert [t for t in types if t in ("assigned", "clock_paused", "clock_resumed")] == [
        "assigned",
        "clock_paused",
        "clock_resumed",
    ]


def test_unknown_addresses_answer_in_kind(client):
    page = client.get("/window/no-such-page")
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert "未找到" in page.get_data(as_text=True)
    wrong_method = client.get("/logout")
    assert wrong_method.status_code == 405 and wrong_method.mimetype == "text/html"
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.mimetype == "application/problem+json"


def test_window_marks_its_news_read(app, migrated, fumin_case, engine):
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO notifications (district_code, center_id, case_id, kind, message_zh)"
                " SELECT '530124', accepting_center_id, id, 'accepted', :m FROM cases"
                " WHERE case_no = :n"
            ),
            {"m": f"办件 {fumin_case} 已受理", "n": fumin_case},
        )
    window = _client(app)
    login_window(window, make_terminal_key(migrated, "FM-01"))
    page = window.get("/window/").get_data(as_text=True)
    assert f"办件 {fumin_case} 已受理" in page
    news_id = re.search(r"/window/news/(\d+)/read", page).group(1)
    # Another center's window cannot touch it; this one marks it read.
    other = _client(app)
    login_window(other, make_terminal_key(migrated, "FM-YD"))
    token = page_token(other, "/window/")
    other.post(f"/window/news/{news_id}/read", data={"csrf_token": token})
    assert f"/window/news/{news_id}/read" in window.get("/window/").get_data(as_text=True)
    token = csrf_of(page)
    assert (
        window.post(f"/window/news/{news_id}/read", data={"csrf_token": token}).status_code == 303
    )
    assert f"/window/news/{news_id}/read" not in window.get("/window/").get_data(as_text=True)


def test_paper_originals_posted_by_the_window_and_received(app, migrated, fumin_case, settings):
    from tests.helpers import deliver_inline

    deliver_inline(migrated, settings, fumin_case)
    window = _client(app)
    login_window(window, make_terminal_key(migrated, "FM-01"))
    page = window.get(f"/cases/{fumin_case}").get_data(as_text=True)
    assert "登记原件寄出" in page
    data = {"csrf_token": csrf_of(page), "orig_M01": "1", "carrier": "中国邮政"}
    response = window.post(f"/cases/{fumin_case}/originals", data=data)
    assert response.status_code == 422
    assert "此项必填。" in response.get_data(as_text=True)
    data |= {"tracking_no": "1180012345678", "mailed_on": "2999-01-01"}
    response = window.post(f"/cases/{fumin_case}/originals", data=data)
    assert response.status_code == 422 and "寄出日期不能晚于今天" in response.get_data(as_text=True)
    data["mailed_on"] = re.search(r'name="mailed_on" type="date" value="([^"]+)"', page).group(1)
    assert window.post(f"/cases/{fumin_case}/originals", data=data).status_code == 303

    office = _client(app)
    login_staff(office, make_staff(migrated, "clerk", "530102"))
    page = office.get(f"/cases/{fumin_case}").get_data(as_text=True)
    assert "1180012345678" in page and "在途" in page
    arrived = re.search(r'action="(/cases/[^"]+/originals/\d+/arrived)"', page).group(1)
    assert office.post(arrived, data={"csrf_token": csrf_of(page)}).status_code == 303
    page = office.get(f"/cases/{fumin_case}").get_data(as_text=True)
    assert "在途" not in page and "送达" in page


def test_reports_on_screen_and_files_as_the_api_gives_them(app, migrated, fumin_case):
    from service.clock import local_today

    month = f"{local_today():%Y-%m}"
    username = make_staff(migrated, "auditor", None)
    c = _client(app)
    assert login_staff(c, username).headers["Location"] == "/reports/"
    page = c.get(f"/reports/?month={month}&district=530124").get_data(as_text=True)
    assert "富民县 · " + month in page and "收件地 × 办理地" in page
    token = app.test_client().post(
        "/api/v1/auth/token",
        json={
            "username": username,
            "password": "correct-horse-电池-staple",
            "otp": otp_for(username),
        },
    )
    bearer = {"Authorization": f"Bearer {token.get_json()['token']}"}
    for fmt in ("xlsx", "csv", "json"):
        mine = c.get(f"/reports/download?month={month}&format={fmt}&district=530124")
        api = app.test_client().get(
            f"/api/v1/stats/monthly?month={month}&format={fmt}&district=530124", headers=bearer
        )
        assert mine.status_code == api.status_code == 200
        assert mine.mimetype == api.mimetype and mine.data == api.data
        assert mine.headers.get("Content-Disposition") == api.headers.get("Content-Disposition")
    # A district's supervisor reads their own district only, whatever the query asks.
    boss = _client(app)
    login_staff(boss, make_staff(migrated, "supervisor", "530112"))
    page = boss.get(f"/reports/?month={month}&district=530124").get_data(as_text=True)
    assert "西山区 · " + month in page
    # A clerk reads no reports.
    clerk = _client(app)
    login_staff(clerk, make_staff(migrated, "clerk", "530102"))
    assert clerk.get("/reports/").status_code == 403


def test_a_field_at_fault_points_at_its_message(app, migrated):
    c = _client(app)
    login_window(c, make_terminal_key(migrated, "FM-01"))
    page = intake_form(c, id_number="123").get_data(as_text=True)
    assert 'aria-invalid="true" aria-describedby="err-applicant-id_number"' in page
    assert 'id="err-applicant-id_number"' in page


def test_city_admin_sees_the_whole_city_on_the_supervisor_page(app, migrated):
    c = _client(app)
    assert login_staff(c, make_staff(migrated, "admin", None)).headers["Location"] == "/supervisor/"
    page = c.get("/supervisor/").get_data(as_text=True)
    assert "昆明市" in page and "安宁市" in page and "请在" in page


def test_pages_follow_the_same_center_rule_as_the_api(app, migrated, fumin_case):
    # The county center that took the case is offered the window's steps...
    own = _client(app)
    login_window(own, make_terminal_key(migrated, "FM-01"))
    assert "撤回原因" in own.get(f"/cases/{fumin_case}").get_data(as_text=True)
    version = case_form(own, fumin_case)["version"]
    # ...北营 community station, in 富民 too but below that center, reads the case, is offered
    # no window step, and is refused one posted anyway.
    community = _client(app)
    login_window(community, make_terminal_key(migrated, "FM-YD-BC"))
    page = community.get(f"/cases/{fumin_case}").get_data(as_text=True)
    assert fumin_case in page and "撤回原因" not in page
    response = community.post(
        f"/cases/{fumin_case}/steps/withdraw",
        data={"version": version, "csrf_token": csrf_of(page), "reason": "申请人要求"},
    )
    assert response.status_code == 409
    assert "应由收件地办理" in response.get_data(as_text=True)
    assert status_of(migrated.engine, fumin_case) == "submitted"
    # Administrators are no party to a case: the page is refused, as the API refuses it.
    admin = _client(app)
    login_staff(admin, make_staff(migrated, "admin", "530124"))
    assert admin.get(f"/cases/{fumin_case}").status_code == 403


def test_pages_offer_only_what_the_service_would_take(
    app, migrated, client, terminal, fumin_case, settings
):
    # Originals in transit on a case that was then withdrawn: the service refuses to record
    # their arrival, so the page must not offer it (it once did, on any case not closed).
    from service.clock import local_today
    from tests.helpers import act, deliver_inline

    deliver_inline(migrated, settings, fumin_case)
    fm = terminal("FM-01")
    posted = client.post(
        f"/api/v1/cases/{fumin_case}/originals",
        headers=fm,
        json={
            "materials": ["M01"],
            "carrier": "中国邮政",
            "tracking_no": "1180012345678",
            "mailed_on": f"{local_today():%Y-%m-%d}",
        },
    )
    assert posted.status_code == 201, posted.get_json()
    office = _client(app)
    login_staff(office, make_staff(migrated, "clerk", "530102"))
    assert "原件已收到" in office.get(f"/cases/{fumin_case}").get_data(as_text=True)
    assert act(client, fm, fumin_case, "withdraw", reason="申请人要求").status_code == 200
    page = office.get(f"/cases/{fumin_case}").get_data(as_text=True)
    assert "在途" in page and "原件已收到" not in page
    # The county center that took it may rate; the station below it may not (the center rule).
    station = _client(app)
    login_window(station, make_terminal_key(migrated, "FM-YD-BC"))
    own = _client(app)
    login_window(own, make_terminal_key(migrated, "FM-01"))
    assert "录入评价" in own.get(f"/cases/{fumin_case}").get_data(as_text=True)
    assert "录入评价" not in station.get(f"/cases/{fumin_case}").get_data(as_text=True)
