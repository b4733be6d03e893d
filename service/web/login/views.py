"""Logging in and out of the pages.

Staff log in with their username and password, as for an API token; the session holds the
SHA-256 of a staff token issued at login, so logout revokes it and it expires like any token.

A window PC logs in with its terminal's key: the domain's principal at a window is the terminal
(it acts for its service center and district), and the key is what the center's admin already
issues per window (`create-terminal`). A deployment enters it once when it sets the PC up; the
session keeps only its SHA-256, and rotating or deactivating the terminal ends the session. The
key is not revoked at logout (the PC's API use shares it), so each window login is a server-side
window session that logout revokes: a copied cookie stops working then, not at the TTL.
"""

from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app, redirect, render_template, request, url_for

from service.accounts.credentials import (
    credential_digest,
    issue_token,
    open_window_session,
    principal_for_digest,
    revoke_token_digest,
    revoke_window_session,
)
from service.accounts.login import LoginThrottled, staff_login_for_request
from service.accounts.schemas import LoginSchema
from service.db import db_session
from service.web.auth import home_of, session_digest, sign_in, sign_out, window_sid
from service.web.blueprints import page_blueprint
from service.web.forms import cleaned, load_form

bp = page_blueprint("login", __name__)


def _next_page(default: str) -> str:
    """Where to go after login: a path on this site only (no open redirect)."""
    target = request.values.get("next") or ""
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith("//") and not parts.netloc:
        return target
    return default


@bp.route("/login", methods=["GET", "POST"])
def staff():
    """Staff login with username and password."""
    errors, message, status = {}, None, 200
    if request.method == "POST":
        entered = cleaned(request.form, "username")
        if request.form.get("password"):
            entered["password"] = request.form["password"]  # as typed: spaces may count
        data, errors = load_form(LoginSchema(), entered)
        if data is not None:
            session = db_session()
            settings = current_app.extensions["tongban.settings"]
            try:
                user = staff_login_for_request(session, data["username"], data["password"])
            except LoginThrottled as err:
                user, message, status = None, err.message_zh, 429
            if user is None and status != 429:
                message, status = "用户名或密码错误。", 401
            elif user is not None:
                token, _ = issue_token(
                    session, user, timedelta(hours=settings.staff_token_ttl_hours)
                )
                session.commit()
                kind, digest = credential_digest(token)
                sign_in(kind, digest)
                principal = principal_for_digest(session, kind, digest)
                return redirect(_next_page(home_of(principal)))
    if errors:
        status = 422
    return render_template(
        "login/staff.html", errors=errors, message=message, form=request.form
    ), status


@bp.route("/login/window", methods=["GET", "POST"])
def window():
    """A window PC logs in with its terminal key."""
    message = None
    if request.method == "POST":
        key = (request.form.get("key") or "").strip()
        found = credential_digest(key) if len(key) <= 200 else None
        session = db_session()
        principal = found and principal_for_digest(session, *found)
        if not principal or principal.kind != "terminal":
            message = "终端密钥无效或已停用，请联系本中心管理员。"
        else:
            ttl = timedelta(hours=current_app.extensions["tongban.settings"].staff_token_ttl_hours)
            sid = open_window_session(session, principal.id, ttl)
            session.commit()
            sign_in(*found, window_sid=sid)
            return redirect(_next_page(home_of(principal)))
    return render_template("login/window.html", message=message), 401 if message else 200


@bp.post("/logout")
def logout():
    """Log out; the staff token or the window session is revoked, so the session cannot come
    back (nor a copy of its cookie)."""
    found, sid = session_digest(), window_sid()
    if found and (found[0] == "staff" or sid is not None):
        session = db_session()
        if found[0] == "staff":
            revoke_token_digest(session, found[1])
        else:
            revoke_window_session(session, sid)
        session.commit()
    sign_out()
    return redirect(url_for("login.staff"))
