"""Request authentication: every API request names its principal with a bearer credential."""

from collections.abc import Callable
from functools import wraps

from flask import g, request

from service.accounts.credentials import Principal, authenticate
from service.db import db_session
from service.errors import Problem

BEARER_SECURITY = [{"bearerAuth": []}]


def _unauthorized(detail: str) -> Problem:
    return Problem(
        401,
        "unauthorized",
        "Authentication required",
        detail,
        detail_zh="请先登录或检查终端密钥。",
        headers={"WWW-Authenticate": 'Bearer realm="tongban"'},
    )


# What a token for one step only answers elsewhere: the client knows which step is due.
_STEP_DUE = {
    "change_password": (
        "password-change-required",
        "Password change required",
        "Change the password first: POST /api/v1/auth/password.",
        "请先修改密码。",
    ),
    "enroll_totp": (
        "totp-enrollment-required",
        "Second factor enrolment required",
        "Enrol an authenticator app first: GET then POST /api/v1/auth/totp.",
        "请先绑定身份验证器（动态验证码）。",
    ),
}


def current_principal() -> Principal:
    return g.principal


def requires(
    *,
    kinds: tuple[str, ...] = ("terminal", "staff"),
    roles: tuple[str, ...] = (),
    steps: tuple[str, ...] = (),
):
    """Authenticate the request; allow only the given principal kinds and staff roles.

    A staff token good for one step only (a password change, a second-factor enrolment) is
    refused with 403 naming the step due, unless that step is in `steps`."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            header = request.headers.get("Authorization", "")
            scheme, _, credential = header.partition(" ")
            if scheme.lower() != "bearer" or not credential.strip():
                raise _unauthorized("Send 'Authorization: Bearer <terminal key or staff token>'.")
            principal = authenticate(db_session(), credential.strip())
            if principal is None:
                raise _unauthorized("The credential is unknown, expired or revoked.")
            if principal.restriction and principal.restriction not in steps:
                code, title, detail, detail_zh = _STEP_DUE[principal.restriction]
                raise Problem(403, code, title, detail, detail_zh=detail_zh)
            allowed = principal.kind in kinds and (
                principal.kind != "staff" or not roles or principal.role in roles
            )
            if not allowed:
                raise Problem(
                    403,
                    "forbidden",
                    "Not allowed",
                    f"A {principal.role} may not do this.",
                    detail_zh="当前账号无权进行此操作。",
                )
            g.principal = principal
            return view(*args, **kwargs)

        return wrapper

    return decorate
