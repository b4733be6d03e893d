"""Cases, their append-only timeline, the outbox, and intake bookkeeping."""

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog.models import Agreement, ItemVersion
from catalog.orm import Base
from service.cases.lifecycle import Status

_STATUS_CHECK = "status IN ({})".format(", ".join(f"'{s.value}'" for s in Status))


class Case(Base):
    """One application (办件). Personal data is held only encrypted, with keyed hashes."""

    __tablename__ = "cases"
    __table_args__ = (
        CheckConstraint(_STATUS_CHECK, name="status"),
        CheckConstraint("result_delivery IN ('window', 'mail')", name="result_delivery"),
        Index("ix_cases_responsible_status", "responsible_district", "status", "created_at"),
        Index("ix_cases_accepting_created", "accepting_district", "created_at"),
        # The queue page: a district's cases newest first.
        Index("ix_cases_responsible_created", "responsible_district", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_no: Mapped[str] = mapped_column(String(32), unique=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    # The item version the case was accepted under: later catalog changes do not touch it.
    item_version_id: Mapped[int] = mapped_column(ForeignKey("item_versions.id"))
    item_code: Mapped[str] = mapped_column(String(12))
    item_name: Mapped[str] = mapped_column(String(200))
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"))
    accepting_district: Mapped[str] = mapped_column(ForeignKey("districts.code"))
    accepting_center_id: Mapped[int] = mapped_column(ForeignKey("service_centers.id"))
    terminal_id: Mapped[int] = mapped_column(ForeignKey("terminals.id"))
    responsible_district: Mapped[str] = mapped_column(ForeignKey("districts.code"))
    status: Mapped[str] = mapped_column(String(32))
    # The name as it was kept before it was encrypted (migration 0014): read only until
    # `python -m service reencrypt` has sealed it and emptied this column; never written.
    applicant_name: Mapped[str | None] = mapped_column(String(40))
    applicant_name_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    applicant_name_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    # 张*三: what lists and exports show, kept so that a queue or a month's export never
    # decrypts (service/cases/personal.py:mask_name).
    applicant_name_masked: Mapped[str | None] = mapped_column(String(40))
    applicant_id_enc: Mapped[bytes] = mapped_column(LargeBinary)
    applicant_id_hash: Mapped[str] = mapped_column(String(64), index=True)
    phone_enc: Mapped[bytes] = mapped_column(LargeBinary)
    phone_hash: Mapped[str] = mapped_column(String(64))
    address_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The citizen's query code (service/cases/query_code.py), encrypted; None only for cases
    # taken before codes existed, until the accepting window reprints their receipt.
    query_code_enc: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    facts: Mapped[dict] = mapped_column(JSONB)
    materials: Mapped[list] = mapped_column(JSONB)
    # 容缺受理, handed in later: [{"code", "name", "promised_by": "YYYY-MM-DD", "note"}]
    deferred_materials: Mapped[list] = mapped_column(JSONB, default=list)
    result_delivery: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    # {"outcome": "approved|denied", "document_no": ...} once completed
    result: Mapped[dict | None] = mapped_column(JSONB)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # For districts with their own system: when their latest applied event happened (an
    # older one never rolls the case back), and when we last asked them for news.
    external_updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reconciled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    item_version: Mapped[ItemVersion] = relationship()
    # Kept on the case once loaded: the identity map alone holds objects only weakly, so each
    # get() of an agreement nobody kept was another SELECT.
    agreement: Mapped[Agreement] = relationship()
    events: Mapped[list["CaseEvent"]] = relationship(
        order_by="CaseEvent.seq", back_populates="case"
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy's own hook


class CaseEvent(Base):
    """One step in a case's timeline. Append-only: the database refuses updates and deletes."""

    __tablename__ = "case_events"
    __table_args__ = (
        UniqueConstraint("case_id", "seq", name="uq_case_events_case_seq"),
        Index("ix_case_events_type_occurred", "type", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    seq: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(32))
    status_from: Mapped[str | None] = mapped_column(String(32))
    status_to: Mapped[str] = mapped_column(String(32))
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_name: Mapped[str] = mapped_column(String(100))
    district_code: Mapped[str] = mapped_column(ForeignKey("districts.code"))
    reason: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict] = mapped_column(JSONB, default=dict)
    occurred_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    # Tamper evidence (service/audit/chain.py): the previous event's hash and this one's.
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    case: Mapped[Case] = relationship(back_populates="events")


class IdempotencyRecord(Base):
    """An Idempotency-Key a terminal used, the request it came with, and the case it made."""

    __tablename__ = "idempotency_keys"

    terminal_id: Mapped[int] = mapped_column(ForeignKey("terminals.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CaseNumberCounter(Base):
    """The last sequence number given out per accepting district and day (Asia/Shanghai)."""

    __tablename__ = "case_number_counters"

    district_code: Mapped[str] = mapped_column(ForeignKey("districts.code"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class Notification(Base):
    """News for one side of a case (a supplement request, a result, a withdrawal...)."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_district", "district_code", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    district_code: Mapped[str] = mapped_column(ForeignKey("districts.code"))
    # Set for news meant for the accepting window; None for a whole district's staff.
    center_id: Mapped[int | None] = mapped_column(ForeignKey("service_centers.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    event_seq: Mapped[int | None] = mapped_column(Integer)  # None for supervision's warnings
    # None: every staff member of the district; "supervisor": its supervisors only.
    role: Mapped[str | None] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(32))
    message_zh: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
