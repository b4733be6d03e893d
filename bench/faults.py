"""`make faults`: faults while a steady stream of applications runs; nothing lost, nothing twice.

    .venv/bin/python -m bench.faults [--rate 4] [--kills 3] [--district-down 120]

Starts the real stack under var/faults/ (fresh database each run): gunicorn, a Celery worker,
beat (the relay), embedded PostgreSQL and Redis, and the district-system simulator as 安宁市's
own case system. While applications arrive at `--rate` per second (half to 五华 inside Tongban,
half to 安宁's system over HTTP), it

1. SIGKILLs the worker (and its pool) `--kills` times, each time starting a new one;
2. restarts Redis (down `--redis-down` seconds);
3. restarts PostgreSQL (down `--postgres-down` seconds);
4. takes 安宁's system down (503) for `--district-down` seconds;

while a supervisor restarts the worker or beat if either exits by itself, as compose's
`restart: unless-stopped` does in production (a Celery worker can die of a Redis restart), and
counts those restarts. Then it stops the stream, waits for every delivery and reports
submitted, delivered, lost and duplicated from the database: delivered is a case with a
`received` event on its timeline, duplicated a case with more than one (or more than one inbox
row for its delivery, or more than one distinct delivery at the simulated system). Beat
counts the month's report figures every 20 s throughout, under its short lock on the timeline,
and at the end the city's report from those kept figures must equal the one counted from the
timeline alone. Exit status 1 unless lost and duplicated are 0 and the reports agree. How
long: about 5 minutes with the defaults.
"""

import argparse
import sys
import time

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from bench.stack import Stack, running_stack, say
from bench.stream import Stream
from bench.supervisor import Supervisor
from ops.embedded import free_port
from service.clock import local_today
from service.config import load_settings
from service.stats.closing import CITY, live_report
from service.stats.models import StatPartial
from service.stats.partial import kept_base

ANNING = "530181"
SETTLE_SECONDS = 600
# Shorter timings than the defaults so recovery happens within the run; the budget of attempts
# is raised so that the long district outage is waited out rather than dead-lettered.
FAULT_ENV = {
    "TONGBAN_OUTBOX_LEASE_SECONDS": "15",
    "TONGBAN_RELAY_INTERVAL_SECONDS": "2",
    "TONGBAN_RETRY_BASE_SECONDS": "1",
    "TONGBAN_RETRY_MAX_SECONDS": "10",
    "TONGBAN_DELIVERY_MAX_ATTEMPTS": "50",
    "TONGBAN_BREAKER_COOLDOWN_SECONDS": "5",
    # Beat counts the open month's figures under a short lock on the timeline every 20 s, so
    # that runs among the faults too, beside the stream of applications.
    "TONGBAN_STATS_PARTIAL_SECONDS": "20",
}


def start(stack: Stack) -> tuple[str, dict[str, str], str]:
    """Migrate, seed, point 安宁 at the simulator, start everything; (api, keys, sim url)."""
    stack.env.update(FAULT_ENV)
    stack.recreate_database()
    creds = stack.migrate_and_seed()
    keys = {t["center"]: t["api_key"] for t in creds["terminals"]}
    from service.crypto import FieldCipher
    from service.db import Database
    from service.demo import simulate_district_system

    settings = load_settings(stack.env)
    port = free_port()
    database = Database(settings)
    with database.sessionmaker() as session:
        secret = simulate_district_system(
            session,
            FieldCipher.from_settings(settings),
            ANNING,
            f"http://127.0.0.1:{port}",
            stack.var_dir,
        )
    database.engine.dispose()
    api = stack.start_api()
    stack.spawn(
        "district-sim",
        [sys.executable, "-m", "ops.district_sim", "--port", str(port), f"--secret={secret}",
         "--district", ANNING, "--tongban", api],
    )  # fmt: skip
    sim = f"http://127.0.0.1:{port}"
    stack.wait_http(f"{sim}/_state", "district-sim")
    stack.start_worker()
    stack.start_beat()
    return api, keys, sim


def count(engine, case_nos: list[str]) -> dict[str, int]:
    """Delivered and duplicated among `case_nos`, from the timeline and the inbox."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT c.case_no, "
                "  (SELECT count(*) FROM case_events e WHERE e.case_id = c.id "
                "   AND e.type = 'received') AS received "
                "FROM cases c WHERE c.case_no = ANY(:nos)"
            ),
            {"nos": case_nos},
        ).all()
        inbox_twice = conn.execute(
            text(
                "SELECT count(*) FROM (SELECT 1 FROM inbox GROUP BY message_id"
                " HAVING count(*) > 1) t"
            )
        ).scalar_one()
        dead = conn.execute(text("SELECT count(*) FROM outbox WHERE status = 'dead'")).scalar_one()
        cases_in_db = conn.execute(text("SELECT count(*) FROM cases")).scalar_one()
    return {
        "in_db": len(rows),
        "cases_in_db": cases_in_db,
        "delivered": sum(1 for _n, r in rows if r >= 1),
        "duplicated": sum(1 for _n, r in rows if r > 1) + inbox_twice,
        "dead": dead,
    }


def kept_report_agrees(engine) -> tuple[int | None, bool]:
    """(the watermark of the rows beat kept for this month, or None; whether the city's report
    from them equals the one counted from the timeline alone)."""
    month = f"{local_today():%Y-%m}"
    with Session(engine) as session:
        kept = session.get(StatPartial, month)
        if kept is None or kept_base(session, month, None) is None:
            return None, False
        from_kept = live_report(session, month, CITY)
        session.rollback()
        return kept.watermark, from_kept == live_report(session, month, CITY, kept=False)


def settle(engine, case_nos: list[str]) -> dict[str, int]:
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        figures = count(engine, case_nos)
        if figures["delivered"] == len(case_nos) or time.monotonic() > deadline:
            return figures
        say(f"  waiting: {figures['delivered']:,} of {len(case_nos):,} delivered")
        time.sleep(5)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=4, help="applications per second")
    parser.add_argument("--kills", type=int, default=3, help="worker SIGKILLs")
    parser.add_argument("--redis-down", type=float, default=5)
    parser.add_argument("--postgres-down", type=float, default=5)
    parser.add_argument("--district-down", type=float, default=120, help="seconds 安宁 is down")
    parser.add_argument("--quiet", type=float, default=15, help="seconds between faults")
    args = parser.parse_args()
    began = time.monotonic()
    with running_stack("faults") as stack:
        api, keys, sim = start(stack)
        engine = create_engine(stack.sqlalchemy_url, pool_pre_ping=True)
        say(f"stack up; stream of {args.rate:g} applications/s starts")
        supervisor = Supervisor(stack, {"worker": stack.start_worker, "beat": stack.start_beat})
        supervisor.start()
        stream = Stream(api, keys, args.rate)
        stream.start()
        log: list[tuple[float, str]] = []

        def fault(what: str) -> None:
            log.append((time.monotonic() - began, what))
            say(f"{what} ({len(stream.submitted):,} submitted so far)")

        time.sleep(args.quiet)
        for n in range(args.kills):
            fault(f"SIGKILL worker #{n + 1}")
            with supervisor.lock:
                stack.kill("worker")
                time.sleep(2)
                stack.start_worker()
            time.sleep(args.quiet)
        fault(f"Redis down for {args.redis_down:g} s")
        stack.restart_redis(args.redis_down)
        fault("Redis back")
        time.sleep(args.quiet)
        fault(f"PostgreSQL down for {args.postgres_down:g} s")
        stack.restart_postgres(args.postgres_down)
        fault("PostgreSQL back")
        time.sleep(args.quiet)
        fault(f"安宁's system down (503) for {args.district_down:g} s")
        httpx.post(f"{sim}/_mode", json={"mode": "down", "auto": False})
        time.sleep(args.district_down)
        httpx.post(f"{sim}/_mode", json={"mode": "healthy", "auto": False})
        fault("安宁's system back")
        time.sleep(args.quiet)
        say("stopping the stream; waiting for every delivery")
        stream.stop()
        case_nos = list(stream.submitted)
        figures = settle(engine, case_nos)
        watermark, agrees = kept_report_agrees(engine)
        supervisor.stop()
        sim_state = httpx.get(f"{sim}/_state").json()
        engine.dispose()
    at_district = sum(1 for n, c in stream.submitted.items() if c == "XS-01")
    sim_twice = sum(1 for n in sim_state["cases"].values() if n > 1)
    lost = len(case_nos) - figures["delivered"]
    duplicated = figures["duplicated"] + sim_twice
    took = time.monotonic() - began
    lines = [
        "| fault during the stream | at |",
        "|---|---|",
        *[f"| {what} | {at:.0f} s |" for at, what in log],
        "",
        "| result | count |",
        "|---|---|",
        f"| submitted (201 to the window) | {len(case_nos):,} |",
        f"| cases in the database | {figures['cases_in_db']:,} |",
        f"| delivered (received on the timeline) | {figures['delivered']:,} |",
        f"| of them to 安宁's own system, which holds | {at_district:,} / "
        f"{len(sim_state['cases']):,} |",
        f"| **lost** | **{lost}** |",
        f"| **duplicated** | **{duplicated}** |",
        f"| dead letters | {figures['dead']} |",
        f"| intake retries by the windows (same key) | {stream.retries:,} {stream.errors} |",
        f"| exits by themselves, restarted as compose would | {supervisor.restarts} |",
        f"| this month's report from beat's kept rows (up to event {watermark}) equals the "
        f"timeline's | {'yes' if agrees else '**no**'} |",
        "",
        f"The fault run took {took / 60:.1f} min.",
    ]
    out = "\n".join(lines)
    print(out, flush=True)
    (stack.var_dir / "last-run.md").write_text(out + "\n", encoding="utf-8")
    ok = lost == 0 and duplicated == 0 and figures["cases_in_db"] == len(case_nos) and agrees
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
