"""Talking to a district's own case system over HTTP, signed both ways."""

import json
import time
from typing import Any

import httpx

from service.districts.connectors import HttpTarget
from service.districts.signing import DELIVER, STATUS, signed_headers
from service.outbox.processing import Permanent, Unavailable

# "Not now", not "never": the district system is busy.
BUSY_4XX = frozenset({408, 425, 429})
# The two sides' configuration disagrees (secret, address, method): the district did not judge
# the case. Retried within the retry budget, so a quick fix loses nothing, then a dead letter
# an admin can see and replay once the connector is right.
MISCONFIGURED_4XX = frozenset({401, 403, 404, 405})


class Misconfigured(Exception):
    """The district system turned the call away for a reason that is not the case's."""


def _timeout(target: HttpTarget) -> httpx.Timeout:
    return httpx.Timeout(target.read_timeout, connect=target.connect_timeout)


def post_event(target: HttpTarget, event: str, payload: dict[str, Any], key: str) -> None:
    """POST one event; returns on 2xx, raises Unavailable (retry until it answers),
    Misconfigured (retry within the budget) or Permanent (dead letter at once).

    `key` is the outbox id, sent as Idempotency-Key: a timeout may hide a success, so the same
    event can arrive twice and the district system must treat the second as the first.
    """
    body = json.dumps({"event": event, **payload}, ensure_ascii=False, default=str).encode()
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Idempotency-Key": key,
        "X-Tongban-Event": event,
        **signed_headers(target.secret, DELIVER, int(time.time()), body),
    }
    try:
        response = httpx.post(
            target.endpoint, content=body, headers=headers, timeout=_timeout(target)
        )
    except httpx.HTTPError as err:
        raise Unavailable(f"{type(err).__name__}: {err}") from err
    _check(response)


def _check(response: httpx.Response) -> None:
    if response.is_success:
        return
    status = response.status_code
    reason = f"HTTP {status}: {response.text[:500]}"
    if status >= 500 or status in BUSY_4XX:
        raise Unavailable(reason)
    if status < 400 or status in MISCONFIGURED_4XX:  # a redirect is a wrong address too
        raise Misconfigured(reason)
    raise Permanent(reason)


def fetch_status(target: HttpTarget, case_no: str) -> dict[str, Any]:
    """The district system's events for one case, for reconciliation."""
    query = f"case_no={case_no}"
    headers = signed_headers(target.secret, STATUS, int(time.time()), query.encode())
    try:
        response = httpx.get(
            f"{target.status_endpoint}?{query}", headers=headers, timeout=_timeout(target)
        )
    except httpx.HTTPError as err:
        raise Unavailable(f"{type(err).__name__}: {err}") from err
    _check(response)
    try:
        return response.json()
    except ValueError as err:
        raise Permanent("status endpoint answered with something that is not JSON") from err
