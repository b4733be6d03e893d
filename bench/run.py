"""`make bench`: the real stack under load, and a table of figures beside same-run baselines.

    .venv/bin/python -m bench.run [--cases 1000000] [--seconds 20] [--concurrency 8] ...

Starts embedded PostgreSQL and Redis under var/bench/, fills the database with `--cases`
synthetic cases (bench/synthetic.py; kept for the next run with the same size), applies the
migrations and demo data, then runs gunicorn and a Celery worker as the entrypoint does and
measures, in order:

1. reads at scale: queue page and case page latency, one request at a time;
2. the monthly report beside a plain GROUP BY (bench/monthly_report.py);
3. intake at a fixed concurrency beside a bare Flask endpoint under the same gunicorn settings
   (the worker is stopped meanwhile, so both get the same CPUs);
4. forwarding throughput: the worker drains intake's backlog, then the same number of no-op
   tasks on the same broker;
5. forwarding latency at a steady rate, intake commit to receipt, with the worker running;
6. peak resident memory of API and worker during 3 to 5.

How long: with 1,000,000 cases about 7 minutes to generate them and 9 to close the earlier
months (first run only, measured on a busy machine), then about 2.5 minutes of measuring.
`--cases 100000` takes about 5.
The table is also written to var/bench/last-run.md.
"""

import argparse
import json
import time
from datetime import date

from sqlalchemy import create_engine, text

from bench import forwarding, intake, reads
from bench.load import Target
from bench.memory import PeakMemory
from bench.monthly_report import TARGET_SECONDS, close_earlier_months, measure
from bench.stack import Stack, running_stack, say
from bench.synthetic import generate
from bench.table import Table
from service.config import load_settings
from service.crypto import FieldCipher
from service.sealed import CASE_ID_NUMBER, CASE_PHONE

SYNTHETIC_UNTIL = date(2026, 11, 1)


def prepare(stack: Stack, cases: int, month: str) -> None:
    """The synthetic data set of `cases` cases with the months before `month` closed; made
    anew only if the kept one differs."""
    marker = stack.var_dir / "dataset.json"
    wanted = {"cases": cases, "month": month, "encrypted_placeholders": True}
    if stack.database_exists() and marker.exists() and json.loads(marker.read_text()) == wanted:
        say(f"reusing the {cases:,} synthetic cases in var/{stack.var_dir.name}")
        return
    marker.unlink(missing_ok=True)
    stack.recreate_database()
    minutes = cases / 1_000_000 * 7
    say(f"generating {cases:,} synthetic cases (about {minutes:.0f} min on 2 cores)")
    engine = create_engine(stack.sqlalchemy_url)
    # One placeholder ID number (the README's example) and phone, encrypted with this stack's
    # data key, so the API can show every synthetic case: v1 ciphertexts, bound to the column
    # only, as one value serves every row (`python -m service reencrypt` would seal each).
    cipher = FieldCipher.from_settings(load_settings(stack.env))
    took = generate(
        engine,
        stack.sqlalchemy_url,
        cases,
        SYNTHETIC_UNTIL,
        id_enc=cipher.encrypt_v1("11010519491231002X", CASE_ID_NUMBER),
        phone_enc=cipher.encrypt_v1("13800000000", CASE_PHONE),
    )
    say(f"  generated in {took:.0f} s; closing the months before {month} as beat would")
    took = close_earlier_months(engine, month)
    say(f"  closed in {took:.0f} s")
    engine.dispose()
    marker.write_text(json.dumps(wanted))


def credentials(creds: dict) -> tuple[str, str]:
    terminal = next(t["api_key"] for t in creds["terminals"] if t["center"] == "FM-01")
    clerk = next(s["password"] for s in creds["staff"] if s["username"] == "wh-clerk")
    return terminal, clerk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000, help="synthetic cases in the DB")
    parser.add_argument("--concurrency", type=int, default=8, help="intake clients")
    parser.add_argument("--seconds", type=float, default=20, help="each intake run")
    parser.add_argument("--rate", type=float, default=10, help="steady applications/s")
    parser.add_argument("--rate-seconds", type=float, default=30)
    parser.add_argument("--samples", type=int, default=300, help="requests per read figure")
    parser.add_argument("--month", default="2026-10", help="the monthly report's month")
    parser.add_argument("--rounds", type=int, default=3, help="monthly report rounds")
    args = parser.parse_args()
    began = time.monotonic()
    table = Table()
    with running_stack("bench") as stack:
        say(f"embedded PostgreSQL and Redis under {stack.var_dir}")
        prepare(stack, args.cases, args.month)
        terminal_key, clerk_password = credentials(stack.migrate_and_seed())
        engine = create_engine(stack.sqlalchemy_url, pool_pre_ping=True)
        with engine.connect() as conn:
            total = conn.execute(text("SELECT count(*) FROM cases")).scalar_one()
        api = stack.start_api()
        say(f"API (gunicorn, {stack.env.get('WEB_CONCURRENCY', 2)} workers) at {api}")

        say(f"reads: {args.samples} queue pages and {args.samples} case pages, {total:,} cases")
        token = reads.staff_token(api, "wh-clerk", clerk_password)
        queue = reads.queue_latencies(api, token, args.samples)
        case = reads.case_latencies(api, token, engine, "530102", args.samples)
        table.reads(total, queue, case)

        say(f"monthly report for {args.month}, median of {args.rounds}")
        base, full, alone, events = measure(engine, args.month, args.rounds)
        table.monthly(args.month, total, events, base, full, alone, TARGET_SECONDS)

        with PeakMemory(stack) as memory:
            taken, bare, bare_write = intake.measure_intake(
                stack, api, terminal_key, args.concurrency, args.seconds
            )
            table.intake(args.concurrency, taken, bare, bare_write)
            say(f"forwarding: the worker drains intake's {len(taken.case_nos):,} deliveries")
            delivered = forwarding.drain_rate(stack, engine, taken.case_nos)
            stack.terminate("worker")
            say(f"  {delivered:.1f} deliveries/s; now {len(taken.case_nos):,} no-op tasks")
            noop = forwarding.noop_rate(stack, len(taken.case_nos))
            say(f"  {noop:.1f} no-op tasks/s")
            table.forwarding_throughput(len(taken.case_nos), delivered, noop)
            say(f"forwarding latency: {args.rate:g} applications/s for {args.rate_seconds:g} s")
            auth = (("Authorization", f"Bearer {terminal_key}"),)
            target = Target(api, "/api/v1/applications", "intake", auth)
            steady, latencies = forwarding.latency_at_rate(
                engine, target, args.rate, args.rate_seconds
            )
            table.forwarding_latency(args.rate, steady, latencies)
        table.memory(memory.peaks)
        engine.dispose()
    took = time.monotonic() - began
    table.footer(f"{args.cases:,} synthetic cases; the whole run took {took / 60:.1f} min")
    out = table.render()
    print(out, flush=True)
    (stack.var_dir / "last-run.md").write_text(out + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
