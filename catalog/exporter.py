"""Exporting the catalog, and the empty template, in the layout the importer reads back."""

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from catalog.districts import DISTRICT_NAMES
from catalog.elements import (
    AGREEMENT_STATUSES,
    DELIVERY_MODES,
    EXERCISE_LEVELS,
    HANDLING_MODES,
    ITEM_TYPES,
    MATERIAL_FORMS,
    NECESSITY,
    TERRITORIAL_BASES_ZH,
)
from catalog.layout import AGREEMENTS, ITEMS, LIST_JOINER, MATERIALS
from catalog.models import Agreement, Item
from catalog.repository import versions_in_force
from catalog.tabular import write_csv_zip, write_xlsx

FORMATS = ("xlsx", "csv")
MEDIA_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "application/zip",
}


def _yes_no(value: bool) -> str:
    return "是" if value else "否"


def _labels(vocabulary: dict[str, str], keys: list[str]) -> str:
    return LIST_JOINER.join(vocabulary[k] for k in keys)


def catalog_tables(session: Session, day: date) -> dict[str, list[dict]]:
    """Every item's version in force on `day` and every agreement, as the file's rows."""
    version = versions_in_force(day)
    rows = session.execute(
        select(Item.basic_code, version)
        .join(version, version.item_id == Item.id)
        .order_by(Item.basic_code)
    )
    items, materials = [], []
    for code, v in rows:
        items.append(
            {
                **v.content(),
                "basic_code": code,
                "aliases": LIST_JOINER.join(v.aliases),
                "item_type": ITEM_TYPES[v.item_type],
                "exercise_level": EXERCISE_LEVELS[v.exercise_level],
                "territorial_basis": TERRITORIAL_BASES_ZH[v.territorial_basis],
                "fee_charged": _yes_no(v.fee_charged),
                "delivery_modes": _labels(DELIVERY_MODES, v.delivery_modes),
                "handling_modes": _labels(HANDLING_MODES, v.handling_modes),
            }
        )
        materials += [
            {
                **m,
                "basic_code": code,
                "necessity": NECESSITY[m["necessity"]],
                "form": MATERIAL_FORMS[m["form"]],
                "deferrable": _yes_no(m["deferrable"]),
            }
            for m in v.materials
        ]
    agreements, agreement_items = [], []
    query = select(Agreement).options(
        selectinload(Agreement.districts), selectinload(Agreement.items)
    )
    for a in session.scalars(query.order_by(Agreement.code)):
        agreements.append(
            {
                "code": a.code,
                "name": a.name,
                "districts": LIST_JOINER.join(DISTRICT_NAMES[d.code] for d in a.districts),
                "effective_from": a.effective_from,
                "effective_to": a.effective_to,
                "status": AGREEMENT_STATUSES[a.status],
                "forward_limit_days": a.forward_limit_days,
                "note": a.note,
            }
        )
        agreement_items += [
            {"agreement_code": a.code, "basic_code": code}
            for code in sorted(i.basic_code for i in a.items)
        ]
    return {
        "items": items,
        "materials": materials,
        "agreements": agreements,
        "agreement_items": agreement_items,
    }


def _choices(vocabulary: dict[str, str]) -> str:
    return "、".join(vocabulary.values())


def guide() -> list[tuple[str, str]]:
    """What to write in each column that has rules, for the template's 填写说明."""
    h = ITEMS.header_of
    return [
        ("文件说明", "每个事项一行；其材料写在“材料”工作表，每项材料一行。多个取值用“、”分隔。"),
        (h("basic_code"), "12位数字或大写字母。请保持该列为文本格式，以免开头的 0 丢失。"),
        (h("item_type"), _choices(ITEM_TYPES)),
        (h("exercise_level"), _choices(EXERCISE_LEVELS)),
        (h("territorial_basis"), _choices(TERRITORIAL_BASES_ZH) + "：决定由哪个区县办理。"),
        (h("promised_limit_days"), "工作日数，不超过法定办结时限；0 表示即办。"),
        (h("fee_charged"), "是、否；收费事项须填写收费依据。"),
        (h("delivery_modes"), _choices(DELIVERY_MODES)),
        (h("handling_modes"), _choices(HANDLING_MODES)),
        (MATERIALS.header_of("necessity"), _choices(NECESSITY)),
        (MATERIALS.header_of("form"), _choices(MATERIAL_FORMS)),
        (MATERIALS.header_of("deferrable"), "是、否：是否允许容缺受理（申请人承诺后补交）。"),
        (AGREEMENTS.header_of("districts"), "两个或以上区县，填名称或6位行政区划代码。"),
        (AGREEMENTS.header_of("status"), _choices(AGREEMENT_STATUSES)),
        ("协议事项", "每行一个协议编码和一个基本编码；导入后协议的事项清单即为这些行。"),
    ]


def _write(tables: dict[str, list[dict]], fmt: str) -> bytes:
    if fmt == "xlsx":
        return write_xlsx(tables, guide())
    text = "\n".join(f"{column}：{rule}" for column, rule in guide()) + "\n"
    return write_csv_zip(tables, {"填写说明.txt": "\ufeff" + text})


def export_catalog(session: Session, day: date, fmt: str) -> bytes:
    """The catalog in force on `day` as an XLSX workbook or a zip of CSV files."""
    return _write(catalog_tables(session, day), fmt)


def template(fmt: str) -> bytes:
    """An empty catalog file with the headers and the 填写说明."""
    return _write({}, fmt)
