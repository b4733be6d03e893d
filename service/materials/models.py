"""Files attached to a case against its item's materials list."""

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from catalog.orm import Base


class CaseFile(Base):
    """One scanned material. The bytes live in the file store under their SHA-256.

    Scans for a new application are uploaded first and named in it: until then the row has no
    case (staged), and a staged scan no application ever named is swept away.
    """

    __tablename__ = "case_files"
    __table_args__ = (
        CheckConstraint("purpose IN ('intake', 'supplement')", name="purpose"),
        Index("ix_case_files_sha256", "sha256"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    terminal_id: Mapped[int | None] = mapped_column(ForeignKey("terminals.id"))
    material_code: Mapped[str | None] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(16))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(64))
    original_name: Mapped[str] = mapped_column(String(200))
    uploaded_by: Mapped[str] = mapped_column(String(100))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OriginalMailing(Base):
    """Paper originals posted by the accepting window to the responsible district (邮件寄递)."""

    __tablename__ = "original_mailings"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    materials: Mapped[list] = mapped_column(JSONB)  # material codes in the envelope
    carrier: Mapped[str] = mapped_column(String(50))
    tracking_no: Mapped[str] = mapped_column(String(64))
    mailed_on: Mapped[date] = mapped_column(Date)
    mailed_by: Mapped[str] = mapped_column(String(100))
    arrived_on: Mapped[date | None] = mapped_column(Date)
    received_by: Mapped[str | None] = mapped_column(String(100))
