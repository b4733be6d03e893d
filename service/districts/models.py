"""How Tongban reaches each district's case system, and that connection's health."""

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from catalog.orm import Base


class DistrictConnector(Base):
    """One district's connector. No row means the internal one (Tongban's own back office).

    Read on every delivery, so an admin's change takes effect without restarting anything.
    """

    __tablename__ = "district_connectors"
    __table_args__ = (
        CheckConstraint("kind IN ('internal', 'http')", name="kind"),
        CheckConstraint("breaker_state IN ('closed', 'open', 'half_open')", name="breaker_state"),
    )

    district_code: Mapped[str] = mapped_column(ForeignKey("districts.code"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="internal")
    endpoint: Mapped[str | None] = mapped_column(String(500))  # deliveries are POSTed here
    status_endpoint: Mapped[str | None] = mapped_column(String(500))  # for reconciliation
    secret_enc: Mapped[bytes | None] = mapped_column(LargeBinary)  # shared HMAC secret
    connect_timeout: Mapped[float] = mapped_column(Float, default=3.0)
    read_timeout: Mapped[float] = mapped_column(Float, default=10.0)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    paused_reason: Mapped[str | None] = mapped_column(Text)
    paused_by: Mapped[str | None] = mapped_column(String(100))
    breaker_state: Mapped[str] = mapped_column(String(16), default="closed")
    breaker_failures: Mapped[int] = mapped_column(Integer, default=0)
    breaker_opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deliveries_total: Mapped[int] = mapped_column(Integer, default=0)
    failures_total: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
