"""Reconciliation: asking district systems about delivered cases we have heard nothing of.

A callback can be lost (their outage, ours, a network fault). For districts whose system offers
a status endpoint, beat periodically asks about cases quiet for a while and applies whatever
events come back through the same path as callbacks, so nothing is applied twice.
"""

import logging
from collections import Counter
from datetime import timedelta

from marshmallow import ValidationError
from sqlalchemy import or_, select, update
from sqlalchemy.orm import sessionmaker

from service import logs
from service.cases.actions import ActionInvalid, CaseNotFound
from service.cases.lifecycle import Status, TransitionRefused
from service.cases.models import Case
from service.cases.steps import UnitOfWork
from service.clock import now_utc
from service.crypto import FieldCipher
from service.districts.callbacks import (
    CallbackInvalid,
    CallbackSchema,
    NotDeliveredYet,
    apply_callback,
)
from service.districts.connectors import http_target, record
from service.districts.http import Misconfigured, fetch_status
from service.districts.models import DistrictConnector
from service.outbox.policy import DeliveryPolicy
from service.outbox.processing import Permanent, Unavailable
from service.outbox.publisher import Publisher

log = logging.getLogger("tongban.reconcile")

# Where the district system owes us news.
WAITING = (Status.RECEIVED, Status.ACCEPTED)
BATCH = 100


def reconcile(
    sessions: sessionmaker,
    cipher: FieldCipher,
    policy: DeliveryPolicy,
    publisher: Publisher,
    quiet_seconds: float,
) -> dict[str, int]:
    """Ask each reachable district system about its quiet cases; returns events by result."""
    results: Counter[str] = Counter()
    with sessions() as session:
        codes = list(
            session.scalars(
                select(DistrictConnector.district_code).where(
                    DistrictConnector.kind == "http",
                    DistrictConnector.status_endpoint.is_not(None),
                    DistrictConnector.paused.is_(False),
                    DistrictConnector.breaker_state == "closed",
                )
            )
        )
    for code in codes:
        _district(sessions, cipher, policy, publisher, code, quiet_seconds, results)
    return dict(results)


def _district(sessions, cipher, policy, publisher, code, quiet_seconds, results) -> None:
    cutoff = now_utc() - timedelta(seconds=quiet_seconds)
    with sessions() as session:
        target = http_target(session, cipher, code)
        case_nos = list(
            session.scalars(
                select(Case.case_no)
                .where(
                    Case.responsible_district == code,
                    Case.status.in_(WAITING),
                    Case.updated_at <= cutoff,
                    or_(Case.reconciled_at.is_(None), Case.reconciled_at <= cutoff),
                )
                .order_by(Case.updated_at)
                .limit(BATCH)
            )
        )
        bind = session.get_bind()
    if target is None:
        return
    for case_no in case_nos:
        try:
            answer = fetch_status(target, case_no)
        except (Unavailable, Misconfigured) as err:
            record(bind, code, policy, reachable=False, error=str(err))
            # The connector's status keeps the district's answer; the log only its kind, since
            # an answer may echo the personal data of the delivery it refused.
            log.warning(
                "reconciliation stopped", extra={"district": code, "error": logs.error_text(err)}
            )
            return
        except Permanent as err:  # it does not know this case: ask again after the quiet time
            log.warning(
                "case unknown to the district",
                extra={"case_no": case_no, "error": logs.error_text(err)},
            )
            answer = {}
        for event in _events(answer, case_no):
            with sessions() as session:
                try:
                    with UnitOfWork(session, policy, publisher) as uow:
                        result, _case = apply_callback(uow, code, event)
                except (
                    ActionInvalid,
                    CallbackInvalid,
                    CaseNotFound,
                    NotDeliveredYet,
                    TransitionRefused,
                ) as err:
                    result = "refused"
                    log.warning(
                        "reconciled event refused", extra={"case_no": case_no, "error": repr(err)}
                    )
            results[result] += 1
        with sessions() as session, session.begin():
            session.execute(
                update(Case).where(Case.case_no == case_no).values(reconciled_at=now_utc())
            )


def _events(answer: dict, case_no: str) -> list[dict]:
    """The answer's well-formed events for this case, oldest first."""
    events = []
    for raw in answer.get("events", []) if isinstance(answer, dict) else []:
        try:
            event = CallbackSchema().load(raw)
        except (ValidationError, TypeError):
            continue
        if event["case_no"] == case_no:
            events.append(event)
    return sorted(events, key=lambda e: e["occurred_at"])
