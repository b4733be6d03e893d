"""What the rating and rectification routes take and answer; the case page's form uses them."""

from marshmallow import Schema, fields, validate

from service.ratings.levels import LEVELS, RECTIFICATION_STATUSES
from service.schemas import LocalDateTime, PageQuerySchema


class RatingSchema(Schema):
    level = fields.String(
        required=True,
        validate=validate.OneOf(list(LEVELS)),
        metadata={"description": ", ".join(f"{k} ({v})" for k, v in LEVELS.items())},
    )
    comment = fields.String(load_default=None, validate=validate.Length(max=500))


class StepTextSchema(Schema):
    text = fields.String(
        required=True,
        validate=validate.Length(min=1, max=2000),
        metadata={"description": "call-back summary, rectification result, or appeal reason"},
    )


class ReviewSchema(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(["upheld", "dismissed"]))
    note = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class RectificationQuerySchema(PageQuerySchema):
    status = fields.List(
        fields.String(validate=validate.OneOf(RECTIFICATION_STATUSES)), load_default=list
    )


class RectificationSchema(Schema):
    id = fields.Integer()
    case_no = fields.String()
    district_code = fields.String()
    status = fields.String()
    status_zh = fields.String()
    level = fields.String()
    level_zh = fields.String()
    comment = fields.String(allow_none=True)
    opened_at = LocalDateTime()
    callback_at = LocalDateTime(allow_none=True)
    callback_by = fields.String(allow_none=True)
    callback_summary = fields.String(allow_none=True)
    result = fields.String(allow_none=True)
    closed_at = LocalDateTime(allow_none=True)
    appeal_reason = fields.String(allow_none=True)
    review_decision = fields.String(allow_none=True)
    review_note = fields.String(allow_none=True)


class RectificationPageSchema(Schema):
    rectifications = fields.List(fields.Nested(RectificationSchema))
    next_cursor = fields.String(allow_none=True)
