"""Who is signed in to the pages: a session cookie that names a terminal key or staff token by
its SHA-256, resolved on every request through the same principals as the API. A window's
cookie also names its login (a window session row), which logout revokes."""

import time
from collections.abc import Callable
from functools import wraps

from flask import current_app, g, redirect, request, session, url_for

from service.accounts.credentials import Principal, principal_for_digest, window_session_open
from service.db import db_session
from service.policy import Permission, allows

SESSION_KEY = "auth"
WINDOW_SID_KEY = "window_sid"


class PageForbidden(Exception):
    """Signed in, but this page is for another role."""


def sign_in(kind: str, digest: str, window_sid: str | None = None) -> None:
    """Start a fresh session (never reuse one from before login: session fixation); a window's
    names its login's id from open_window_session()."""
    session.clear()
    session.permanent = True
    session[SESSION_KEY] = [kind, digest, int(time.time())]
    if window_sid is not None:
        session[WINDOW_SID_KEY] = window_sid


def sign_out() -> None:
    """End this browser's session: the cookie no longer names a credential (nor a CSRF token)."""
    session.clear()


def session_digest() -> tuple[str, str] | None:
    """(kind, SHA-256 digest) of the credential this session names, or None if it names none;
    not checked against the database (signed_in() does that)."""
    auth = session.get(SESSION_KEY)
    if isinstance(auth, list) and len(auth) == 3 and all(isinstance(a, str) for a in auth[:2]):
        return auth[0], auth[1]
    return None


def window_sid() -> str | None:
    """The id of this session's window login, if it names one."""
    sid = session.get(WINDOW_SID_KEY)
    return sid if isinstance(sid, str) else None


def _window_login_open(principal: Principal) -> bool:
    sid = window_sid()
    return sid is not None and window_session_open(db_session(), principal.id, sid)


def signed_in() -> Principal | None:
    """The principal of this browser session, or None (expired, revoked, or never signed in).

    A terminal's key or a staff member's token is checked again on every request, so rotating a
    key, deactivating a user or revoking a token ends their web sessions at once."""
    if "web_principal" in g:
        return g.web_principal
    principal = None
    auth = session.get(SESSION_KEY)
    found = session_digest()
    if found is not None:
        ttl = current_app.extensions["tongban.settings"].staff_token_ttl_hours * 3600
        # Staff tokens expire by themselves; a terminal's key does not, so its session does.
        fresh = isinstance(auth[2], int) and time.time() - auth[2] < ttl
        if fresh:
            principal = principal_for_digest(db_session(), *found)
        # A terminal's key outlives logout, so a window's session counts only while its login
        # does: a copy of a logged-out cookie is refused.
        if (
            principal is not None
            and principal.kind == "terminal"
            and not _window_login_open(principal)
        ):
            principal = None
    g.web_principal = principal
    if principal is not None:
        g.principal = principal  # the access log names who made the request
    return principal


def page_requires(permission: Permission):
    """Pages of an operation the policy allows `permission` for; those not signed in are sent to
    log in, others are refused."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            principal = signed_in()
            if principal is None:
                target = request.full_path if request.method == "GET" else None
                return redirect(url_for("login.staff", next=target))
            if principal.restriction:
                # A password change or an enrolment is due before any other page.
                return redirect(home_of(principal))
            if not allows(principal, permission):
                raise PageForbidden()
            return view(principal, *args, **kwargs)

        return wrapper

    return decorate


def home_of(principal: Principal) -> str:
    """The page each kind of user starts from (the step due first, for a one-step login)."""
    if principal.kind == "terminal":
        return url_for("window.home")
    if principal.restriction == "change_password":
        return url_for("login.password")
    if principal.restriction == "enroll_totp":
        return url_for("login.totp")
    return {
        "clerk": url_for("office.queue"),
        "supervisor": url_for("supervisor.dashboard"),
        "auditor": url_for("auditor.report"),
        "admin": url_for("supervisor.dashboard"),
        # Security administration and audit are API work; their page is their own account.
        "security_admin": url_for("login.account"),
        "security_auditor": url_for("login.account"),
    }[principal.role]
