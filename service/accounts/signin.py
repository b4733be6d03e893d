"""The steps of a staff login, shared by the API and the login page.

Password first (throttled), then the code if the user has a second factor. What the token is
good for follows from the user's state: a user whose password was reset gets a token for
changing it only; a user whose role needs a second factor and has none gets a token for
enrolling one only; everyone else a full token. Each of those steps ends with a fresh token for
the next step, and every earlier token of the user is revoked.
"""

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from service.accounts import totp
from service.accounts.credentials import (
    issue_token,
    revoke_user_tokens,
    set_password,
    staff_principal,
)
from service.accounts.login import LoginThrottled, RequestThrottle, check_throttle
from service.accounts.models import StaffUser
from service.accounts.passwords import MESSAGES_ZH, SAME_AS_CURRENT, password_problems
from service.audit import security_log

# A token for one step only is short-lived: the step takes a minute, not a shift.
STEP_TOKEN_TTL = timedelta(minutes=15)


class LoginRefused(Exception):
    """A login, password change or enrolment that did not go through (answered 401 or 422)."""

    def __init__(self, status: int, code: str, message: str, message_zh: str, field=None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.message_zh, self.field = message_zh, field


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: object
    purpose: str
    user: StaffUser


def purpose_for(user: StaffUser) -> str:
    """What a new token of this user may be used for, given what they must do first."""
    if user.must_change_password:
        return "change_password"
    if totp.totp_required(user) and not user.totp_enabled:
        return "enroll_totp"
    return "full"


def _issue(session: Session, user: StaffUser, address: str | None) -> IssuedToken:
    purpose = purpose_for(user)
    settings = current_app.extensions["tongban.settings"]
    ttl = timedelta(hours=settings.staff_token_ttl_hours) if purpose == "full" else STEP_TOKEN_TTL
    token, expires_at = issue_token(session, user, ttl, purpose=purpose, address=address)
    return IssuedToken(token, expires_at, purpose, user)


def _record(session: Session, action: str, username: str, user: StaffUser | None, **kwargs) -> None:
    """A security-log entry about a user's own sign-in step, made as that user."""
    security_log.record(
        session,
        action,
        target_type="staff",
        target=username,
        district_code=user.district_code if user else None,
        principal=staff_principal(user) if user else None,
        **kwargs,
    )


def _start_over(session: Session, user: StaffUser, address: str | None, action: str) -> IssuedToken:
    """After a password change or an enrolment: every other session ends, and the token for
    the next step is issued; logged and committed."""
    revoke_user_tokens(session, user.id)
    issued = _issue(session, user, address)
    _record(session, action, user.username, user)
    session.commit()
    return issued


def _refuse(session: Session, refusal: LoginRefused, username: str, user=None, **details):
    _record(
        session,
        "login",
        username,
        user,
        outcome="failed",
        details={"reason": refusal.code, **details},
    )
    # The attempt is evidence even though nothing else changes: commit it before answering.
    session.commit()
    raise refusal


def log_in(session: Session, username: str, password: str, code: str | None) -> IssuedToken:
    """Check a login; returns the token it earns (committed). Raises LoginThrottled (429) or
    LoginRefused (401)."""
    throttle = RequestThrottle.current()
    try:
        user = throttle.login(session, username, password)
    except LoginThrottled as err:
        # Refused before the password is read: the lockout itself is the evidence to keep.
        _record(
            session,
            "login.lockout",
            username,
            None,
            outcome="refused",
            details={"retry_after": err.retry_after},
        )
        session.commit()
        raise
    if user is None:
        _refuse(
            session,
            LoginRefused(
                401, "invalid-credentials", "Wrong username or password.", "用户名或密码错误。"
            ),
            username,
        )
    if user.totp_enabled:
        cipher = current_app.extensions["tongban.cipher"]
        if not code:
            throttle.failed(username)
            _refuse(
                session,
                LoginRefused(
                    401,
                    "otp-required",
                    "This account needs the code from its authenticator app (otp).",
                    "请输入身份验证器中的动态验证码。",
                    "otp",
                ),
                username,
                user,
            )
        if not totp.use_code(session, user, cipher, code):
            throttle.failed(username)
            _refuse(
                session,
                LoginRefused(
                    401,
                    "invalid-otp",
                    "The code is wrong, expired or already used.",
                    "动态验证码错误、已过期或已使用，请等下一个验证码。",
                    "otp",
                ),
                username,
                user,
            )
    throttle.succeeded(username)
    issued = _issue(session, user, throttle.address)
    _record(session, "login", user.username, user, details={"token_purpose": issued.purpose})
    session.commit()
    return issued


def change_password(
    session: Session, user: StaffUser, current: str, new: str, address: str | None
) -> IssuedToken:
    """Change one's own password (the current one is checked, throttled like a login); ends
    every session of the user and returns the token for the next step (committed)."""
    throttle = RequestThrottle.current()
    check_throttle(throttle.client, throttle.limits, user.username, throttle.address)
    if not check_password_hash(user.password_hash, current):
        throttle.failed(user.username)
        _refuse_change(
            session,
            user,
            LoginRefused(
                422,
                "invalid-password",
                "The current password is wrong.",
                "当前密码错误。",
                "current_password",
            ),
        )
    problems = password_problems(new, user.username)
    if new == current:
        problems.append(SAME_AS_CURRENT)
    if problems:
        raise LoginRefused(
            422,
            "weak-password",
            " ".join(problems),
            "".join(MESSAGES_ZH[p] for p in problems),
            "new_password",
        )
    set_password(user, new)
    user.must_change_password = False
    return _start_over(session, user, address, "password.change")


def _refuse_change(session: Session, user: StaffUser, refusal: LoginRefused):
    _record(
        session,
        "password.change",
        user.username,
        user,
        outcome="failed",
        details={"reason": refusal.code},
    )
    session.commit()
    raise refusal


def pending_enrolment(session: Session, user: StaffUser) -> dict:
    """The secret to enrol (made on first ask, kept until confirmed), its otpauth URI and QR
    code as inline SVG. Committed, so the QR code shown stays the one to confirm."""
    cipher = current_app.extensions["tongban.cipher"]
    secret = totp.secret_of(user, cipher)
    if secret is None:
        secret = totp.enrol(user, cipher)
        session.commit()
    uri = totp.provisioning_uri(user, secret)
    return {"secret": secret, "provisioning_uri": uri, "qr_svg": totp.qr_svg(uri)}


def confirm_enrolment(
    session: Session, user: StaffUser, code: str, address: str | None
) -> IssuedToken:
    """Enable the second factor with a first code from the app; ends every session of the
    user and returns the token for the next step (committed)."""
    cipher = current_app.extensions["tongban.cipher"]
    if user.totp_secret_enc is None or not totp.use_code(session, user, cipher, code):
        raise LoginRefused(
            422,
            "invalid-otp",
            "The code is wrong or expired; ask for the QR code first.",
            "动态验证码错误或已过期，请按二维码重新添加后输入新的验证码。",
            "code",
        )
    user.totp_enabled = True
    return _start_over(session, user, address, "totp.enrol")
