"""Marshmallow pieces shared by every feature's schemas."""

from marshmallow import Schema, fields, validate

from service.clock import to_local


class LocalDateTime(fields.DateTime):
    """A UTC timestamp shown as ISO 8601 in Asia/Shanghai (+08:00)."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else to_local(value).isoformat()


class PageQuerySchema(Schema):
    cursor = fields.String(load_default=None, metadata={"description": "from next_cursor"})
    limit = fields.Integer(
        load_default=50,
        validate=validate.Range(min=1, max=200),
        metadata={"description": "1 to 200"},
    )


class PlaceSchema(Schema):
    """A district or service center by code and name."""

    code = fields.String()
    name = fields.String()
