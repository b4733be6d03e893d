"""Checking every case's timeline chain in the database, then the signed checkpoints, and
naming the first broken link."""

from itertools import groupby
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from service.audit.chain import first_break
from service.audit.checkpoint import Book
from service.cases.checkpoints import verify_checkpoints
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


def verify_timelines(session: Session, book: Book | None = None) -> dict[str, Any]:
    """Walk every event of every case in order; stop at the first link that does not hold.

    Beyond the chain itself: a case without any event, or whose last event does not leave it in
    the status it is in, lost events (at its end, where no later link would show the cut). With
    the checkpoint `book`, then every checkpoint (service/cases/checkpoints.py): an edit that
    was re-linked with the chain key still changes a head a checkpoint signed.
    """
    rows = session.execute(
        select(*(getattr(CaseEvent, c) for c in COLUMNS), Case.status.label("case_status"))
        .join(Case, Case.id == CaseEvent.case_id)
        .order_by(CaseEvent.case_id, CaseEvent.seq)
        .execution_options(yield_per=5000)
    )
    last_plain_id = session.scalar(text("SELECT last_plain_event_id FROM chain_cutover")) or 0
    cases = events = 0
    for case_id, group in groupby((dict(r._mapping) for r in rows), key=lambda e: e["case_id"]):
        timeline = list(group)
        cases, events = cases + 1, events + len(timeline)
        broken = first_break(timeline, last_plain_id)
        if broken is None and timeline[-1]["status_to"] != timeline[-1]["case_status"]:
            broken = (
                timeline[-1],
                f"the case is {timeline[-1]['case_status']}, but its timeline ends in "
                f"{timeline[-1]['status_to']}: events after this one are missing",
            )
        if broken:
            event, why = broken
            case_no = session.scalar(select(Case.case_no).where(Case.id == case_id))
            return _broken(cases, events, case_no, event["seq"], event["id"], event["type"], why)
    empty = session.scalar(
        select(Case.case_no)
        .where(~select(CaseEvent.id).where(CaseEvent.case_id == Case.id).exists())
        .order_by(Case.id)
        .limit(1)
    )
    if empty is not None:
        return _broken(cases, events, empty, None, None, None, "the case has no timeline at all")
    result = {"ok": True, "cases_checked": cases, "events_checked": events, "first_broken": None}
    if book is not None:
        failure, counts = verify_checkpoints(session, book)
        result |= counts
        if failure is not None:
            result |= {"ok": False, "first_broken": failure}
    return result


def _broken(cases, events, case_no, seq, event_id, type_, why) -> dict[str, Any]:
    return {
        "ok": False,
        "cases_checked": cases,
        "events_checked": events,
        "first_broken": {
            "case_no": case_no,
            "seq": seq,
            "event_id": event_id,
            "type": type_,
            "reason": why,
        },
    }
