"""Applications: a terminal submits one; the sides involved read it."""

from flask import current_app, url_for
from flask_smorest import Blueprint
from sqlalchemy import select

from catalog.routing import RoutingError
from service.accounts.auth import BEARER_SECURITY, current_principal, requires
from service.cases.intake import IdempotencyConflict, submit_application
from service.cases.models import Case
from service.cases.presenter import present_case
from service.cases.schemas import ApplicationSchema, CaseSchema, IdempotencyHeaderSchema
from service.db import db_session
from service.errors import Problem
from service.logs import case_no_var

blp = Blueprint(
    "applications", __name__, url_prefix="/api/v1/applications", description="Applications"
)


def _cipher():
    return current_app.extensions["tongban.cipher"]


def refusal(err: RoutingError) -> Problem:
    """A routing or intake refusal as a 422 problem that says why, for the window to show."""
    return Problem(
        422,
        err.code.replace("_", "-"),
        "Application cannot be taken",
        err.detail,
        detail_zh=err.detail_zh,
        errors=[{"field": err.field, "messages": [err.detail]}] if err.field else None,
    )


@blp.route("", methods=["POST"])
@blp.arguments(IdempotencyHeaderSchema, location="headers", as_kwargs=True)
@blp.arguments(ApplicationSchema)
@blp.response(201, CaseSchema)
@blp.alt_response(409, description="Idempotency-Key reused with a different application")
@blp.alt_response(422, description="Invalid fields, or the item is not covered (says why)")
@blp.doc(security=BEARER_SECURITY)
@requires(kinds=("terminal",))
def submit(application, idempotency_key):
    """Submit an application at this terminal's service center.

    The responsible district is worked out from the item's territorial basis and the facts
    given; the item must be covered by an agreement in force between the two districts.
    Send the same Idempotency-Key when retrying: the same case comes back.
    """
    session = db_session()
    try:
        result = submit_application(
            session, _cipher(), current_principal(), application, idempotency_key
        )
    except RoutingError as err:
        raise refusal(err) from err
    except IdempotencyConflict as err:
        raise Problem(
            409,
            "idempotency-key-reused",
            "Idempotency-Key already used",
            "This Idempotency-Key was used with a different application.",
            detail_zh="该幂等键已用于另一份申请，请为新申请生成新的键。",
            errors=[{"field": "Idempotency-Key", "messages": ["Used with a different body."]}],
        ) from err
    case = result.case
    case_no_var.set(case.case_no)
    if result.created:
        current_app.logger.info("application submitted", extra={"case_no": case.case_no})
    headers = {"Location": url_for("applications.read", case_no=case.case_no)}
    if not result.created:
        headers["Idempotent-Replayed"] = "true"
    return present_case(session, _cipher(), case), 201, headers


@blp.route("/<string:case_no>", methods=["GET"])
@blp.response(200, CaseSchema)
@blp.alt_response(404, description="No such case, or not one of this district's")
@blp.doc(security=BEARER_SECURITY)
@requires()
def read(case_no):
    """A case with its timeline, for the accepting and the responsible district."""
    session = db_session()
    case = session.scalar(select(Case).where(Case.case_no == case_no))
    if case is None or not current_principal().can_see(
        case.accepting_district, case.responsible_district
    ):
        # Same answer whether it does not exist or belongs to others: no probing.
        raise Problem(
            404, "not-found", "Not found", f"No case {case_no}.", detail_zh="未找到该办件。"
        )
    case_no_var.set(case.case_no)
    return present_case(session, _cipher(), case)
