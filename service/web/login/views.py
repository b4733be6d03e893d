"""Logging in and out of the pages.

Staff log in with their username, password and (if the account has one) the code of their
authenticator app, as for an API token; the session holds the SHA-256 of a staff token issued at
login, so logout revokes it and it expires (or idles out) like any token. A login that must
change a reset password or enrol an authenticator first gets a token for that step only, and
every page sends it there (/login/password, /login/totp) until it is done.

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
from markupsafe import Markup

from service.accounts.credentials import (
    credential_digest,
    open_window_session,
    principal_for_digest,
    revoke_token_digest,
    revoke_window_session,
)
from service.accounts.login import LoginThrottled
from service.accounts.models import StaffUser
from service.accounts.passwords import MIN_LENGTH
from service.accounts.schemas import PasswordChangeSchema, TokenLoginSchema, TotpConfirmSchema
from service.accounts.signin import (
    IssuedToken,
    LoginRefused,
    change_password,
    confirm_enrolment,
    log_in,
    pending_enrolment,
)
from service.audit import security_log
from service.db import db_session
from service.web.auth import (
    home_of,
    session_digest,
    sign_in,
    sign_out,
    signed_in,
    window_sid,
)
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


def _signed_in_as(issued: IssuedToken, default_next: bool = True):
    """Start the page session for a freshly issued token and go where it leads."""
    kind, digest = credential_digest(issued.token)
    sign_in(kind, digest)
    principal = principal_for_digest(db_session(), kind, digest)
    home = home_of(principal)
    return redirect(_next_page(home) if default_next and issued.purpose == "full" else home)


@bp.route("/login", methods=["GET", "POST"])
def staff():
    """Staff login with username, password and, where the account has one, the app's code."""
    errors, message, status = {}, None, 200
    if request.method == "POST":
        entered = cleaned(request.form, "username", "otp")
        if request.form.get("password"):
            entered["password"] = request.form["password"]  # as typed: spaces may count
        data, errors = load_form(TokenLoginSchema(), entered)
        if data is not None:
            try:
                issued = log_in(db_session(), data["username"], data["password"], data["otp"])
            except LoginThrottled as err:
                message, status = err.message_zh, 429
            except LoginRefused as err:
                message, status = err.message_zh, err.status
            else:
                return _signed_in_as(issued)
    if errors:
        status = 422
    return render_template(
        "login/staff.html", errors=errors, message=message, form=request.form
    ), status


def _staff_here():
    """The signed-in staff member and their account row, or None (then log in first)."""
    principal = signed_in()
    if principal is None or principal.kind != "staff":
        return None, None
    return principal, db_session().get(StaffUser, principal.id)


@bp.route("/login/password", methods=["GET", "POST"])
def password():
    """Change one's own password (required after a reset)."""
    principal, user = _staff_here()
    if user is None:
        return redirect(url_for("login.staff"))
    errors, message, status = {}, None, 200
    if request.method == "POST":
        entered = {
            name: request.form[name]
            for name in ("current_password", "new_password")
            if request.form.get(name)
        }
        data, errors = load_form(PasswordChangeSchema(), entered)
        if data is not None and request.form.get("confirm_password") != data["new_password"]:
            data, errors = None, {"confirm_password": ["两次输入的新密码不一致。"]}
        if data is not None:
            try:
                issued = change_password(
                    db_session(),
                    user,
                    data["current_password"],
                    data["new_password"],
                    request.remote_addr,
                )
            except LoginThrottled as err:
                message, status = err.message_zh, 429
            except LoginRefused as err:
                errors, status = {err.field: [err.message_zh]}, 422
            else:
                return _signed_in_as(issued, default_next=False)
    if errors and status == 200:
        status = 422
    return render_template(
        "login/password.html",
        errors=errors,
        message=message,
        required=principal.restriction == "change_password",
        min_length=MIN_LENGTH,
    ), status


@bp.route("/login/totp", methods=["GET", "POST"])
def totp():
    """Enrol an authenticator app: its QR code, then a first code to confirm it."""
    principal, user = _staff_here()
    if user is None:
        return redirect(url_for("login.staff"))
    if user.totp_enabled:
        return redirect(home_of(principal))
    errors, status = {}, 200
    if request.method == "POST":
        data, errors = load_form(TotpConfirmSchema(), cleaned(request.form, "code"))
        if data is not None:
            try:
                issued = confirm_enrolment(db_session(), user, data["code"], request.remote_addr)
            except LoginRefused as err:
                errors = {"code": [err.message_zh]}
            else:
                return _signed_in_as(issued, default_next=False)
        status = 422
    enrolment = pending_enrolment(db_session(), user)
    return render_template(
        "login/totp.html",
        errors=errors,
        required=principal.restriction == "enroll_totp",
        secret=enrolment["secret"],
        # Made here from the otpauth URI by the qrcode package; nothing user-typed is in it.
        qr=Markup(enrolment["qr_svg"]),
    ), status


@bp.route("/login/account")
def account():
    """One's own account: role, district, second factor; the home page of security roles."""
    principal, user = _staff_here()
    if user is None:
        return redirect(url_for("login.staff"))
    if principal.restriction:
        return redirect(home_of(principal))
    return render_template("login/account.html", principal=principal, user=user)


@bp.route("/login/window", methods=["GET", "POST"])
def window():
    """A window PC logs in with its terminal key."""
    message = None
    if request.method == "POST":
        key = (request.form.get("key") or "").strip()
        found = credential_digest(key) if len(key) <= 200 else None
        session = db_session()
        principal = found and principal_for_digest(session, *found)
        good = principal if principal and principal.kind == "terminal" else None
        security_log.record(
            session,
            "window.login",
            target_type="terminal",
            target=str(good.id) if good else None,
            district_code=good.district_code if good else None,
            outcome="ok" if good else "failed",
            principal=good,
        )
        if good is None:
            session.commit()  # the failed attempt is evidence too
            message = "终端密钥无效或已停用，请联系本中心管理员。"
        else:
            ttl = timedelta(hours=current_app.extensions["tongban.settings"].staff_token_ttl_hours)
            sid = open_window_session(session, principal.id, ttl, request.remote_addr)
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
            principal = principal_for_digest(session, *found)
            if principal is not None:
                security_log.record(
                    session,
                    "logout",
                    target_type="staff",
                    target=session.get(StaffUser, principal.id).username,
                    district_code=principal.district_code,
                    principal=principal,
                )
            revoke_token_digest(session, found[1])
        else:
            revoke_window_session(session, sid)
        session.commit()
    sign_out()
    return redirect(url_for("login.staff"))
