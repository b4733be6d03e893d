"""Applying what a district's own system reports back: the same state machine as our back office.

Each event is applied once (its id goes into the inbox), an event older than one already applied
never rolls the case back, and a step the case has already passed is acknowledged as stale.
"""

import uuid
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert

from catalog.districts import DISTRICT_NAMES
from service.accounts.credentials import Principal
from service.cases.actions import CaseNotFound, perform
from service.cases.events import CALLBACKS, EVENTS
from service.cases.lifecycle import IN_FLIGHT, RANK, TRANSITIONS, Action, Status
from service.cases.models import Case, CaseEvent
from service.cases.schemas import STEP_SCHEMAS
from service.cases.steps import UnitOfWork
from service.clock import now_utc
from service.outbox.models import InboxRecord

CALLBACK_NAMESPACE = uuid.UUID("6f1c3b1e-2c55-4d7e-9a8e-0d1f2b3c4d5e")

# callback type -> the step it reports (its data must pass that step's schema, as our own
# clerks' would); "received" reports no step: the system has the case, as delivery told us.
STEPS: dict[str, Action] = {
    name: action for name, event in CALLBACKS.items() if (action := EVENTS[event].action)
}


class CallbackSchema(Schema):
    event_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    case_no = fields.String(required=True, validate=validate.Length(min=1, max=32))
    type = fields.String(required=True, validate=validate.OneOf(list(CALLBACKS)))
    occurred_at = fields.AwareDateTime(required=True)
    data = fields.Dict(
        load_default=dict,
        metadata={
            "description": "supplement_requested: materials [{code, problem}]; rejected: "
            "reason; completed: outcome (approved|denied) and document_no"
        },
    )


class CallbackInvalid(Exception):
    """The event's data would not pass as the step it claims to be."""

    def __init__(self, messages: dict):
        super().__init__("invalid callback data")
        self.messages = messages


def district_principal(code: str) -> Principal:
    """The district's own system, acting for the district on its cases."""
    name = f"{DISTRICT_NAMES.get(code, code)}业务系统"
    return Principal("district_system", 0, name, "district_system", code)


class NotDeliveredYet(Exception):
    """The case is still on its way to the district; its report must come again later."""


def _is_stale(case: Case, action: Action, occurred) -> bool:
    if case.external_updated_at is not None and occurred < case.external_updated_at:
        return True
    target = TRANSITIONS[action][2]
    return RANK[Status(case.status)] >= RANK[target] and (
        Status(case.status) not in TRANSITIONS[action][1]
    )


def apply_callback(uow: UnitOfWork, code: str, event: dict[str, Any]) -> tuple[str, Case]:
    """Apply one event from district `code` in the unit of work; returns (result, case).

    result: applied, duplicate, stale or acknowledged. Raises CaseNotFound for a case that is
    not this district's, CallbackInvalid for bad data, TransitionRefused for a step the case
    cannot take and has not passed (the unit of work then rolls back its inbox entry too).
    """
    session = uow.session
    case = session.scalar(
        select(Case)
        .where(Case.case_no == event["case_no"], Case.responsible_district == code)
        .with_for_update()
    )
    if case is None:
        raise CaseNotFound(event["case_no"])
    key = uuid.uuid5(CALLBACK_NAMESPACE, f"{code}:{event['event_id']}")
    first = session.scalar(
        insert(InboxRecord)
        .values(consumer=f"district:{code}", message_id=key)
        .on_conflict_do_nothing()
        .returning(InboxRecord.message_id)
    )
    if first is None:
        return "duplicate", case
    # While a delivery is on its way the district may already act on it; that cannot be applied
    # yet without losing it, so the district is asked to send it again (a 409).
    if case.status in IN_FLIGHT:
        raise NotDeliveredYet(case.case_no)
    if event["type"] not in STEPS:  # "received": the system has the case; we knew on delivery
        return "acknowledged", case
    action = STEPS[event["type"]]
    schema = STEP_SCHEMAS[action]
    if _is_stale(case, action, event["occurred_at"]):
        return "stale", case
    try:
        data = schema().load({**event["data"], "version": case.version})
    except ValidationError as err:
        raise CallbackInvalid(err.normalized_messages()) from err
    # A Core update: the ORM would count it as a change of the case and bump its version.
    session.execute(
        update(Case).where(Case.id == case.id).values(external_updated_at=event["occurred_at"])
    )
    # The step happened when the district says, so it counts in that month's figures (a late
    # report for a closed month becomes an adjustment); never in the future, never before the
    # case's latest event, so the timeline stays in order.
    latest = session.scalar(
        select(func.max(CaseEvent.occurred_at)).where(CaseEvent.case_id == case.id)
    )
    happened = min(max(event["occurred_at"], latest), now_utc())
    perform(uow, district_principal(code), case.case_no, action, data, at=happened)
    return "applied", case
