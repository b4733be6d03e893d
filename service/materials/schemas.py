"""What the scan and originals routes take and answer; the case page's forms use them too."""

from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from service.schemas import LocalDateTime


class AttachFileSchema(Schema):
    file = Upload(required=True, metadata={"description": "PDF, JPEG or PNG; checked by content"})


class AttachSchema(AttachFileSchema):
    """A scan for a case: one multipart body with the material's code and the file."""

    material_code = fields.String(required=True, validate=validate.Length(min=1, max=16))


class CaseFileSchema(Schema):
    id = fields.Integer()
    material_code = fields.String(
        allow_none=True, metadata={"description": "none until an application names the scan"}
    )
    purpose = fields.String()
    sha256 = fields.String()
    size = fields.Integer()
    content_type = fields.String()
    original_name = fields.String()
    uploaded_by = fields.String()
    uploaded_at = LocalDateTime()
    removed_at = LocalDateTime(allow_none=True, metadata={"description": "after retention"})


class MailingSchema(Schema):
    materials = fields.List(
        fields.String(validate=validate.Length(min=1, max=16)),
        required=True,
        validate=validate.Length(min=1, max=50),
    )
    carrier = fields.String(required=True, validate=validate.Length(min=1, max=50))
    tracking_no = fields.String(required=True, validate=validate.Length(min=1, max=64))
    mailed_on = fields.Date(required=True)


class MailingOutSchema(Schema):
    id = fields.Integer()
    materials = fields.List(fields.String())
    carrier = fields.String()
    tracking_no = fields.String()
    mailed_on = fields.Date()
    arrived_on = fields.Date(allow_none=True)
