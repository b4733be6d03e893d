"""Service centers, terminals and staff, and the credentials they authenticate with."""

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    LargeBinary,
    String,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog.orm import Base

CENTER_LEVELS = ("district", "street", "community")
# Separation of duties (三员分立): system administration (admin), security administration
# (security_admin: accounts, keys, sessions) and security audit (security_auditor) are distinct.
ROLES = ("clerk", "supervisor", "auditor", "admin", "security_admin", "security_auditor")
# Roles that may be city-wide (no district); clerks and supervisors always have one.
CITY_WIDE_ROLES = ("auditor", "admin", "security_admin", "security_auditor")
# Roles that must log in with a TOTP code as well; optional for clerks.
TOTP_ROLES = ("supervisor", "auditor", "admin", "security_admin", "security_auditor")
# What a staff token may be used for: everything, or only the one step its user must take first.
TOKEN_PURPOSES = ("full", "change_password", "enroll_totp")


class ServiceCenter(Base):
    """A service center (便民服务中心/站) at district, street or community level."""

    __tablename__ = "service_centers"
    __table_args__ = (
        CheckConstraint("level IN ('district', 'street', 'community')", name="level"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    district_code: Mapped[str] = mapped_column(ForeignKey("districts.code"), index=True)
    level: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("service_centers.id"))


class Terminal(Base):
    """A window terminal; it acts for its service center and that center's district."""

    __tablename__ = "terminals"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    center_id: Mapped[int] = mapped_column(ForeignKey("service_centers.id"), index=True)
    # The key is shown once; only its public prefix and a SHA-256 of the whole key are kept.
    key_prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    center: Mapped[ServiceCenter] = relationship(lazy="joined")


class StaffUser(Base):
    """A member of staff: a district's clerk or supervisor, or an auditor, admin, security admin
    or security auditor, who may be city-wide (no district).

    The TOTP secret is encrypted with the app's FieldCipher; it is enrolled (a secret stored)
    before it is enabled (a first code confirmed)."""

    __tablename__ = "staff_users"
    __table_args__ = (
        CheckConstraint(
            "role IN ('clerk', 'supervisor', 'auditor', 'admin', 'security_admin',"
            " 'security_auditor')",
            name="role",
        ),
        CheckConstraint(
            "district_code IS NOT NULL OR role IN ('auditor', 'admin', 'security_admin',"
            " 'security_auditor')",
            name="district_scope",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    district_code: Mapped[str | None] = mapped_column(ForeignKey("districts.code"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    must_change_password: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default="false"
    )
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    totp_secret_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    # The last RFC 6238 time step a code was accepted for: a code is good once only.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)


class StaffToken(Base):
    """A bearer token issued to staff at login; stored as a SHA-256 of the token.

    A token whose purpose is not "full" is good only for the step its user must take before
    anything else (change a reset password, enrol a second factor)."""

    __tablename__ = "staff_tokens"
    __table_args__ = (
        CheckConstraint("purpose IN ('full', 'change_password', 'enroll_totp')", name="purpose"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    purpose: Mapped[str] = mapped_column(String(16), default="full", server_default="full")
    # Written at most once a minute (idle timeout), so reads stay nearly write-free.
    last_seen_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    address: Mapped[str | None] = mapped_column(String(45))

    user: Mapped[StaffUser] = relationship(lazy="joined")


class WindowSession(Base):
    """One page login of a window PC. The terminal's key neither expires nor is revoked at
    logout (the PC's API use and other logins share it), so each login is a row that logout
    revokes; the session cookie carries a random id, stored here as its SHA-256 only."""

    __tablename__ = "window_sessions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    terminal_id: Mapped[int] = mapped_column(
        ForeignKey("terminals.id", ondelete="CASCADE"), index=True
    )
    sid_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    address: Mapped[str | None] = mapped_column(String(45))
