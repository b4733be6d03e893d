"""Per-district delivery figures from the database, so every process reports the same numbers."""

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog.districts import KUNMING_DISTRICTS
from service.clock import now_utc
from service.districts.models import DistrictConnector
from service.outbox.models import OutboxMessage
from service.outbox.names import DELIVER_CASE, district_queue

LATENCY_WINDOW = timedelta(hours=1)


def district_metrics(session: Session) -> list[dict[str, Any]]:
    """Connector, pause, breaker, backlog, dead letters, totals and recent delivery latency."""
    connectors = {c.district_code: c for c in session.scalars(select(DistrictConnector))}
    counts = dict(
        session.execute(
            select(OutboxMessage.queue + ":" + OutboxMessage.status, func.count())
            .where(OutboxMessage.status.in_(["pending", "dead"]))
            .group_by(OutboxMessage.queue, OutboxMessage.status)
        ).all()
    )
    latency = func.extract("epoch", OutboxMessage.done_at - OutboxMessage.created_at)
    percentiles = {
        queue: (p50, p95)
        for queue, p50, p95 in session.execute(
            select(
                OutboxMessage.queue,
                func.percentile_cont(0.5).within_group(latency),
                func.percentile_cont(0.95).within_group(latency),
            )
            .where(
                OutboxMessage.task == DELIVER_CASE,
                OutboxMessage.status == "done",
                OutboxMessage.done_at >= now_utc() - LATENCY_WINDOW,
            )
            .group_by(OutboxMessage.queue)
        ).all()
    }
    out = []
    for district in KUNMING_DISTRICTS:
        queue = district_queue(district.code)
        c = connectors.get(district.code)
        p50, p95 = percentiles.get(queue, (None, None))
        out.append(
            {
                "code": district.code,
                "name": district.name,
                "connector": c.kind if c else "internal",
                "endpoint": c.endpoint if c else None,
                "status_endpoint": c.status_endpoint if c else None,
                "paused": bool(c and c.paused),
                "paused_reason": c.paused_reason if c else None,
                "breaker": c.breaker_state if c else "closed",
                "backlog": counts.get(f"{queue}:pending", 0),
                "dead_letters": counts.get(f"{queue}:dead", 0),
                "deliveries_total": c.deliveries_total if c else 0,
                "failures_total": c.failures_total if c else 0,
                "last_error": c.last_error if c else None,
                "latency_p50_seconds": p50,
                "latency_p95_seconds": p95,
            }
        )
    return out


def prometheus_text(rows: list[dict[str, Any]]) -> str:
    """The same figures in Prometheus' text exposition format."""
    gauges = [
        ("tongban_district_backlog", "Deliveries waiting", lambda r: r["backlog"]),
        ("tongban_district_dead_letters", "Deliveries given up", lambda r: r["dead_letters"]),
        ("tongban_district_paused", "1 when paused by an operator", lambda r: int(r["paused"])),
        (
            "tongban_district_breaker_open",
            "1 when the breaker is open or half-open",
            lambda r: int(r["breaker"] != "closed"),
        ),
        (
            "tongban_district_deliveries_total",
            "Calls to the district system answered",
            lambda r: r["deliveries_total"],
        ),
        (
            "tongban_district_failures_total",
            "Calls to the district system that failed",
            lambda r: r["failures_total"],
        ),
    ]
    lines = []
    for name, text, value in gauges:
        kind = "counter" if name.endswith("_total") else "gauge"
        lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]
        lines += [f'{name}{{district="{r["code"]}"}} {value(r)}' for r in rows]
    name = "tongban_district_delivery_latency_seconds"
    lines += [f"# HELP {name} Intake to received, last hour", f"# TYPE {name} gauge"]
    for r in rows:
        for quantile, key in (("0.5", "latency_p50_seconds"), ("0.95", "latency_p95_seconds")):
            if r[key] is not None:
                lines.append(f'{name}{{district="{r["code"]}",quantile="{quantile}"}} {r[key]:.3f}')
    return "\n".join(lines) + "\n"
