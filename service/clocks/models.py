"""Official calendar years imported by admins, and every deadline a case runs against."""

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from catalog.orm import Base, one_of
from service.clocks.deadlines import PROCEDURES, DueState, Kind


class CalendarYear(Base):
    """A year of official working-day data imported by an admin (it replaces bundled data)."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(200))
    imported_by: Mapped[str] = mapped_column(String(100))
    imported_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class CalendarDay(Base):
    """A holiday (放假) or a make-up workday (调休上班) of an imported year."""

    __tablename__ = "calendar_days"
    __table_args__ = (CheckConstraint("kind IN ('holiday', 'workday')", name="kind"),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    year: Mapped[int] = mapped_column(ForeignKey("calendar_years.year", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(50))


class Deadline(Base):
    """One deadline of a case. Due days are local (Asia/Shanghai) dates; overdue starts the day
    after `due_on`. `provisional` when counting touched a year without official data."""

    __tablename__ = "deadlines"
    __table_args__ = (
        UniqueConstraint("case_id", "kind", name="uq_deadlines_case_kind"),
        CheckConstraint(one_of("kind", [k.value for k in Kind]), name="kind"),
        CheckConstraint("state IN ('open', 'met', 'cancelled')", name="state"),
        CheckConstraint(one_of("due_state", [s.value for s in DueState]), name="due_state"),
        Index("ix_deadlines_open", "state", "due_on"),
        # The queue filtered by due state: the few open deadlines in that state.
        Index(
            "ix_deadlines_open_due_state",
            "due_state",
            "case_id",
            postgresql_where=text("state = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    kind: Mapped[str] = mapped_column(String(16))
    district_code: Mapped[str] = mapped_column(ForeignKey("districts.code"))  # whose clock
    starts_on: Mapped[date] = mapped_column(Date)
    limit_days: Mapped[int] = mapped_column(Integer)
    paused_days: Mapped[int] = mapped_column(Integer, default=0)
    paused_since: Mapped[date | None] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(16), default="open")
    met_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # What supervision last found, so that a second scan changes nothing.
    due_state: Mapped[str] = mapped_column(String(16), default=DueState.ON_TIME.value)
    due_state_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ClockPause(Base):
    """A special procedure (特别程序) that stopped a case's completion clock, and its end."""

    __tablename__ = "clock_pauses"
    __table_args__ = (CheckConstraint(one_of("procedure", PROCEDURES), name="procedure"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    procedure: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    started_on: Mapped[date] = mapped_column(Date)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_on: Mapped[date | None] = mapped_column(Date)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    end_note: Mapped[str | None] = mapped_column(Text)
    working_days: Mapped[int | None] = mapped_column(Integer)
