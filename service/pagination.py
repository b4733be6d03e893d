"""Opaque cursors for keyset pagination: the cursor names the last row's sort key."""

import base64
import json

from service.errors import Problem

MAX_ID = 2**63 - 1  # PostgreSQL bigint: a larger id is not an id, and must not reach the database
ID = f"int(max={MAX_ID})"  # the URL converter for ids in paths


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


def decode_id_cursor(cursor: str) -> int:
    """A cursor that names the last row's id, checked to be one."""
    key = decode_cursor(cursor)
    if not (key and type(key[0]) is int and 0 < key[0] <= MAX_ID):
        raise bad_cursor()
    return key[0]


def bad_cursor() -> Problem:
    return Problem(
        400,
        "validation-error",
        "Request validation failed",
        "The cursor is not one this API gave out.",
        errors=[{"field": "cursor", "messages": ["Invalid cursor."]}],
    )
