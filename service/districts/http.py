"""Talking to a district's own case system over HTTP, signed both ways."""

import json
import time
from typing import Any

import httpx

from service.districts.connectors import HttpTarget
from service.districts.signing import DELIVER, STATUS, signed_headers
from service.outbox.processing import Permanent, Unavailable

# "Not now", not "never": busy (408, 425, 429), or our own configuration is wrong (a secret or
# address mismatch: 401, 403, 404, 405), which an operator fixes without losing the backlog.
RETRYABLE_4XX = frozenset({401, 403, 404, 405, 408, 425, 429})


def _timeout(target: HttpTarget) -> httpx.Timeout:
    return httpx.Timeout(target.read_timeout, connect=target.connect_timeout)


def post_event(target: HttpTarget, event: str, payload: dict[str, Any], key: str) -> None:
    """POST one event; returns on 2xx, raises Unavailable (retry) or Permanent (dead letter).

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
    reason = f"HTTP {response.status_code}: {response.text[:500]}"
    if not 400 <= response.status_code < 500 or response.status_code in RETRYABLE_4XX:
        raise Unavailable(reason)
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
