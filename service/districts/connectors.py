"""A district's connector as the workers use it: where to send, and whether to send now.

The pause switch and the circuit breaker live on the connector row and are read and written in
short transactions of their own, never held while a district system is being called.
"""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from service.clock import now_utc
from service.crypto import FieldCipher
from service.db import transaction_cache
from service.districts.breaker import Breaker
from service.districts.models import DistrictConnector
from service.outbox.names import district_queue
from service.outbox.policy import DeliveryPolicy
from service.outbox.processing import Deferred
from service.sealed import CONNECTOR_SECRET

_OWN_SYSTEM = "tongban.has_own_system"
PAUSED_RECHECK_SECONDS = 30


@dataclass(frozen=True)
class HttpTarget:
    district_code: str
    endpoint: str
    status_endpoint: str | None
    secret: str
    connect_timeout: float
    read_timeout: float


def _sends_to_its_system(row: DistrictConnector | None) -> bool:
    return (
        row is not None and row.kind == "http" and bool(row.endpoint) and row.secret_enc is not None
    )


def has_own_system(session: Session, code: str) -> bool:
    """Whether the district's work is sent to its own system (as `http_target` would find)
    rather than kept for Tongban's back office; decrypts nothing. Known once per transaction,
    also for a district with no connector row (which the session's identity map cannot keep)."""
    known = transaction_cache(session, _OWN_SYSTEM)
    if code not in known:
        known[code] = _sends_to_its_system(session.get(DistrictConnector, code))
    return known[code]


def paused_queues(session: Session) -> list[str]:
    """The queues of paused districts: their backlog waits in the database, taking no worker's
    time, until an admin resumes them (what the outbox's drain and relay are told)."""
    paused = select(DistrictConnector.district_code).where(DistrictConnector.paused.is_(True))
    return [district_queue(code) for code in session.scalars(paused)]


def http_target(session: Session, cipher: FieldCipher, code: str) -> HttpTarget | None:
    """The district's HTTP system, or None when Tongban's own back office serves it."""
    row = session.get(DistrictConnector, code)
    if not _sends_to_its_system(row):
        return None
    return HttpTarget(
        district_code=code,
        endpoint=row.endpoint,
        status_endpoint=row.status_endpoint,
        secret=cipher.decrypt(row.secret_enc, CONNECTOR_SECRET, code),
        connect_timeout=row.connect_timeout,
        read_timeout=row.read_timeout,
    )


def _breaker(row: DistrictConnector) -> Breaker:
    return Breaker(row.breaker_state, row.breaker_failures, row.breaker_opened_at)


def _store(row: DistrictConnector, breaker: Breaker) -> None:
    row.breaker_state, row.breaker_failures = breaker.state, breaker.failures
    row.breaker_opened_at = breaker.opened_at


def admit(bind: Engine | Connection, code: str, policy: DeliveryPolicy) -> None:
    """Go ahead, or raise Deferred if the district is paused or its breaker is open."""
    cooldown = timedelta(seconds=policy.breaker_cooldown_seconds)
    with Session(bind) as session, session.begin():
        row = session.get(DistrictConnector, code, with_for_update=True)
        if row is None:
            return
        if row.paused:
            raise Deferred(f"district {code} is paused", PAUSED_RECHECK_SECONDS)
        now = now_utc()
        breaker = _breaker(row)
        probe_time = timedelta(seconds=row.connect_timeout + row.read_timeout)
        admitted, after = breaker.admits(now, cooldown, probe_time)
        if not admitted:
            raise Deferred(f"district {code}: breaker open", breaker.retry_after(now, cooldown))
        _store(row, after)


def record(
    bind: Engine | Connection,
    code: str,
    policy: DeliveryPolicy,
    *,
    reachable: bool,
    error: str | None = None,
) -> None:
    """Count a call's outcome; an unreachable system moves the breaker towards open.

    A refusal (4xx) came from a working system, so it closes the breaker like a success.
    """
    with Session(bind) as session, session.begin():
        row = session.get(DistrictConnector, code, with_for_update=True)
        if row is None:
            return
        breaker = _breaker(row)
        if reachable:
            _store(row, breaker.succeeded())
        else:
            _store(row, breaker.failed(now_utc(), policy.breaker_threshold))
        if error is None:
            row.deliveries_total += 1
        else:
            row.failures_total += 1
            row.last_error = error[:1000]
