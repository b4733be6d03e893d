"""Loading districts and the sample catalog. Both loads are idempotent."""

from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.districts import KUNMING_DISTRICTS
from catalog.importer import ImportReport, import_catalog
from catalog.models import District
from catalog.tabular import read_catalog

DATA_DIR = Path(__file__).parent / "data"
SAMPLE_CATALOG = DATA_DIR / "sample"


def load_districts(session: Session) -> int:
    """Insert or update Kunming's districts; returns how many there are."""
    existing = {d.code: d for d in session.scalars(select(District))}
    for info in KUNMING_DISTRICTS:
        district = existing.get(info.code) or District(code=info.code)
        district.name, district.kind = info.name, info.kind
        session.add(district)
    session.flush()
    return len(KUNMING_DISTRICTS)


def load_sample_catalog(session: Session, today: date) -> ImportReport:
    """Import the sample catalog through the importer; unchanged items stay as they are."""
    return import_catalog(
        session, read_catalog(SAMPLE_CATALOG), effective_from=today, source="sample catalog"
    )
