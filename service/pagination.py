"""Opaque cursors for keyset pagination: the cursor names the last row's sort key."""

import base64
import json

from service.errors import Problem


def encode_cursor(key: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> list:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except ValueError as exc:
        raise bad_cursor() from exc
    if not isinstance(key, list):
        raise bad_cursor()
    return key


def bad_cursor() -> Problem:
    return Problem(
        400,
        "validation-error",
        "Request validation failed",
        "The cursor is not one this API gave out.",
        errors=[{"field": "cursor", "messages": ["Invalid cursor."]}],
    )
