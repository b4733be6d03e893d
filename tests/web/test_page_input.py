"""Input the pages must refuse cleanly: NUL in multipart forms, ids past bigint, odd digits,
oversize bodies, too many scans, and POSTs without the session's CSRF token."""

import io
import re

from service.uploads import MAX_SCANS, request_limit_bytes
from tests.helpers import count, deliver_inline, event_types, scalar, status_of
from tests.web.pages import (
    PNG,
    case_form,
    case_with_scan,
    csrf_of,
    intake_form,
    make_terminal_key,
    page_token,
    post_supplement,
    request_supplement,
    staff_client,
    window_client,
)

HUGE_ID = "99999999999999999999"  # past PostgreSQL's bigint


def test_nul_in_a_multipart_form_is_refused_in_chinese(app, migrated, engine):
    window = window_client(app, migrated)
    before = count(engine, "cases")
    for fields in (
        {"note": "带\x00控制字符"},
        {"scan_M01": (io.BytesIO(PNG), "身份证\x00.png")},
    ):
        response = intake_form(window, **fields)
        assert response.status_code == 400, response.get_data(as_text=True)[:300]
        assert response.mimetype == "text/html"
        assert "不可见的控制字符" in response.get_data(as_text=True)
    assert count(engine, "cases") == before


def test_nul_in_a_supplement_scan_name_is_refused(app, migrated, settings, fumin_case, engine):
    request_supplement(app, migrated, settings, fumin_case)
    response = post_supplement(window_client(app, migrated), fumin_case, "登记表\x00.png")
    assert response.status_code == 400
    assert "不可见的控制字符" in response.get_data(as_text=True)
    assert "file_attached" not in event_types(engine, fumin_case)


def test_ids_past_bigint_on_a_visible_case_are_404(app, migrated, fumin_case):
    office = staff_client(app, migrated)[0]
    assert office.get(f"/cases/{fumin_case}").status_code == 200  # the case itself is visible
    response = office.get(f"/cases/{fumin_case}/scans/{HUGE_ID}")
    assert response.status_code == 404 and "未找到" in response.get_data(as_text=True)
    token = page_token(office, f"/cases/{fumin_case}")
    response = office.post(
        f"/cases/{fumin_case}/originals/{HUGE_ID}/arrived", data={"csrf_token": token}
    )
    assert response.status_code == 404 and "未找到" in response.get_data(as_text=True)


def test_scan_parameter_takes_ascii_digits_only(app, migrated, client, terminal):
    case_no, scan_id = case_with_scan(client, terminal("FM-01"))
    office = staff_client(app, migrated)[0]
    shown = office.get(f"/cases/{case_no}", query_string={"scan": str(scan_id)})
    assert 'id="scan"' in shown.get_data(as_text=True)
    # "²" and "١" are str.isdigit(), but no int() takes the first; neither is an id.
    for wanted in ("²", "١", "１", HUGE_ID, "-1", f" {scan_id}", ""):
        response = office.get(f"/cases/{case_no}", query_string={"scan": wanted})
        assert response.status_code == 200, wanted
        assert 'id="scan"' not in response.get_data(as_text=True), wanted


def test_oversize_bodies_are_413_before_csrf_in_kind(app, migrated, settings):
    limit = app.config["MAX_CONTENT_LENGTH"]
    assert limit == request_limit_bytes(settings.upload_limit_bytes)
    assert limit >= (MAX_SCANS + 1) * settings.upload_limit_bytes
    window = window_client(app, migrated)
    big = b"\x89PNG\r\n\x1a\n" + bytes(limit)
    # No CSRF token: the size is refused first, as a Chinese page.
    response = window.post(
        "/window/items/000112001000",
        data={"scan_M01": (io.BytesIO(big), "大.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413 and response.mimetype == "text/html"
    assert "文件过大" in response.get_data(as_text=True)
    key = make_terminal_key(migrated, "FM-01")
    response = app.test_client().post(
        "/api/v1/uploads",
        headers={"Authorization": f"Bearer {key}"},
        data={"file": (io.BytesIO(big), "big.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413 and response.mimetype == "application/problem+json"
    assert response.get_json()["detail_zh"]


def test_intake_stores_no_more_scans_than_an_application_may_name(app, migrated, engine):
    window = window_client(app, migrated)
    before = count(engine, "case_files")
    scans = [(io.BytesIO(PNG + bytes([i])), f"第{i}页.png") for i in range(MAX_SCANS + 3)]
    response = intake_form(window, scan_M01=scans)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f"每项材料最多{MAX_SCANS}份扫描件，超出的3份未上传" in page
    assert len(re.findall(r'name="staged_M01"', page)) == MAX_SCANS
    assert count(engine, "case_files") - before == MAX_SCANS


def test_more_posts_without_the_session_token_are_refused(
    app, migrated, settings, fumin_case, engine
):
    deliver_inline(migrated, settings, fumin_case)
    office = staff_client(app, migrated)[0]
    hidden = case_form(office, fumin_case)
    for data in ({"version": hidden["version"]}, {**hidden, "csrf_token": "forged"}):
        response = office.post(f"/cases/{fumin_case}/steps/accept", data=data)
        assert response.status_code == 400 and "页面已过期" in response.get_data(as_text=True)
    assert status_of(engine, fumin_case) == "received"
    # An upload: the intake form with its scan, but no token.
    window = window_client(app, migrated)
    before = count(engine, "case_files"), count(engine, "cases")
    response = window.post(
        "/window/items/000112001000",
        data={"got_M01": "1", "scan_M01": (io.BytesIO(PNG), "身份证.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400 and "页面已过期" in response.get_data(as_text=True)
    assert (count(engine, "case_files"), count(engine, "cases")) == before
    # Logout: another site cannot sign the user out, nor revoke the token.
    assert office.post("/logout").status_code == 400
    assert office.post("/logout", data={"csrf_token": "forged"}).status_code == 400
    assert office.get("/office/").status_code == 200
    revoked = "SELECT count(*) FROM staff_tokens WHERE revoked_at IS NOT NULL"
    revoked_before = scalar(engine, revoked)
    token = csrf_of(office.get("/office/").get_data(as_text=True))
    assert office.post("/logout", data={"csrf_token": token}).status_code == 302
    assert scalar(engine, revoked) == revoked_before + 1


def test_window_pages_take_scans_larger_than_a_json_body(app, migrated, settings, engine):
    # Two scans of 150 KB each: together over the 256 KiB JSON limit, each within the upload
    # limit (200 KB in the tests). The intake page must take them as the upload API does.
    assert settings.upload_limit_bytes >= 150_000
    window = window_client(app, migrated)
    scan = b"\x89PNG\r\n\x1a\n" + bytes(150_000)
    response = intake_form(
        window,
        scan_M01=[(io.BytesIO(scan), "正面.png"), (io.BytesIO(scan), "反面.png")],
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    case_no = response.headers["Location"].split("/")[-2]
    assert (
        scalar(
            engine,
            "SELECT count(*) FROM case_files f JOIN cases c ON c.id = f.case_id"
            " WHERE c.case_no = :n",
            n=case_no,
        )
        == 2
    )


def test_auditors_see_no_scans_on_the_pages_either(app, migrated, client, terminal):
    case_no, scan_id = case_with_scan(client, terminal("FM-01"))
    auditor, _ = staff_client(app, migrated, "auditor", None)
    page = auditor.get(f"/cases/{case_no}?scan={scan_id}")
    assert page.status_code == 200 and "身份证正面.png" not in page.get_data(as_text=True)
    assert auditor.get(f"/cases/{case_no}/scans/{scan_id}").status_code == 403
    clerk, _ = staff_client(app, migrated, "clerk", "530102")
    assert clerk.get(f"/cases/{case_no}/scans/{scan_id}").status_code == 200
