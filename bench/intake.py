"""Intake throughput and latency at a fixed concurrency, beside bare Flask JSON endpoints: one
that only echoes, and one that also stores the body in one committed row."""

import psycopg

from bench.bare_app import TABLE_DDL
from bench.load import Result, Target, closed_loop
from bench.stack import Stack, say


def measure_intake(
    stack: Stack, api: str, terminal_key: str, concurrency: int, seconds: float
) -> tuple[Result, Result, Result]:
    """(intake, bare, bare with one write) under the same gunicorn settings and the same
    client. The bare app runs alone first and is stopped, so they never share the CPUs."""
    with psycopg.connect(stack.database_url, autocommit=True) as conn:
        conn.execute(TABLE_DDL)
        conn.execute("TRUNCATE bench_writes")
    bare_base = stack.start_api("bench.bare_app:app", name="bare")
    baselines = []
    for path in ("/echo", "/write"):
        say(f"bare Flask {path}: {concurrency} clients for {seconds:.0f} s")
        bare = closed_loop(Target(bare_base, path, "bare"), concurrency, seconds)
        say(f"  {bare.rate:.0f} req/s, p99 {bare.percentile(99):.1f} ms, {bare.errors} errors")
        baselines.append(bare)
    stack.terminate("bare")
    say(f"intake: {concurrency} clients for {seconds:.0f} s")
    auth = (("Authorization", f"Bearer {terminal_key}"),)
    intake = closed_loop(Target(api, "/api/v1/applications", "intake", auth), concurrency, seconds)
    say(f"  {intake.rate:.0f} applications/s, p99 {intake.percentile(99):.1f} ms, "
        f"{intake.errors} errors {intake.statuses}")  # fmt: skip
    return intake, *baselines
