"""Catalog items as the window sees them, and the admin's import and export parameters."""

from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, validate, validates

from catalog.exporter import FORMATS
from service.clock import local_today
from service.schemas import PageQuerySchema, PlaceSchema


class ItemQuerySchema(PageQuerySchema):
    q = fields.String(
        load_default=None,
        validate=validate.Length(max=50),
        metadata={
            "description": "words of the name or an alias, the 基本编码, pinyin initials (sbk) "
            "or full pinyin (shebaoka); every word must match"
        },
    )
    department = fields.String(load_default=None, validate=validate.Length(max=100))


class MaterialSchema(Schema):
    code = fields.String()
    name = fields.String()
    necessity = fields.String(metadata={"description": "required, conditional or optional"})
    necessity_zh = fields.String()
    required = fields.Boolean(metadata={"description": "intake checks it"})
    form = fields.String(metadata={"description": "paper, electronic or both"})
    form_zh = fields.String()
    originals = fields.Integer()
    copies = fields.Integer()
    notes = fields.String(allow_none=True)
    deferrable = fields.Boolean(metadata={"description": "容缺受理 allowed"})


class VersionRefSchema(Schema):
    version = fields.Integer()
    effective_from = fields.Date()
    in_force = fields.Boolean()
    upcoming = fields.Boolean()


class ItemSchema(Schema):
    basic_code = fields.String()
    implementation_code = fields.String(allow_none=True)
    version = fields.Integer(metadata={"description": "the version in force today"})
    effective_from = fields.Date()
    name = fields.String()
    aliases = fields.List(fields.String())
    item_type = fields.String()
    item_type_zh = fields.String()
    department = fields.String()
    exercise_level = fields.String()
    exercise_level_zh = fields.String()
    territorial_basis = fields.String()
    territorial_basis_zh = fields.String()
    needs_fact = fields.String(metadata={"description": "the facts field that decides routing"})
    legal_basis = fields.String(allow_none=True)
    statutory_limit_days = fields.Integer(metadata={"description": "working days"})
    statutory_limit_note = fields.String(allow_none=True)
    promised_limit_days = fields.Integer(metadata={"description": "working days"})
    promised_limit_note = fields.String(allow_none=True)
    acceptance_conditions = fields.String(allow_none=True)
    visits_required = fields.Integer()
    fee_charged = fields.Boolean()
    fee_basis = fields.String(allow_none=True)
    delivery_modes = fields.List(fields.String())
    delivery_modes_zh = fields.List(fields.String())
    handling_modes = fields.List(fields.String())
    handling_modes_zh = fields.List(fields.String())
    materials = fields.List(fields.Nested(MaterialSchema))
    routes_to = fields.List(fields.Nested(PlaceSchema))
    agreements = fields.List(fields.String())
    versions = fields.List(fields.Nested(VersionRefSchema))


class ItemPageSchema(Schema):
    items = fields.List(fields.Nested(ItemSchema))
    next_cursor = fields.String(allow_none=True)


class DepartmentSchema(Schema):
    name = fields.String()
    items = fields.Integer()


class DistrictSchema(Schema):
    code = fields.String()
    name = fields.String()
    kind = fields.String()


class FormatQuerySchema(Schema):
    format = fields.String(load_default="xlsx", validate=validate.OneOf(FORMATS))


class ExportQuerySchema(FormatQuerySchema):
    on = fields.Date(
        load_default=None, metadata={"description": "the versions in force on this day; today"}
    )


class ImportQuerySchema(Schema):
    dry_run = fields.Boolean(
        load_default=False, metadata={"description": "check and report, change nothing"}
    )
    effective_from = fields.Date(
        load_default=None,
        metadata={"description": "the day new item versions take effect; today or later"},
    )

    @validates("effective_from")
    def _not_past(self, value, **kwargs) -> None:
        if value is not None and value < local_today():
            raise ValidationError("Must be today or later: versions are not back-dated.")


class ImportFileSchema(Schema):
    file = Upload(required=True, metadata={"description": "an XLSX workbook or a zip of CSV files"})


class ItemCreatedSchema(Schema):
    basic_code = fields.String()
    name = fields.String()


class ItemChangedSchema(ItemCreatedSchema):
    version = fields.Integer(metadata={"description": "the new version's number"})
    columns = fields.List(fields.String(), metadata={"description": "the changed columns' headers"})


class ItemsImportedSchema(Schema):
    created = fields.List(fields.Nested(ItemCreatedSchema))
    changed = fields.List(fields.Nested(ItemChangedSchema))
    unchanged = fields.Integer()


class AgreementChangedSchema(Schema):
    code = fields.String()
    columns = fields.List(fields.String(), metadata={"description": "the changed columns' headers"})
    items_added = fields.List(fields.String(), metadata={"description": "basic codes"})
    items_removed = fields.List(fields.String(), metadata={"description": "basic codes"})


class AgreementsImportedSchema(Schema):
    created = fields.List(fields.String(), metadata={"description": "agreement codes"})
    changed = fields.List(fields.Nested(AgreementChangedSchema))
    unchanged = fields.Integer()


class ImportReportSchema(Schema):
    dry_run = fields.Boolean()
    effective_from = fields.Date()
    items = fields.Nested(ItemsImportedSchema)
    agreements = fields.Nested(AgreementsImportedSchema)
