"""The API's door: every request is authenticated, and its operation allowed by the policy,
before anything of it is read; bodies are capped per route before they are read.

Each API view declares one `Permission` with `@requires(...)` (or `@public`). `gate()` runs
before every request: it caps the body, then finds the view the request is routed to, and for
an API route authenticates the bearer credential and asks `service.policy.allows`. Only then do
the NUL guard, the JSON checks and the view's own schemas read headers and body. An API route
that declares nothing is treated as needing a credential (deny by default), and the
access-matrix test fails until it is given an entry.
"""

from collections.abc import Callable

from flask import current_app, g, request
from werkzeug.exceptions import RequestEntityTooLarge

from service.accounts.credentials import Principal, authenticate
from service.db import db_session
from service.errors import Problem
from service.policy import Permission, allows, refusal_detail
from service.uploads import request_limit_bytes

BEARER_SECURITY = [{"bearerAuth": []}]
PERMISSION_ATTR = "tongban_permission"
UPLOADS_ATTR = "tongban_uploads"
STEPS_ATTR = "tongban_steps"
# An application with 50 materials, each naming 20 scans, is about 40 KiB.
JSON_BODY_LIMIT = 256 * 1024
API_PREFIX = "/api/"
# Served to anyone, as any site serves its documentation (no case data in them).
PUBLIC_ENDPOINTS = frozenset(
    {"api-docs.openapi_json", "api-docs.openapi_swagger_ui", "docs_assets.asset"}
)


def _unauthorized(detail: str) -> Problem:
    return Problem(
        401,
        "unauthorized",
        "Authentication required",
        detail,
        detail_zh="请先登录或检查终端密钥。",
        headers={"WWW-Authenticate": 'Bearer realm="tongban"'},
    )


def forbidden(detail: str) -> Problem:
    """A 403: the principal is known but may not do this."""
    return Problem(403, "forbidden", "Not allowed", detail, detail_zh="当前账号无权进行此操作。")


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
    permission: Permission, *, steps: tuple[str, ...] = ()
) -> Callable[[Callable], Callable]:
    """Declare the permission an API view needs; `gate()` checks it before the view's
    arguments are parsed. A staff token good for one step only (a password change, a
    second-factor enrolment) is refused with 403 naming the step due, unless that step is in
    `steps`."""

    def decorate(view: Callable) -> Callable:
        setattr(view, PERMISSION_ATTR, permission)
        setattr(view, STEPS_ATTR, steps)
        return view

    return decorate


def public(view: Callable) -> Callable:
    """Declare an API view that needs no credential (it checks what it needs itself)."""
    setattr(view, PERMISSION_ATTR, Permission.PUBLIC)
    return view


def signed(view: Callable) -> Callable:
    """Declare an API view that needs no credential because its body is signed (district
    systems' callbacks): it checks the signature, then the body (`check_json_body`) itself."""
    setattr(view, PERMISSION_ATTR, Permission.SIGNED)
    return view


def accepts_uploads(view: Callable) -> Callable:
    """Declare a view that takes multipart uploads: its body may be as large as the
    configured upload limit allows, instead of the JSON limit."""
    setattr(view, UPLOADS_ATTR, True)
    return view


def declared(view: Callable | None, attr: str):
    """What the routed view declared: on the function, or on a MethodView's method."""
    if view is None:
        return None
    found = getattr(view, attr, None)
    view_class = getattr(view, "view_class", None)
    if found is None and view_class is not None:
        method = request.method.lower()
        # MethodView answers HEAD with get() when there is no head(): so must the check.
        if method == "head" and not hasattr(view_class, "head"):
            method = "get"
        found = getattr(getattr(view_class, method, None), attr, None)
    return found


def _body_limit(view: Callable | None) -> int:
    if request.mimetype == "multipart/form-data" and declared(view, UPLOADS_ATTR):
        return request_limit_bytes(current_app.extensions["tongban.settings"].upload_limit_bytes)
    return JSON_BODY_LIMIT


def _cap_body(limit: int) -> None:
    # Werkzeug also stops a chunked body (no Content-Length) once it passes the limit.
    request.max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        if not request.path.startswith(API_PREFIX):
            raise RequestEntityTooLarge()  # the pages answer it with a page of their own
        raise Problem(
            413,
            "content-too-large",
            "Content too large",
            f"This operation takes a body of at most {limit} bytes.",
            detail_zh="提交的内容过大，请压缩或分开上传。",
            errors=[{"field": "body", "messages": [f"At most {limit} bytes."]}],
        )


def authenticate_request() -> Principal:
    """The principal of the bearer credential this request carries; a 401 otherwise."""
    header = request.headers.get("Authorization", "")
    scheme, _, credential = header.partition(" ")
    if scheme.lower() != "bearer" or not credential.strip():
        raise _unauthorized("Send 'Authorization: Bearer <terminal key or staff token>'.")
    principal = authenticate(db_session(), credential.strip())
    if principal is None:
        raise _unauthorized("The credential is unknown, expired or revoked.")
    return principal


def gate() -> None:
    """Before every request: cap the body; for an API route, authenticate and authorize."""
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    _cap_body(_body_limit(view))
    if view is None or not request.path.startswith(API_PREFIX):
        return  # an unrouted path (404) or a page, which checks its session cookie itself
    if request.endpoint in PUBLIC_ENDPOINTS or request.method == "OPTIONS":
        return
    permission = declared(view, PERMISSION_ATTR) or Permission.ANY
    if permission in (Permission.PUBLIC, Permission.SIGNED):
        return
    principal = authenticate_request()
    g.principal = principal
    if principal.restriction and principal.restriction not in (declared(view, STEPS_ATTR) or ()):
        code, title, detail, detail_zh = _STEP_DUE[principal.restriction]
        raise Problem(403, code, title, detail, detail_zh=detail_zh)
    if not allows(principal, permission):
        raise forbidden(refusal_detail(principal, permission))
