"""The body of each step a person (or a district system) takes on a case.

The API's step routes, the case page's forms and the district systems' callbacks all check a
step's data with the same schema (`STEP_SCHEMAS`).
"""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from service.cases.lifecycle import Action
from service.pagination import MAX_ID
from service.uploads import MAX_SCANS


class MaterialHandedInSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=16))
    files = fields.List(
        fields.Integer(validate=validate.Range(min=1, max=MAX_ID)),
        load_default=list,
        validate=validate.Length(max=MAX_SCANS),
        metadata={"description": "ids of its scans, from POST /uploads"},
    )
    originals = fields.Integer(load_default=0, validate=validate.Range(min=0, max=99))
    copies = fields.Integer(load_default=0, validate=validate.Range(min=0, max=99))
    note = fields.String(load_default=None, validate=validate.Length(max=200))


class ActionSchema(Schema):
    version = fields.Integer(
        required=True, metadata={"description": "the case version you read; a stale one is 409"}
    )
    note = fields.String(load_default=None, validate=validate.Length(max=500))


class ReasonActionSchema(ActionSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class AcceptSchema(ActionSchema):
    """Accept (受理): the version read, and a note if any."""


class CloseSchema(ActionSchema):
    """Close (归档): the version read, and a note if any."""


class RejectSchema(ReasonActionSchema):
    """Reject (不予受理): the reason, which the applicant is told."""


class WithdrawSchema(ReasonActionSchema):
    """Withdraw (撤回): the applicant's reason."""


class MaterialProblemSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=16))
    problem = fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "what is missing or wrong, for the applicant"},
    )


class SupplementRequestSchema(ActionSchema):
    materials = fields.List(
        fields.Nested(MaterialProblemSchema),
        required=True,
        validate=validate.Length(min=1, max=50),
        metadata={"description": "every missing or faulty material, all at once (一次性告知)"},
    )


class SupplementSchema(ActionSchema):
    materials = fields.List(
        fields.Nested(MaterialHandedInSchema),
        required=True,
        validate=validate.Length(min=1, max=50),
    )


class CompleteSchema(ActionSchema):
    outcome = fields.String(required=True, validate=validate.OneOf(["approved", "denied"]))
    document_no = fields.String(
        required=True,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "文书编号 of the decision"},
    )


class DeliverResultSchema(ActionSchema):
    method = fields.String(required=True, validate=validate.OneOf(["window", "mail"]))
    carrier = fields.String(load_default=None, validate=validate.Length(max=50))
    tracking_no = fields.String(load_default=None, validate=validate.Length(min=4, max=40))

    @validates_schema
    def _mail_needs_tracking(self, data, **kwargs) -> None:
        if data.get("method") == "mail" and not data.get("tracking_no"):
            raise ValidationError({"tracking_no": ["Required when the result is mailed."]})


class AssignSchema(ActionSchema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))


# The body each person-taken step takes: the API's step routes, the case page's forms and the
# district systems' callbacks all check a step's data with the same schema.
STEP_SCHEMAS: dict[Action, type[Schema]] = {
    Action.ACCEPT: AcceptSchema,
    Action.REJECT: RejectSchema,
    Action.REQUEST_SUPPLEMENT: SupplementRequestSchema,
    Action.COMPLETE: CompleteSchema,
    Action.SUPPLEMENT: SupplementSchema,
    Action.DELIVER_RESULT: DeliverResultSchema,
    Action.WITHDRAW: WithdrawSchema,
    Action.CLOSE: CloseSchema,
}
