"""Reading and writing catalog files: XLSX workbooks, and CSV files in a zip or a folder.

Only the file format lives here; what the cells mean is `catalog.rows`' job. Rows keep the number
a person sees in Excel (the header is row 1), so every error can point at a cell.
"""

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from catalog.layout import SHEETS, Sheet

# A catalog file is a few MB at most; refuse archives that would unpack to far more.
MAX_UNPACKED_BYTES = 64 * 1024 * 1024
MAX_ROWS = 50_000
TEXT_COLUMNS = {"basic_code", "implementation_code", "code", "agreement_code"}


class FileFormatError(Exception):
    """The file is not a catalog file Tongban can read; says why in Chinese and English."""

    def __init__(self, message_zh: str, message: str):
        super().__init__(message)
        self.message_zh = message_zh


@dataclass
class RawTable:
    """One sheet as read: its headers and (row number, {header: value}) pairs."""

    headers: list[str]
    rows: list[tuple[int, dict[str, object]]] = field(default_factory=list)


def _clean(value: object) -> object:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _table(lines: Iterable[Sequence[object]]) -> RawTable:
    rows = iter(lines)
    headers = [str(_clean(h) or "") for h in next(rows, [])]
    while headers and not headers[-1]:
        headers.pop()
    table = RawTable(headers=headers)
    for number, values in enumerate(rows, start=2):
        if number > MAX_ROWS + 1:
            raise FileFormatError(
                f"每个工作表最多{MAX_ROWS}行；请检查表格末尾是否有多余的内容。",
                f"More than {MAX_ROWS} rows in a sheet.",
            )
        cells = {h: _clean(v) for h, v in zip(headers, values, strict=False) if h}
        if any(v is not None for v in cells.values()):
            table.rows.append((number, cells))
    return table


def _check_size(archive: zipfile.ZipFile) -> None:
    if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED_BYTES:
        raise FileFormatError(
            "文件解压后过大，请检查文件。", "The archive unpacks to too much data."
        )


def _sheet_rows(book, title: str) -> Iterable[Sequence[object]]:
    ws = book[title]
    width = len(next(ws.iter_rows(max_row=1, values_only=True), ()))
    # Bound the width by the header row: a stray cell far to the right costs nothing.
    return ws.iter_rows(values_only=True, max_col=max(width, 1))


def _read_xlsx(data: bytes) -> dict[str, RawTable]:
    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        return {
            sheet.key: _table(_sheet_rows(book, sheet.title))
            for sheet in SHEETS
            if sheet.title in book.sheetnames
        }
    finally:
        book.close()


def _decode_csv(raw: bytes, name: str) -> str:
    # Excel on Chinese Windows saves CSV as GB18030 (GBK) unless told to use UTF-8.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileFormatError(f"{name} 的编码无法识别，请保存为 UTF-8。", f"{name}: unknown encoding")


def read_csv(raw: bytes, name: str) -> RawTable:
    """One CSV file (UTF-8, with or without BOM, or GBK) as a table."""
    try:
        return _table(csv.reader(io.StringIO(_decode_csv(raw, name))))
    except csv.Error as err:
        raise FileFormatError(f"{name} 不是有效的 CSV 文件：{err}", f"{name}: {err}") from err


def _sheet_for_file(name: str) -> Sheet | None:
    stem = Path(name).name.removesuffix(".csv").removesuffix(".CSV")
    return next((s for s in SHEETS if stem in (s.key, s.title)), None)


def _member_name(info: zipfile.ZipInfo) -> str:
    # Zips made on Chinese Windows store names in GBK without the UTF-8 flag.
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("gb18030")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def _read_csv_zip(archive: zipfile.ZipFile) -> dict[str, RawTable]:
    tables: dict[str, RawTable] = {}
    for info in archive.infolist():
        name = _member_name(info)
        sheet = _sheet_for_file(name)
        if sheet is not None and not info.is_dir():
            tables[sheet.key] = read_csv(archive.read(info), name)
    if not tables:
        raise FileFormatError(
            "压缩包中没有 items.csv（事项.csv）等目录文件。",
            "The zip holds no catalog CSV files (items.csv, materials.csv, ...).",
        )
    return tables


def read_catalog(source: bytes | Path) -> dict[str, RawTable]:
    """Read an XLSX workbook, a zip of CSV files, or a folder of CSV files."""
    if isinstance(source, Path) and source.is_dir():
        return {
            sheet.key: read_csv(path.read_bytes(), path.name)
            for path in sorted(source.iterdir())
            if (sheet := _sheet_for_file(path.name)) is not None
        }
    data = source.read_bytes() if isinstance(source, Path) else source
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as err:
        raise FileFormatError(
            "请上传 XLSX 文件，或包含 CSV 文件的 zip 压缩包。",
            "Send an XLSX workbook or a zip of CSV files.",
        ) from err
    with archive:
        _check_size(archive)
        try:
            if "[Content_Types].xml" in archive.namelist():
                return _read_xlsx(data)
            return _read_csv_zip(archive)
        except FileFormatError:
            raise
        except Exception as err:  # zipfile, zlib and openpyxl raise many kinds for damage
            raise FileFormatError(
                "文件已损坏或格式不受支持，无法读取。", f"Unreadable file: {err!r}"
            ) from err


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def write_csv_zip(tables: dict[str, list[dict]], extra: dict[str, str] | None = None) -> bytes:
    """A zip with one CSV per sheet, UTF-8 with BOM so that Excel shows the Chinese."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for sheet in SHEETS:
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\r\n")
            writer.writerow(sheet.headers)
            for row in tables.get(sheet.key, []):
                writer.writerow([_cell_text(row.get(f)) for f, _ in sheet.columns])
            archive.writestr(f"{sheet.key}.csv", "\ufeff" + out.getvalue())
        for name, text in (extra or {}).items():
            archive.writestr(name, text)
    return buffer.getvalue()


HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


def write_xlsx(tables: dict[str, list[dict]], guide: list[tuple[str, str]] | None = None) -> bytes:
    """A workbook with one sheet per table, header frozen, code columns kept as text."""
    book = Workbook()
    book.remove(book.active)
    for sheet in SHEETS:
        ws = book.create_sheet(sheet.title)
        ws.append(sheet.headers)
        for row in tables.get(sheet.key, []):
            ws.append([row.get(f) for f, _ in sheet.columns])
            for cell in ws[ws.max_row]:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.data_type = "s"  # text, never a formula
        for index, (name, header) in enumerate(sheet.columns, start=1):
            letter = get_column_letter(index)
            ws.column_dimensions[letter].width = max(10, min(40, len(header) * 2 + 4))
            ws.cell(1, index).font = HEADER_FONT
            ws.cell(1, index).fill = HEADER_FILL
            if name in TEXT_COLUMNS:
                # Codes have leading zeros; as numbers Excel would drop them.
                ws.column_dimensions[letter].number_format = "@"
                for cells in ws.iter_rows(min_col=index, max_col=index):
                    cells[0].number_format = "@"
        ws.freeze_panes = "A2"
    if guide:
        ws = book.create_sheet("填写说明")
        ws.append(["列", "说明"])
        for column, text in guide:
            ws.append([column, text])
        ws.column_dimensions["A"].width = 28
        ws.column_dimensions["B"].width = 90
        for cell in ws[1]:
            cell.font = HEADER_FONT
        for row in ws.iter_rows(min_row=2, max_col=2):
            row[1].alignment = Alignment(wrap_text=True)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
