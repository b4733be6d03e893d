"""Dead letters as admins see them."""

from marshmallow import Schema, fields

from service.schemas import LocalDateTime, PageQuerySchema


class DeadLetterSchema(Schema):
    id = fields.UUID()
    task = fields.String()
    queue = fields.String()
    case_no = fields.String(allow_none=True)
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    created_at = LocalDateTime()


class DeadLetterPageSchema(Schema):
    dead_letters = fields.List(fields.Nested(DeadLetterSchema))
    next_cursor = fields.String(allow_none=True)


class DeadLetterQuerySchema(PageQuerySchema):
    pass


class ReplayResultSchema(Schema):
    replayed = fields.Integer()
