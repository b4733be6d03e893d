"""The declarative base every table of Tongban hangs on.

It lives in the catalog, the bottom layer, so that service and workers can share one metadata
(one set of Alembic migrations) while imports still go one way: workers -> service -> catalog.
"""

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names make Alembic migrations reproducible and reviewable.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def one_of(column: str, keys) -> str:
    """A CHECK constraint's text: `column` takes one of `keys`."""
    return "{} IN ({})".format(column, ", ".join(f"'{k}'" for k in keys))


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
