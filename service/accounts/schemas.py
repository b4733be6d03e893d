"""Staff login and who-am-I."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from catalog.districts import DISTRICT_NAMES
from service.accounts.models import ROLES
from service.audit.export import FORMATS as LOG_FORMATS
from service.audit.security_log import OUTCOMES
from service.schemas import LocalDateTime, PageQuerySchema


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
    restriction = fields.String(
        allow_none=True,
        metadata={"description": "a token good for one step only: change_password, enroll_totp"},
    )


class TokenSchema(Schema):
    token = fields.String()
    token_type = fields.String()
    expires_at = LocalDateTime()
    principal = fields.Nested(PrincipalSchema)


OTP = validate.Regexp(r"^\d{6}$", error="Six digits.")


class TokenLoginSchema(LoginSchema):
    otp = fields.String(
        load_default=None,
        load_only=True,
        validate=OTP,
        metadata={"description": "the code of the authenticator app, if the account has one"},
    )


class StepTokenSchema(TokenSchema):
    purpose = fields.String(
        metadata={
            "description": "full, or the one step it is good for: change_password, enroll_totp"
        }
    )


class PasswordChangeSchema(Schema):
    current_password = fields.String(
        required=True, load_only=True, validate=validate.Length(min=1, max=256)
    )
    new_password = fields.String(
        required=True, load_only=True, validate=validate.Length(min=1, max=256)
    )


class TotpEnrolmentSchema(Schema):
    secret = fields.String(metadata={"description": "base32, to type in if the QR cannot be read"})
    provisioning_uri = fields.String()
    qr_svg = fields.String(metadata={"description": "the QR code of the URI as an <svg> element"})


class TotpConfirmSchema(Schema):
    code = fields.String(required=True, validate=OTP)


# Account administration (security admins)


class StaffQuerySchema(PageQuerySchema):
    role = fields.String(load_default=None, validate=validate.OneOf(ROLES))
    active = fields.Boolean(load_default=None)


class StaffSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    role = fields.String()
    district_code = fields.String(allow_none=True)
    active = fields.Boolean()
    must_change_password = fields.Boolean()
    totp_enabled = fields.Boolean()
    created_at = LocalDateTime()
    password_changed_at = LocalDateTime(allow_none=True)


class StaffPageSchema(Schema):
    staff = fields.List(fields.Nested(StaffSchema))
    next_cursor = fields.String(allow_none=True)


class StaffCreateSchema(Schema):
    username = fields.String(
        required=True,
        validate=validate.Regexp(
            r"^[a-z0-9][a-z0-9._-]{1,63}$",
            error="2 to 64 of a-z, 0-9, '.', '_' and '-', starting with a letter or digit.",
        ),
    )
    display_name = fields.String(load_default=None, validate=validate.Length(min=1, max=100))
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    district_code = fields.String(
        load_default=None, validate=validate.Regexp(r"^\d{6}$", error="Six digits.")
    )


class StaffRoleSchema(Schema):
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    district_code = fields.String(
        load_default=None, validate=validate.Regexp(r"^\d{6}$", error="Six digits.")
    )


class ResetPasswordSchema(Schema):
    reset_totp = fields.Boolean(
        load_default=False, metadata={"description": "also drop the second factor (lost phone)"}
    )


class StaffWithPasswordSchema(Schema):
    staff = fields.Nested(StaffSchema)
    temporary_password = fields.String(
        metadata={"description": "shown this once; to be changed at the next login"}
    )


class TerminalSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    center_code = fields.String(attribute="center.code")
    district_code = fields.String(attribute="center.district_code")
    key_prefix = fields.String()
    active = fields.Boolean()
    created_at = LocalDateTime()
    last_used_at = LocalDateTime(allow_none=True)


class TerminalPageSchema(Schema):
    terminals = fields.List(fields.Nested(TerminalSchema))
    next_cursor = fields.String(allow_none=True)


class TerminalCreateSchema(Schema):
    center_code = fields.String(required=True, validate=validate.Length(min=1, max=32))
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))


class TerminalKeySchema(Schema):
    terminal = fields.Nested(TerminalSchema)
    api_key = fields.String(metadata={"description": "shown this once; only its hash is kept"})


class SessionSchema(Schema):
    kind = fields.String(metadata={"description": "staff (a token) or window (a page login)"})
    id = fields.Integer()
    holder = fields.String(metadata={"description": "username, or terminal name"})
    holder_id = fields.Integer()
    role = fields.String()
    district_code = fields.String(allow_none=True)
    purpose = fields.String()
    created_at = LocalDateTime()
    last_seen_at = LocalDateTime(allow_none=True)
    expires_at = LocalDateTime()
    address = fields.String(allow_none=True)


class SessionListSchema(Schema):
    sessions = fields.List(fields.Nested(SessionSchema))


class SecurityEventFilterSchema(Schema):
    """Which entries of the security log: every given filter must hold."""

    action = fields.String(
        load_default=None,
        validate=validate.Regexp(r"^[a-z_]{1,32}(\.[a-z_]{1,32}){0,2}$"),
        metadata={"description": "exact action, e.g. login, district.pause"},
    )
    outcome = fields.String(load_default=None, validate=validate.OneOf(OUTCOMES))
    actor = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "the actor's name (username or terminal), exact"},
    )
    district = fields.String(
        load_default=None,
        validate=validate.OneOf(sorted(DISTRICT_NAMES)),
        metadata={"description": "district code; city-wide entries have none"},
    )
    since = fields.AwareDateTime(
        load_default=None, metadata={"description": "ISO 8601 with offset; events at or after"}
    )
    until = fields.AwareDateTime(
        load_default=None, metadata={"description": "ISO 8601 with offset; events before"}
    )

    @validates_schema
    def _range(self, data, **kwargs):
        if data.get("since") and data.get("until") and data["until"] <= data["since"]:
            raise ValidationError("Must be later than since.", "until")


class SecurityEventQuerySchema(PageQuerySchema, SecurityEventFilterSchema):
    pass


class SecurityEventExportSchema(SecurityEventFilterSchema):
    format = fields.String(load_default="csv", validate=validate.OneOf(LOG_FORMATS))


class SecurityEventSchema(Schema):
    id = fields.Integer()
    occurred_at = LocalDateTime()
    actor_kind = fields.String(allow_none=True)
    actor_id = fields.Integer(allow_none=True)
    actor_name = fields.String(allow_none=True)
    actor_role = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    action = fields.String()
    target_type = fields.String()
    target = fields.String(allow_none=True)
    district_code = fields.String(allow_none=True)
    outcome = fields.String()
    details = fields.Dict()


class SecurityEventPageSchema(Schema):
    events = fields.List(fields.Nested(SecurityEventSchema))
    next_cursor = fields.String(allow_none=True)
