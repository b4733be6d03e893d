"""Input the pages must refuse cleanly: NUL in multipart forms, ids past bigint, odd digits,
oversize bodies, too many scans, and POSTs without the session's CSRF token."""

import io

from tests.helpers import count, event_types
from tests.web.pages import (
    PNG,
    intake_form,
    post_supplement,
    request_supplement,
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
