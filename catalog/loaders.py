"""Loading districts and catalog files into the database. Loads are idempotent upserts."""

import json
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.districts import KUNMING_DISTRICTS
from catalog.models import Agreement, District, Item

DATA_DIR = Path(__file__).parent / "data"
STARTER_CATALOG = DATA_DIR / "starter_catalog.json"

ITEM_FIELDS = (
    "implementation_code",
    "name",
    "department",
    "territorial_basis",
    "statutory_limit_days",
    "promised_limit_days",
    "materials",
)


def load_districts(session: Session) -> int:
    """Insert or update Kunming's districts; returns how many there are."""
    existing = {d.code: d for d in session.scalars(select(District))}
    for info in KUNMING_DISTRICTS:
        district = existing.get(info.code) or District(code=info.code)
        district.name, district.kind = info.name, info.kind
        session.add(district)
    session.flush()
    return len(KUNMING_DISTRICTS)


def load_catalog(session: Session, path: Path = STARTER_CATALOG) -> dict[str, int]:
    """Insert or update the items and agreements of a catalog file; returns counts."""
    data = json.loads(path.read_text(encoding="utf-8"))
    items = {i.basic_code: i for i in session.scalars(select(Item))}
    for row in data["items"]:
        item = items.get(row["basic_code"]) or Item(basic_code=row["basic_code"])
        for field in ITEM_FIELDS:
            setattr(item, field, row.get(field))
        session.add(item)
        items[item.basic_code] = item
    districts = {d.code: d for d in session.scalars(select(District))}
    agreements = {a.code: a for a in session.scalars(select(Agreement))}
    for row in data["agreements"]:
        agreement = agreements.get(row["code"]) or Agreement(code=row["code"])
        agreement.name = row["name"]
        agreement.status = row["status"]
        agreement.effective_from = date.fromisoformat(row["effective_from"])
        agreement.effective_to = row["effective_to"] and date.fromisoformat(row["effective_to"])
        agreement.districts = [districts[c] for c in row["districts"]]
        agreement.items = [items[c] for c in row["items"]]
        session.add(agreement)
    session.flush()
    return {"items": len(data["items"]), "agreements": len(data["agreements"])}
