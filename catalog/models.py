"""Catalog tables: districts, items, and the agreements that cover items."""

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog.elements import EXERCISE_LEVELS, ITEM_CONTENT_FIELDS, ITEM_TYPES
from catalog.orm import Base, one_of
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
    """A government-service item (事项), known by its 基本编码; its data live in versions."""

    __tablename__ = "items"

    id: Mapped[int] = mapped_column(primary_key=True)
    basic_code: Mapped[str] = mapped_column(String(12), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    versions: Mapped[list["ItemVersion"]] = relationship(
        back_populates="item", order_by="ItemVersion.version_no"
    )


class ItemVersion(Base):
    """An item's data elements from a date on. Versions are never changed once written.

    The version in force on a day is the one with the latest (effective_from, version_no) not
    after that day; a case records the version it was accepted under.
    """

    __tablename__ = "item_versions"
    __table_args__ = (
        UniqueConstraint("item_id", "version_no", name="uq_item_versions_item_version"),
        Index("ix_item_versions_in_force", "item_id", "effective_from", "version_no"),
        CheckConstraint(one_of("territorial_basis", TERRITORIAL_BASES), name="territorial_basis"),
        CheckConstraint(one_of("item_type", ITEM_TYPES), name="item_type"),
        CheckConstraint(one_of("exercise_level", EXERCISE_LEVELS), name="exercise_level"),
        CheckConstraint("promised_limit_days <= statutory_limit_days", name="promised_within"),
        CheckConstraint("visits_required >= 0", name="visits"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    version_no: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[date] = mapped_column(Date)
    source: Mapped[str | None] = mapped_column(String(200))  # file or tool that wrote it
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    implementation_code: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    aliases: Mapped[list] = mapped_column(JSONB, default=list)
    item_type: Mapped[str] = mapped_column(String(16))
    department: Mapped[str] = mapped_column(String(100), index=True)
    exercise_level: Mapped[str] = mapped_column(String(16))
    territorial_basis: Mapped[str] = mapped_column(String(32))
    legal_basis: Mapped[str | None] = mapped_column(Text)
    statutory_limit_days: Mapped[int] = mapped_column(Integer)
    statutory_limit_note: Mapped[str | None] = mapped_column(Text)
    promised_limit_days: Mapped[int] = mapped_column(Integer)
    promised_limit_note: Mapped[str | None] = mapped_column(Text)
    acceptance_conditions: Mapped[str | None] = mapped_column(Text)
    visits_required: Mapped[int] = mapped_column(Integer)
    fee_charged: Mapped[bool] = mapped_column(Boolean)
    fee_basis: Mapped[str | None] = mapped_column(Text)
    delivery_modes: Mapped[list] = mapped_column(JSONB)  # keys of DELIVERY_MODES
    handling_modes: Mapped[list] = mapped_column(JSONB)  # keys of HANDLING_MODES
    # [{"code", "name", "necessity", "form", "originals", "copies", "notes", "deferrable"}]
    materials: Mapped[list] = mapped_column(JSONB)

    search_names: Mapped[str] = mapped_column(Text)
    search_pinyin: Mapped[str] = mapped_column(Text)
    search_initials: Mapped[str] = mapped_column(Text)

    item: Mapped[Item] = relationship(back_populates="versions")

    @property
    def basic_code(self) -> str:
        return self.item.basic_code

    def content(self) -> dict:
        """The data elements alone, comparable with a parsed catalog row."""
        return {f: getattr(self, f) for f in ITEM_CONTENT_FIELDS}


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
    # Working days Tongban has to deliver a case to the responsible district (转递时限).
    forward_limit_days: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    districts: Mapped[list[District]] = relationship(secondary=agreement_districts)
    items: Mapped[list[Item]] = relationship(secondary=agreement_items)
