"""The layout of catalog files: sheets (or CSV files) and their Chinese column headers.

One table per sheet; the same layout serves import, export and the downloadable template.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Sheet:
    key: str  # English name, also the CSV file name without ".csv"
    title: str  # the XLSX sheet name
    columns: tuple[tuple[str, str], ...]  # (field, Chinese header)
    required: bool = True
    optional_columns: frozenset[str] = frozenset()  # fields a file may leave out

    @property
    def headers(self) -> list[str]:
        return [header for _, header in self.columns]

    def header_of(self, field: str) -> str:
        return dict(self.columns)[field]


ITEMS = Sheet(
    "items",
    "事项",
    (
        ("basic_code", "基本编码"),
        ("implementation_code", "实施编码"),
        ("name", "事项名称"),
        ("aliases", "别名"),
        ("item_type", "事项类型"),
        ("department", "实施部门"),
        ("exercise_level", "行使层级"),
        ("territorial_basis", "属地依据"),
        ("legal_basis", "设定依据"),
        ("statutory_limit_days", "法定办结时限（工作日）"),
        ("statutory_limit_note", "法定时限说明"),
        ("promised_limit_days", "承诺办结时限（工作日）"),
        ("promised_limit_note", "承诺时限说明"),
        ("acceptance_conditions", "受理条件"),
        ("visits_required", "到办事现场次数"),
        ("fee_charged", "是否收费"),
        ("fee_basis", "收费依据"),
        ("delivery_modes", "结果送达方式"),
        ("handling_modes", "办理形式"),
    ),
)

MATERIALS = Sheet(
    "materials",
    "材料",
    (
        ("basic_code", "基本编码"),
        ("code", "材料编码"),
        ("name", "材料名称"),
        ("necessity", "必要性"),
        ("form", "材料形式"),
        ("originals", "原件份数"),
        ("copies", "复印件份数"),
        ("notes", "填报说明"),
        ("deferrable", "容缺受理"),
    ),
)

AGREEMENTS = Sheet(
    "agreements",
    "协议",
    (
        ("code", "协议编码"),
        ("name", "协议名称"),
        ("districts", "参与行政区"),
        ("effective_from", "生效日期"),
        ("effective_to", "截止日期"),
        ("status", "状态"),
        ("forward_limit_days", "转递时限（工作日）"),
        ("note", "备注"),
    ),
    required=False,
    optional_columns=frozenset({"forward_limit_days"}),
)

AGREEMENT_ITEMS = Sheet(
    "agreement_items",
    "协议事项",
    (("agreement_code", "协议编码"), ("basic_code", "基本编码")),
    required=False,
)

SHEETS: tuple[Sheet, ...] = (ITEMS, MATERIALS, AGREEMENTS, AGREEMENT_ITEMS)

# Several values in one cell are separated by any of these.
LIST_SEPARATORS = "、,，;；/|"
LIST_JOINER = "、"
