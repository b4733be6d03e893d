"""Signing what Tongban sends to a district system and checking what it sends back.

HMAC-SHA256 over "<direction>.<unix timestamp>.<body>" with the district's shared secret, hex in
a header. The direction (deliver, callback, status, file) keeps a message signed for one purpose
from being replayed as another. The timestamp is signed too, and a receiver refuses one outside a
few minutes of its clock, so a captured request cannot be replayed later; repeats inside the
window are caught by event ids and idempotency keys. Download links sign their expiry instead.
Plain Python.
"""

import hashlib
import hmac

TIMESTAMP_HEADER = "X-Tongban-Timestamp"
SIGNATURE_HEADER = "X-Tongban-Signature"
REPLAY_WINDOW_SECONDS = 300
DELIVER, CALLBACK, STATUS, FILE = "deliver", "callback", "status", "file"


def signature(secret: str, direction: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of "<direction>.<timestamp>.<body>"."""
    message = f"{direction}.{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(secret: str, direction: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, direction, timestamp, body),
    }


def verify(
    secret: str, direction: str, timestamp: str | None, sig: str | None, body: bytes, now: int
) -> str | None:
    """None if the request is genuine and fresh; otherwise why not."""
    if not timestamp or not sig or not sig.isascii():
        return "missing or malformed signature headers"
    try:
        sent = int(timestamp)
    except ValueError:
        return "bad timestamp"
    if abs(now - sent) > REPLAY_WINDOW_SECONDS:
        return "timestamp outside the replay window"
    if not hmac.compare_digest(signature(secret, direction, sent, body), sig.strip().lower()):
        return "signature does not match"
    return None


def link_valid(
    secret: str, file_id: int, expires: str, sig: str | None, now: int, longest: int
) -> bool:
    """Whether a download link is genuine and unexpired (and not made to last too long)."""
    if not expires.isdigit() or not sig or not sig.isascii():
        return False
    until = int(expires)
    if not now <= until <= now + longest:
        return False
    expected = signature(secret, FILE, until, str(file_id).encode())
    return hmac.compare_digest(expected, sig.strip().lower())
