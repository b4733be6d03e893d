"""Checking every case's timeline chain in the database, and naming the first broken link."""

from itertools import groupby
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.audit.chain import first_break
from service.cases.models import Case, CaseEvent

COLUMNS = (
    "id",
    "case_id",
    "seq",
    "type",
    "status_from",
    "status_to",
    "actor_kind",
    "actor_id",
    "actor_name",
    "district_code",
    "reason",
    "data",
    "occurred_at",
    "prev_hash",
    "hash",
)


def verify_timelines(session: Session) -> dict[str, Any]:
    """Walk every event of every case in order; stop at the first link that does not hold."""
    rows = session.execute(
        select(*(getattr(CaseEvent, c) for c in COLUMNS))
        .order_by(CaseEvent.case_id, CaseEvent.seq)
        .execution_options(yield_per=5000)
    )
    cases = events = 0
    for case_id, group in groupby((dict(r._mapping) for r in rows), key=lambda e: e["case_id"]):
        timeline = list(group)
        cases, events = cases + 1, events + len(timeline)
        broken = first_break(timeline)
        if broken:
            event, why = broken
            case_no = session.scalar(select(Case.case_no).where(Case.id == case_id))
            return {
                "ok": False,
                "cases_checked": cases,
                "events_checked": events,
                "first_broken": {
                    "case_no": case_no,
                    "seq": event["seq"],
                    "event_id": event["id"],
                    "type": event["type"],
                    "reason": why,
                },
            }
    return {"ok": True, "cases_checked": cases, "events_checked": events, "first_broken": None}
