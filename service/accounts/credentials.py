"""Issuing and checking credentials: terminal API keys, staff passwords and staff tokens.

Keys and tokens are long random strings, so a plain SHA-256 at rest is enough to make a stolen
table useless; passwords are low-entropy and get werkzeug's salted scrypt.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from flask import current_app, has_app_context
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
    # A staff token good for one step only ("change_password", "enroll_totp"); None: full.
    restriction: str | None = None

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
    """Store a new password hash (the caller checks the password rule and revokes tokens)."""
    user.password_hash = generate_password_hash(password)
    user.password_changed_at = datetime.now(UTC)


@cache
def _dummy_hash() -> str:
    # Made once with werkzeug's default method and parameters, like every real hash, so
    # checking against it costs what checking a real password costs.
    return generate_password_hash(secrets.token_urlsafe(16))


def check_staff_password(session: Session, username: str, password: str) -> StaffUser | None:
    """The active user with this username and password, or None.

    An unknown name is checked against a dummy hash and an inactive user against their own,
    so every wrong answer takes one hash check: the time does not tell which names exist."""
    user = session.scalar(select(StaffUser).where(StaffUser.username == username))
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return None
    right = check_password_hash(user.password_hash, password)
    return user if right and user.active else None


def staff_principal(user: StaffUser, restriction: str | None = None) -> Principal:
    """The principal a staff user acts as."""
    return Principal(
        kind="staff",
        id=user.id,
        name=user.display_name,
        role=user.role,
        district_code=user.district_code,
        restriction=restriction,
    )


def issue_token(
    session: Session,
    user: StaffUser,
    ttl: timedelta,
    purpose: str = "full",
    address: str | None = None,
) -> tuple[str, datetime]:
    """A new bearer token for `user`, good for `purpose` only, until `ttl` from now."""
    token = STAFF_TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    expires_at = now + ttl
    # last_seen_at from this clock, not the database's: the idle check compares it with this
    # clock, as the expiry check does with expires_at.
    session.add(
        StaffToken(
            user_id=user.id,
            token_hash=_sha256(token),
            expires_at=expires_at,
            last_seen_at=now,
            purpose=purpose,
            address=address,
        )
    )
    session.flush()
    return token, expires_at


def revoke_user_tokens(session: Session, user_id: int) -> int:
    """Revoke every open token of a user (deactivation, reset, role change); returns how many."""
    result = session.execute(
        update(StaffToken)
        .where(StaffToken.user_id == user_id, StaffToken.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
    return result.rowcount


def revoke_token(session: Session, token: str) -> None:
    revoke_token_digest(session, _sha256(token))


def revoke_token_digest(session: Session, digest: str) -> None:
    """Revoke the staff token whose SHA-256 is `digest` (a web session keeps only that)."""
    session.execute(
        update(StaffToken)
        .where(StaffToken.token_hash == digest, StaffToken.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )


def open_window_session(
    session: Session, terminal_id: int, ttl: timedelta, address: str | None = None
) -> str:
    """Record a page login of a terminal; returns the random id for its session cookie."""
    sid = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    session.add(
        WindowSession(
            terminal_id=terminal_id,
            sid_hash=_sha256(sid),
            expires_at=now + ttl,
            last_seen_at=now,
            address=address,
        )
    )
    return sid


# last_seen_at is written at most this often: an idle timeout in minutes needs no finer clock,
# and a read-only request then costs no write most of the time.
TOUCH_INTERVAL = timedelta(minutes=1)
DEFAULT_IDLE = timedelta(minutes=30)


def idle_limit() -> timedelta:
    """How long a staff token or window login may go unused (TONGBAN_SESSION_IDLE_MINUTES)."""
    if has_app_context():
        minutes = current_app.extensions["tongban.settings"].session_idle_minutes
        return timedelta(minutes=minutes)
    return DEFAULT_IDLE


def _alive(session: Session, row: StaffToken | WindowSession, now: datetime) -> bool:
    """Whether a token or window login was used within the idle limit; if so, note this use.

    The note is its own small transaction: the request's session is rolled back unless the
    view commits, and a read must still count as activity."""
    seen = row.last_seen_at or row.created_at
    if seen is not None and now - seen > idle_limit():
        return False
    if seen is None or now - seen >= TOUCH_INTERVAL:
        model = type(row)
        # SKIP LOCKED: if this request's own session holds the row (it is revoking it, say),
        # waiting for it from a second connection would never end; skipping a note is harmless.
        free = (
            select(model.id).where(model.id == row.id).with_for_update(skip_locked=True)
        ).scalar_subquery()
        with session.get_bind().begin() as conn:
            conn.execute(update(model).where(model.id == free).values(last_seen_at=now))
        row.last_seen_at = now
    return True


def window_session_open(session: Session, terminal_id: int, sid: str) -> bool:
    """Whether `sid` is a page login of this terminal that is neither revoked, expired nor idle
    past the limit."""
    found = session.scalar(select(WindowSession).where(WindowSession.sid_hash == _sha256(sid)))
    now = datetime.now(UTC)
    return (
        found is not None
        and found.terminal_id == terminal_id
        and found.revoked_at is None
        and found.expires_at > now
        and _alive(session, found, now)
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
    """The principal whose terminal key or staff token has this SHA-256, if still valid.

    A staff token is valid while not revoked, expired, nor idle past the limit, and its user
    is active; a token for one step only gives a principal with that `restriction`."""
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
        if not token.user.active or not _alive(session, token, now):
            return None
        return staff_principal(token.user, None if token.purpose == "full" else token.purpose)
    return None
