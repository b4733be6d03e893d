"""Staff login and who-am-I."""

from marshmallow import Schema, fields, validate

from service.schemas import LocalDateTime


class LoginSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(
        required=True, load_only=True, validate=validate.Length(min=1, max=256)
    )


class PrincipalSchema(Schema):
    kind = fields.String()
    id = fields.Integer()
    name = fields.String()
    role = fields.String()
    district_code = fields.String(allow_none=True)
    center_id = fields.Integer(allow_none=True)


class TokenSchema(Schema):
    token = fields.String()
    token_type = fields.String()
    expires_at = LocalDateTime()
    principal = fields.Nested(PrincipalSchema)
