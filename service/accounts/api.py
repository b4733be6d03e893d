"""Staff tokens: log in (password, then the authenticator code), change the password, enrol a
second factor, log out, and who am I."""

from flask import request
from flask.views import MethodView

from service.accounts.auth import BEARER_SECURITY, current_principal, public, requires
from service.accounts.credentials import authenticate, revoke_token
from service.accounts.login import LoginThrottled
from service.accounts.models import StaffUser
from service.accounts.schemas import (
    PasswordChangeSchema,
    PrincipalSchema,
    StepTokenSchema,
    TokenLoginSchema,
    TotpConfirmSchema,
    TotpEnrolmentSchema,
)
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
from service.errors import Problem
from service.openapi import RETRY_AFTER_HEADER, Blueprint
from service.policy import Permission

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Staff login")
STEPS = ("change_password", "enroll_totp")


def _refused(err: LoginRefused) -> Problem:
    errors = [{"field": err.field, "messages": [err.message]}] if err.field else None
    title = {
        "invalid-credentials": "Invalid credentials",
        "otp-required": "Authenticator code required",
        "invalid-otp": "Invalid authenticator code",
        "invalid-password": "Wrong current password",
        "weak-password": "Password not allowed",
    }[err.code]
    return Problem(
        err.status, err.code, title, err.message, detail_zh=err.message_zh, errors=errors
    )


def _throttled(err: LoginThrottled) -> Problem:
    return Problem(
        429,
        "too-many-requests",
        "Too many failed logins",
        f"Too many failed logins for this name or address; try again in {err.minutes} min.",
        detail_zh=err.message_zh,
        headers={"Retry-After": str(err.retry_after)},
    )


def _token_answer(issued: IssuedToken) -> dict:
    return {
        "token": issued.token,
        "token_type": "Bearer",
        "expires_at": issued.expires_at,
        "purpose": issued.purpose,
        "principal": authenticate(db_session(), issued.token),
    }


def _bearer() -> str:
    return request.headers["Authorization"].partition(" ")[2].strip()


def _me() -> StaffUser:
    return db_session().get(StaffUser, current_principal().id)


@blp.route("/token")
class TokenResource(MethodView):
    @blp.arguments(TokenLoginSchema)
    @blp.response(201, StepTokenSchema)
    @blp.problem(401, "Wrong username or password, or code missing or wrong")
    @blp.problem(
        429, "Too many failed logins for this name or address", {"Retry-After": RETRY_AFTER_HEADER}
    )
    @public
    def post(self, login):
        """Log in as staff and get a bearer token.

        Accounts with a second factor send the current code of their authenticator app as
        `otp`; a code is good once. The token's `purpose` says what it may do: `full`, or
        only `change_password` (after a reset) or `enroll_totp` (a role that needs a second
        factor and has none); any other route answers 403 with that step's problem type."""
        try:
            issued = log_in(db_session(), login["username"], login["password"], login["otp"])
        except LoginThrottled as err:
            raise _throttled(err) from err
        except LoginRefused as err:
            raise _refused(err) from err
        return _token_answer(issued)

    @blp.response(204)
    @blp.doc(security=BEARER_SECURITY)
    @requires(Permission.ANY, steps=STEPS)
    def delete(self):
        """Log out: revoke the token this request carries."""
        session = db_session()
        revoke_token(session, _bearer())
        principal = current_principal()
        security_log.record(
            session,
            "logout",
            target_type="staff",
            target=_me().username,
            district_code=principal.district_code,
        )
        session.commit()


@blp.route("/password", methods=["POST"])
@blp.arguments(PasswordChangeSchema)
@blp.response(201, StepTokenSchema)
@blp.problem(422, "Current password wrong, or the new one not allowed")
@blp.doc(security=BEARER_SECURITY)
@requires(Permission.OWN_ACCOUNT, steps=("change_password",))
def password(body):
    """Change your password: at least 12 characters, not a common one, not your username.

    Every token of yours ends, this one included; the answer carries the next one."""
    try:
        issued = change_password(
            db_session(),
            _me(),
            body["current_password"],
            body["new_password"],
            request.remote_addr,
        )
    except LoginThrottled as err:
        raise _throttled(err) from err
    except LoginRefused as err:
        raise _refused(err) from err
    return _token_answer(issued)


def _not_again() -> Problem:
    return Problem(
        409,
        "totp-already-enabled",
        "Second factor already enabled",
        "This account has an authenticator already; a security admin can reset it.",
        detail_zh="该账号已绑定身份验证器；如需更换，请联系安全管理员重置。",
    )


@blp.route("/totp")
class TotpResource(MethodView):
    @blp.response(200, TotpEnrolmentSchema)
    @blp.problem(409, "Already enrolled")
    @blp.doc(security=BEARER_SECURITY)
    @requires(Permission.OWN_ACCOUNT, steps=("enroll_totp",))
    def get(self):
        """The secret to add to an authenticator app, as an otpauth:// URI and a QR code (SVG).

        The same secret is answered until a code confirms it."""
        user = _me()
        if user.totp_enabled:
            raise _not_again()
        return pending_enrolment(db_session(), user)

    @blp.arguments(TotpConfirmSchema)
    @blp.response(201, StepTokenSchema)
    @blp.problem(409, "Already enrolled")
    @blp.problem(422, "The code is wrong")
    @blp.doc(security=BEARER_SECURITY)
    @requires(Permission.OWN_ACCOUNT, steps=("enroll_totp",))
    def post(self, body):
        """Confirm the enrolment with the app's current code; every token of yours ends, this
        one included, and the answer carries a full one."""
        user = _me()
        if user.totp_enabled:
            raise _not_again()
        try:
            issued = confirm_enrolment(db_session(), user, body["code"], request.remote_addr)
        except LoginRefused as err:
            raise _refused(err) from err
        return _token_answer(issued)


@blp.route("/me")
@blp.response(200, PrincipalSchema)
@blp.doc(security=BEARER_SECURITY)
@requires(Permission.ANY, steps=STEPS)
def me():
    """Who the credential of this request belongs to."""
    return current_principal()
