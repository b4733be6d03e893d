"""Dead letters: deliveries that used up their retry budget, as admins and supervisors see them."""

from typing import Any

from sqlalchemy import Select, or_, select

from service.cases.models import Case
from service.outbox.models import OutboxMessage


def dead_letters_query(district: str | None = None) -> Select:
    """Dead letters oldest first, with their case number; for one district, those of the cases
    it accepted or is responsible for."""
    stmt = (
        select(OutboxMessage, Case.case_no)
        .outerjoin(Case, Case.id == OutboxMessage.case_id)
        .where(OutboxMessage.status == "dead")
        .order_by(OutboxMessage.created_at, OutboxMessage.id)
    )
    if district is not None:
        stmt = stmt.where(
            or_(Case.accepting_district == district, Case.responsible_district == district)
        )
    return stmt


def present_dead_letter(message: OutboxMessage, case_no: str | None) -> dict[str, Any]:
    """One dead letter as the API and the pages show it."""
    return {
        "id": message.id,
        "task": message.task,
        "queue": message.queue,
        "case_no": case_no,
        "attempts": message.attempts,
        "last_error": message.last_error,
        "created_at": message.created_at,
    }
