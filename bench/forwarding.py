"""Forwarding: a backlog of deliveries drained by the worker beside the same number of no-op
tasks on the same broker, and the latency from intake commit to receipt at a steady rate.

"Forwarded" here means the delivery applied at the responsible district: the case's
`received` event, which puts it in that district's working queue. Throughput counts every
`received` event from the first to the last of the drain (any follow-up work, such as news
for a district's own system, runs interleaved and is part of the cost).
"""

import time
import uuid
from datetime import datetime
from types import SimpleNamespace

import redis
from sqlalchemy import Engine, text

from bench.load import Result, Target, percentile, steady_rate
from bench.noop import DONE_KEY, NOOP
from bench.stack import Stack, say
from service.outbox.names import district_queue
from service.outbox.publisher import Publisher

WAIT_SECONDS = 600


def _received(engine: Engine, case_nos: list[str]) -> list[tuple[datetime, datetime | None]]:
    """(submitted at, received at or None) of each case."""
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT s.occurred_at, r.occurred_at FROM cases c "
                "JOIN case_events s ON s.case_id = c.id AND s.type = 'submitted' "
                "LEFT JOIN case_events r ON r.case_id = c.id AND r.type = 'received' "
                "WHERE c.case_no = ANY(:nos)"
            ),
            {"nos": case_nos},
        ).all()


def wait_received(engine: Engine, case_nos: list[str], what: str) -> list:
    """Wait until every case is received, printing progress; returns `_received`'s rows."""
    deadline = time.monotonic() + WAIT_SECONDS
    last_said = 0.0
    while True:
        rows = _received(engine, case_nos)
        done = sum(1 for _s, r in rows if r is not None)
        if done == len(case_nos):
            return rows
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: only {done} of {len(case_nos)} received")
        if time.monotonic() - last_said > 5:
            say(f"  {what}: {done:,} of {len(case_nos):,} received")
            last_said = time.monotonic()
        time.sleep(0.5)


def drain_rate(stack: Stack, engine: Engine, case_nos: list[str]) -> float:
    """Start the (stopped) worker on a backlog of published deliveries; deliveries per second
    from the first receipt to the last."""
    with engine.connect() as conn:
        since = conn.execute(text("SELECT now()")).scalar_one()
    stack.start_worker()
    wait_received(engine, case_nos, "backlog")
    with engine.connect() as conn:
        n, first, last = conn.execute(
            text(
                "SELECT count(*), min(occurred_at), max(occurred_at) FROM case_events "
                "WHERE type = 'received' AND occurred_at >= :since"
            ),
            {"since": since},
        ).one()
    return (n - 1) / (last - first).total_seconds()


def noop_rate(stack: Stack, count: int) -> float:
    """Publish `count` no-op tasks to a district queue with the service's publisher while the
    worker is stopped, then start it; tasks per second from the first to the last."""
    client = redis.Redis.from_url(stack.redis.url)
    client.delete(DONE_KEY)
    publisher = Publisher(stack.redis.url)
    queue = district_queue("530102")
    messages = [SimpleNamespace(task=NOOP, id=uuid.uuid4(), queue=queue) for _ in range(count)]
    assert publisher.publish(messages) == count
    stack.start_worker()
    deadline = time.monotonic() + WAIT_SECONDS
    while client.llen(DONE_KEY) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"no-op tasks: only {client.llen(DONE_KEY)} of {count} ran")
        time.sleep(0.2)
    stamps = sorted(float(t) for t in client.lrange(DONE_KEY, 0, -1))
    return (len(stamps) - 1) / (stamps[-1] - stamps[0])


def latency_at_rate(
    engine: Engine, target: Target, rate: float, seconds: float
) -> tuple[Result, list[float]]:
    """Applications at a steady `rate` with the worker running; (intake result, seconds from
    the submitted event to the received event of each case)."""
    intake = steady_rate(target, rate, seconds)
    rows = wait_received(engine, intake.case_nos, "steady rate")
    return intake, [(r - s).total_seconds() for s, r in rows]


def latency_ms(latencies: list[float], p: float) -> float:
    return percentile(latencies, p) * 1000
