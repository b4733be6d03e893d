"""Signing what Tongban sends to a district system and checking what it sends back.

HMAC-SHA256 over "<unix timestamp>.<body>" with the district's shared secret, hex in a header.
The timestamp is signed too, and a receiver refuses one outside a few minutes of its clock, so a
captured request cannot be replayed later; repeats inside the window are caught by event ids.
Plain Python.
"""

import hashlib
import hmac

TIMESTAMP_HEADER = "X-Tongban-Timestamp"
SIGNATURE_HEADER = "X-Tongban-Signature"
REPLAY_WINDOW_SECONDS = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of "<timestamp>.<body>"."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(secret: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
    }


def verify(
    secret: str, timestamp: str | None, sig: str | None, body: bytes, now: int
) -> str | None:
    """None if the request is genuine and fresh; otherwise why not."""
    if not timestamp or not sig:
        return "missing signature headers"
    try:
        sent = int(timestamp)
    except ValueError:
        return "bad timestamp"
    if abs(now - sent) > REPLAY_WINDOW_SECONDS:
        return "timestamp outside the replay window"
    if not hmac.compare_digest(signature(secret, sent, body), sig.strip().lower()):
        return "signature does not match"
    return None
