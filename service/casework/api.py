"""Applications and cases: intake at the window, the back office's steps, the queue, news."""

from dataclasses import dataclass

from flask import current_app, url_for

from service.accounts.auth import BEARER_SECURITY, current_principal, requires
from service.cases import query_code
from service.cases.actions import (
    CaseNotFound,
    assign,
    perform,
    visible_case,
)
from service.cases.contact import applicant_name, mailing_contact
from service.cases.lifecycle import TRANSITIONS, Action
from service.cases.models import Case
from service.cases.news import mark_read_for, news_for
from service.cases.schemas import STEP_SCHEMAS, ActionSchema, AssignSchema
from service.casework import schemas
from service.casework.intake import submit_application
from service.casework.presenter import present_case, present_new_case
from service.casework.queue import (
    decode_queue_cursor,
    encode_queue_cursor,
    queue_district,
    queue_rows,
)
from service.clocks import pauses
from service.clocks.store import load_calendar
from service.clocks.tracking import deadlines_of
from service.db import db_session
from service.errors import Problem
from service.logs import case_no_var
from service.openapi import Blueprint
from service.pagination import (
    ID,
    decode_id_cursor,
    encode_cursor,
)
from service.policy import Permission
from service.ratings.schemas import RatingSchema
from service.ratings.service import record_rating
from service.work import take, unit_of_work

blp = Blueprint("cases", __name__, url_prefix="/api/v1", description="Applications and cases")
# On answers that carry the citizen's query code: no cache along the way may keep it.
NO_STORE = {"Cache-Control": "no-store"}


def _ext(name: str):
    return current_app.extensions[f"tongban.{name}"]


def shown_case(case: Case) -> dict:
    """The case as the caller may see it, timeline reloaded."""
    session = db_session()
    session.expire(case, ["events"])  # a step's new events are not in the loaded list
    return present_case(session, _ext("cipher"), case, current_principal(), _ext("policy").clocks)


@blp.route("/applications", methods=["POST"])
@blp.arguments(schemas.IdempotencyHeaderSchema, location="headers", as_kwargs=True)
@blp.arguments(schemas.ApplicationSchema)
@blp.response(
    201,
    schemas.NewCaseSchema,
    headers={
        "Location": {"description": "the case's URL", "schema": {"type": "string"}},
        "Idempotent-Replayed": {
            "description": "`true` when this answers a retry with the same Idempotency-Key "
            "and body: the case was created before, not now",
            "schema": {"type": "string", "enum": ["true"]},
        },
    },
)
@blp.problem(409, "Idempotency-Key reused with a different application")
@blp.problem(
    422,
    "Invalid fields, or the application cannot be taken: no agreement covers the item "
    "between the districts, a fact is missing, or materials are missing (all listed at once "
    "in `materials`)",
)
@blp.doc(security=BEARER_SECURITY)
@requires(Permission.SUBMIT)
def submit(application, idempotency_key):
    """Submit an application at this terminal's service center.

    The responsible district is worked out from the item's territorial basis and the facts
    given; the item must be covered by an agreement in force between the two districts.
    Send the same Idempotency-Key when retrying: the same case comes back.
    The answer carries the citizen's query code (查询码) for the receipt; no other case answer
    does.
    """
    with unit_of_work() as uow:
        cipher = _ext("cipher")
        result = submit_application(uow, cipher, current_principal(), application, idempotency_key)
        case = result.case
        case_no_var.set(case.case_no)
        # A replay is the same window retrying the same request (the key is per terminal), so
        # it gets the code again: the first answer may never have arrived.
        code = query_code.display(query_code.code_of(uow.session, cipher, case))
        # Of a case made now: the calendar its deadlines were counted by, and the deadlines,
        # as this transaction has them (nothing to read back after the commit).
        if result.created:
            written = (load_calendar(uow.session), deadlines_of(uow.session, case))
    if result.created:
        current_app.logger.info("application submitted", extra={"case_no": case.case_no})
    headers = {"Location": url_for("cases.read", case_no=case.case_no), **NO_STORE}
    if not result.created:
        headers["Idempotent-Replayed"] = "true"
        return shown_case(case) | {"query_code": code}, 201, headers
    view = present_new_case(cipher, case, current_principal(), _ext("policy").clocks, written)
    return view | {"query_code": code}, 201, headers


@blp.route("/applications/<string:case_no>", methods=["GET"])
@blp.response(200, schemas.CaseSchema)
@blp.problem(404, "No such case, or not one of this district's")
@blp.doc(security=BEARER_SECURITY)
@requires(Permission.READ_CASE)
def read(case_no):
    """A case with its timeline, for the accepting and the responsible district."""
    case = visible_case(db_session(), current_principal(), case_no)
    case_no_var.set(case.case_no)
    return shown_case(case)


def _worked(step, version: int, case_no: str, *args) -> dict:
    """Take a step on the case (`step(uow, principal, case_no, version, *args)`) in the
    request's unit of work; answers the case as it is after the commit."""
    return shown_case(take(case_no, step, current_principal(), case_no, version, *args))


@dataclass(frozen=True)
class Step:
    """What the API documents of one lifecycle step: a summary and what it does (its request
    schema is STEP_SCHEMAS'; who may take it and when, the lifecycle's table)."""

    summary: str
    description: str


STEPS = {
    Action.ACCEPT: Step(
        "Accept the case (受理)",
        "The responsible district takes the case on; the completion clocks start.",
    ),
    Action.REJECT: Step(
        "Reject the case (不予受理)",
        "The responsible district refuses the case, with the reason the applicant is told.",
    ),
    Action.REQUEST_SUPPLEMENT: Step(
        "Ask for supplements (补正)",
        "Every missing or faulty material at once (一次性告知); the accepting window is told.",
    ),
    Action.COMPLETE: Step(
        "Complete the case (办结)",
        "The decision, approved or denied, with its document number; the accepting window is "
        "told to deliver the result.",
    ),
    Action.SUPPLEMENT: Step(
        "Hand in the supplement (补正材料)",
        "The accepting window hands in every material the request listed (scans uploaded "
        "first, POST /cases/{case_no}/files); the case goes back to the responsible district.",
    ),
    Action.DELIVER_RESULT: Step(
        "Deliver the result (送达)",
        "Handed out at the window, or mailed (with its tracking number) to the address on file.",
    ),
    Action.WITHDRAW: Step(
        "Withdraw the application (撤回)",
        "At the applicant's request, at the accepting window, before the case is completed.",
    ),
    Action.CLOSE: Step(
        "Close the case (归档)",
        "The accepting window closes a case whose result was delivered, or that was rejected "
        "or withdrawn.",
    ),
}


def _register_step(action: Action, step: Step) -> None:
    def view(data, case_no):
        return shown_case(take(case_no, perform, current_principal(), case_no, action, data))

    owner, sources, _target = TRANSITIONS[action]
    view.__name__ = f"step_{action.value}"
    view.__doc__ = (
        f"{step.summary}.\n\n{step.description} Taken by the {owner} district's side when "
        f"the case is {' or '.join(sources)}."
    )
    path = f"/cases/<string:case_no>/{action.value.replace('_', '-')}"
    decorated = requires(Permission.CASE_STEP)(view)
    decorated = blp.doc(security=BEARER_SECURITY)(decorated)
    decorated = blp.problem(
        409,
        "The version is stale (`version-conflict`), the step is the other side's "
        "(`not-your-step`), or the case's status does not allow it now (`invalid-transition`).",
    )(decorated)
    decorated = blp.problem(
        422,
        "Invalid fields, or details the case refuses (a material not on the item's list, "
        "a scan of another case, no address to mail to); `errors` names each field.",
    )(decorated)
    decorated = blp.response(200, schemas.CaseSchema)(decorated)
    decorated = blp.arguments(STEP_SCHEMAS[action])(decorated)
    blp.route(path, methods=["POST"])(decorated)


# Every step a person takes has its route: a step with no summary here fails at import.
for _action in STEP_SCHEMAS:
    _register_step(_action, STEPS[_action])


@blp.route("/applications/<string:case_no>/query-code", methods=["GET"])
@blp.response(200, schemas.QueryCodeSchema)
@blp.problem(404, "No such case, or not taken at this terminal's center")
@blp.doc(security=BEARER_SECURITY)
@requires(Permission.SUBMIT)
def query_code_of(case_no):
    """The citizen's query code, to print the receipt again at the center that took the
    application (a case from before codes existed gets one now). Nobody else is shown it."""
    with unit_of_work() as uow:
        case = visible_case(uow.session, current_principal(), case_no)
        if not query_code.shown_to(current_principal(), case):
            raise CaseNotFound(case_no)
        case_no_var.set(case.case_no)
        code = query_code.reveal(uow.session, _ext("cipher"), current_principal(), case)
    return {"case_no": case.case_no, "query_code": query_code.display(code)}, 200, NO_STORE


@blp.route("/cases/<string:case_no>/mailing-contact", methods=["GET"])
@blp.response(200, schemas.MailingContactSchema)
@blp.problem(409, "Not a decided case whose result goes by mail")
@blp.doc(security=BEARER_SECURITY)
@requires(Permission.MAILING_CONTACT)
def mailing_contact_of(case_no):
    """The applicant's full phone and address, for the window that took the application, to
    mail the decided result. Everywhere else they are masked; each look is on the timeline."""
    return take(case_no, mailing_contact, _ext("cipher"), current_principal(), case_no)


@blp.route("/cases/<string:case_no>/applicant-name", methods=["GET"])
@blp.response(200, schemas.ApplicantNameSchema)
@blp.doc(security=BEARER_SECURITY)
@requires(Permission.APPLICANT_NAME)
def applicant_name_of(case_no):
    """The applicant's full name, for the window that took the application and the
    responsible district's staff (the case view masks it for everyone). Each read is on the
    timeline; anyone else gets 404."""
    revealed = take(case_no, applicant_name, _ext("cipher"), current_principal(), case_no)
    return revealed, 200, NO_STORE


@blp.route("/cases/<string:case_no>/claim", methods=["POST"])
@blp.arguments(ActionSchema)
@blp.response(200, schemas.CaseSchema)
@blp.problem(409, "Stale version, not your district's case, or not open to work")
@blp.doc(security=BEARER_SECURITY)
@requires(Permission.WORK_CASE)
def claim(data, case_no):
    """Take a case on yourself (a clerk or supervisor of the responsible district)."""
    return _worked(assign, data["version"], case_no, None)


@blp.route("/cases/<string:case_no>/pause", methods=["POST"])
@blp.arguments(schemas.PauseSchema)
@blp.response(200, schemas.CaseSchema)
@blp.problem(409, "Not accepted, not your side, or already paused")
@blp.doc(security=BEARER_SECURITY)
@requires(Permission.WORK_CASE)
def pause_clock(data, case_no):
    """Pause the completion clock for a special procedure (hearing, testing, expert review...)."""
    procedure, reason = data["procedure"], data["reason"]
    return _worked(pauses.pause, data["version"], case_no, procedure, reason)


@blp.route("/cases/<string:case_no>/resume", methods=["POST"])
@blp.arguments(ActionSchema)
@blp.response(200, schemas.CaseSchema)
@blp.problem(409, "Stale version, or the clock is not paused")
@blp.doc(security=BEARER_SECURITY)
@requires(Permission.WORK_CASE)
def resume_clock(data, case_no):
    """Resume the completion clock; the working days paused are added to its deadline."""
    return _worked(pauses.resume, data["version"], case_no, data["note"])


@blp.route("/cases/<string:case_no>/assign", methods=["POST"])
@blp.arguments(AssignSchema)
@blp.response(200, schemas.CaseSchema)
@blp.problem(409, "Stale version, or the case cannot be assigned now")
@blp.doc(security=BEARER_SECURITY)
@requires(Permission.ASSIGN)
def assign_case(data, case_no):
    """Give a case to a clerk of the responsible district (supervisors)."""
    return _worked(assign, data["version"], case_no, data["username"])


@blp.route("/cases/<string:case_no>/rating", methods=["POST"])
@blp.arguments(RatingSchema)
@blp.response(200, schemas.CaseSchema)
@blp.problem(409, "Rated already, or not yet done")
@blp.doc(security=BEARER_SECURITY)
@requires(Permission.RATE)
def rate(data, case_no):
    """Record the citizen's rating (once per case, at the accepting side)."""
    principal = current_principal()
    return shown_case(
        take(case_no, record_rating, principal, case_no, data["level"], data["comment"])
    )


@blp.route("/queue", methods=["GET"])
@blp.arguments(schemas.QueueQuerySchema, location="query")
@blp.response(200, schemas.QueuePageSchema)
@blp.doc(security=BEARER_SECURITY)
@requires(Permission.QUEUE)
def queue(query):
    """The responsible district's cases, newest first, with filters and cursor pagination."""
    district = queue_district(current_principal(), query["district"])
    if district is None:
        raise Problem(
            422,
            "validation-error",
            "Request validation failed",
            "City-wide staff choose a district.",
            errors=[{"field": "district", "messages": ["Required for city-wide staff."]}],
        )
    after = decode_queue_cursor(query["cursor"]) if query["cursor"] else None
    entries, last = queue_rows(
        db_session(),
        _ext("cipher"),
        _ext("policy").clocks,
        current_principal(),
        district,
        query,
        after,
        query["limit"],
    )
    return {
        "cases": entries,
        "next_cursor": last and encode_queue_cursor(last),
    }


@blp.route("/notifications", methods=["GET"])
@blp.arguments(schemas.NotificationQuerySchema, location="query")
@blp.response(200, schemas.NotificationPageSchema)
@blp.doc(security=BEARER_SECURITY)
@requires(Permission.NEWS)
def notifications(query):
    """News of this side's cases, newest first: a window sees its own center's."""
    after = decode_id_cursor(query["cursor"]) if query["cursor"] else None
    entries, last = news_for(
        db_session(), current_principal(), query["unread"], after, query["limit"]
    )
    return {"notifications": entries, "next_cursor": last and encode_cursor([last])}


@blp.route(f"/notifications/<{ID}:notification_id>/read", methods=["POST"])
@blp.response(204)
@blp.doc(security=BEARER_SECURITY)
@requires(Permission.NEWS)
def mark_read(notification_id):
    """Mark one notification read."""
    with unit_of_work() as uow:
        mark_read_for(uow.session, current_principal(), notification_id)
