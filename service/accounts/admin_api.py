"""Account administration for security admins (三员分立: not the system admins), and the
security log for security auditors.

A district-scoped security admin sees and manages only the staff, terminals and sessions of
their district; others are answered 404, as if missing (service/policy.py decides)."""

from flask import Response
from flask.views import MethodView
from sqlalchemy import Select, select

from service import policy
from service.accounts import manage
from service.accounts.auth import BEARER_SECURITY, current_principal, requires
from service.accounts.models import ServiceCenter, StaffUser, Terminal
from service.accounts.schemas import (
    ResetPasswordSchema,
    SecurityEventExportSchema,
    SecurityEventPageSchema,
    SecurityEventQuerySchema,
    SessionListSchema,
    StaffCreateSchema,
    StaffPageSchema,
    StaffQuerySchema,
    StaffRoleSchema,
    StaffSchema,
    StaffWithPasswordSchema,
    TerminalCreateSchema,
    TerminalKeySchema,
    TerminalPageSchema,
    TerminalSchema,
)
from service.audit import export as log_export
from service.audit import security_log
from service.audit.models import SecurityEvent
from service.db import db_session
from service.errors import Problem
from service.openapi import Blueprint
from service.pagination import ID, decode_id_cursor, encode_cursor
from service.policy import Permission

blp = Blueprint(
    "accounts_admin",
    __name__,
    url_prefix="/api/v1/admin",
    description="Accounts, terminal keys, sessions (security admins); security log (auditors)",
)
SECURITY_ADMIN = requires(Permission.MANAGE_ACCOUNTS)
SECURITY_AUDITOR = requires(Permission.READ_SECURITY_LOG)
# An export larger than this is refused: narrow the time range (a year of a busy city fits).
MAX_EXPORT_ROWS = 200_000


def _not_found(what: str, what_zh: str) -> Problem:
    return Problem(
        404, "not-found", "Not found", f"No such {what}.", detail_zh=f"{what_zh}不存在。"
    )


def _account_problem(err: manage.AccountError) -> Problem:
    errors = [{"field": err.field, "messages": [err.message]}] if err.field else None
    return Problem(
        err.status, err.code, err.message, err.message, detail_zh=err.message_zh, errors=errors
    )


def _out_of_scope() -> Problem:
    return Problem(
        403,
        "forbidden",
        "Not allowed",
        "A district security admin creates accounts of their own district only, and no "
        "security admins.",
        detail_zh="区县安全管理员只能为本区县创建账号，且不能创建安全管理员。",
        errors=[{"field": "district_code", "messages": ["Outside your scope."]}],
    )


def _staff(user_id: int) -> StaffUser:
    user = db_session().get(StaffUser, user_id)
    principal = current_principal()
    if user is None or not policy.manages_account(principal, user.role, user.district_code):
        raise _not_found("staff account", "账号")
    return user


def _terminal(terminal_id: int) -> Terminal:
    terminal = db_session().get(Terminal, terminal_id)
    if terminal is None or not policy.manages_terminals_of(
        current_principal(), terminal.center.district_code
    ):
        raise _not_found("terminal", "终端")
    return terminal


def _page(rows: list, limit: int) -> tuple[list, str | None]:
    page = rows[:limit]
    return page, encode_cursor([page[-1].id]) if len(rows) > limit else None


@blp.route("/staff")
class StaffCollection(MethodView):
    @blp.arguments(StaffQuerySchema, location="query")
    @blp.response(200, StaffPageSchema)
    @blp.doc(security=BEARER_SECURITY)
    @SECURITY_ADMIN
    def get(self, query):
        """Staff accounts you manage, by id."""
        stmt = select(StaffUser).order_by(StaffUser.id)
        district = policy.district_scope(current_principal())
        if district is not None:
            stmt = stmt.where(StaffUser.district_code == district)
        if query["role"]:
            stmt = stmt.where(StaffUser.role == query["role"])
        if query["active"] is not None:
            stmt = stmt.where(StaffUser.active.is_(query["active"]))
        if query["cursor"]:
            stmt = stmt.where(StaffUser.id > decode_id_cursor(query["cursor"]))
        rows = db_session().scalars(stmt.limit(query["limit"] + 1)).all()
        principal = current_principal()
        page, cursor = _page(rows, query["limit"])
        return {
            "staff": [
                u for u in page if policy.manages_account(principal, u.role, u.district_code)
            ],
            "next_cursor": cursor,
        }

    @blp.arguments(StaffCreateSchema)
    @blp.response(201, StaffWithPasswordSchema)
    @blp.problem(409, "Username taken")
    @blp.doc(security=BEARER_SECURITY)
    @SECURITY_ADMIN
    def post(self, body):
        """Create a staff account with a temporary password (shown this once), to be changed
        at the first login; roles that need a second factor enrol one then."""
        if not policy.manages_account(current_principal(), body["role"], body["district_code"]):
            raise _out_of_scope()
        session = db_session()
        try:
            user, password = manage.create_account(
                session,
                username=body["username"],
                role=body["role"],
                district_code=body["district_code"],
                display_name=body["display_name"],
            )
        except manage.AccountError as err:
            raise _account_problem(err) from err
        session.commit()
        return {"staff": user, "temporary_password": password}


@blp.route(f"/staff/<{ID}:user_id>")
@blp.response(200, StaffSchema)
@blp.doc(security=BEARER_SECURITY)
@SECURITY_ADMIN
def get_staff(user_id):
    """One staff account."""
    return _staff(user_id)


def _activation(user_id: int, active: bool) -> StaffUser:
    user = _staff(user_id)
    session = db_session()
    try:
        manage.set_active(session, user, active, current_principal().id)
    except manage.AccountError as err:
        raise _account_problem(err) from err
    session.commit()
    return user


@blp.route(f"/staff/<{ID}:user_id>/deactivate", methods=["POST"])
@blp.response(200, StaffSchema)
@blp.doc(security=BEARER_SECURITY)
@SECURITY_ADMIN
def deactivate(user_id):
    """Deactivate an account: its tokens and page sessions stop working at once."""
    return _activation(user_id, False)


@blp.route(f"/staff/<{ID}:user_id>/reactivate", methods=["POST"])
@blp.response(200, StaffSchema)
@blp.doc(security=BEARER_SECURITY)
@SECURITY_ADMIN
def reactivate(user_id):
    """Let a deactivated account log in again."""
    return _activation(user_id, True)


@blp.route(f"/staff/<{ID}:user_id>/reset-password", methods=["POST"])
@blp.arguments(ResetPasswordSchema)
@blp.response(200, StaffWithPasswordSchema)
@blp.doc(security=BEARER_SECURITY)
@SECURITY_ADMIN
def reset_password(body, user_id):
    """Give the account a temporary password (shown this once), to be changed at the next
    login; its sessions end. `reset_totp` also drops its authenticator (a lost phone)."""
    user = _staff(user_id)
    session = db_session()
    password = manage.reset_password(session, user, body["reset_totp"])
    session.commit()
    return {"staff": user, "temporary_password": password}


@blp.route(f"/staff/<{ID}:user_id>/role", methods=["PUT"])
@blp.arguments(StaffRoleSchema)
@blp.response(200, StaffSchema)
@blp.doc(security=BEARER_SECURITY)
@SECURITY_ADMIN
def change_role(body, user_id):
    """Give the account another role or district; its sessions end."""
    user = _staff(user_id)
    principal = current_principal()
    if not policy.manages_account(principal, body["role"], body["district_code"]):
        raise _out_of_scope()
    session = db_session()
    try:
        manage.change_role(session, user, body["role"], body["district_code"], principal.id)
    except manage.AccountError as err:
        raise _account_problem(err) from err
    session.commit()
    return user


@blp.route("/terminals")
class TerminalCollection(MethodView):
    @blp.arguments(StaffQuerySchema(only=("cursor", "limit")), location="query")
    @blp.response(200, TerminalPageSchema)
    @blp.doc(security=BEARER_SECURITY)
    @SECURITY_ADMIN
    def get(self, query):
        """Terminals you manage, by id (keys are never shown again)."""
        stmt = select(Terminal).join(ServiceCenter).order_by(Terminal.id)
        district = policy.district_scope(current_principal())
        if district is not None:
            stmt = stmt.where(ServiceCenter.district_code == district)
        if query["cursor"]:
            stmt = stmt.where(Terminal.id > decode_id_cursor(query["cursor"]))
        rows = db_session().scalars(stmt.limit(query["limit"] + 1)).all()
        page, cursor = _page(rows, query["limit"])
        return {"terminals": page, "next_cursor": cursor}

    @blp.arguments(TerminalCreateSchema)
    @blp.response(201, TerminalKeySchema)
    @blp.doc(security=BEARER_SECURITY)
    @SECURITY_ADMIN
    def post(self, body):
        """Create a window terminal at a service center; its key is shown this once."""
        session = db_session()
        center = session.scalar(
            select(ServiceCenter).where(ServiceCenter.code == body["center_code"])
        )
        principal = current_principal()
        if center is None or not policy.manages_terminals_of(principal, center.district_code):
            raise Problem(
                422,
                "validation-error",
                "Request validation failed",
                "No such service center among yours.",
                detail_zh="服务中心不存在或不属于本区县。",
                errors=[{"field": "center_code", "messages": ["Unknown service center."]}],
            )
        terminal, key = manage.add_terminal(session, center, body["name"])
        session.commit()
        return {"terminal": terminal, "api_key": key}


@blp.route(f"/terminals/<{ID}:terminal_id>/rotate-key", methods=["POST"])
@blp.response(200, TerminalKeySchema)
@blp.problem(409, "The terminal is revoked")
@blp.doc(security=BEARER_SECURITY)
@SECURITY_ADMIN
def rotate_key(terminal_id):
    """A new key for the terminal, shown this once; the old key stops working at once."""
    terminal = _terminal(terminal_id)
    session = db_session()
    try:
        key = manage.rotate_key(session, terminal)
    except manage.AccountError as err:
        raise _account_problem(err) from err
    session.commit()
    return {"terminal": terminal, "api_key": key}


@blp.route(f"/terminals/<{ID}:terminal_id>/revoke", methods=["POST"])
@blp.response(200, TerminalSchema)
@blp.doc(security=BEARER_SECURITY)
@SECURITY_ADMIN
def revoke_terminal(terminal_id):
    """Stop the terminal for good: its key and window logins stop working at once."""
    terminal = _terminal(terminal_id)
    session = db_session()
    manage.revoke_terminal(session, terminal)
    session.commit()
    return terminal


@blp.route("/sessions", methods=["GET"])
@blp.response(200, SessionListSchema)
@blp.doc(security=BEARER_SECURITY)
@SECURITY_ADMIN
def list_sessions():
    """Open staff tokens and window logins you manage: who, since when, last seen, from where."""
    principal = current_principal()
    found = manage.open_sessions(db_session(), policy.district_scope(principal))
    return {"sessions": [s for s in found if _manages_session(principal, s)]}


def _manages_session(principal, found: manage.OpenSession) -> bool:
    if found.kind == "window":
        return policy.manages_terminals_of(principal, found.district_code or "")
    return policy.manages_account(principal, found.role, found.district_code)


@blp.route(f"/sessions/<any(staff, window):kind>/<{ID}:session_id>", methods=["DELETE"])
@blp.response(204)
@blp.doc(security=BEARER_SECURITY)
@SECURITY_ADMIN
def revoke_session(kind, session_id):
    """End one session at once."""
    session = db_session()
    found = manage.find_session(session, kind, session_id)
    if found is None or not _manages_session(current_principal(), found):
        raise _not_found("session", "会话")
    manage.revoke_session(session, found)
    session.commit()


@blp.route("/security-events", methods=["GET"])
@blp.arguments(SecurityEventQuerySchema, location="query")
@blp.response(200, SecurityEventPageSchema)
@blp.doc(security=BEARER_SECURITY)
@SECURITY_AUDITOR
def security_events(query):
    """The security log, newest first: logins, account, key and session changes, and changes
    to system settings. A district's security auditor sees its district's events only."""
    stmt = _filtered(select(SecurityEvent).order_by(SecurityEvent.id.desc()), query)
    if query["cursor"]:
        stmt = stmt.where(SecurityEvent.id < decode_id_cursor(query["cursor"]))
    rows = db_session().scalars(stmt.limit(query["limit"] + 1)).all()
    page, cursor = _page(rows, query["limit"])
    return {"events": page, "next_cursor": cursor}


def _filtered(stmt: Select, query: dict) -> Select:
    """The entries the filters ask for, within the reader's district if they have one."""
    district = policy.district_scope(current_principal())
    if district is not None:
        stmt = stmt.where(SecurityEvent.district_code == district)
    columns = {
        "action": SecurityEvent.action,
        "outcome": SecurityEvent.outcome,
        "actor": SecurityEvent.actor_name,
        "district": SecurityEvent.district_code,
    }
    for name, column in columns.items():
        if query[name] is not None:
            stmt = stmt.where(column == query[name])
    if query["since"]:
        stmt = stmt.where(SecurityEvent.occurred_at >= query["since"])
    if query["until"]:
        stmt = stmt.where(SecurityEvent.occurred_at < query["until"])
    return stmt


@blp.route("/security-events/export", methods=["GET"])
@blp.arguments(SecurityEventExportSchema, location="query")
@blp.problem(422, "Bad filters, or more entries than one file holds (narrow the time range)")
@blp.doc(security=BEARER_SECURITY, responses={200: {"description": "the CSV or XLSX file"}})
@requires(Permission.EXPORT_SECURITY_LOG)
def export_security_events(query):
    """The security log with the same filters, oldest first, as CSV (UTF-8 with BOM) or XLSX
    with Chinese headers. The export itself is logged."""
    session = db_session()
    stmt = _filtered(select(SecurityEvent).order_by(SecurityEvent.id), query)
    rows = session.scalars(stmt.limit(MAX_EXPORT_ROWS + 1)).all()
    if len(rows) > MAX_EXPORT_ROWS:
        raise Problem(
            422,
            "export-too-large",
            "Too many entries for one file",
            f"More than {MAX_EXPORT_ROWS} entries match; narrow the time range.",
            detail_zh="符合条件的记录过多，请缩小时间范围后再导出。",
        )
    fmt = query["format"]
    content = log_export.RENDER[fmt](rows)
    filters = {k: str(v) for k, v in query.items() if v is not None and k != "format"}
    security_log.record(
        session,
        "security_log.export",
        target_type="security_log",
        target=None,
        district_code=policy.district_scope(current_principal()),
        details={"format": fmt, "rows": len(rows), "filters": filters},
    )
    session.commit()
    response = Response(content, mimetype=log_export.MEDIA_TYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="security-log.{fmt}"'
    return response
