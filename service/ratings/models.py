"""Citizens' ratings of a case (好差评), and the rectification a bad one opens."""

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    String,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from catalog.orm import Base, one_of
from service.ratings.levels import LEVELS, RECTIFICATION_STATUSES


class Rating(Base):
    """The citizen's rating of one case, recorded once by the accepting window."""

    __tablename__ = "ratings"
    __table_args__ = (CheckConstraint(one_of("level", LEVELS), name="level"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    level: Mapped[str] = mapped_column(String(24))
    comment: Mapped[str | None] = mapped_column(Text)
    terminal_id: Mapped[int | None] = mapped_column(ForeignKey("terminals.id"))
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    # Set when a supervisor upholds an appeal: the rating was given by mistake.
    voided: Mapped[bool] = mapped_column(Boolean, default=False)
    void_reason: Mapped[str | None] = mapped_column(Text)


class Rectification(Base):
    """The responsible district's work on a bad rating: call the citizen back, fix, report."""

    __tablename__ = "rectifications"
    __table_args__ = (CheckConstraint(one_of("status", RECTIFICATION_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    rating_id: Mapped[int] = mapped_column(ForeignKey("ratings.id"))
    district_code: Mapped[str] = mapped_column(ForeignKey("districts.code"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    callback_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    callback_by: Mapped[str | None] = mapped_column(String(100))
    callback_summary: Mapped[str | None] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[str | None] = mapped_column(String(100))
    appeal_reason: Mapped[str | None] = mapped_column(Text)
    appealed_by: Mapped[str | None] = mapped_column(String(100))
    appealed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status_before_appeal: Mapped[str | None] = mapped_column(String(16))
    review_decision: Mapped[str | None] = mapped_column(String(16))
    review_note: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[str | None] = mapped_column(String(100))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
