"""HTTP load for the benchmarks: closed loop at a fixed concurrency, or a steady open-loop rate.

The client runs on the same 2-core machine as the server, in separate processes (so Python's
GIL in the client is not the limit), and every figure is compared with a baseline that the
same client measured in the same run.
"""

import http.client
import json
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlparse

from tests.helpers import application

CLIENT_PROCESSES = 2


@dataclass(frozen=True)
class Target:
    """What to POST: `kind` is "intake" (a new application, new Idempotency-Key each time) or
    "bare" (the same body to the bare endpoint)."""

    base: str
    path: str
    kind: str
    headers: tuple[tuple[str, str], ...] = ()


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)  # seconds, successful requests
    statuses: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0
    case_nos: list[str] = field(default_factory=list)

    def merge(self, other: "Result") -> None:
        self.latencies += other.latencies
        self.case_nos += other.case_nos
        for status, n in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + n
        self.seconds = max(self.seconds, other.seconds)

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        """The p-th percentile latency in milliseconds."""
        return percentile(self.latencies, p) * 1000

    @property
    def errors(self) -> int:
        return sum(n for s, n in self.statuses.items() if not 200 <= s < 300)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def request_body(target: Target) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(application(), ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", **dict(target.headers)}
    if target.kind == "intake":
        headers["Idempotency-Key"] = uuid.uuid4().hex
    return body, headers


def post_once(target: Target, result: Result, timeout: float = 30) -> None:
    """One POST on a new connection (gunicorn's sync workers close after each response)."""
    url = urlparse(target.base)
    body, headers = request_body(target)
    started = time.perf_counter()
    try:
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)
        conn.request("POST", target.path, body, headers)
        response = conn.getresponse()
        payload = response.read()
        conn.close()
        status = response.status
    except OSError:
        status = 0
    took = time.perf_counter() - started
    result.statuses[status] = result.statuses.get(status, 0) + 1
    if 200 <= status < 300:
        result.latencies.append(took)
        if target.kind == "intake":
            result.case_nos.append(json.loads(payload)["case_no"])


def _threads(count: int, work: Callable[[Result], None]) -> Result:
    results = [Result() for _ in range(count)]
    threads = [threading.Thread(target=work, args=(r,)) for r in results]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = Result(seconds=time.perf_counter() - started)
    for r in results:
        total.merge(r)
    return total


def _closed_loop_process(target: Target, threads: int, seconds: float, warmup: float) -> Result:
    measure_from = time.perf_counter() + warmup
    until = measure_from + seconds

    def work(result: Result) -> None:
        while time.perf_counter() < measure_from:
            post_once(target, Result())
        while time.perf_counter() < until:
            post_once(target, result)

    total = _threads(threads, work)
    total.seconds = seconds
    return total


def closed_loop(target: Target, concurrency: int, seconds: float, warmup: float = 3) -> Result:
    """`concurrency` clients, each sending its next request when the last is answered."""
    per = [concurrency // CLIENT_PROCESSES] * CLIENT_PROCESSES
    per[0] += concurrency - sum(per)
    total = Result()
    with ProcessPoolExecutor(CLIENT_PROCESSES) as pool:
        futures = [pool.submit(_closed_loop_process, target, n, seconds, warmup) for n in per if n]
        for future in futures:
            total.merge(future.result())
    return total


def steady_rate(target: Target, rate: float, seconds: float, threads: int = 8) -> Result:
    """Open loop: one request every 1/rate seconds whatever the answers, spread over threads
    so a slow answer does not delay the next request."""
    start = time.perf_counter()
    count = int(rate * seconds)
    slots = iter(range(count))
    lock = threading.Lock()

    def work(result: Result) -> None:
        while True:
            with lock:
                n = next(slots, None)
            if n is None:
                return
            delay = start + n / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            post_once(target, result)

    return _threads(threads, work)
