"""Catalog items as the window sees them."""

from marshmallow import Schema, fields, validate

from service.schemas import PageQuerySchema, PlaceSchema


class ItemQuerySchema(PageQuerySchema):
    q = fields.String(
        load_default=None,
        validate=validate.Length(max=50),
        metadata={"description": "words of the name, or the start of the 基本编码"},
    )
    department = fields.String(load_default=None, validate=validate.Length(max=100))


class MaterialSchema(Schema):
    code = fields.String()
    name = fields.String()
    required = fields.Boolean()
    form = fields.String()
    originals = fields.Integer()
    copies = fields.Integer()


class ItemSchema(Schema):
    basic_code = fields.String()
    implementation_code = fields.String(allow_none=True)
    name = fields.String()
    department = fields.String()
    territorial_basis = fields.String()
    territorial_basis_zh = fields.String()
    needs_fact = fields.String(metadata={"description": "the facts field that decides routing"})
    statutory_limit_days = fields.Integer()
    promised_limit_days = fields.Integer()
    materials = fields.List(fields.Nested(MaterialSchema))
    routes_to = fields.List(fields.Nested(PlaceSchema))
    agreements = fields.List(fields.String())


class ItemPageSchema(Schema):
    items = fields.List(fields.Nested(ItemSchema))
    next_cursor = fields.String(allow_none=True)


class DistrictSchema(Schema):
    code = fields.String()
    name = fields.String()
    kind = fields.String()
