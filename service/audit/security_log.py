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
from urllib.parse import urlsplit, urlunsplit

from flask import g, has_request_context, request
from sqlalchemy.orm import Session

from service.audit.models import SecurityEvent
from service.logs import redact

OUTCOMES = ("ok", "failed", "refused")
# Every action the log records, with its name for auditors (the export's 操作 column). A new
# record() call names its action here: tests/unit/test_security_actions.py fails otherwise.
ACTIONS_ZH = {
    "login": "员工登录",
    "login.lockout": "登录被锁定",
    "logout": "退出登录",
    "window.login": "窗口终端登录",
    "password.change": "修改密码",
    "password.reset": "重置密码",
    "totp.enrol": "绑定动态验证码",
    "totp.reset": "重置动态验证码",
    "account.create": "创建账号",
    "account.deactivate": "停用账号",
    "account.reactivate": "启用账号",
    "account.role_change": "变更角色",
    "terminal.create": "创建终端",
    "terminal.rotate_key": "更换终端密钥",
    "terminal.revoke": "停用终端",
    "session.revoke": "结束会话",
    "district.connector_change": "修改区县对接设置",
    "district.pause": "暂停区县投递",
    "district.resume": "恢复区县投递",
    "dead_letters.replay": "重发死信",
    "catalog.import": "导入事项目录",
    "catalog.export": "导出事项目录",
    "calendar.import": "导入工作日历",
    "month.close": "月度统计关账",
    "stats.export": "下载月度统计",
    "file.download": "下载材料扫描件",
    "contact.reveal": "查看完整联系方式",
    "name.reveal": "查看申请人完整姓名",
    "query_code.reveal": "查看查询码",
    "security_log.export": "导出安全审计日志",
    "security_log.purge": "清理过期安全审计日志",
}
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


def mask_url(url: str | None) -> str | None:
    """An address fit for the log: user, password and query (which may carry a token) left
    out, scheme, host, port and path kept, so a changed destination still shows."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
    except ValueError:
        return "[unreadable]"
    query = "[redacted]" if parts.query else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def revealed(session: Session, action: str, case: Any, principal, **details) -> SecurityEvent:
    """A look at a secret or at full personal data of `case` (anything with `case_no` and
    `accepting_district`, the district it is filed under) by `principal`."""
    return record(
        session,
        action,
        target_type="case",
        target=case.case_no,
        district_code=case.accepting_district,
        details=details or None,
        principal=principal,
    )


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
