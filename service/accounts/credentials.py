"""Issuing and checking credentials: terminal API keys, staff passwords and staff tokens.

Keys and tokens are long random strings, so a plain SHA-256 at rest is enough to make a stolen
table useless; passwords are low-entropy and get werkzeug's salted scrypt.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from service.accounts.models import ServiceCenter, StaffToken, StaffUser, Terminal, WindowSession

TERMINAL_KEY_PREFIX = "tbk_"
STAFF_TOKEN_PREFIX = "tbs_"


@dataclass(frozen=True)
class Principal:
    """Who is making a request, and for which district."""

    kind: str  # "terminal" or "staff"
    id: int
    name: str
    role: str  # "terminal" for terminals; a staff role otherwise
    district_code: str | None  # None only for city-wide auditors and admins
    center_id: int | None = None
    center_code: str | None = None  # a terminal's center, as answers name it
    center_name: str | None = None

    @property
    def log_id(self) -> str:
        return f"{self.kind}:{self.id}"


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _new_terminal_key() -> tuple[str, str]:
    prefix = secrets.token_hex(4)
    return prefix, f"{TERMINAL_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"


def create_terminal(session: Session, center: ServiceCenter, name: str) -> tuple[Terminal, str]:
    """Create a terminal; returns it with its API key, which is never stored or shown again."""
    prefix, key = _new_terminal_key()
    terminal = Terminal(name=name, center=center, key_prefix=prefix, key_hash=_sha256(key))
    session.add(terminal)
    session.flush()
    return terminal, key


def rotate_terminal_key(session: Session, terminal: Terminal) -> str:
    """Give a terminal a new key; the old one stops working at once."""
    prefix, key = _new_terminal_key()
    terminal.key_prefix, terminal.key_hash = prefix, _sha256(key)
    session.flush()
    return key


def create_staff(
    session: Session,
    username: str,
    password: str,
    role: str,
    district_code: str | None,
    display_name: str | None = None,
) -> StaffUser:
    user = StaffUser(
        username=username,
        display_name=display_name or username,
        password_hash=generate_password_hash(password),
        role=role,
        district_code=district_code,
    )
    session.add(user)
    session.flush()
    return user


def set_password(user: StaffUser, password: str) -> None:
    user.password_hash = generate_password_hash(password)


def check_staff_password(session: Session, username: str, password: str) -> StaffUser | None:
    user = session.scalar(select(StaffUser).where(StaffUser.username == username))
    if user is None or not user.active:
        # Hash anyway so a wrong username costs the same time as a wrong password.
        check_password_hash(generate_password_hash("x"), password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def issue_token(session: Session, user: StaffUser, ttl: timedelta) -> tuple[str, datetime]:
    token = STAFF_TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = datetime.now(UTC) + ttl
    session.add(StaffToken(user_id=user.id, token_hash=_sha256(token), expires_at=expires_at))
    session.flush()
    return token, expires_at


def revoke_token(session: Session, token: str) -> None:
    revoke_token_digest(session, _sha256(token))


def revoke_token_digest(session: Session, digest: str) -> None:
    """Revoke the staff token whose SHA-256 is `digest` (a web session keeps only that)."""
    session.execute(
        update(StaffToken)
        .where(StaffToken.token_hash == digest, StaffToken.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )


def open_window_session(session: Session, terminal_id: int, ttl: timedelta) -> str:
    """Record a page login of a terminal; returns the random id for its session cookie."""
    sid = secrets.token_urlsafe(32)
    session.add(
        WindowSession(
            terminal_id=terminal_id, sid_hash=_sha256(sid), expires_at=datetime.now(UTC) + ttl
        )
    )
    return sid


def window_session_open(session: Session, terminal_id: int, sid: str) -> bool:
    """Whether `sid` is a page login of this terminal that is neither revoked nor expired."""
    found = session.scalar(select(WindowSession).where(WindowSession.sid_hash == _sha256(sid)))
    return (
        found is not None
        and found.terminal_id == terminal_id
        and found.revoked_at is None
        and found.expires_at > datetime.now(UTC)
    )


def revoke_window_session(session: Session, sid: str) -> None:
    """End the page login `sid` (logout): a copy of its cookie stops working too."""
    session.execute(
        update(WindowSession)
        .where(WindowSession.sid_hash == _sha256(sid), WindowSession.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )


def credential_digest(credential: str) -> tuple[str, str] | None:
    """The kind ("terminal" or "staff") and SHA-256 of a credential, or None if it is neither.

    Web sessions keep this pair instead of the credential, so a session cookie is never a bearer
    credential for the API."""
    if credential.startswith(TERMINAL_KEY_PREFIX):
        return "terminal", _sha256(credential)
    if credential.startswith(STAFF_TOKEN_PREFIX):
        return "staff", _sha256(credential)
    return None


def authenticate(session: Session, credential: str) -> Principal | None:
    """The principal a bearer credential belongs to, or None if it is unknown or revoked."""
    found = credential_digest(credential)
    return principal_for_digest(session, *found) if found else None


def principal_for_digest(session: Session, kind: str, digest: str) -> Principal | None:
    """The principal whose terminal key or staff token has this SHA-256, if still valid."""
    now = datetime.now(UTC)
    if kind == "terminal":
        terminal = session.scalar(select(Terminal).where(Terminal.key_hash == digest))
        if terminal is None or not terminal.active:
            return None
        return Principal(
            kind="terminal",
            id=terminal.id,
            name=terminal.name,
            role="terminal",
            district_code=terminal.center.district_code,
            center_id=terminal.center_id,
            center_code=terminal.center.code,
            center_name=terminal.center.name,
        )
    if kind == "staff":
        token = session.scalar(select(StaffToken).where(StaffToken.token_hash == digest))
        if token is None or token.revoked_at is not None or token.expires_at <= now:
            return None
        if not token.user.active:
            return None
        user = token.user
        return Principal(
            kind="staff",
            id=user.id,
            name=user.display_name,
            role=user.role,
            district_code=user.district_code,
        )
    return None
