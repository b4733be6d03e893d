"""How long the security log is kept, and the one way old entries leave it.

Entries are kept `TONGBAN_SECURITY_LOG_RETENTION_DAYS` days (180 at least, the default). The
table refuses DELETE except for rows older than the cut-off a transaction names with
`SET LOCAL tongban.security_log_purge_before`, and the database itself refuses a cut-off less
than 180 days back (migration 0015): a wrong setting here cannot remove recent entries.
"""

import os
from collections.abc import Mapping

from sqlalchemy import text
from sqlalchemy.orm import Session

from service.audit import security_log

ENV = "TONGBAN_SECURITY_LOG_RETENTION_DAYS"
MIN_DAYS = 180  # 等保三级: audit records kept six months at least; the trigger holds it too
BATCH = 5_000

_CUT_OFF = text(
    "SELECT set_config('tongban.security_log_purge_before',"
    " (now() - make_interval(days => :days))::text, true)"
)
_DELETE_BATCH = text(
    "DELETE FROM security_events WHERE id IN (SELECT id FROM security_events"
    " WHERE occurred_at < current_setting('tongban.security_log_purge_before')::timestamptz"
    " ORDER BY id LIMIT :batch)"
)


class RetentionTooShort(ValueError):
    """A retention under the floor, or not a whole number of days."""


def retention_days(environ: Mapping[str, str] = os.environ) -> int:
    """The configured retention in days; raises RetentionTooShort under MIN_DAYS, so a worker
    with a bad setting does not start."""
    raw = environ.get(ENV, "").strip()
    if not raw:
        return MIN_DAYS
    try:
        days = int(raw)
    except ValueError as err:
        raise RetentionTooShort(f"{ENV} must be a whole number of days, got {raw!r}") from err
    if days < MIN_DAYS:
        raise RetentionTooShort(f"{ENV} must be at least {MIN_DAYS} days, got {days}")
    return days


def purge(session: Session, days: int) -> int:
    """Delete entries older than `days` days, in batches (each its own transaction, naming
    the cut-off again), and log the purge. Commits; returns how many entries went."""
    if days < MIN_DAYS:
        raise RetentionTooShort(f"at least {MIN_DAYS} days, got {days}")
    deleted = 0
    cut_off = None
    while True:
        cut_off = session.scalar(_CUT_OFF, {"days": days})
        gone = session.execute(_DELETE_BATCH, {"batch": BATCH}).rowcount
        if gone < BATCH:
            break
        deleted += gone
        session.commit()
    deleted += gone
    if deleted:
        security_log.record(
            session,
            "security_log.purge",
            target_type="security_log",
            target=None,
            district_code=None,
            details={"older_than": cut_off, "deleted": deleted, "retention_days": days},
        )
    session.commit()
    return deleted
