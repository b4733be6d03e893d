"""The security log's part of a checkpoint: the rows it added since the checkpoint before.

Ids are not in commit order (a transaction can take id 10, and commit after one that took 11),
so "the rows up to id N" is only settled once no transaction that could still add a row under
N is running. `settled_last_id` takes the table's SHARE lock for an instant, in a transaction of
its own: that waits for the transactions writing the log to end and holds new ones back until
max(id) is read, so every row up to it has committed and every later row gets a larger id. Each
checkpoint then records the range (previous last id, last id], how many rows it had and a
SHA-256 over them in id order (service/audit/checkpoint.py:security_digest).

Old rows leave the log legitimately (service/audit/retention.py, never rows less than 180 days
old: the database refuses it). Verification therefore recomputes a range's digest when all its
rows are there; a range with rows missing is explicitly skipped when it began before the purge
horizon (180 days ago, less a day of slack), and is a break otherwise.
"""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, text

from service.audit.checkpoint import SECURITY_COLUMNS, security_digest
from service.audit.retention import MIN_DAYS

LOCK_TIMEOUT = "10s"
_ROWS = text(
    f"SELECT {', '.join(SECURITY_COLUMNS)} FROM security_events"
    " WHERE id > :after AND id <= :last ORDER BY id"
)


def settled_last_id(conn: Connection) -> int:
    """The largest id under which every security-log row has committed (see above); its own
    transaction, committed at once so sign-ins wait no longer than that."""
    with conn.begin():
        conn.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
        conn.execute(text("LOCK TABLE security_events IN SHARE MODE"))
        return int(conn.scalar(text("SELECT coalesce(max(id), 0) FROM security_events")) or 0)


def range_digest(conn: Connection, after: int, last: int) -> tuple[int, str]:
    """How many rows the log has in (after, last] and their digest, read in id order."""
    rows = conn.execution_options(yield_per=5000).execute(_ROWS, {"after": after, "last": last})
    return security_digest(dict(r._mapping) for r in rows)


def part(conn: Connection, previous: dict[str, Any] | None, last: int) -> dict[str, Any]:
    """The security log's entry of a new checkpoint, after `previous` (the last checkpoint)."""
    after = previous["security_log"]["last_id"] if previous else 0
    rows, digest = range_digest(conn, after, last)
    return {
        "after_id": after,
        "last_id": last,
        "rows": rows,
        "digest": digest,
        "since": previous["taken_at"] if previous else None,
    }


def range_break(conn: Connection, entry: dict[str, Any], now: datetime) -> str | None:
    """Why a checkpoint's security-log range no longer holds; None when it holds, "skipped"
    when rows are missing only because the range reaches back past the purge horizon."""
    rows, digest = range_digest(conn, entry["after_id"], entry["last_id"])
    if rows == entry["rows"]:
        if digest == entry["digest"]:
            return None
        return "a row was changed (its content no longer matches the checkpoint's digest)"
    if rows > entry["rows"]:
        return f"{rows - entry['rows']} row(s) were added after the checkpoint, under its last id"
    since = entry.get("since")
    horizon = now - timedelta(days=MIN_DAYS - 1)
    if since is None or datetime.fromisoformat(since) < horizon:
        return "skipped"
    return f"{entry['rows'] - rows} row(s) are missing, younger than the retention allows"
