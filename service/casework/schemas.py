"""What a terminal sends to submit an application, and what the API shows of a case (the
bodies of the steps themselves are service/cases/schemas.py's)."""

import re
from datetime import timedelta

from marshmallow import (
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_load,
    validate,
    validates,
    validates_schema,
)

from service.cases import query_code
from service.cases.lifecycle import Status
from service.cases.personal import (
    id_number_error,
    is_person_name,
    is_phone,
    normalize_id_number,
    normalize_phone,
)
from service.cases.schemas import MaterialHandedInSchema, ReasonActionSchema
from service.clock import local_today
from service.clocks.deadlines import DUE_STATES, PROCEDURES
from service.schemas import LocalDateTime, PageQuerySchema, PlaceSchema

_DISTRICT_CODE = validate.Regexp(r"^\d{6}$", error="Must be a 6-digit GB/T 2260 district code.")
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,128}$")


class ApplicantSchema(Schema):
    name = fields.String(required=True, metadata={"example": "张𠈌"})
    id_number = fields.String(
        required=True, metadata={"description": "18-character resident ID (GB 11643)"}
    )
    phone = fields.String(required=True, metadata={"example": "13800000000"})
    address = fields.String(load_default=None, validate=validate.Length(max=200))

    @pre_load
    def _normalise(self, data, **kwargs):
        if isinstance(data, dict):
            data = dict(data)
            for key, normalise in (("id_number", normalize_id_number), ("phone", normalize_phone)):
                if isinstance(data.get(key), str):
                    data[key] = normalise(data[key])
            if isinstance(data.get("name"), str):
                data["name"] = data["name"].strip()
        return data

    @validates("name")
    def _name(self, value: str, **kwargs) -> None:
        if not is_person_name(value):
            raise ValidationError(
                "Must be 1 to 40 Chinese characters (any CJK ideograph), parts joined by '·'."
            )

    @validates("id_number")
    def _id_number(self, value: str, **kwargs) -> None:
        error = id_number_error(value)
        if error:
            raise ValidationError(error)

    @validates("phone")
    def _phone(self, value: str, **kwargs) -> None:
        if not is_phone(value):
            raise ValidationError("Must be a mainland mobile number or a landline with area code.")


class FactsSchema(Schema):
    """The facts that decide where a case is handled; which one counts depends on the item."""

    household_district = fields.String(validate=_DISTRICT_CODE, metadata={"description": "户籍地"})
    residence_district = fields.String(validate=_DISTRICT_CODE, metadata={"description": "居住地"})
    property_district = fields.String(
        validate=_DISTRICT_CODE, metadata={"description": "不动产所在地"}
    )
    enterprise_district = fields.String(
        validate=_DISTRICT_CODE, metadata={"description": "企业登记地"}
    )
    insured_district = fields.String(validate=_DISTRICT_CODE, metadata={"description": "参保地"})


DEFERRAL_MAX_DAYS = 30


class DeferredMaterialSchema(Schema):
    """A material the applicant will hand in later under 容缺受理, with the date promised."""

    code = fields.String(required=True, validate=validate.Length(min=1, max=16))
    promised_by = fields.Date(
        required=True, metadata={"description": "the date the applicant promised, local"}
    )
    note = fields.String(load_default=None, validate=validate.Length(max=200))

    @validates("promised_by")
    def _soon(self, value, **kwargs) -> None:
        today = local_today()
        if not today <= value <= today + timedelta(days=DEFERRAL_MAX_DAYS):
            raise ValidationError(f"Must be between today and {DEFERRAL_MAX_DAYS} days from today.")


class ApplicationSchema(Schema):
    item_code = fields.String(
        required=True,
        validate=validate.Length(equal=12),
        metadata={"description": "基本编码 of the item", "example": "000112001000"},
    )
    applicant = fields.Nested(ApplicantSchema, required=True)
    facts = fields.Nested(FactsSchema, required=True)
    materials = fields.List(
        fields.Nested(MaterialHandedInSchema),
        load_default=list,
        validate=validate.Length(max=50),
        metadata={"description": "the materials handed in at the window"},
    )
    deferred_materials = fields.List(
        fields.Nested(DeferredMaterialSchema),
        load_default=list,
        validate=validate.Length(max=50),
        metadata={
            "description": "容缺受理: required materials not handed in, each with the date the "
            "applicant signed to hand it in by; only for materials the item allows"
        },
    )
    result_delivery = fields.String(
        load_default="window",
        validate=validate.OneOf(["window", "mail"]),
        metadata={"description": "window: picked up at the accepting center; mail: posted"},
    )
    note = fields.String(load_default=None, validate=validate.Length(max=500))

    @validates_schema
    def _deferred_not_handed_in(self, data, **kwargs) -> None:
        given = {m["code"] for m in data.get("materials") or []}
        deferred = [m["code"] for m in data.get("deferred_materials") or []]
        if len(deferred) != len(set(deferred)):
            raise ValidationError({"deferred_materials": ["Each material may be listed once."]})
        both = sorted(given.intersection(deferred))
        if both:
            raise ValidationError(
                {"deferred_materials": [f"Handed in already, not deferred: {', '.join(both)}."]}
            )

    @validates_schema
    def _mail_needs_address(self, data, **kwargs) -> None:
        if data.get("result_delivery") == "mail" and not (data.get("applicant") or {}).get(
            "address"
        ):
            raise ValidationError(
                {"applicant": {"address": ["Required when the result is mailed."]}}
            )

    @validates("materials")
    def _unique_materials(self, value: list, **kwargs) -> None:
        # Runs on the entries that loaded even when others failed: an entry whose code was
        # refused has none (its error is reported already).
        codes = [m["code"] for m in value if "code" in m]
        if len(codes) != len(set(codes)):
            raise ValidationError("Each material may be listed once.")

    @post_load
    def _drop_empty_facts(self, data, **kwargs):
        data["facts"] = {k: v for k, v in data["facts"].items() if v}
        return data


class IdempotencyHeaderSchema(Schema):
    idempotency_key = fields.String(
        required=True,
        data_key="Idempotency-Key",
        metadata={"description": "a key the terminal makes per application; retries reuse it"},
    )

    @validates("idempotency_key")
    def _shape(self, value: str, **kwargs) -> None:
        if not _IDEMPOTENCY_KEY.match(value):
            raise ValidationError("Must be 1 to 128 visible ASCII characters.")

    class Meta:
        unknown = "exclude"


class ActorSchema(Schema):
    kind = fields.String(attribute="actor_kind", metadata={"description": "terminal, staff, …"})
    name = fields.String(attribute="actor_name")


class _OwnFields(fields.Nested):
    """A nested object made of the dumped object's own attributes (an event's actor)."""

    def get_value(self, obj, attr, accessor=None, default=None):
        return obj


class EventSchema(Schema):
    seq = fields.Integer()
    type = fields.String()
    status_from = fields.String(allow_none=True)
    status_to = fields.String()
    actor = _OwnFields(ActorSchema)
    district = fields.String(attribute="district_code")
    reason = fields.String(allow_none=True)
    data = fields.Dict(metadata={"description": "what the step recorded; depends on its type"})
    occurred_at = LocalDateTime()


class ItemRefSchema(Schema):
    """An item by its 基本编码 and name."""

    code = fields.String()
    name = fields.String()


class CaseItemSchema(ItemRefSchema):
    """The item, and the version of it the case was accepted under."""

    version = fields.Integer()
    version_effective_from = fields.String(metadata={"description": "ISO date"})


class MaskedApplicantSchema(Schema):
    name = fields.String(metadata={"description": "masked for readers who are no party"})
    id_number = fields.String(metadata={"description": "masked"})


class CaseApplicantSchema(MaskedApplicantSchema):
    phone = fields.String(metadata={"description": "masked"})
    address = fields.String(allow_none=True, metadata={"description": "masked"})


class MaterialShownSchema(Schema):
    """A material handed in, as recorded, with its name."""

    code = fields.String()
    name = fields.String()
    files = fields.List(fields.Integer(), metadata={"description": "ids of its scans"})
    originals = fields.Integer()
    copies = fields.Integer()
    note = fields.String(allow_none=True)


class DeferredShownSchema(Schema):
    """A material deferred under 容缺受理, with the date promised."""

    code = fields.String()
    name = fields.String()
    promised_by = fields.String(metadata={"description": "ISO date, local"})
    note = fields.String(allow_none=True)


class ResultSchema(Schema):
    outcome = fields.String(metadata={"description": "approved or denied"})
    document_no = fields.String(metadata={"description": "文书编号 of the decision"})


class DeadlineSchema(Schema):
    """One clock of a case; an open one says how it stands today, a met one if on time."""

    kind = fields.String(metadata={"description": "forward, accept, complete or rectify"})
    kind_zh = fields.String()
    starts_on = fields.String(metadata={"description": "ISO date"})
    limit_days = fields.Integer()
    paused_days = fields.Integer()
    due_on = fields.String(metadata={"description": "ISO date"})
    provisional = fields.Boolean(
        metadata={"description": "counted without the official calendar of a year"}
    )
    state = fields.String(metadata={"description": "open, met or cancelled"})
    state_zh = fields.String()
    due_state = fields.String(metadata={"description": "open clocks: " + ", ".join(DUE_STATES)})
    due_state_zh = fields.String()
    working_days_left = fields.Integer(metadata={"description": "open clocks; negative: overdue"})
    on_time = fields.Boolean(metadata={"description": "met clocks"})


class RectificationRefSchema(Schema):
    id = fields.Integer()
    status = fields.String()
    status_zh = fields.String()


class CaseRatingSchema(Schema):
    """好差评 of the case, and the rectification a bad one opened."""

    level = fields.String()
    level_zh = fields.String()
    comment = fields.String(allow_none=True)
    voided = fields.Boolean(metadata={"description": "an appeal upheld: it does not count"})
    rectification = fields.Nested(RectificationRefSchema, allow_none=True)


class NamedMaterialSchema(Schema):
    code = fields.String()
    name = fields.String()


class OriginalsMailingSchema(Schema):
    id = fields.Integer()
    materials = fields.List(fields.String())
    carrier = fields.String()
    tracking_no = fields.String()
    mailed_on = fields.String(metadata={"description": "ISO date"})
    arrived_on = fields.String(allow_none=True, metadata={"description": "ISO date"})
    in_transit = fields.Boolean()


class OriginalsSchema(Schema):
    """Paper originals the case needs, what was posted, and what is still in transit."""

    needed = fields.List(fields.Nested(NamedMaterialSchema))
    not_posted = fields.List(fields.String(), metadata={"description": "codes"})
    mailings = fields.List(fields.Nested(OriginalsMailingSchema))


class RequestedMaterialSchema(NamedMaterialSchema):
    problem = fields.String(metadata={"description": "what is missing or wrong"})


class CaseSchema(Schema):
    """A case as the sides involved see it; personal data is masked."""

    case_no = fields.String()
    status = fields.String()
    status_zh = fields.String()
    item = fields.Nested(CaseItemSchema)
    agreement = fields.String(metadata={"description": "code of the covering agreement"})
    accepting_district = fields.Nested(PlaceSchema)
    accepting_center = fields.Nested(PlaceSchema)
    responsible_district = fields.Nested(PlaceSchema)
    applicant = fields.Nested(CaseApplicantSchema)
    facts = fields.Nested(FactsSchema)
    materials = fields.List(fields.Nested(MaterialShownSchema))
    deferred_materials = fields.List(
        fields.Nested(DeferredShownSchema),
        metadata={"description": "容缺: to be handed in later, with the date promised"},
    )
    result_delivery = fields.String()
    note = fields.String(allow_none=True)
    version = fields.Integer()
    created_at = LocalDateTime()
    updated_at = LocalDateTime()
    timeline = fields.List(fields.Nested(EventSchema))
    assignee = fields.String(allow_none=True)
    result = fields.Nested(ResultSchema, allow_none=True)
    deadlines = fields.List(
        fields.Nested(DeadlineSchema), metadata={"description": "in the order the case meets them"}
    )
    rating = fields.Nested(CaseRatingSchema, allow_none=True)
    originals = fields.Nested(OriginalsSchema)
    supplement_requested = fields.List(
        fields.Nested(RequestedMaterialSchema),
        metadata={"description": "materials of the open supplement request"},
    )
    actions = fields.List(
        fields.String(), metadata={"description": "steps the caller may take now"}
    )


class NewCaseSchema(CaseSchema):
    """The intake answer, to the accepting window only: the case and the citizen's query code."""

    query_code = fields.String(
        metadata={
            "description": "查询码 for the citizen's look-up, with the case number; print it on "
            "the receipt. Shown only here and on the accepting window's receipt."
        }
    )


class QueryCodeSchema(Schema):
    """A receipt printed again: the citizen's query code, to the accepting window only."""

    case_no = fields.String()
    query_code = fields.String(metadata={"description": "查询码, as printed (two groups of five)"})


class PauseSchema(ReasonActionSchema):
    procedure = fields.String(
        required=True,
        validate=validate.OneOf(list(PROCEDURES)),
        metadata={"description": ", ".join(f"{k} ({v})" for k, v in PROCEDURES.items())},
    )


class QueueQuerySchema(PageQuerySchema):
    district = fields.String(
        load_default=None,
        validate=validate.Regexp(r"^\d{6}$"),
        metadata={"description": "city-wide staff choose a district; others see their own"},
    )
    status = fields.List(
        fields.String(validate=validate.OneOf([s.value for s in Status])), load_default=list
    )
    item = fields.String(load_default=None, validate=validate.Length(max=12))
    center = fields.String(load_default=None, validate=validate.Length(max=32))
    assigned = fields.String(load_default=None, validate=validate.OneOf(["me", "none"]))
    submitted_from = fields.Date(load_default=None, metadata={"description": "local date"})
    submitted_to = fields.Date(load_default=None, metadata={"description": "local date, inclusive"})
    due = fields.List(
        fields.String(validate=validate.OneOf(DUE_STATES)),
        load_default=list,
        metadata={"description": "the running clock's state: on_time, due_soon, overdue, paused"},
    )


class QueueEntrySchema(Schema):
    case_no = fields.String()
    status = fields.String()
    status_zh = fields.String()
    item = fields.Nested(ItemRefSchema)
    accepting_district = fields.Nested(PlaceSchema)
    accepting_center = fields.Nested(PlaceSchema)
    applicant = fields.Nested(MaskedApplicantSchema)
    assignee = fields.String(allow_none=True)
    due = fields.Nested(DeadlineSchema, allow_none=True, metadata={"description": "running clock"})
    version = fields.Integer()
    created_at = LocalDateTime()
    updated_at = LocalDateTime()


class QueuePageSchema(Schema):
    cases = fields.List(fields.Nested(QueueEntrySchema))
    next_cursor = fields.String(allow_none=True)


class NotificationSchema(Schema):
    id = fields.Integer()
    case_no = fields.String()
    kind = fields.String()
    message_zh = fields.String()
    created_at = LocalDateTime()
    read_at = LocalDateTime(allow_none=True)


class NotificationQuerySchema(PageQuerySchema):
    unread = fields.Boolean(load_default=False)


class NotificationPageSchema(Schema):
    notifications = fields.List(fields.Nested(NotificationSchema))
    next_cursor = fields.String(allow_none=True)


class PublicLookupQuerySchema(Schema):
    code = fields.String(
        required=True,
        validate=validate.Length(max=40),
        metadata={
            "description": "查询码 from the receipt; case, spaces and hyphens do not matter",
            "example": "7KQ2M-X9PRT",
        },
    )

    @validates("code")
    def _shaped(self, value: str, **kwargs) -> None:
        if not query_code.well_formed(query_code.normalize(value)):
            raise ValidationError(
                f"{query_code.LENGTH} letters and digits, as printed on the receipt."
            )

    @post_load
    def _normalized(self, data: dict, **kwargs) -> dict:
        return {**data, "code": query_code.normalize(data["code"])}


class PublicDeadlineSchema(Schema):
    kind = fields.String(metadata={"description": "forward, accept or complete"})
    kind_zh = fields.String()
    due_on = fields.Date()


class PublicCaseSchema(Schema):
    """Status and dates only; the item's name because the code was right; nobody's name."""

    case_no = fields.String()
    item_name = fields.String()
    status = fields.String()
    status_zh = fields.String()
    stage_zh = fields.String()
    accepting_district = fields.String()
    responsible_district = fields.String()
    submitted_at = LocalDateTime()
    updated_at = LocalDateTime()
    deadlines = fields.List(
        fields.Nested(PublicDeadlineSchema), metadata={"description": "open clocks, soonest first"}
    )


class ApplicantNameSchema(Schema):
    """Unmasked, for a party of the case; each read is on the timeline."""

    case_no = fields.String()
    name = fields.String()


class MailingContactSchema(Schema):
    """Unmasked, for the accepting window's mailing of the result only."""

    case_no = fields.String()
    name = fields.String()
    phone = fields.String()
    address = fields.String(allow_none=True)
