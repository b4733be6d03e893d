"""What the cells of a catalog file mean: every row checked, every error kept, in Chinese.

`parse_catalog` turns the raw tables of `catalog.tabular` into items and agreements, or into a
list of errors that each name the sheet, the row, the column and what is wrong, so that a clerk
can fix the whole file in one go. Plain Python and marshmallow: no database here.
"""

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar

from marshmallow import EXCLUDE, Schema, ValidationError, validate, validates_schema
from marshmallow import fields as mf
from openpyxl.utils import get_column_letter

from catalog.districts import KUNMING_DISTRICTS
from catalog.elements import (
    AGREEMENT_STATUSES,
    DELIVERY_MODES,
    EXERCISE_LEVELS,
    HANDLING_MODES,
    ITEM_CONTENT_FIELDS,
    ITEM_TYPES,
    MATERIAL_FIELDS,
    MATERIAL_FORMS,
    NECESSITY,
    TERRITORIAL_BASES_ZH,
)
from catalog.layout import AGREEMENT_ITEMS, AGREEMENTS, ITEMS, LIST_SEPARATORS, MATERIALS, Sheet
from catalog.tabular import RawTable

ZH_MESSAGES = {
    "required": "必填。",
    "null": "必填。",
    "validator_failed": "取值无效。",
    "control": "含有不可见的控制字符，请删除后重新填写。",
}
# NUL and other control characters: the database refuses NUL and XLSX cannot hold the rest.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


class _Clean(mf.String):
    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if _CONTROL.search(text):
            raise self.make_error("control")
        return text


_SPLIT = re.compile(f"[{re.escape(LIST_SEPARATORS)}\\s]+")


def _split(value: object) -> list[str]:
    return [part for part in _SPLIT.split(str(value)) if part]


class Text(_Clean):
    default_error_messages: ClassVar[dict[str, str]] = {**ZH_MESSAGES, "invalid": "应为文字。"}

    def __init__(self, max_length: int, **kwargs):
        kwargs.setdefault(
            "validate", validate.Length(max=max_length, error="不能超过{max}个字符。")
        )
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        return super()._deserialize(value, attr, data, **kwargs)


class Code(_Clean):
    """A code cell; a number there means Excel dropped the leading zeros."""

    default_error_messages: ClassVar[dict[str, str]] = {
        **ZH_MESSAGES,
        "invalid": "应为文字。",
        "number": "编码被 Excel 当成了数字（开头的 0 会丢失），请将该列设为文本格式后重新填写。",
    }

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, int | float) and not isinstance(value, bool):
            raise self.make_error("number")
        return super()._deserialize(value, attr, data, **kwargs)


def basic_code(**kwargs) -> Code:
    return Code(
        validate=validate.Regexp(r"^[0-9A-Z]{12}$", error="应为12位数字或大写字母。"), **kwargs
    )


class Count(mf.Integer):
    default_error_messages: ClassVar[dict[str, str]] = {**ZH_MESSAGES, "invalid": "应为整数。"}

    def __init__(self, low: int, high: int, **kwargs):
        super().__init__(
            strict=False,
            validate=validate.Range(min=low, max=high, error="应为{min}到{max}之间的整数。"),
            **kwargs,
        )

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, float) and not value.is_integer():
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class Label(mf.Field):
    """One value of a vocabulary, written as its Chinese label (or its English key)."""

    default_error_messages: ClassVar[dict[str, str]] = {
        **ZH_MESSAGES,
        "choice": "应为以下之一：{choices}。",
    }

    def __init__(self, vocabulary: dict[str, str], **kwargs):
        super().__init__(**kwargs)
        self.vocabulary = vocabulary
        self.by_label = {label: key for key, label in vocabulary.items()} | {
            key: key for key in vocabulary
        }

    def _deserialize(self, value, attr, data, **kwargs):
        key = self.by_label.get(str(value).strip())
        if key is None:
            raise self.make_error("choice", choices="、".join(self.vocabulary.values()))
        return key


class Labels(Label):
    """Several values of a vocabulary in one cell, separated by 、 or commas."""

    def _deserialize(self, value, attr, data, **kwargs):
        keys = {super(Labels, self)._deserialize(part, attr, data) for part in _split(value)}
        if not keys:
            raise self.make_error("required")
        return [key for key in self.vocabulary if key in keys]  # one order, whatever typed


class YesNo(mf.Field):
    default_error_messages: ClassVar[dict[str, str]] = {
        **ZH_MESSAGES,
        "invalid": "应填“是”或“否”。",
    }
    VALUES: ClassVar[dict[str, bool]] = {
        "是": True,
        "否": False,
        "y": True,
        "n": False,
        "true": True,
        "false": False,
    }

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            return value
        if (answer := self.VALUES.get(str(value).strip().lower())) is None:
            raise self.make_error("invalid")
        return answer


class Day(mf.Field):
    default_error_messages: ClassVar[dict[str, str]] = {
        **ZH_MESSAGES,
        "invalid": "应为日期，如 2026-01-01。",
    }

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, date):
            return value
        for pattern in ("%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日"):
            try:
                return datetime.strptime(str(value).strip(), pattern).date()
            except ValueError:
                continue
        raise self.make_error("invalid")


class Words(mf.Field):
    default_error_messages: ClassVar[dict[str, str]] = {
        **ZH_MESSAGES,
        "long": "每个别名不能超过50个字符。",
    }

    def _deserialize(self, value, attr, data, **kwargs):
        if _CONTROL.search(str(value)):
            raise self.make_error("control")
        words = list(dict.fromkeys(_split(value)))
        if any(len(w) > 50 for w in words):
            raise self.make_error("long")
        return words


DISTRICT_BY_NAME = {d.name: d.code for d in KUNMING_DISTRICTS} | {
    d.code: d.code for d in KUNMING_DISTRICTS
}


class Districts(mf.Field):
    default_error_messages: ClassVar[dict[str, str]] = {
        **ZH_MESSAGES,
        "unknown": "未知的行政区：{names}。请填写昆明市的区县名称或6位行政区划代码。",
        "too_few": "通办协议至少涉及两个行政区。",
    }

    def _deserialize(self, value, attr, data, **kwargs):
        parts = _split(value)
        unknown = [p for p in parts if p not in DISTRICT_BY_NAME]
        if unknown:
            raise self.make_error("unknown", names="、".join(unknown))
        codes = sorted({DISTRICT_BY_NAME[p] for p in parts})
        if len(codes) < 2:
            raise self.make_error("too_few")
        return codes


def _optional(field_: mf.Field) -> mf.Field:
    field_.allow_none = True
    field_.load_default = None
    field_.required = False
    return field_


def _h(sheet: Sheet, name: str) -> dict[str, Any]:
    return {"data_key": sheet.header_of(name)}


class ItemRowSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    basic_code = basic_code(required=True, **_h(ITEMS, "basic_code"))
    implementation_code = _optional(
        Code(validate=validate.Length(max=64), **_h(ITEMS, "implementation_code"))
    )
    name = Text(200, required=True, **_h(ITEMS, "name"))
    aliases = Words(load_default=list, allow_none=True, **_h(ITEMS, "aliases"))
    item_type = Label(ITEM_TYPES, required=True, **_h(ITEMS, "item_type"))
    department = Text(100, required=True, **_h(ITEMS, "department"))
    exercise_level = Label(EXERCISE_LEVELS, required=True, **_h(ITEMS, "exercise_level"))
    territorial_basis = Label(TERRITORIAL_BASES_ZH, required=True, **_h(ITEMS, "territorial_basis"))
    legal_basis = _optional(Text(2000, **_h(ITEMS, "legal_basis")))
    statutory_limit_days = Count(1, 720, required=True, **_h(ITEMS, "statutory_limit_days"))
    statutory_limit_note = _optional(Text(500, **_h(ITEMS, "statutory_limit_note")))
    promised_limit_days = Count(0, 720, required=True, **_h(ITEMS, "promised_limit_days"))
    promised_limit_note = _optional(Text(500, **_h(ITEMS, "promised_limit_note")))
    acceptance_conditions = _optional(Text(2000, **_h(ITEMS, "acceptance_conditions")))
    visits_required = Count(0, 10, required=True, **_h(ITEMS, "visits_required"))
    fee_charged = YesNo(required=True, **_h(ITEMS, "fee_charged"))
    fee_basis = _optional(Text(1000, **_h(ITEMS, "fee_basis")))
    delivery_modes = Labels(DELIVERY_MODES, required=True, **_h(ITEMS, "delivery_modes"))
    handling_modes = Labels(HANDLING_MODES, required=True, **_h(ITEMS, "handling_modes"))

    @validates_schema(skip_on_field_errors=False)
    def _limits_and_fees(self, data, **kwargs):
        statutory, promised = data.get("statutory_limit_days"), data.get("promised_limit_days")
        if statutory is not None and promised is not None and promised > statutory:
            raise ValidationError(
                f"承诺时限不能超过法定时限（{statutory}个工作日）。",
                ITEMS.header_of("promised_limit_days"),
            )
        if data.get("fee_charged") and not data.get("fee_basis"):
            raise ValidationError("收费事项须填写收费依据。", ITEMS.header_of("fee_basis"))


class MaterialRowSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    basic_code = basic_code(required=True, **_h(MATERIALS, "basic_code"))
    code = Code(
        required=True,
        validate=validate.Length(min=1, max=16, error="不能超过{max}个字符。"),
        **_h(MATERIALS, "code"),
    )
    name = Text(200, required=True, **_h(MATERIALS, "name"))
    necessity = Label(NECESSITY, required=True, **_h(MATERIALS, "necessity"))
    form = Label(MATERIAL_FORMS, required=True, **_h(MATERIALS, "form"))
    originals = Count(0, 20, required=True, **_h(MATERIALS, "originals"))
    copies = Count(0, 20, required=True, **_h(MATERIALS, "copies"))
    notes = _optional(Text(1000, **_h(MATERIALS, "notes")))
    deferrable = YesNo(load_default=False, allow_none=True, **_h(MATERIALS, "deferrable"))


class AgreementRowSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    code = Code(
        required=True,
        validate=validate.Length(min=1, max=32, error="不能超过{max}个字符。"),
        **_h(AGREEMENTS, "code"),
    )
    name = Text(200, required=True, **_h(AGREEMENTS, "name"))
    districts = Districts(required=True, **_h(AGREEMENTS, "districts"))
    effective_from = Day(required=True, **_h(AGREEMENTS, "effective_from"))
    effective_to = _optional(Day(**_h(AGREEMENTS, "effective_to")))
    status = Label(AGREEMENT_STATUSES, required=True, **_h(AGREEMENTS, "status"))
    # Absent: a new agreement gets 1 working day, an existing one keeps its setting.
    forward_limit_days = _optional(Count(0, 30, **_h(AGREEMENTS, "forward_limit_days")))
    note = _optional(Text(1000, **_h(AGREEMENTS, "note")))

    @validates_schema(skip_on_field_errors=False)
    def _range(self, data, **kwargs):
        start, end = data.get("effective_from"), data.get("effective_to")
        if start and end and end < start:
            raise ValidationError(
                "截止日期不能早于生效日期。", AGREEMENTS.header_of("effective_to")
            )


class AgreementItemRowSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    agreement_code = Code(required=True, **_h(AGREEMENT_ITEMS, "agreement_code"))
    basic_code = basic_code(required=True, **_h(AGREEMENT_ITEMS, "basic_code"))


@dataclass(frozen=True)
class RowError:
    """One thing wrong in a catalog file, where a person will look for it."""

    sheet: str  # the sheet's Chinese title
    row: int  # as Excel numbers it; 1 is the header
    column: str | None  # the Chinese header
    message: str  # Chinese
    cell: str | None = None  # e.g. "J5", when the column is in the file

    def as_dict(self) -> dict[str, Any]:
        return {
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "cell": self.cell,
            "message": self.message,
        }


@dataclass
class ParsedItem:
    row: int
    content: dict[str, Any]  # ITEM_CONTENT_FIELDS, materials included


@dataclass
class ParsedAgreement:
    row: int
    fields: dict[str, Any]
    items: list[tuple[int, str]] = field(default_factory=list)  # (row in 协议事项, basic code)


@dataclass
class ParsedCatalog:
    items: dict[str, ParsedItem] = field(default_factory=dict)
    agreements: dict[str, ParsedAgreement] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    # Every 基本编码 on the items sheet, its row valid or not.
    mentioned: set[str] = field(default_factory=set)


class _Collector:
    def __init__(self, tables: dict[str, RawTable]):
        self.tables = tables
        self.errors: list[RowError] = []

    def add(self, sheet: Sheet, row: int, column: str | None, message: str) -> None:
        cell = None
        headers = self.tables[sheet.key].headers if sheet.key in self.tables else []
        if column in headers:
            cell = f"{get_column_letter(headers.index(column) + 1)}{row}"
        self.errors.append(RowError(sheet.title, row, column, message, cell))

    def rows(self, sheet: Sheet, schema: Schema) -> list[tuple[int, dict[str, Any]]] | None:
        """The rows of a sheet that load cleanly, errors recorded for the others; None when
        the sheet is missing or lacks columns (one error for that, not one per row)."""
        table = self.tables.get(sheet.key)
        if table is None:
            if sheet.required:
                self.add(sheet, 1, None, f"缺少工作表“{sheet.title}”（CSV 文件 {sheet.key}.csv）。")
            return None
        optional = {sheet.header_of(f) for f in sheet.optional_columns}
        missing = [h for h in sheet.headers if h not in table.headers and h not in optional]
        for header in missing:
            self.add(sheet, 1, header, "缺少此列。")
        if missing:
            return None
        loaded = []
        for number, cells in table.rows:
            try:
                # Empty cells are left out, so that optional columns take their defaults.
                present = {k: v for k, v in cells.items() if v is not None}
                loaded.append((number, schema.load(present)))
            except ValidationError as err:
                for column, messages in err.normalized_messages().items():
                    for message in messages if isinstance(messages, list) else [messages]:
                        self.add(sheet, number, None if column == "_schema" else column, message)
        return loaded


def _items(c: _Collector) -> dict[str, ParsedItem]:
    items: dict[str, ParsedItem] = {}
    header = ITEMS.header_of("basic_code")
    for number, data in c.rows(ITEMS, ItemRowSchema()) or []:
        code = data.pop("basic_code")
        if code in items:
            c.add(ITEMS, number, header, f"基本编码与第{items[code].row}行重复。")
            continue
        items[code] = ParsedItem(number, {**data, "materials": []})
    return items


def _materials(c: _Collector, items: dict[str, ParsedItem], item_rows_ok: set[str]) -> None:
    seen: dict[tuple[str, str], int] = {}
    rows = c.rows(MATERIALS, MaterialRowSchema())
    if rows is None:
        return
    for number, data in rows:
        code, key = data["basic_code"], (data["basic_code"], data["code"])
        if code not in items:
            if code not in item_rows_ok:
                c.add(
                    MATERIALS,
                    number,
                    MATERIALS.header_of("basic_code"),
                    "该事项不在“事项”工作表中。",
                )
            continue
        if key in seen:
            c.add(
                MATERIALS, number, MATERIALS.header_of("code"), f"材料编码与第{seen[key]}行重复。"
            )
            continue
        seen[key] = number
        items[code].content["materials"].append({f: data[f] for f in MATERIAL_FIELDS})
    for item in items.values():
        # One order whatever the rows' order, so that sorting the sheet is not a change.
        item.content["materials"].sort(key=lambda m: m["code"])
        if not item.content["materials"]:
            c.add(
                ITEMS, item.row, ITEMS.header_of("basic_code"), "该事项在“材料”工作表中没有材料。"
            )


def _agreements(c: _Collector) -> dict[str, ParsedAgreement]:
    agreements: dict[str, ParsedAgreement] = {}
    for number, data in c.rows(AGREEMENTS, AgreementRowSchema()) or []:
        code = data["code"]
        if code in agreements:
            c.add(
                AGREEMENTS,
                number,
                AGREEMENTS.header_of("code"),
                f"协议编码与第{agreements[code].row}行重复。",
            )
            continue
        agreements[code] = ParsedAgreement(number, data)
    if agreements and AGREEMENT_ITEMS.key not in c.tables:
        c.add(AGREEMENT_ITEMS, 1, None, "填写了“协议”工作表时，须同时提供“协议事项”工作表。")
    listed: dict[tuple[str, str], int] = {}
    for number, data in c.rows(AGREEMENT_ITEMS, AgreementItemRowSchema()) or []:
        key = (data["agreement_code"], data["basic_code"])
        agreement = agreements.get(key[0])
        if agreement is None:
            c.add(
                AGREEMENT_ITEMS,
                number,
                AGREEMENT_ITEMS.header_of("agreement_code"),
                "该协议不在“协议”工作表中。",
            )
        elif key in listed:
            c.add(
                AGREEMENT_ITEMS,
                number,
                AGREEMENT_ITEMS.header_of("basic_code"),
                f"与第{listed[key]}行重复。",
            )
        else:
            listed[key] = number
            agreement.items.append((number, key[1]))
    return agreements


def parse_catalog(tables: dict[str, RawTable]) -> ParsedCatalog:
    """Every item and agreement of the file that reads well, and every error in the rest."""
    c = _Collector(tables)
    items = _items(c)
    # Items whose row had errors are still "in the file": their materials need no second error.
    mentioned = {
        str(cells.get(ITEMS.header_of("basic_code")))
        for _, cells in tables.get(ITEMS.key, RawTable([])).rows
    }
    _materials(c, items, mentioned)
    agreements = _agreements(c)
    order = {
        sheet.title: index
        for index, sheet in enumerate((ITEMS, MATERIALS, AGREEMENTS, AGREEMENT_ITEMS))
    }
    c.errors.sort(key=lambda e: (order[e.sheet], e.row))
    return ParsedCatalog(items=items, agreements=agreements, errors=c.errors, mentioned=mentioned)


def content_of(data: dict[str, Any]) -> dict[str, Any]:
    """Only the data elements that make an item version, in a stable order."""
    return {f: data.get(f) for f in ITEM_CONTENT_FIELDS}
