"""Admins list dead letters and replay one or all of them."""

import uuid
from datetime import datetime

from flask import current_app
from sqlalchemy import tuple_

from service import policy
from service.accounts.auth import BEARER_SECURITY, current_principal, requires
from service.audit import security_log
from service.db import db_session
from service.districts.dead_letters import dead_letters_query, present_dead_letter
from service.errors import Problem
from service.openapi import Blueprint
from service.outbox.models import OutboxMessage
from service.outbox.names import district_queue
from service.outbox.processing import replay_dead
from service.outbox.schemas import (
    DeadLetterPageSchema,
    DeadLetterQuerySchema,
    ReplayResultSchema,
)
from service.pagination import bad_cursor, decode_cursor, encode_cursor
from service.policy import Permission

blp = Blueprint(
    "dead_letters", __name__, url_prefix="/api/v1/admin/dead-letters", description="Dead letters"
)
ADMIN = requires(Permission.MANAGE_DISTRICT)


@blp.route("", methods=["GET"])
@blp.arguments(DeadLetterQuerySchema, location="query")
@blp.response(200, DeadLetterPageSchema)
@blp.doc(security=BEARER_SECURITY)
@ADMIN
def list_dead(query):
    """Deliveries that used up their retry budget, oldest first."""
    stmt = dead_letters_query()
    queues = _queues_managed()
    if queues is not None:
        stmt = stmt.where(OutboxMessage.queue.in_(queues))
    if query["cursor"]:
        key = decode_cursor(query["cursor"])
        try:
            created, last_id = datetime.fromisoformat(key[0]), uuid.UUID(str(key[1]))
        except (ValueError, TypeError, IndexError) as exc:
            raise bad_cursor() from exc
        stmt = stmt.where(
            tuple_(OutboxMessage.created_at, OutboxMessage.id) > tuple_(created, last_id)
        )
    rows = db_session().execute(stmt.limit(query["limit"] + 1)).all()
    page = rows[: query["limit"]]
    return {
        "dead_letters": [present_dead_letter(m, case_no) for m, case_no in page],
        "next_cursor": encode_cursor([page[-1][0].created_at.isoformat(), str(page[-1][0].id)])
        if len(rows) > query["limit"]
        else None,
    }


def _queues_managed() -> list[str] | None:
    """The queues of the districts this admin manages (None: city-wide, every queue). A
    district admin sees and replays only deliveries bound for their own district."""
    district = policy.district_scope(current_principal())
    return None if district is None else [district_queue(district)]


def _replay(ids: list[uuid.UUID] | None) -> dict:
    session = db_session()
    messages = replay_dead(
        session, ids, current_app.extensions["tongban.policy"], _queues_managed()
    )
    security_log.record(
        session,
        "dead_letters.replay",
        target_type="outbox",
        target=",".join(str(i) for i in ids) if ids is not None else "all",
        district_code=current_principal().district_code,
        details={"replayed": len(messages)},
    )
    session.commit()
    current_app.extensions["tongban.publisher"].publish(messages)
    return {"replayed": len(messages)}


@blp.route("/<uuid:message_id>/replay", methods=["POST"])
@blp.response(200, ReplayResultSchema)
@blp.doc(security=BEARER_SECURITY)
@ADMIN
def replay_one(message_id):
    """Give one dead letter a fresh retry budget and deliver it again."""
    result = _replay([message_id])
    if not result["replayed"]:
        raise Problem(404, "not-found", "Not found", f"No dead letter {message_id}.")
    return result


@blp.route("/replay", methods=["POST"])
@blp.response(200, ReplayResultSchema)
@blp.doc(security=BEARER_SECURITY)
@ADMIN
def replay_all():
    """Replay every dead letter (after the district's system is back, say)."""
    return _replay(None)
