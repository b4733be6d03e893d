"""Catalog files without a database: reading, every row checked, errors in Chinese."""

import copy
import io
import zipfile
from datetime import date

import pytest
from openpyxl import load_workbook

from catalog.loaders import SAMPLE_CATALOG
from catalog.rows import parse_catalog
from catalog.search import query_terms, search_keys
from catalog.tabular import FileFormatError, RawTable, read_catalog, write_csv_zip, write_xlsx


@pytest.fixture(scope="module")
def sample() -> dict[str, RawTable]:
    return read_catalog(SAMPLE_CATALOG)


def edited(tables: dict[str, RawTable], sheet: str, index: int, **cells) -> dict[str, RawTable]:
    out = copy.deepcopy(tables)
    out[sheet].rows[index][1].update(cells)
    return out


def test_the_sample_catalog_is_valid_and_complete(sample):
    parsed = parse_catalog(sample)
    assert parsed.errors == []
    assert len(parsed.items) == 320
    assert {code: len(a.items) for code, a in parsed.agreements.items()} == {
        "KM-WH-FM-2022": 320,
        "KM-XS-AN-2023": 72,
    }
    card = parsed.items["000112001000"].content
    assert card["item_type"] and card["territorial_basis"] == "insured"
    assert card["delivery_modes"] == ["window", "mail"] and card["handling_modes"] == ["proxy"]
    assert [m["code"] for m in card["materials"]] == ["M01", "M03", "M04"]
    assert card["materials"][2]["deferrable"] is True
    departments = {i.content["department"] for i in parsed.items.values()}
    assert {"人力资源和社会保障局", "公安分局", "医疗保障局", "住房公积金管理中心"} <= departments
    assert all(i.content["materials"] for i in parsed.items.values())


def test_several_bad_rows_report_every_error_with_row_column_and_chinese(sample):
    bad = edited(sample, "items", 0, **{"基本编码": "12345"})
    bad = edited(bad, "items", 1, **{"承诺办结时限（工作日）": 99, "事项类型": "行政审批"})
    bad = edited(bad, "items", 2, **{"是否收费": "是", "收费依据": None, "实施部门": None})
    bad = edited(bad, "materials", 5, **{"必要性": "可能", "原件份数": "两份"})
    bad = edited(bad, "agreements", 0, **{"参与行政区": "五华区", "截止日期": "2020-01-01"})
    bad = edited(bad, "agreement_items", 3, **{"协议编码": "KM-NOPE"})
    errors = parse_catalog(bad).errors
    found = {(e.sheet, e.row, e.column): e.message for e in errors}
    assert found[("事项", 2, "基本编码")] == "应为12位数字或大写字母。"
    assert found[("事项", 3, "承诺办结时限（工作日）")].startswith("承诺时限不能超过法定时限")
    assert found[("事项", 3, "事项类型")].startswith("应为以下之一：行政许可")
    assert found[("事项", 4, "收费依据")] == "收费事项须填写收费依据。"
    assert found[("事项", 4, "实施部门")] == "必填。"
    assert found[("材料", 7, "必要性")].startswith("应为以下之一：必要")
    assert found[("材料", 7, "原件份数")] == "应为整数。"
    assert found[("协议", 2, "参与行政区")] == "通办协议至少涉及两个行政区。"
    assert found[("协议", 2, "截止日期")] == "截止日期不能早于生效日期。"
    assert found[("协议事项", 5, "协议编码")] == "该协议不在“协议”工作表中。"
    # The first item's materials point at a code that is now wrong in the items sheet.
    assert ("材料", 2, "基本编码") in found
    assert len(errors) == len(found)
    first = next(e for e in errors if e.column == "基本编码" and e.sheet == "事项")
    assert first.cell == "A2"


def test_duplicates_and_missing_columns_and_sheets(sample):
    duplicated = copy.deepcopy(sample)
    duplicated["items"].rows.append((999, dict(duplicated["items"].rows[0][1])))
    errors = parse_catalog(duplicated).errors
    assert [(e.row, e.message) for e in errors] == [(999, "基本编码与第2行重复。")]

    no_column = copy.deepcopy(sample)
    no_column["items"].headers.remove("属地依据")
    assert [(e.sheet, e.row, e.column) for e in parse_catalog(no_column).errors] == [
        ("事项", 1, "属地依据")
    ]
    no_materials = {k: v for k, v in sample.items() if k != "materials"}
    assert parse_catalog(no_materials).errors[0].message.startswith("缺少工作表“材料”")


def test_xlsx_round_trip_keeps_every_value(sample):
    parsed = parse_catalog(sample)
    tables = {key: [cells_by_field(key, cells) for _, cells in t.rows] for key, t in sample.items()}
    workbook = write_xlsx(tables, guide=[("基本编码", "12位")])
    again = parse_catalog(read_catalog(workbook))
    assert again.errors == []
    assert {c: i.content for c, i in again.items.items()} == {
        c: i.content for c, i in parsed.items.items()
    }
    book = load_workbook(io.BytesIO(workbook))
    assert book.sheetnames == ["事项", "材料", "协议", "协议事项", "填写说明"]
    assert book["事项"].freeze_panes == "A2"
    assert book["事项"]["A2"].number_format == "@"  # codes stay text in Excel


def cells_by_field(key: str, cells: dict) -> dict:
    from catalog.layout import SHEETS

    sheet = next(s for s in SHEETS if s.key == key)
    return {field: cells.get(header) for field, header in sheet.columns}


def test_csv_zip_in_gbk_with_gbk_names_is_read():
    text = "协议编码,基本编码\r\nKM-WH-FM-2022,000112001000\r\n"
    gbk_name = "协议事项.csv".encode("gb18030")
    placeholder = b"X" * (len(gbk_name) - 4) + b".csv"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(placeholder.decode(), text.encode("gb18030"))
    # As Windows' built-in zip writes it: GBK name bytes, no UTF-8 flag.
    tables = read_catalog(buffer.getvalue().replace(placeholder, gbk_name))
    assert tables["agreement_items"].rows == [
        (2, {"协议编码": "KM-WH-FM-2022", "基本编码": "000112001000"})
    ]


def test_csv_export_has_a_bom_for_excel():
    archive = zipfile.ZipFile(io.BytesIO(write_csv_zip({})))
    assert archive.read("items.csv").startswith("\ufeff基本编码".encode())


def test_codes_that_excel_turned_into_numbers_are_refused(sample):
    bad = edited(sample, "items", 0, **{"基本编码": 112001000})
    message = parse_catalog(bad).errors[0].message
    assert "文本格式" in message


def test_unreadable_files_say_why():
    with pytest.raises(FileFormatError) as err:
        read_catalog(b"not a spreadsheet")
    assert "XLSX" in err.value.message_zh
    empty_zip = io.BytesIO()
    zipfile.ZipFile(empty_zip, "w").close()
    with pytest.raises(FileFormatError):
        read_catalog(empty_zip.getvalue())
    huge = io.BytesIO()
    with zipfile.ZipFile(huge, "w") as archive:
        archive.writestr("items.csv", '基本编码\n"' + "x" * 200_000 + '"\n')  # over csv's limit
    with pytest.raises(FileFormatError, match=r"items\.csv"):
        read_catalog(huge.getvalue())
    with pytest.raises(FileFormatError):  # a workbook cut short
        read_catalog(write_xlsx({})[:2000])


def test_dates_accept_the_forms_clerks_type(sample):
    for typed in ("2022/03/01", "2022年03月01日", date(2022, 3, 1)):
        parsed = parse_catalog(edited(sample, "agreements", 0, **{"生效日期": typed}))
        assert parsed.agreements["KM-WH-FM-2022"].fields["effective_from"] == date(2022, 3, 1)


def test_search_keys_hold_names_aliases_pinyin_and_initials():
    keys = search_keys("社会保障卡申领", ["社保卡申领"])
    assert keys.names == "|社会保障卡申领|社保卡申领|"
    assert keys.initials == "|shbzksl|sbksl|"
    assert keys.pinyin == "|shehuibaozhangkashenling|shebaokashenling|"
    assert search_keys("银行账户信息变更", []).pinyin.startswith("|yinhang")  # 行 as hang
    assert query_terms("  SBK  提取，sbk |") == ["sbk", "提取"]


def test_one_order_for_modes_and_materials_whatever_was_typed(sample):
    parsed = parse_catalog(sample)
    turned = copy.deepcopy(sample)
    turned["materials"].rows.reverse()
    turned = edited(turned, "items", 0, **{"结果送达方式": "邮寄送达，窗口领取"})
    again = parse_catalog(turned)
    assert again.items["000112001000"].content == parsed.items["000112001000"].content


def test_control_characters_and_lone_agreements_are_refused(sample):
    bad = edited(sample, "items", 0, **{"事项名称": "社会保障卡\x00申领", "别名": "社保\x07卡"})
    messages = {(e.column, e.message) for e in parse_catalog(bad).errors}
    assert ("事项名称", "含有不可见的控制字符，请删除后重新填写。") in messages
    assert ("别名", "含有不可见的控制字符，请删除后重新填写。") in messages
    lone = {k: v for k, v in sample.items() if k != "agreement_items"}
    assert [e.sheet for e in parse_catalog(lone).errors] == ["协议事项"]


def test_xlsx_keeps_text_that_looks_like_a_formula_and_ignores_far_stray_cells():
    from openpyxl import Workbook

    text = read_catalog(write_xlsx({"items": [{"name": "=HYPERLINK(1)"}]}))
    assert text["items"].rows[0][1]["事项名称"] == "=HYPERLINK(1)"
    book = Workbook()
    book.active.title = "事项"
    book.active.append(["基本编码"])
    book.active["XFD1048576"] = "stray"
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(FileFormatError, match="50000"):
        read_catalog(out.getvalue())
