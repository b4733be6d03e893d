"""Staff tokens: log in, log out, and who am I."""

from datetime import timedelta

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint

from service.accounts.auth import BEARER_SECURITY, current_principal, public, requires
from service.accounts.credentials import authenticate, issue_token, revoke_token
from service.accounts.login import LoginThrottled, staff_login_for_request
from service.accounts.schemas import LoginSchema, PrincipalSchema, TokenSchema
from service.db import db_session
from service.errors import Problem
from service.policy import Permission

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Staff login")


@blp.route("/token")
class TokenResource(MethodView):
    @blp.arguments(LoginSchema)
    @blp.response(201, TokenSchema)
    @blp.alt_response(429, description="Too many failed logins for this name or address")
    @public
    def post(self, login):
        """Log in as staff and get a bearer token."""
        session = db_session()
        settings = current_app.extensions["tongban.settings"]
        try:
            user = staff_login_for_request(session, login["username"], login["password"])
        except LoginThrottled as err:
            raise Problem(
                429,
                "too-many-requests",
                "Too many failed logins",
                f"Too many failed logins for this name or address; try again in {err.minutes} min.",
                detail_zh=err.message_zh,
                headers={"Retry-After": str(err.retry_after)},
            ) from err
        if user is None:
            raise Problem(
                401,
                "invalid-credentials",
                "Invalid credentials",
                "Wrong username or password.",
                detail_zh="用户名或密码错误。",
            )
        token, expires_at = issue_token(
            session, user, timedelta(hours=settings.staff_token_ttl_hours)
        )
        session.commit()
        principal = authenticate(session, token)
        return {
            "token": token,
            "token_type": "Bearer",
            "expires_at": expires_at,
            "principal": principal,
        }

    @blp.response(204)
    @blp.doc(security=BEARER_SECURITY)
    @requires(Permission.ANY)
    def delete(self):
        """Log out: revoke the token this request carries."""
        session = db_session()
        revoke_token(session, request.headers["Authorization"].partition(" ")[2].strip())
        session.commit()


@blp.route("/me")
@blp.response(200, PrincipalSchema)
@blp.doc(security=BEARER_SECURITY)
@requires(Permission.ANY)
def me():
    """Who the credential of this request belongs to."""
    return current_principal()
