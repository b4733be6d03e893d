"""Intake throughput and latency at a fixed concurrency, beside a bare Flask JSON endpoint."""

from bench.load import Result, Target, closed_loop
from bench.stack import Stack, say


def measure_intake(
    stack: Stack, api: str, terminal_key: str, concurrency: int, seconds: float
) -> tuple[Result, Result]:
    """(intake, bare) under the same gunicorn settings and the same client. The bare app runs
    alone first and is stopped, so the two never share the CPUs."""
    bare_base = stack.start_api("bench.bare_app:app", name="bare")
    say(f"bare Flask: {concurrency} clients for {seconds:.0f} s")
    bare = closed_loop(Target(bare_base, "/echo", "bare"), concurrency, seconds)
    stack.terminate("bare")
    say(f"  {bare.rate:.0f} req/s, p99 {bare.percentile(99):.1f} ms, {bare.errors} errors")
    say(f"intake: {concurrency} clients for {seconds:.0f} s")
    auth = (("Authorization", f"Bearer {terminal_key}"),)
    intake = closed_loop(Target(api, "/api/v1/applications", "intake", auth), concurrency, seconds)
    say(f"  {intake.rate:.0f} applications/s, p99 {intake.percentile(99):.1f} ms, "
        f"{intake.errors} errors {intake.statuses}")  # fmt: skip
    return intake, bare
