"""The monthly report as files an auditor opens: XLSX, CSV (UTF-8 with BOM) and JSON.

Every file is a pure function of the report: the same report gives the same bytes (sorted JSON,
fixed timestamps inside the zip containers), which is what lets a closed month's manifest hold.
"""

import csv
import io
import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from service.stats.report import DERIVED_ZH, FIGURES, MEASURES_ZH, derived

FORMATS = ("xlsx", "csv", "json")
MEDIA_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "application/zip",
    "json": "application/json",
}
EXTENSIONS = {"xlsx": "xlsx", "csv": "zip", "json": "json"}
FIXED_TIME = (2000, 1, 1, 0, 0, 0)
FIGURE_COLUMNS = [(f, MEASURES_ZH[f]) for f in FIGURES] + list(DERIVED_ZH.items())


@dataclass(frozen=True)
class View:
    key: str  # CSV file name
    title: str  # sheet name
    columns: list[tuple[str, str]]
    rows: Callable[[dict], list[dict]]
    totals: bool = False


def _flat_agreements(report: dict) -> list[dict]:
    out = []
    for a in report["agreements"]:
        for period, label in (("month", "本月"), ("since_start", "协议生效以来")):
            out.append({"code": a["code"], "name": a["name"], "period": label, **a[period]})
    return out


def _adjustments(report: dict) -> list[dict]:
    return [{**a, "figure_zh": MEASURES_ZH[a["figure"]]} for a in report.get("adjustments", [])]


VIEWS = [
    View(
        "totals",
        "汇总",
        [("scope_name", "范围"), ("month", "月份"), *FIGURE_COLUMNS],
        lambda r: [{"scope_name": r["scope_name"], "month": r["month"], **r["totals"]}],
    ),
    View(
        "matrix",
        "收件地×办理地",
        [("accepting_name", "收件地"), ("responsible_name", "办理地"), *FIGURE_COLUMNS],
        lambda r: r["matrix"],
        totals=True,
    ),
    View(
        "items",
        "事项",
        [("code", "基本编码"), ("name", "事项名称"), *FIGURE_COLUMNS],
        lambda r: r["items"],
        totals=True,
    ),
    View(
        "centers",
        "服务中心",
        [("code", "中心编码"), ("name", "服务中心"), *FIGURE_COLUMNS],
        lambda r: r["centers"],
        totals=True,
    ),
    View(
        "agreements",
        "通办协议",
        [("code", "协议编码"), ("name", "协议名称"), ("period", "统计期间"), *FIGURE_COLUMNS],
        _flat_agreements,
    ),
    View(
        "ratings",
        "好差评",
        [("level_zh", "评价等级"), ("count", "评价数")],
        lambda r: r["ratings"],
        totals=True,
    ),
    View(
        "rectifications",
        "差评整改",
        [
            ("opened", "本月新增"),
            ("closed", "本月整改完成"),
            ("open_at_month_end", "月末未完成"),
            ("overdue_at_month_end", "月末已超期"),
        ],
        lambda r: [r["rectifications"]],
    ),
    View(
        "overdue",
        "超期办件",
        [
            ("case_no", "办件编号"),
            ("item", "事项"),
            ("accepting", "收件地"),
            ("responsible", "办理地"),
            ("applicant", "申请人"),
            ("deadline", "时限"),
            ("due_on", "到期日"),
            ("finished_on", "完成日"),
            ("working_days_overdue", "超期工作日"),
            ("status_zh", "状态"),
        ],
        lambda r: r["overdue"],
    ),
    View(
        "adjustments",
        "更正调整",
        [
            ("month", "所属月份"),
            ("accepting_name", "收件地"),
            ("responsible_name", "办理地"),
            ("figure_zh", "指标"),
            ("delta", "调整数"),
        ],
        _adjustments,
    ),
]


def _total_row(view: View, rows: list[dict]) -> dict:
    total: dict[str, Any] = {view.columns[0][0]: "合计"}
    for key, _ in view.columns[1:]:
        values = [r.get(key) for r in rows]
        if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            total[key] = sum(values)
    if total.get("completed"):
        total = {**total, **derived(total)}
    return total


def _table(view: View, report: dict) -> list[dict]:
    rows = view.rows(report)
    return [*rows, _total_row(view, rows)] if view.totals and rows else rows


def _fixed_zip(parts: list[tuple[str, bytes]]) -> bytes:
    """A zip whose bytes depend only on its parts: fixed order, times and compression."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in parts:
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def to_json(report: dict) -> bytes:
    return json.dumps(report, ensure_ascii=False, sort_keys=True, indent=1).encode() + b"\n"


def to_csv(report: dict) -> bytes:
    parts = []
    for view in VIEWS:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow([header for _, header in view.columns])
        for row in _table(view, report):
            writer.writerow(["" if row.get(k) is None else row.get(k) for k, _ in view.columns])
        parts.append((f"{view.key}.csv", ("\ufeff" + out.getvalue()).encode()))
    return _fixed_zip(parts)


def to_xlsx(report: dict) -> bytes:
    book = Workbook()
    book.remove(book.active)
    # Fixed document times: openpyxl would stamp "now" and change the bytes on every export.
    stamp = datetime(2000, 1, 1)
    book.properties.created = book.properties.modified = stamp
    book.properties.creator = "Tongban"
    for view in VIEWS:
        ws = book.create_sheet(view.title)
        ws.append([header for _, header in view.columns])
        rows = _table(view, report)
        for row in rows:
            ws.append([row.get(k) for k, _ in view.columns])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        if view.totals and rows:
            for cell in ws[ws.max_row]:
                cell.font = Font(bold=True)
        for index, (key, header) in enumerate(view.columns, start=1):
            longest = max([len(str(r.get(key) or "")) for r in rows] + [len(header)])
            ws.column_dimensions[get_column_letter(index)].width = min(60, max(8, longest * 2 + 2))
        ws.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as saved:
        parts = [(info.filename, saved.read(info)) for info in saved.infolist()]
    return _fixed_zip([(name, _fixed_times(name, data)) for name, data in parts])


_CORE_TIMES = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")


def _fixed_times(name: str, data: bytes) -> bytes:
    # openpyxl stamps the save time into the document properties whatever we set.
    if name == "docProps/core.xml":
        return _CORE_TIMES.sub(rb"\g<1>2000-01-01T00:00:00Z\g<2>", data)
    return data


RENDERERS = {"xlsx": to_xlsx, "csv": to_csv, "json": to_json}


def render(report: dict, fmt: str) -> bytes:
    return RENDERERS[fmt](report)


def file_name(month: str, scope: str, fmt: str) -> str:
    return f"tongban-{month}-{scope}.{EXTENSIONS[fmt]}"
