"""Reads at scale: the back office's queue page and a case page, one request at a time.

The queue samples walk a district's queue as a clerk does: the first page, then a few pages
deeper by cursor, then a filtered first page (status, due state). Case pages are random cases
of the district, each with its timeline.
"""

import random
import time

import httpx
from sqlalchemy import Engine, text

from bench.load import percentile
from service.accounts.totp import current_code

QUEUE_DEPTH = 5  # pages followed by cursor before starting again from the top
FILTERS = ({}, {"status": "accepted"}, {"due": "overdue"}, {"status": "received"})


def staff_token(api: str, username: str, password: str, totp_secret: str | None = None) -> str:
    """A staff token; roles with a second factor pass their demo TOTP secret for the code."""
    body = {"username": username, "password": password}
    if totp_secret:
        body["otp"] = current_code(totp_secret)
    response = httpx.post(f"{api}/api/v1/auth/token", json=body)
    response.raise_for_status()
    return response.json()["token"]


def _timed_get(client: httpx.Client, url: str, params: dict) -> tuple[float, dict]:
    started = time.perf_counter()
    response = client.get(url, params=params)
    took = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} {params}: {response.status_code} {response.text[:300]}")
    return took, response.json()


def queue_latencies(api: str, token: str, samples: int) -> list[float]:
    """Seconds per queue page over `samples` requests."""
    times: list[float] = []
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        url = f"{api}/api/v1/queue"
        round_no = 0
        while len(times) < samples:
            params = dict(FILTERS[round_no % len(FILTERS)])
            round_no += 1
            for _ in range(QUEUE_DEPTH):
                took, page = _timed_get(client, url, params)
                times.append(took)
                if not page["next_cursor"] or len(times) >= samples:
                    break
                params["cursor"] = page["next_cursor"]
    return times


def case_latencies(api: str, token: str, engine: Engine, district: str, samples: int) -> list:
    """Seconds per case page for `samples` random cases the district is responsible for."""
    with engine.connect() as conn:
        top = conn.execute(text("SELECT max(id) FROM cases")).scalar_one()
        ids = random.Random(7).sample(range(1, top + 1), min(top, samples * 4))
        case_nos = conn.scalars(
            text(
                "SELECT case_no FROM cases WHERE id = ANY(:ids) AND responsible_district = :d "
                "LIMIT :n"
            ),
            {"ids": ids, "d": district, "n": samples},
        ).all()
    times = []
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        for case_no in case_nos:
            took, _case = _timed_get(client, f"{api}/api/v1/applications/{case_no}", {})
            times.append(took)
    return times


def p99_ms(times: list[float]) -> float:
    return percentile(times, 99) * 1000


def p50_ms(times: list[float]) -> float:
    return percentile(times, 50) * 1000
