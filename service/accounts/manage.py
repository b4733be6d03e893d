"""Account administration: staff accounts, terminal keys and sessions, for the CLI and the
admin API alike. Each change is written to the security log in the same transaction; nothing
here commits (the caller does, once the whole change is made).

Scope (who may do this to whom) is the caller's check (service/policy.py); these
functions check only what holds for everyone.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.accounts import credentials
from service.accounts.credentials import create_staff, create_terminal, revoke_user_tokens
from service.accounts.models import (
    CITY_WIDE_ROLES,
    ROLES,
    ServiceCenter,
    StaffToken,
    StaffUser,
    Terminal,
    WindowSession,
)
from service.accounts.passwords import password_problems, temporary_password
from service.audit import security_log


class AccountError(Exception):
    """A change that cannot be made as asked: `status` 404, 409 or 422, naming `field`."""

    def __init__(self, status: int, code: str, message: str, message_zh: str, field=None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.message_zh, self.field = message_zh, field


def _check_scope(role: str, district_code: str | None) -> None:
    if role not in ROLES:
        raise AccountError(422, "validation-error", f"Unknown role {role}.", "角色无效。", "role")
    if district_code is None and role not in CITY_WIDE_ROLES:
        raise AccountError(
            422,
            "validation-error",
            "Clerks and supervisors belong to a district.",
            "受理员和督办员必须属于一个区县。",
            "district_code",
        )


def _record(session: Session, action: str, user: StaffUser, **details) -> None:
    security_log.record(
        session,
        action,
        target_type="staff",
        target=user.username,
        district_code=user.district_code,
        details=details or None,
    )


def create_account(
    session: Session,
    *,
    username: str,
    role: str,
    district_code: str | None,
    display_name: str | None = None,
    password: str | None = None,
) -> tuple[StaffUser, str | None]:
    """Create a staff account. Without `password` a temporary one is made (returned, to show
    once) that must be changed at the first login; a given one must meet the password rule."""
    _check_scope(role, district_code)
    if session.scalar(select(StaffUser.id).where(StaffUser.username == username)) is not None:
        raise AccountError(
            409, "username-taken", "This username is taken.", "用户名已被使用。", "username"
        )
    temporary = None
    if password is None:
        password = temporary = temporary_password()
    else:
        problems = password_problems(password, username)
        if problems:
            raise AccountError(
                422, "weak-password", " ".join(problems), "密码不符合要求。", "password"
            )
    user = create_staff(session, username, password, role, district_code, display_name)
    user.must_change_password = temporary is not None
    _record(session, "account.create", user, role=role)
    return user, temporary


def set_active(session: Session, user: StaffUser, active: bool, actor_id: int | None) -> None:
    """Deactivate (every token ends at once) or reactivate an account."""
    if not active and actor_id == user.id:
        raise AccountError(
            409, "own-account", "You cannot deactivate your own account.", "不能停用自己的账号。"
        )
    user.active = active
    if not active:
        revoke_user_tokens(session, user.id)
    _record(session, "account.deactivate" if not active else "account.reactivate", user)


def reset_password(session: Session, user: StaffUser, reset_totp: bool = False) -> str:
    """Give the account a temporary password (returned, to show once), to be changed at the
    next login; ends its sessions. `reset_totp` also drops its second factor (a lost phone),
    so the next login enrols a new one."""
    password = temporary_password()
    credentials.set_password(user, password)
    user.must_change_password = True
    if reset_totp:
        user.totp_secret_enc, user.totp_enabled, user.totp_last_step = None, False, None
    revoke_user_tokens(session, user.id)
    _record(session, "password.reset", user, reset_totp=reset_totp)
    if reset_totp:
        _record(session, "totp.reset", user)
    return password


def change_role(
    session: Session, user: StaffUser, role: str, district_code: str | None, actor_id: int | None
) -> None:
    """Give the account another role or district; its sessions end (what it may do changed)."""
    _check_scope(role, district_code)
    if actor_id == user.id:
        raise AccountError(
            409, "own-account", "You cannot change your own role.", "不能修改自己的角色。"
        )
    before = {"role": user.role, "district_code": user.district_code}
    user.role, user.district_code = role, district_code
    revoke_user_tokens(session, user.id)
    _record(
        session,
        "account.role_change",
        user,
        before=before,
        role=role,
        after={"role": role, "district_code": district_code},
    )


def add_terminal(session: Session, center: ServiceCenter, name: str) -> tuple[Terminal, str]:
    """Create a terminal at `center`; returns it with its key (shown once)."""
    terminal, key = create_terminal(session, center, name)
    _record_terminal(session, "terminal.create", terminal)
    return terminal, key


def rotate_key(session: Session, terminal: Terminal) -> str:
    """Give the terminal a new key (returned, shown once): the old key and every window login
    made with it stop working at once."""
    if not terminal.active:
        raise AccountError(409, "terminal-revoked", "This terminal is revoked.", "该终端已停用。")
    key = credentials.rotate_terminal_key(session, terminal)
    _end_window_sessions(session, terminal.id)
    _record_terminal(session, "terminal.rotate_key", terminal)
    return key


def revoke_terminal(session: Session, terminal: Terminal) -> None:
    """Stop a terminal for good: its key and window logins stop working at once."""
    terminal.active = False
    _end_window_sessions(session, terminal.id)
    _record_terminal(session, "terminal.revoke", terminal)


def _end_window_sessions(session: Session, terminal_id: int) -> None:
    session.execute(
        update(WindowSession)
        .where(WindowSession.terminal_id == terminal_id, WindowSession.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )


def _record_terminal(session: Session, action: str, terminal: Terminal) -> None:
    security_log.record(
        session,
        action,
        target_type="terminal",
        target=str(terminal.id),
        district_code=terminal.center.district_code,
        details={"center": terminal.center.code, "key_prefix": terminal.key_prefix},
    )


@dataclass(frozen=True)
class OpenSession:
    """A staff token or window login that still works."""

    kind: str  # "staff" or "window"
    id: int
    holder: str  # username or terminal name
    holder_id: int
    role: str
    district_code: str | None
    purpose: str
    created_at: datetime
    last_seen_at: datetime | None
    expires_at: datetime
    address: str | None


def open_sessions(
    session: Session, district_code: str | None, only: tuple[str, int] | None = None
) -> list[OpenSession]:
    """Every staff token and window login not revoked, expired or idle past the limit, of one
    district or of all (None), newest first; `only` (kind, id) picks one."""
    now = datetime.now(UTC)
    since = now - credentials.idle_limit()
    tokens = select(StaffToken).where(
        StaffToken.revoked_at.is_(None),
        StaffToken.expires_at > now,
        StaffToken.last_seen_at > since,
    )
    windows = (
        select(WindowSession, Terminal)
        .join(Terminal, Terminal.id == WindowSession.terminal_id)
        .join(ServiceCenter, ServiceCenter.id == Terminal.center_id)
        .where(
            WindowSession.revoked_at.is_(None),
            WindowSession.expires_at > now,
            WindowSession.last_seen_at > since,
            Terminal.active.is_(True),
        )
    )
    if only is not None:
        tokens = tokens.where(StaffToken.id == (only[1] if only[0] == "staff" else None))
        windows = windows.where(WindowSession.id == (only[1] if only[0] == "window" else None))
    if district_code is not None:
        tokens = tokens.join(StaffUser).where(StaffUser.district_code == district_code)
        windows = windows.where(ServiceCenter.district_code == district_code)
    out = [
        OpenSession(
            "staff",
            t.id,
            t.user.username,
            t.user_id,
            t.user.role,
            t.user.district_code,
            t.purpose,
            t.created_at,
            t.last_seen_at,
            t.expires_at,
            t.address,
        )
        for t in session.scalars(tokens)
        if t.user.active
    ]
    out += [
        OpenSession(
            "window",
            w.id,
            term.name,
            term.id,
            "terminal",
            term.center.district_code,
            "full",
            w.created_at,
            w.last_seen_at,
            w.expires_at,
            w.address,
        )
        for w, term in session.execute(windows)
    ]
    return sorted(out, key=lambda s: s.created_at, reverse=True)


def find_session(session: Session, kind: str, session_id: int) -> OpenSession | None:
    """One open session by kind and id, with its holder's district (for the scope check)."""
    return next(iter(open_sessions(session, None, (kind, session_id))), None)


def revoke_session(session: Session, found: OpenSession) -> None:
    """End one session at once."""
    model = StaffToken if found.kind == "staff" else WindowSession
    session.execute(
        update(model)
        .where(model.id == found.id, model.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
    security_log.record(
        session,
        "session.revoke",
        target_type="staff" if found.kind == "staff" else "terminal",
        target=found.holder if found.kind == "staff" else str(found.holder_id),
        district_code=found.district_code,
        details={"session": f"{found.kind}:{found.id}"},
    )
