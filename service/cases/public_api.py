"""Citizens look up their case with its number and the last 4 characters of their ID number."""

import hmac
import logging
import time

import redis
from flask import current_app, request
from flask_smorest import Blueprint
from sqlalchemy import select

from catalog.districts import DISTRICT_NAMES
from service.accounts.auth import public
from service.cases.lifecycle import STATUS_ZH, Status
from service.cases.models import Case
from service.cases.schemas import PublicCaseSchema, PublicLookupQuerySchema
from service.db import db_session
from service.errors import Problem

blp = Blueprint("public", __name__, url_prefix="/api/v1/public", description="Citizen look-up")
log = logging.getLogger("tongban.public")

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


def _over_limit(keys: list[str], limit: int) -> bool:
    """Fixed one-minute windows in Redis; if Redis is down, look-ups still work (logged)."""
    window = int(time.time() // 60)
    client = current_app.extensions["tongban.redis"]
    try:
        pipe = client.pipeline()
        for key in keys:
            pipe.incr(f"tongban:ratelimit:{key}:{window}")
            pipe.expire(f"tongban:ratelimit:{key}:{window}", 120)
        counts = pipe.execute()[::2]
    except redis.RedisError:
        log.warning("rate limiter unavailable; allowing look-up")
        return False
    return any(count > limit for count in counts)


def _not_found() -> Problem:
    return Problem(
        404,
        "not-found",
        "Not found",
        "No case with that number and ID number.",
        detail_zh="未查询到办件，请核对办件编号和身份证号后四位。",
    )


@blp.route("/cases/<string:case_no>", methods=["GET"])
@blp.arguments(PublicLookupQuerySchema, location="query")
@blp.response(200, PublicCaseSchema)
@blp.alt_response(429, description="Too many look-ups; wait a minute")
@public
def lookup(query, case_no):
    """A case's coarse status, for the applicant (no login; rate-limited)."""
    settings = current_app.extensions["tongban.settings"]
    if _over_limit(
        [f"ip:{request.remote_addr}", f"case:{case_no}"], settings.public_lookups_per_minute
    ):
        raise Problem(
            429,
            "too-many-requests",
            "Too many look-ups",
            "Wait a minute before trying again.",
            detail_zh="查询过于频繁，请一分钟后再试。",
            headers={"Retry-After": "60"},
        )
    case = db_session().scalar(select(Case).where(Case.case_no == case_no))
    if case is None:
        raise _not_found()
    cipher = current_app.extensions["tongban.cipher"]
    last4 = cipher.decrypt(case.applicant_id_enc, "applicant_id")[-4:]
    if not hmac.compare_digest(last4, query["id_last4"].upper()):
        raise _not_found()
    status = Status(case.status)
    return {
        "case_no": case.case_no,
        "item_name": case.item_name,
        "status_zh": STATUS_ZH[status],
        "stage_zh": STAGE_ZH[status],
        "accepting_district": DISTRICT_NAMES[case.accepting_district],
        "responsible_district": DISTRICT_NAMES[case.responsible_district],
        "updated_at": case.updated_at,
    }
