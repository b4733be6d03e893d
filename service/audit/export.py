"""The security log as a file for auditors (安全审计日志导出): CSV (UTF-8 with BOM, so Excel
shows the Chinese) or XLSX, one row per entry, Chinese column headers, times in Beijing time.

Entries hold no personal data or secrets (service/audit/security_log.py), but some values were
typed by whoever called (a username at a failed login): a value that a spreadsheet would run as
a formula is written as text.
"""

import csv
import io
import json
from collections.abc import Iterable

from openpyxl import Workbook
from openpyxl.styles import Font

from service.audit.models import SecurityEvent
from service.audit.security_log import ACTIONS_ZH
from service.clock import SHANGHAI

FORMATS = ("csv", "xlsx")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
OUTCOMES_ZH = {"ok": "成功", "failed": "失败", "refused": "拒绝"}
HEADERS = [
    "编号",
    "时间",
    "操作",
    "操作代码",
    "结果",
    "操作人",
    "操作人类型",
    "角色",
    "来源地址",
    "对象类型",
    "对象",
    "区县",
    "详情",
]
# What a spreadsheet takes for the start of a formula (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def row_of(event: SecurityEvent) -> list[str | int]:
    """One entry as the export's columns (HEADERS)."""
    return [
        event.id,
        event.occurred_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S"),
        ACTIONS_ZH.get(event.action, event.action),
        event.action,
        OUTCOMES_ZH.get(event.outcome, event.outcome),
        event.actor_name or "",
        event.actor_kind or "",
        event.actor_role or "",
        event.address or "",
        event.target_type,
        event.target or "",
        event.district_code or "",
        json.dumps(event.details or {}, ensure_ascii=False, sort_keys=True),
    ]


def _inert(value: str | int) -> str | int:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_csv(events: Iterable[SecurityEvent]) -> bytes:
    """CSV, UTF-8 with BOM, CRLF lines."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADERS)
    for event in events:
        writer.writerow([_inert(v) for v in row_of(event)])
    return ("\ufeff" + out.getvalue()).encode()


def to_xlsx(events: Iterable[SecurityEvent]) -> bytes:
    """One sheet, 安全审计日志, header bold and frozen; every text cell stays text."""
    book = Workbook()
    sheet = book.active
    sheet.title = "安全审计日志"
    sheet.append(HEADERS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for event in events:
        sheet.append(row_of(event))
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text, never a formula
    sheet.freeze_panes = "A2"
    for letter, width in (("B", 20), ("C", 18), ("K", 30), ("M", 60)):
        sheet.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


RENDER = {"csv": to_csv, "xlsx": to_xlsx}
