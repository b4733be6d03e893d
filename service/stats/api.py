"""Monthly statistics and audit: reports and their files, month close, timeline verification.

Read-only for auditors (city-wide, or of one district: they see only their district's cases).
Exports never show personal data beyond a masked name.
"""

import re

from flask import Response, current_app
from marshmallow import Schema, ValidationError, fields, validate, validates

from catalog.districts import DISTRICT_NAMES
from service.accounts.auth import BEARER_SECURITY, current_principal, requires
from service.accounts.credentials import Principal
from service.audit import security_log
from service.cases.verify import verify_timelines
from service.clock import local_today
from service.db import db_session
from service.errors import Problem
from service.openapi import Blueprint
from service.policy import Permission
from service.stats.closing import (
    CITY,
    MonthNotOver,
    MonthsOutOfOrder,
    close_month,
    closed_months,
    month_file,
    month_of,
)
from service.stats.export import FORMATS, MEDIA_TYPES, file_name

blp = Blueprint("stats", __name__, url_prefix="/api/v1", description="Statistics and audit")
MONTH = re.compile(r"^(20\d\d)-(0[1-9]|1[0-2])$")


class MonthlyQuerySchema(Schema):
    month = fields.String(required=True, metadata={"description": "YYYY-MM, Asia/Shanghai"})
    format = fields.String(load_default="json", validate=validate.OneOf(FORMATS))
    district = fields.String(
        load_default=None,
        metadata={"description": "city-wide readers may pick a district; others see their own"},
    )

    @validates("month")
    def _month(self, value, **kwargs):
        if not MONTH.fullmatch(value):
            raise ValidationError("Must be YYYY-MM.")
        if value > month_of(local_today()):
            raise ValidationError("Must not be a month still to come.")

    @validates("district")
    def _district(self, value, **kwargs):
        if value is not None and value not in DISTRICT_NAMES:
            raise ValidationError("Not a district Tongban serves.")


class MonthSchema(Schema):
    month = fields.String()
    closed_at = fields.DateTime()
    closed_by = fields.String()
    manifest = fields.Dict(
        keys=fields.String(), values=fields.String(), metadata={"description": "file -> SHA-256"}
    )


class BrokenLinkSchema(Schema):
    """The first event whose hash does not chain, and why."""

    case_no = fields.String()
    seq = fields.Integer()
    event_id = fields.Integer()
    type = fields.String()
    checkpoint = fields.String(
        metadata={"description": "the checkpoint file that does not hold, or whose pin broke"}
    )
    reason = fields.String()


class VerifySchema(Schema):
    ok = fields.Boolean()
    cases_checked = fields.Integer()
    events_checked = fields.Integer()
    checkpoints_checked = fields.Integer()
    heads_checked = fields.Integer(metadata={"description": "case heads pinned by checkpoints"})
    security_ranges_skipped = fields.Integer(
        metadata={"description": "security-log ranges partly purged (older than retention)"}
    )
    first_broken = fields.Nested(BrokenLinkSchema, allow_none=True)


def report_scope(principal: Principal, requested: str | None) -> str:
    """Whose figures the reader gets: their own district's, or city-wide readers' choice."""
    return principal.district_code or requested or CITY


def report_response(session, month: str, scope: str, fmt: str) -> Response:
    """The month's report (frozen if the month is closed) as a response; files as downloads."""
    content, closed = month_file(session, month, scope, fmt)
    response = Response(content, mimetype=MEDIA_TYPES[fmt])
    security_log.record(
        session,
        "stats.export",
        target_type="stat_month",
        target=month,
        district_code=None if scope == CITY else scope,
        details={"scope": scope, "format": fmt, "closed": closed},
    )
    session.commit()
    if fmt != "json":
        name = file_name(month, scope, fmt)
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["X-Tongban-Month-Closed"] = "true" if closed else "false"
    return response


@blp.route("/stats/monthly", methods=["GET"])
@blp.arguments(MonthlyQuerySchema, location="query")
@blp.doc(security=BEARER_SECURITY, responses={200: {"description": "the report or its file"}})
@requires(Permission.READ_STATS)
def monthly(query):
    """The month's report: the matrix, items, centers, agreements, ratings, rectification,
    overdue cases and adjustments. A closed month answers its frozen file, byte for byte."""
    scope = report_scope(current_principal(), query["district"])
    return report_response(db_session(), query["month"], scope, query["format"])


@blp.route("/stats/months", methods=["GET"])
@blp.response(200, MonthSchema(many=True))
@blp.doc(security=BEARER_SECURITY)
@requires(Permission.READ_STATS)
def list_closed_months():
    """Closed months with their manifests (SHA-256 of every file)."""
    return closed_months(db_session())


@blp.route("/admin/stats/months/<string:month>/close", methods=["POST"])
@blp.response(200, MonthSchema)
@blp.doc(security=BEARER_SECURITY)
@requires(Permission.CLOSE_MONTH)
def close(month):
    """Close a finished month now (beat does it early each month); city-wide admins only."""
    if not MONTH.fullmatch(month):
        raise Problem(
            422,
            "validation-error",
            "Request validation failed",
            "Month must be YYYY-MM.",
            errors=[{"field": "month", "messages": ["Must be YYYY-MM."]}],
        )
    try:
        book = current_app.extensions["tongban.checkpoints"]
        return close_month(db_session(), month, current_principal().name, book)
    except MonthsOutOfOrder as err:
        raise Problem(
            409,
            "months-out-of-order",
            "An earlier month is still open",
            f"Close {err} first: months close in order, so corrections are counted once.",
            detail_zh="请先关闭更早的月份。",
        ) from err
    except MonthNotOver as err:
        raise Problem(
            409,
            "month-not-over",
            "Month not over",
            "Only a finished month can be closed.",
            detail_zh="只能关闭已结束的月份。",
        ) from err


@blp.route("/admin/audit/verify", methods=["GET"])
@blp.response(200, VerifySchema)
@blp.doc(security=BEARER_SECURITY)
@requires(Permission.VERIFY_TIMELINE)
def verify():
    """Check every case's timeline hash chain, then every signed checkpoint (signature, chain,
    pinned heads, security-log ranges); names the first broken link (city-wide only)."""
    return verify_timelines(db_session(), current_app.extensions["tongban.checkpoints"])
