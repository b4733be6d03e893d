"""Benchmark: the monthly report over 1,000,000 cases, beside a plain GROUP BY of its counts.

    .venv/bin/python -m bench.monthly_report [--cases 1000000] [--month 2026-06] [--rounds 3]

Generates the synthetic cases first (bench/synthetic.py), then closes the months before the one
measured, as beat does early each month (a few minutes for a million cases; kept for later runs
in the database tongban_synthetic). The report is the whole thing an auditor downloads for the
open month: every view for the city, overdue list, totals since each agreement began and
corrections to closed months, from the rows beat keeps for the open month; it is also timed
counting the month from the timeline alone. The baseline is one GROUP BY of the same event
counts by district pair, the least any report of these figures must do.
Target (issue 7): the report under 2 s.
"""

import argparse
import statistics
import time
from datetime import date

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from bench.database import bench_database
from bench.synthetic import generate
from service.cases.models import Case, CaseEvent
from service.clock import SHANGHAI
from service.stats.closing import CITY, close_month, live_report
from service.stats.partial import refresh, watermark
from service.stats.report import MEASURES, month_bounds, month_starts

TARGET_SECONDS = 2.0


def _baseline(session: Session, month: str) -> None:
    start, end, _first, _last = month_bounds(month)
    session.execute(
        select(Case.accepting_district, Case.responsible_district, CaseEvent.type, func.count())
        .join(Case, Case.id == CaseEvent.case_id)
        .where(
            CaseEvent.occurred_at >= start,
            CaseEvent.occurred_at < end,
            CaseEvent.type.in_(list(MEASURES.values())),
        )
        .group_by(Case.accepting_district, Case.responsible_district, CaseEvent.type)
    ).all()


def close_earlier_months(engine, month: str) -> float:
    """Close every month before `month` as beat would; returns the seconds it took."""
    started = time.perf_counter()
    with Session(engine) as session:
        first = session.scalar(select(func.min(Case.created_at)))
        for day in month_starts(
            first.astimezone(SHANGHAI).date(), date.fromisoformat(f"{month}-01")
        ):
            close_month(session, f"{day:%Y-%m}", "bench")
    return time.perf_counter() - started


def _median(engine, rounds: int, work) -> float:
    times = []
    for _ in range(rounds):
        with Session(engine) as session:
            started = time.perf_counter()
            work(session)
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure(engine, month: str, rounds: int) -> tuple[float, float, float, int]:
    """(baseline seconds, report seconds, report seconds counting the month from the timeline
    alone, events in the database): medians of `rounds`. The report is the city's as an
    auditor downloads it, from the rows beat keeps for an open month (counted here first, as
    beat does every TONGBAN_STATS_PARTIAL_SECONDS) and the events after them."""
    with Session(engine) as session:
        events = session.scalar(select(func.count()).select_from(CaseEvent))
        up_to = watermark(session)
        if up_to is None:
            raise RuntimeError("the timeline was too busy to count the month as beat does")
        refresh(session, month, up_to)

    def report(kept: bool):
        def run(session):
            result = live_report(session, month, CITY, kept=kept)
            assert result["totals"]["submitted"] > 0

        return run

    base = _median(engine, rounds, lambda s: _baseline(s, month))
    full = _median(engine, rounds, report(kept=True))
    alone = _median(engine, rounds, report(kept=False))
    return base, full, alone, events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--month", default="2026-10")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with bench_database("tongban_synthetic", keep=True) as (engine, _url):
        with engine.connect() as conn:
            have = 0
            if conn.execute(text("SELECT to_regclass('cases') IS NOT NULL")).scalar_one():
                have = conn.execute(text("SELECT count(*) FROM cases")).scalar_one()
        if have != args.cases:
            engine.dispose()
            with bench_database("tongban_synthetic") as (fresh, fresh_url):
                took = generate(fresh, fresh_url, args.cases, date(2026, 11, 1))
                print(f"generated {args.cases:,} cases in {took:.0f} s")
                took = close_earlier_months(fresh, args.month)
                print(f"closed the months before {args.month} in {took:.0f} s (as beat would)")
        base, full, alone, events = measure(engine, args.month, args.rounds)
    size = f"{args.cases:,} cases, {events:,} events"
    print(f"monthly report {args.month}: {size}, median of {args.rounds}")
    print(f"{'':36}{'seconds':>10}{'× baseline':>12}")
    print(f"{'baseline: GROUP BY of the counts':36}{base:>10.3f}{1:>12.1f}")
    print(f"{'the whole report (every view)':36}{full:>10.3f}{full / base:>12.1f}")
    print(f"{'the same, from the timeline alone':36}{alone:>10.3f}{alone / base:>12.1f}")
    verdict = "meets" if full < TARGET_SECONDS else "MISSES"
    print(f"target: report under {TARGET_SECONDS:.0f} s -> {verdict} ({full:.2f} s)")


if __name__ == "__main__":
    main()
