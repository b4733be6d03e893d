"""The security log (安全审计): who changed accounts, keys, sessions and system settings, who
logged in or failed to, from which address, and whether it worked.

An entry is added to the caller's session, so it commits (or rolls back) with the change it
describes; the table refuses UPDATE and DELETE (migration 0012). Entries never hold personal
data or secrets: detail values under secret-sounding keys are replaced, and free text is masked
like the logs are.
"""

import getpass
import re
from typing import Any

from flask import g, has_request_context, request
from sqlalchemy.orm import Session

from service.audit.models import SecurityEvent
from service.logs import redact

OUTCOMES = ("ok", "failed", "refused")
# A caller naming a detail like this almost certainly holds a credential in it.
_SECRET_KEY = re.compile(r"pass|secret|token|otp|api_key|^key$|credential", re.IGNORECASE)


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            str(k): "[redacted]" if _SECRET_KEY.search(str(k)) else _clean(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, str):
        return redact(value)[:500]
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(str(value))[:500]


def record(
    session: Session,
    action: str,
    *,
    target_type: str,
    target: str | None,
    district_code: str | None,
    outcome: str = "ok",
    details: dict | None = None,
    principal=None,
    address=None,
) -> SecurityEvent:
    """Add one security-log entry to `session` (never commits: it goes with the change).

    `principal` (a Principal, or anything with kind/id/name/role) and `address` default to the
    current request's `g.principal` and `request.remote_addr`; outside a request (the CLI, a
    worker) the actor is "system" named by the operating-system user. `target` is the id or name
    of what was acted on; `district_code` is the district it belongs to (None: city-wide)."""
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {OUTCOMES}")
    in_request = has_request_context()
    if principal is None and in_request:
        principal = g.get("principal")
    if address is None and in_request:
        address = request.remote_addr
    if principal is not None:
        actor = {
            "actor_kind": principal.kind,
            "actor_id": principal.id,
            "actor_name": principal.name[:100],
            "actor_role": principal.role,
        }
    elif in_request:
        actor = {}  # anonymous: a failed login, say
    else:
        actor = {"actor_kind": "system", "actor_name": getpass.getuser()[:100]}
    event = SecurityEvent(
        action=action,
        target_type=target_type,
        target=None if target is None else str(target)[:200],
        district_code=district_code,
        outcome=outcome,
        details=_clean(details or {}),
        address=address,
        **actor,
    )
    session.add(event)
    return event
