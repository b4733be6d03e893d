"""The benchmark's result table, in Markdown so BENCHMARKS.md can hold it as printed."""

from bench.load import Result, percentile
from bench.reads import p50_ms, p99_ms

INTAKE_TARGET = 0.5  # of the bare Flask rate
FORWARDING_TARGET = 1.0  # of the no-op task rate
QUEUE_TARGET_MS = 50.0


def _verdict(ok: bool) -> str:
    return "meets" if ok else "**misses**"


class Table:
    """Rows of (measure, figure, baseline, ratio, target) collected as the run goes."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str, str]] = []
        self.notes: list[str] = []

    def add(self, measure: str, figure: str, baseline="", ratio="", target="") -> None:
        self.rows.append((measure, figure, baseline, ratio, target))

    def reads(self, cases: int, queue: list[float], case: list[float]) -> None:
        size = f"{cases:,} cases"
        ok = p99_ms(queue) < QUEUE_TARGET_MS
        self.add(
            f"queue page p50 / p99 ({size}, {len(queue)} requests)",
            f"{p50_ms(queue):.1f} / {p99_ms(queue):.1f} ms",
            target=f"p99 < {QUEUE_TARGET_MS:.0f} ms: {_verdict(ok)}",
        )
        self.add(
            f"case page p50 / p99 ({size}, {len(case)} requests)",
            f"{p50_ms(case):.1f} / {p99_ms(case):.1f} ms",
        )

    def monthly(self, month, cases, events, base, full, alone, target_s) -> None:
        self.add(
            f"monthly report {month} ({cases:,} cases, {events:,} events)",
            f"{full:.2f} s",
            f"GROUP BY {base:.2f} s",
            f"{full / base:.1f}× slower",
            f"< {target_s:.0f} s: {_verdict(full < target_s)}",
        )
        self.add(
            "the same report counting the month from the timeline alone (no rows kept by beat)",
            f"{alone:.2f} s",
            f"GROUP BY {base:.2f} s",
            f"{alone / base:.1f}× slower",
            "",
        )

    def intake(self, concurrency: int, taken: Result, bare: Result, bare_write: Result) -> None:
        ratio = taken.rate / bare.rate
        self.add(
            f"intake, {concurrency} concurrent clients",
            f"{taken.rate:.0f} applications/s",
            f"bare Flask {bare.rate:.0f} req/s",
            f"{ratio:.2f}",
            f"≥ {INTAKE_TARGET:g}: {_verdict(ratio >= INTAKE_TARGET)}",
        )
        self.add(
            "intake latency p50 / p99",
            f"{taken.percentile(50):.1f} / {taken.percentile(99):.1f} ms",
            f"bare {bare.percentile(50):.1f} / {bare.percentile(99):.1f} ms",
        )
        self.add(
            "intake beside a bare endpoint that commits one row",
            f"{taken.rate:.0f} applications/s",
            f"bare Flask + 1 INSERT/COMMIT {bare_write.rate:.0f} req/s",
            f"{taken.rate / bare_write.rate:.2f}",
        )
        if taken.errors or bare.errors or bare_write.errors:
            self.notes.append(
                f"errors: intake {taken.statuses}, bare {bare.statuses},"
                f" bare with a write {bare_write.statuses}"
            )

    def forwarding_throughput(self, count: int, delivered: float, noop: float) -> None:
        ratio = delivered / noop
        self.add(
            f"forwarding throughput (backlog of {count:,})",
            f"{delivered:.1f} deliveries/s",
            f"no-op task {noop:.1f}/s",
            f"{ratio:.2f}",
            f"≥ {FORWARDING_TARGET:g}: {_verdict(ratio >= FORWARDING_TARGET)}",
        )

    def forwarding_latency(self, rate: float, steady: Result, latencies: list[float]) -> None:
        p50, p99 = percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000
        self.add(
            f"forwarding latency, commit → received, at {rate:g}/s ({len(latencies)} cases)",
            f"{p50:.0f} / {p99:.0f} ms",
            f"intake meanwhile p99 {steady.percentile(99):.0f} ms",
        )

    def memory(self, peaks: dict[str, int]) -> None:
        labels = {"api": "API (gunicorn master + workers)", "worker": "worker (main + pool)"}
        for name, label in labels.items():
            if name in peaks:
                self.add(f"peak resident memory, {label}", f"{peaks[name] / 1024:.0f} MiB")
        if "bare" in peaks:
            bare = f"{peaks['bare'] / 1024:.0f} MiB"
            self.add("peak resident memory, bare Flask (same gunicorn)", bare)

    def footer(self, note: str) -> None:
        self.notes.append(note)

    def render(self) -> str:
        head = ("measure", "figure", "baseline (same run)", "ratio", "target")
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        return "\n".join([*lines, "", *self.notes])
