"""CSRF protection for the pages: a random token per session, checked on every POST.

Hand-written rather than Flask-WTF: the pages validate their forms with the API's marshmallow
schemas, so WTForms would be a second form library for one check, and CSRFProtect would have to
exempt every API blueprint (bearer tokens, no cookies, not open to CSRF). The check is this file.
The session cookie is also SameSite=Lax, a second line, not the only one.
"""

import hmac
import secrets

from flask import request, session

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"


class CsrfRefused(Exception):
    """A POST without the session's token: a stale page, or another site's form."""


def csrf_token() -> str:
    """The session's token, made on first use; put it in every form as a hidden field."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def check_csrf() -> None:
    """Refuse a state-changing request whose token does not match the session's."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    expected = session.get("csrf")
    sent = request.form.get(FIELD) or request.headers.get(HEADER) or ""
    if not isinstance(expected, str) or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfRefused()
