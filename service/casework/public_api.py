"""Citizens look up their case with its number and the query code (查询码) from the receipt."""

import re

from flask import current_app, request
from sqlalchemy import select
from sqlalchemy.orm import undefer

from catalog.districts import DISTRICT_NAMES
from service.accounts.auth import public
from service.cases import query_code
from service.cases.lifecycle import STATUS_ZH, Status
from service.cases.lookup_throttle import LookupLimits, LookupThrottle
from service.cases.models import Case
from service.casework.schemas import PublicCaseSchema, PublicLookupQuerySchema
from service.clocks.deadlines import KIND_ZH, Kind
from service.clocks.models import Deadline
from service.db import db_session
from service.errors import Problem
from service.openapi import RETRY_AFTER_HEADER, Blueprint

blp = Blueprint("public", __name__, url_prefix="/api/v1/public", description="Citizen look-up")

CASE_NO = re.compile(r"\d{6}-\d{8}-\d{5}")
# The clocks a citizen waits on; the rectification clock of a bad rating is the district's.
CITIZEN_CLOCKS = (Kind.FORWARD, Kind.ACCEPT, Kind.COMPLETE)

# Coarse stages only: a citizen needs to know where the case is, not the back office's steps.
STAGE_ZH: dict[Status, str] = {
    Status.SUBMITTED: "已收件，正在转送办理地",
    Status.FORWARDED: "已收件，正在转送办理地",
    Status.RECEIVED: "办理地审核中",
    Status.SUPPLEMENTED: "办理地审核中",
    Status.ACCEPTED: "已受理，办理中",
    Status.SUPPLEMENT_REQUESTED: "需要补正材料，请联系收件窗口",
    Status.REJECTED: "不予受理，请到收件窗口了解原因",
    Status.COMPLETED: "已办结，等待送达",
    Status.RESULT_DELIVERED: "已送达",
    Status.WITHDRAWN: "已撤回",
    Status.CLOSED: "已办结归档",
}


def _not_found() -> Problem:
    # One answer for an unknown case and a wrong code: the answer must not confirm a number.
    return Problem(
        404,
        "not-found",
        "Not found",
        "No case with that number and query code.",
        detail_zh="未查询到办件，请核对办件编号和查询码。",
    )


def _wait(seconds: int) -> Problem:
    return Problem(
        429,
        "too-many-requests",
        "Too many look-ups",
        f"Too many look-ups or failures from this address; wait {seconds} s.",
        detail_zh=f"查询过于频繁或失败次数过多，请{seconds}秒后再试。",
        headers={"Retry-After": str(seconds)},
    )


def _open_deadlines(case: Case) -> list[dict]:
    rows = db_session().execute(
        select(Deadline.kind, Deadline.due_on)
        .where(
            Deadline.case_id == case.id,
            Deadline.state == "open",
            Deadline.kind.in_(CITIZEN_CLOCKS),
        )
        .order_by(Deadline.due_on)
    )
    return [{"kind": kind, "kind_zh": KIND_ZH[Kind(kind)], "due_on": due} for kind, due in rows]


@blp.route("/cases/<string:case_no>", methods=["GET"])
@blp.arguments(PublicLookupQuerySchema, location="query")
@blp.response(200, PublicCaseSchema)
@blp.problem(404, "No such case, or not its query code (the same answer)")
@blp.problem(
    429, "Too many failures from this address; see Retry-After", {"Retry-After": RETRY_AFTER_HEADER}
)
@public
def lookup(query, case_no):
    """A case's coarse status and dates, for the applicant (no login).

    Needs the case number and the query code printed on the receipt. Failures hold the failing
    address back for a growing time; a right code is never held back by others' failures.
    """
    throttle = LookupThrottle(
        current_app.extensions["tongban.redis"],
        LookupLimits.from_settings(current_app.extensions["tongban.settings"]),
    )
    address = request.remote_addr or "-"
    shaped = case_no if CASE_NO.fullmatch(case_no) else None
    wait = throttle.wait_before(address, shaped)
    if wait:
        raise _wait(wait)
    case = None
    if shaped is not None:
        case = db_session().scalar(
            select(Case).options(undefer(Case.query_code_enc)).where(Case.case_no == shaped)
        )
    if not query_code.matches(current_app.extensions["tongban.cipher"], case, query["code"]):
        wait = throttle.failed(address, shaped)
        raise _wait(wait) if wait else _not_found()
    status = Status(case.status)
    return {
        "case_no": case.case_no,
        "item_name": case.item_name,
        "status": status.value,
        "status_zh": STATUS_ZH[status],
        "stage_zh": STAGE_ZH[status],
        "accepting_district": DISTRICT_NAMES[case.accepting_district],
        "responsible_district": DISTRICT_NAMES[case.responsible_district],
        "submitted_at": case.created_at,
        "updated_at": case.updated_at,
        "deadlines": _open_deadlines(case),
    }


@blp.after_request
def _no_store(response):
    # Every answer, refusals included: a shared computer's cache must not keep a case's status.
    response.headers["Cache-Control"] = "no-store"
    return response
