"""Tamper evidence for case timelines: each event carries the hash of the one before it.

hash = HMAC-SHA-256(chain key, previous hash + the event's canonical JSON). The key is not in
the database (TONGBAN_CHAIN_KEY), so someone who can write the tables, even as superuser, can
edit an event but cannot give it a link that holds. Events written before the chain was keyed
(migration 0016 records the last one) keep their plain SHA-256 links, which verification
accepts for them only. The chain is per case, because a case's events are appended under the
case's row lock; one global chain would make every step in the city wait for every other.
Editing, deleting or reordering an event breaks its link and every link after it. Plain Python.
"""

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64


def canonical(event: dict[str, Any]) -> bytes:
    """The event's fields as one stable byte string (sorted keys, UTC microseconds)."""
    at = event["occurred_at"]
    if isinstance(at, datetime):
        at = at.astimezone(UTC).isoformat(timespec="microseconds")
    fields = {
        "case_id": event["case_id"],
        "seq": event["seq"],
        "type": event["type"],
        "status_from": event["status_from"],
        "status_to": event["status_to"],
        "actor_kind": event["actor_kind"],
        "actor_id": event["actor_id"],
        "actor_name": event["actor_name"],
        "district_code": event["district_code"],
        "reason": event["reason"],
        "data": event["data"] or {},
        "occurred_at": at,
    }
    return json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


_key: bytes | None = None


def use_key(key: bytes) -> None:
    """The chain key of this process (the app factory and the worker set it from settings)."""
    global _key
    if len(key) < 32:
        raise ValueError("the chain key must be at least 32 bytes")
    _key = key


def link(prev_hash: str, event: dict[str, Any]) -> str:
    """This event's hash, chained to the previous one's under the chain key."""
    if _key is None:
        raise RuntimeError("no chain key: call service.audit.chain.use_key() at start")
    return hmac.new(_key, prev_hash.encode() + canonical(event), hashlib.sha256).hexdigest()


def plain_link(prev_hash: str, event: dict[str, Any]) -> str:
    """The unkeyed link of events written before the chain was keyed."""
    return hashlib.sha256(prev_hash.encode() + canonical(event)).hexdigest()


def first_break(
    events: list[dict[str, Any]], last_plain_id: int = 0
) -> tuple[dict[str, Any], str] | None:
    """The first event of one case (in seq order) whose link does not hold, and why. Events
    with an id up to `last_plain_id` were written before the chain was keyed."""
    prev = GENESIS
    for expected_seq, event in enumerate(events, start=1):
        if event["seq"] != expected_seq:
            return event, f"sequence jumps to {event['seq']} where {expected_seq} was due"
        if event["prev_hash"] != prev:
            return event, "does not point at the event before it"
        expected = (plain_link if event["id"] <= last_plain_id else link)(prev, event)
        if not hmac.compare_digest(expected, event["hash"]):
            return event, "its content does not match its hash"
        prev = event["hash"]
    return None
