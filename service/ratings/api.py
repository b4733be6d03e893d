"""Ratings (好差评) at the window, and the rectification work they lead to."""

from sqlalchemy import select

from service.accounts.auth import BEARER_SECURITY, current_principal, requires
from service.cases.models import Case
from service.db import db_session
from service.openapi import Blueprint
from service.pagination import ID, decode_id_cursor, encode_cursor
from service.policy import Permission
from service.ratings.levels import LEVELS, STATUS_ZH
from service.ratings.models import Rating, Rectification
from service.ratings.schemas import (
    RectificationPageSchema,
    RectificationQuerySchema,
    RectificationSchema,
    ReviewSchema,
    StepTextSchema,
)
from service.ratings.service import rectification_step, review_appeal
from service.work import take

blp = Blueprint("ratings", __name__, url_prefix="/api/v1", description="Ratings and rectification")


def _present(r: Rectification, case_no: str, rating: Rating) -> dict:
    return {
        **{c.name: getattr(r, c.name) for c in Rectification.__table__.columns},
        "case_no": case_no,
        "status_zh": STATUS_ZH[r.status],
        "level": rating.level,
        "level_zh": LEVELS[rating.level],
        "comment": rating.comment,
    }


@blp.route("/rectifications", methods=["GET"])
@blp.arguments(RectificationQuerySchema, location="query")
@blp.response(200, RectificationPageSchema)
@blp.doc(security=BEARER_SECURITY)
@requires(Permission.READ_RECTIFICATIONS)
def list_rectifications(query):
    """Rectifications of this district's cases (its own, or those accepted here), newest first."""
    principal = current_principal()
    stmt = (
        select(Rectification, Case.case_no, Rating)
        .join(Case, Case.id == Rectification.case_id)
        .join(Rating, Rating.id == Rectification.rating_id)
        .order_by(Rectification.id.desc())
    )
    if principal.district_code is not None:
        stmt = stmt.where(
            (Case.responsible_district == principal.district_code)
            | (Case.accepting_district == principal.district_code)
        )
    if query["status"]:
        stmt = stmt.where(Rectification.status.in_(query["status"]))
    if query["cursor"]:
        stmt = stmt.where(Rectification.id < decode_id_cursor(query["cursor"]))
    rows = db_session().execute(stmt.limit(query["limit"] + 1)).all()
    page = rows[: query["limit"]]
    more = len(rows) > query["limit"]
    return {
        "rectifications": [_present(r, no, rating) for r, no, rating in page],
        "next_cursor": encode_cursor([page[-1][0].id]) if more else None,
    }


def _shown(rectification: Rectification) -> dict:
    session = db_session()
    case_no = session.scalar(select(Case.case_no).where(Case.id == rectification.case_id))
    return _present(rectification, case_no, session.get(Rating, rectification.rating_id))


def _register(step: str, doc: str) -> None:
    def view(data, rectification_id):
        principal = current_principal()
        text = data["text"]
        return _shown(take(None, rectification_step, principal, rectification_id, step, text))

    view.__name__, view.__doc__ = f"rectification_{step}", doc
    decorated = requires(Permission.WORK_RECTIFICATION)(view)
    decorated = blp.doc(security=BEARER_SECURITY)(decorated)
    decorated = blp.response(200, RectificationSchema)(decorated)
    decorated = blp.arguments(StepTextSchema)(decorated)
    blp.route(f"/rectifications/<{ID}:rectification_id>/{step}", methods=["POST"])(decorated)


_register("callback", "Record the call-back to the citizen (回访).")
_register("close", "Record what was fixed and close the rectification (整改结果).")
_register("appeal", "Appeal: the rating was given by mistake (申诉); a supervisor reviews.")


@blp.route(f"/rectifications/<{ID}:rectification_id>/review", methods=["POST"])
@blp.arguments(ReviewSchema)
@blp.response(200, RectificationSchema)
@blp.doc(security=BEARER_SECURITY)
@requires(Permission.REVIEW_APPEAL)
def review(data, rectification_id):
    """Uphold an appeal (the rating is void) or dismiss it (the rectification goes on)."""
    principal, decision, note = current_principal(), data["decision"], data["note"]
    return _shown(take(None, review_appeal, principal, rectification_id, decision, note))
