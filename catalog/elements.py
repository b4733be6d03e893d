"""The vocabulary of the national item catalog's data elements (GB/T 39554 family).

Each mapping goes from the stable English key the database and the API use to the Chinese label
that catalog files and the window show. Plain Python: validation and tests need no database.
"""

from catalog.routing import BASIS_NAMES_ZH

ITEM_TYPES: dict[str, str] = {
    "licensing": "行政许可",
    "payment": "行政给付",
    "confirmation": "行政确认",
    "adjudication": "行政裁决",
    "reward": "行政奖励",
    "other_power": "其他行政权力",
    "public_service": "公共服务",
}

EXERCISE_LEVELS: dict[str, str] = {
    "national": "国家级",
    "provincial": "省级",
    "municipal": "市级",
    "county": "县级",
    "township": "乡级",
    "village": "村级",
}

# 必要性: only "required" materials are checked at intake; "conditional" ones apply in some cases.
NECESSITY: dict[str, str] = {
    "required": "必要",
    "conditional": "视情形提供",
    "optional": "非必要",
}

MATERIAL_FORMS: dict[str, str] = {
    "paper": "纸质",
    "electronic": "电子",
    "both": "纸质和电子",
}

DELIVERY_MODES: dict[str, str] = {
    "window": "窗口领取",
    "mail": "邮寄送达",
}

HANDLING_MODES: dict[str, str] = {
    "proxy": "异地代收代办",
    "online": "全程网办",
    "multi_site": "多地联办",
}

AGREEMENT_STATUSES: dict[str, str] = {
    "active": "生效",
    "suspended": "暂停",
    "ended": "终止",
}

TERRITORIAL_BASES_ZH: dict[str, str] = BASIS_NAMES_ZH

# The data elements of one item version, in the order files and the API list them.
ITEM_CONTENT_FIELDS: tuple[str, ...] = (
    "implementation_code",
    "name",
    "aliases",
    "item_type",
    "department",
    "exercise_level",
    "territorial_basis",
    "legal_basis",
    "statutory_limit_days",
    "statutory_limit_note",
    "promised_limit_days",
    "promised_limit_note",
    "acceptance_conditions",
    "visits_required",
    "fee_charged",
    "fee_basis",
    "delivery_modes",
    "handling_modes",
    "materials",
)

MATERIAL_FIELDS: tuple[str, ...] = (
    "code",
    "name",
    "necessity",
    "form",
    "originals",
    "copies",
    "notes",
    "deferrable",
)


def is_required(material: dict) -> bool:
    """Whether intake must see this material (or a 容缺 commitment for it)."""
    return material.get("necessity") == "required"
