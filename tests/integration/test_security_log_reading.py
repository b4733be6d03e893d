"""Reading the security log: security auditors alone filter, page and export it (CSV with a
BOM, XLSX, Chinese headers); bad filters are problems naming the field."""

import csv
import io
import uuid

import pytest
from openpyxl import load_workbook

from tests.integration.test_security_log import ADDRESS, AT, by, entries, staff_user

FORMULA = "=cmd|' /C calc'!A0"  # what a spreadsheet would run


@pytest.fixture
def lockout_entries(migrated):
    """Three lockout entries of a name made up for the test, one of them in 西山."""
    from service.audit import security_log

    name = f"probe-{uuid.uuid4().hex[:8]}"
    with migrated.sessionmaker() as session:
        for district, address in ((None, FORMULA), (None, ADDRESS), ("530112", None)):
            security_log.record(
                session,
                "login.lockout",
                target_type="staff",
                target=name,
                district_code=district,
                outcome="refused",
                details={"retry_after": 30},
                address=address,
            )
        session.commit()
    return name


def test_the_auditor_filters_and_pages(client, staff, lockout_entries):
    auditor = staff("security_auditor", None)
    base = "/api/v1/admin/security-events?action=login.lockout&outcome=refused"
    page = client.get(f"{base}&limit=2", headers=auditor).get_json()
    assert [e["target"] for e in page["events"]] == [lockout_entries] * 2
    rest = client.get(f"{base}&limit=1&cursor={page['next_cursor']}", headers=auditor).get_json()
    assert rest["events"][0]["target"] == lockout_entries
    assert rest["events"][0]["id"] < page["events"][-1]["id"]
    xishan = client.get(f"{base}&district=530112", headers=auditor).get_json()["events"]
    assert {e["district_code"] for e in xishan} == {"530112"}
    none_ok = client.get(f"{base.replace('refused', 'ok')}", headers=auditor).get_json()
    assert none_ok["events"] == []
    window = "since=2000-01-01T00:00:00%2B08:00&until=2000-02-01T00:00:00%2B08:00"
    assert client.get(f"{base}&{window}", headers=auditor).get_json()["events"] == []


@pytest.mark.parametrize(
    "query, field",
    [
        ("outcome=maybe", "outcome"),
        ("district=999999", "district"),
        ("action=DROP%20TABLE", "action"),
        ("since=yesterday", "since"),
        ("until=2026-01-01T00:00:00", "until"),  # no offset
        ("since=2026-02-01T00:00:00%2B08:00&until=2026-01-01T00:00:00%2B08:00", "until"),
        ("format=pdf", "format"),
        ("actor=" + "x" * 101, "actor"),
    ],
)
def test_bad_filters_are_problems_naming_the_field(client, staff, query, field):
    auditor = staff("security_auditor", None)
    for path in ("/api/v1/admin/security-events", "/api/v1/admin/security-events/export"):
        if field == "format" and path.endswith("events"):
            continue
        answer = client.get(f"{path}?{query}", headers=auditor)
        assert answer.status_code == 422, (path, query)
        assert answer.content_type == "application/problem+json"
        assert field in {e["field"] for e in answer.get_json()["errors"]}, answer.get_json()


def test_the_export_in_csv_and_xlsx_with_chinese_headers(client, migrated, engine, lockout_entries):
    from service.audit.export import HEADERS

    auditor_name, auditor = staff_user(migrated, "security_auditor", None)
    path = "/api/v1/admin/security-events/export?action=login.lockout&outcome=refused"
    as_csv = client.get(f"{path}&format=csv", headers=auditor, environ_base=AT)
    assert as_csv.status_code == 200
    assert as_csv.headers["Content-Disposition"] == 'attachment; filename="security-log.csv"'
    assert as_csv.data.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads it as UTF-8
    rows = list(csv.reader(io.StringIO(as_csv.data.decode("utf-8-sig"))))
    assert rows[0] == HEADERS and rows[0][:3] == ["编号", "时间", "操作"]
    ours = [r for r in rows[1:] if r[10] == lockout_entries]
    assert len(ours) == 3 and {r[2] for r in ours} == {"登录被锁定"} and ours[0][4] == "拒绝"
    # Typed by an attacker, written as text: a spreadsheet does not run it.
    assert ours[0][8].startswith("'=")
    assert [int(r[0]) for r in rows[1:]] == sorted(int(r[0]) for r in rows[1:])

    as_xlsx = client.get(f"{path}&format=xlsx", headers=auditor, environ_base=AT)
    assert as_xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(as_xlsx.data)).active
    values = list(sheet.iter_rows(values_only=True))
    assert sheet.title == "安全审计日志" and list(values[0]) == HEADERS
    mine = [v for v in values[1:] if v[10] == lockout_entries]
    assert len(mine) == 3 and mine[0][8] == FORMULA
    assert sheet.cell(row=values.index(mine[0]) + 1, column=9).data_type == "s"

    exports = entries(engine, "security_log.export")[-2:]
    assert [e["details"]["format"] for e in exports] == ["csv", "xlsx"]
    by(exports[0], auditor_name)
    assert exports[0]["details"]["filters"] == {"action": "login.lockout", "outcome": "refused"}


def test_nobody_but_security_auditors_reads_or_exports_the_log(client, staff, terminal):
    callers = [staff(role, None) for role in ("security_admin", "admin", "auditor")]
    callers += [staff("clerk", "530102"), staff("supervisor", "530102"), terminal("FM-01")]
    for headers in callers:
        for path in ("/api/v1/admin/security-events", "/api/v1/admin/security-events/export"):
            assert client.get(path, headers=headers).status_code == 403, path
    assert client.get("/api/v1/admin/security-events/export").status_code == 401


def test_a_district_auditor_exports_its_district_only(client, staff, lockout_entries):
    district = staff("security_auditor", "530112")
    got = client.get(
        "/api/v1/admin/security-events/export?action=login.lockout&format=csv", headers=district
    )
    rows = list(csv.reader(io.StringIO(got.data.decode("utf-8-sig"))))[1:]
    assert rows and {r[11] for r in rows} == {"530112"}
