"""Catalog import and export through the admin API and the CLI, on a real database."""

import io
import zipfile
from datetime import timedelta

from openpyxl import load_workbook
from sqlalchemy import text

from service.clock import local_today
from tests.helpers import application, make_id_number, read_case, submit

# 就业创业证申领: used by no other test, so its versions can change here.
ITEM = "000112005000"


def export(client, headers, fmt="xlsx", on=None) -> bytes:
    """The catalog in force on `on`; by default the newest version of every item."""
    on = on or (local_today() + timedelta(days=3650)).isoformat()
    response = client.get(
        "/api/v1/admin/catalog/export", headers=headers, query_string={"format": fmt, "on": on}
    )
    assert response.status_code == 200, response.data[:300]
    return response.data


def upload(client, headers, data: bytes, name="catalog.xlsx", **params):
    return client.post(
        "/api/v1/admin/catalog/imports",
        headers=headers,
        query_string=params,
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def set_cell(workbook: bytes, sheet: str, code: str, header: str, value) -> bytes:
    book = load_workbook(io.BytesIO(workbook))
    ws = book[sheet]
    headers = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        if row[0].value == code:
            row[headers.index(header)].value = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def catalog_state(engine) -> tuple:
    with engine.connect() as conn:
        return (
            conn.execute(text("SELECT count(*), max(id) FROM item_versions")).one(),
            conn.execute(
                text("SELECT code, status, effective_to FROM agreements ORDER BY code")
            ).all(),
            conn.execute(text("SELECT count(*) FROM agreement_items")).scalar_one(),
        )


def test_export_imports_back_unchanged_in_both_formats(client, staff, engine):
    admin = staff("admin", None)
    before = catalog_state(engine)
    for fmt, name in (("xlsx", "catalog.xlsx"), ("csv", "catalog.zip")):
        report = upload(client, admin, export(client, admin, fmt), name)
        assert report.status_code == 200, report.get_json()
        body = report.get_json()
        assert body["items"]["created"] == body["items"]["changed"] == []
        assert body["items"]["unchanged"] >= 320
        assert body["agreements"]["unchanged"] == 2
    assert catalog_state(engine) == before


def test_a_file_with_bad_rows_reports_every_error_and_changes_nothing(client, staff, engine):
    admin = staff("admin", None)
    workbook = export(client, admin)
    workbook = set_cell(workbook, "事项", ITEM, "承诺办结时限（工作日）", 3)  # a valid change
    workbook = set_cell(workbook, "事项", "000112006000", "属地依据", "出生地")
    workbook = set_cell(workbook, "事项", "000113001000", "是否收费", "也许")
    workbook = set_cell(workbook, "材料", "000113002000", "原件份数", -1)
    before = catalog_state(engine)
    response = upload(client, admin, workbook)
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    problem = response.get_json()
    assert problem["rows_total"] == len(problem["rows"]) >= 4
    places = {(r["sheet"], r["column"]) for r in problem["rows"]}
    assert {("事项", "属地依据"), ("事项", "是否收费"), ("材料", "原件份数")} <= places
    assert all(r["row"] >= 2 and r["message"] and r["cell"] for r in problem["rows"])
    assert "未做任何修改" in problem["detail_zh"]
    assert catalog_state(engine) == before


def test_dry_run_shows_the_change_and_changes_nothing(client, staff, engine):
    admin = staff("admin", None)
    workbook = set_cell(export(client, admin), "事项", "000112006000", "承诺办结时限（工作日）", 2)
    before = catalog_state(engine)
    response = upload(client, admin, workbook, dry_run="true")
    assert response.status_code == 200, response.get_json()
    report = response.get_json()
    assert report["dry_run"] is True
    [change] = report["items"]["changed"]
    assert change["basic_code"] == "000112006000"
    assert change["columns"] == ["承诺办结时限（工作日）"]
    assert catalog_state(engine) == before


def test_a_case_keeps_its_item_version_after_the_item_changes(client, staff, terminal):
    admin, fm = staff("admin", None), terminal("FM-01")
    body = application(
        item_code=ITEM,
        facts={"residence_district": "530102"},
        materials=[{"code": "M01"}, {"code": "M03"}],
    )
    first = submit(client, fm, body)
    assert first.status_code == 201, first.get_json()
    old = read_case(client, fm, first.get_json()["case_no"])["item"]

    workbook = export(client, admin)
    workbook = set_cell(workbook, "事项", ITEM, "事项名称", "就业创业证申领（新版）")
    changed = upload(client, admin, workbook)
    assert changed.status_code == 200, changed.get_json()
    [change] = changed.get_json()["items"]["changed"]
    assert change["version"] == old["version"] + 1

    kept = read_case(client, fm, first.get_json()["case_no"])["item"]
    assert kept == old  # same version, same name
    body["applicant"]["id_number"] = make_id_number()
    second = submit(client, fm, body)
    new = read_case(client, fm, second.get_json()["case_no"])["item"]
    assert new["version"] == old["version"] + 1 and new["name"] == "就业创业证申领（新版）"
    shown = client.get(f"/api/v1/catalog/items/{ITEM}", headers=fm).get_json()
    assert [v["version"] for v in shown["versions"]][-2:] == [old["version"], new["version"]]


def test_a_version_can_start_later_and_is_not_undercut(client, staff, terminal):
    admin, wh = staff("admin", None), terminal("WH-01")
    code = "000112007001"  # 社会保障卡服务（启用）
    tomorrow = local_today() + timedelta(days=1)
    later = set_cell(export(client, admin), "事项", code, "承诺办结时限（工作日）", 1)
    response = upload(client, admin, later, effective_from=tomorrow.isoformat())
    assert response.status_code == 200, response.get_json()
    shown = client.get(f"/api/v1/catalog/items/{code}", headers=wh).get_json()
    assert shown["promised_limit_days"] == 3  # today's version still applies
    assert shown["versions"][-1]["upcoming"] is True

    as_today = export(client, admin, on=local_today().isoformat())
    unchanged = upload(client, admin, as_today)  # today's data, as exported today: no change
    assert unchanged.status_code == 200 and unchanged.get_json()["items"]["changed"] == []
    other = set_cell(as_today, "事项", code, "承诺办结时限（工作日）", 2)
    refused = upload(client, admin, other)
    assert refused.status_code == 422
    [error] = refused.get_json()["rows"]
    assert tomorrow.isoformat() in error["message"]
    # With a row error elsewhere in the file too, both come in the first answer.
    both = upload(client, admin, set_cell(other, "事项", "000113001000", "是否收费", "也许"))
    errors = both.get_json()["rows"]
    assert sorted(e["column"] for e in errors) == ["基本编码", "是否收费"], errors

    past = upload(client, admin, other, effective_from="2020-01-01")
    assert past.status_code == 422
    assert past.get_json()["errors"][0]["field"] == "effective_from"


def test_only_admins_import_and_readers_export(client, staff, terminal):
    workbook = export(client, staff("admin", None))
    for who in (staff("clerk", "530102"), staff("auditor", None), terminal("WH-01")):
        assert upload(client, who, workbook, dry_run="true").status_code == 403
    assert client.get("/api/v1/admin/catalog/export", headers=terminal("WH-01")).status_code == 403
    assert (
        client.get("/api/v1/admin/catalog/export", headers=staff("clerk", "530102")).status_code
        == 403
    )
    assert len(export(client, staff("auditor", None))) > 10_000


def test_templates_have_the_headers_and_the_guide(client, staff):
    admin = staff("admin", None)
    xlsx = client.get("/api/v1/admin/catalog/template", headers=admin)
    assert xlsx.status_code == 200 and xlsx.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(xlsx.data))
    assert [c.value for c in book["事项"][1]][:3] == ["基本编码", "实施编码", "事项名称"]
    assert book["事项"].max_row == 1
    assert "填写说明" in book.sheetnames
    csv = client.get("/api/v1/admin/catalog/template?format=csv", headers=admin)
    names = set(zipfile.ZipFile(io.BytesIO(csv.data)).namelist())
    assert {"items.csv", "materials.csv", "agreements.csv", "agreement_items.csv"} <= names
    bad = client.get("/api/v1/admin/catalog/template?format=pdf", headers=admin)
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "format"


def test_unreadable_or_missing_file_is_a_clear_problem(client, staff):
    admin = staff("admin", None)
    response = upload(client, admin, b"%PDF-1.7 not a catalog", "catalog.pdf")
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "file"
    assert "XLSX" in response.get_json()["detail_zh"]
    missing = client.post("/api/v1/admin/catalog/imports", headers=admin)
    assert missing.status_code == 422
    assert missing.get_json()["errors"][0]["field"] == "file"


def sample_subset(folder, prefix: str, edit=lambda line: line):
    """The sample's items and materials whose code starts with `prefix`, as a CSV folder."""
    from catalog.loaders import SAMPLE_CATALOG

    folder.mkdir()
    for name in ("items.csv", "materials.csv"):
        header, *lines = (SAMPLE_CATALOG / name).read_text(encoding="utf-8-sig").splitlines()
        kept = [edit(line) for line in lines if line.startswith(prefix)]
        (folder / name).write_text("\n".join([header, *kept]), encoding="utf-8-sig")
    return folder


def test_search_keys_made_by_older_rules_are_refreshed_by_an_unchanged_import(
    app, client, tmp_path, engine, terminal
):
    with engine.begin() as conn:  # as migration 0003 left its first versions
        conn.execute(
            text(
                "UPDATE item_versions SET search_pinyin = '||', search_initials = '||'"
                " WHERE item_id IN (SELECT id FROM items WHERE basic_code LIKE '000127%')"
            )
        )
    fm = terminal("FM-01")
    assert client.get("/api/v1/catalog/items?q=dlys", headers=fm).get_json()["items"] == []
    runner, context = app.test_cli_runner(), app.app_context()
    context.push()
    folder = sample_subset(tmp_path / "transport", "000127")
    result = runner.invoke(args=["import-catalog", str(folder)])
    context.pop()
    assert result.exit_code == 0 and '"changed": []' in result.output, result.output
    found = client.get("/api/v1/catalog/items?q=dlys", headers=fm).get_json()["items"]
    assert found and all("道路运输" in i["name"] for i in found)


def test_cli_imports_with_a_dry_run_and_reports_errors(app, tmp_path, engine):
    runner = app.test_cli_runner()
    context = app.app_context()  # as `python -m service` gives every command
    context.push()
    before = catalog_state(engine)
    health = sample_subset(tmp_path / "health", "000121")  # 卫生健康局, untouched by tests
    result = runner.invoke(args=["import-catalog", "--dry-run", str(health)])
    assert result.exit_code == 0, result.output
    assert '"dry_run": true' in result.output and '"unchanged": 21' in result.output

    broken = sample_subset(
        tmp_path / "broken", "000121", lambda line: line.replace(",户籍地,", ",出生地,")
    )
    failed = runner.invoke(args=["import-catalog", str(broken)])
    assert failed.exit_code == 1
    assert "事项 第2行 属地依据: 应为以下之一" in failed.output
    out = tmp_path / "catalog.xlsx"
    exported = runner.invoke(args=["export-catalog", "--format", "xlsx", str(out)])
    assert exported.exit_code == 0 and out.stat().st_size > 10_000
    assert catalog_state(engine) == before
    context.pop()


def test_a_file_without_the_forwarding_limit_keeps_the_agreements_setting(app, tmp_path, engine):
    from catalog.loaders import SAMPLE_CATALOG

    runner, context = app.test_cli_runner(), app.app_context()
    context.push()

    def folder(name: str, limit: str | None):
        out = sample_subset(tmp_path / name, "000121")
        header, *rows = (SAMPLE_CATALOG / "agreements.csv").read_text("utf-8-sig").splitlines()
        wh_fm = [r for r in rows if r.startswith("KM-WH-FM-2022")]
        if limit is not None:
            header, wh_fm = header + ",转递时限（工作日）", [r + f",{limit}" for r in wh_fm]
        (out / "agreements.csv").write_text("\n".join([header, *wh_fm]), encoding="utf-8-sig")
        links = (SAMPLE_CATALOG / "agreement_items.csv").read_text("utf-8-sig").splitlines()
        kept = [links[0], *[r for r in links[1:] if r.startswith("KM-WH-FM-2022")]]
        (out / "agreement_items.csv").write_text("\n".join(kept), encoding="utf-8-sig")
        return str(out)

    def limit() -> int:
        with engine.connect() as conn:
            return conn.execute(
                text("SELECT forward_limit_days FROM agreements WHERE code = 'KM-WH-FM-2022'")
            ).scalar_one()

    three = runner.invoke(args=["import-catalog", folder("three", "3")])
    assert three.exit_code == 0 and "转递时限（工作日）" in three.output, three.output
    assert limit() == 3
    absent = runner.invoke(args=["import-catalog", folder("absent", None)])
    assert absent.exit_code == 0 and '"changed": []' in absent.output, absent.output
    assert limit() == 3
    assert runner.invoke(args=["import-catalog", folder("one", "1")]).exit_code == 0
    assert limit() == 1
    context.pop()
