"""The back office's queue: the responsible district's cases with due-state colours, filters
and counts, through the same query as GET /api/v1/queue."""

from flask import current_app, render_template, request

from catalog.districts import KUNMING_DISTRICTS
from service.accounts.credentials import Principal
from service.cases.lifecycle import STATUS_ZH
from service.casework.queue import (
    decode_queue_cursor,
    encode_queue_cursor,
    queue_counts,
    queue_district,
    queue_rows,
)
from service.casework.schemas import QueueQuerySchema
from service.clocks.deadlines import DUE_STATE_ZH
from service.db import db_session
from service.policy import Permission
from service.web.auth import page_requires
from service.web.blueprints import page_blueprint
from service.web.forms import load_form

bp = page_blueprint("office", __name__, "/office")
PAGE = 30
_LISTS = ("status", "due")
_SINGLE = ("district", "item", "center", "assigned", "submitted_from", "submitted_to", "cursor")


def _query_args() -> dict:
    """The query string as QueueQuerySchema expects it, empty fields left out."""
    args = {k: [v for v in request.args.getlist(k) if v] for k in _LISTS}
    args |= {k: request.args[k].strip() for k in _SINGLE if request.args.get(k, "").strip()}
    return args


@bp.get("/")
@page_requires(Permission.QUEUE)
def queue(principal: Principal):
    """The queue; filters by status, due state, assignment, item and date."""
    query, errors = load_form(QueueQuerySchema(), _query_args())
    if errors:
        query = QueueQuerySchema().load({})
    district = queue_district(principal, query["district"])
    entries, counts, more = [], {"status": {}, "due": {}}, None
    if district is not None:
        after = decode_queue_cursor(query["cursor"]) if query["cursor"] else None
        session, ext = db_session(), current_app.extensions
        entries, last = queue_rows(
            session,
            ext["tongban.cipher"],
            ext["tongban.policy"].clocks,
            principal,
            district,
            query,
            after,
            PAGE,
        )
        counts = queue_counts(session, district)
        more = last and encode_queue_cursor(last)
    return render_template(
        "office/queue.html",
        entries=entries,
        counts=counts,
        query=query,
        errors=errors,
        district=district,
        districts=KUNMING_DISTRICTS,
        status_zh={s.value: n for s, n in STATUS_ZH.items()},
        due_zh={s.value: n for s, n in DUE_STATE_ZH.items()},
        next_cursor=more,
        city_wide=principal.district_code is None,
    )
