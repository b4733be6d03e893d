"""Catalog tables: districts, items, and the agreements that cover items."""

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog.orm import Base
from catalog.routing import TERRITORIAL_BASES


class District(Base):
    __tablename__ = "districts"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))


agreement_districts = Table(
    "agreement_districts",
    Base.metadata,
    Column("agreement_id", ForeignKey("agreements.id", ondelete="CASCADE"), primary_key=True),
    Column("district_code", ForeignKey("districts.code"), primary_key=True),
)

agreement_items = Table(
    "agreement_items",
    Base.metadata,
    Column("agreement_id", ForeignKey("agreements.id", ondelete="CASCADE"), primary_key=True),
    Column("item_id", ForeignKey("items.id"), primary_key=True, index=True),
)


class Item(Base):
    """A government-service item (事项) as the catalog lists it."""

    __tablename__ = "items"
    __table_args__ = (
        CheckConstraint(
            "territorial_basis IN ({})".format(", ".join(f"'{b}'" for b in TERRITORIAL_BASES)),
            name="territorial_basis",
        ),
        CheckConstraint("promised_limit_days <= statutory_limit_days", name="promised_within"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    basic_code: Mapped[str] = mapped_column(String(12), unique=True)
    implementation_code: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    department: Mapped[str] = mapped_column(String(100))
    territorial_basis: Mapped[str] = mapped_column(String(32))
    statutory_limit_days: Mapped[int] = mapped_column(Integer)
    promised_limit_days: Mapped[int] = mapped_column(Integer)
    # [{"code": "M1", "name": ..., "required": bool, "form": "paper|electronic", ...}]
    materials: Mapped[list] = mapped_column(JSONB, default=list)


class Agreement(Base):
    """A cross-district handling agreement (通办协议) between two or more districts."""

    __tablename__ = "agreements"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'suspended', 'ended')", name="status"),
        CheckConstraint(
            "effective_to IS NULL OR effective_to >= effective_from", name="effective_range"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    effective_from: Mapped[date] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="active")
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    districts: Mapped[list[District]] = relationship(secondary=agreement_districts)
    items: Mapped[list[Item]] = relationship(secondary=agreement_items)
