"""Closed months: the figures frozen when each month closed, and the files exported from them;
and the open month's figures kept up to a recent event."""

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, LargeBinary, String, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from catalog.orm import Base


class StatMonth(Base):
    """A closed month. Its reports never change; later corrections go to a later month."""

    __tablename__ = "stat_months"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # YYYY-MM, Asia/Shanghai
    closed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[str] = mapped_column(String(100))
    reports: Mapped[dict] = mapped_column(JSONB)  # scope ("city" or a district) -> report
    manifest: Mapped[dict] = mapped_column(JSONB)  # file name -> SHA-256
    # The last timeline event the close saw: events after it that belong to this or an earlier
    # month are corrections, reported as adjustments by the next month.
    watermark: Mapped[int] = mapped_column(BigInteger)


class StatMonthFile(Base):
    """One exported file of a closed month, kept byte for byte."""

    __tablename__ = "stat_month_files"

    month: Mapped[str] = mapped_column(ForeignKey("stat_months.month"), primary_key=True)
    scope: Mapped[str] = mapped_column(String(6), primary_key=True)
    format: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)


class StatPartial(Base):
    """The open month's report rows for its events up to a watermark, kept by beat so that a
    report reads only the events after it (service/stats/partial.py)."""

    __tablename__ = "stat_partials"

    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # YYYY-MM, Asia/Shanghai
    # Every event up to this id had committed, or never would, when the rows were counted.
    watermark: Mapped[int] = mapped_column(BigInteger)
    # Completions on time are judged against due days that a calendar import may recount.
    calendar_revision: Mapped[uuid.UUID] = mapped_column(Uuid)
    # A digest of the counting query: a deploy that adds or redefines a figure changes it.
    counted_as: Mapped[str] = mapped_column(String(64))
    rows: Mapped[list] = mapped_column(JSONB)  # the city's base rows: group keys and figures
    made_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
