"""Every action the code writes to the security log has its Chinese name for the auditors'
export (service/audit/security_log.py:ACTIONS_ZH)."""

import ast
from pathlib import Path

from service.audit.security_log import ACTIONS_ZH

ROOT = Path(__file__).resolve().parents[2]
# The functions that pass their first string argument on as the action.
RECORDERS = {"record", "revealed", "_record", "_record_terminal", "_start_over"}


def _actions_in(tree: ast.AST) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
        if name not in RECORDERS:
            continue
        for arg in node.args:
            # "a" or, for a choice, "a" if ... else "b"; never the keys of a details dict.
            parts = [arg.body, arg.orelse] if isinstance(arg, ast.IfExp) else [arg]
            for part in parts:
                if isinstance(part, ast.Constant) and isinstance(part.value, str):
                    found.add(part.value)
    return found


def test_every_logged_action_has_its_chinese_name():
    actions: set[str] = set()
    for path in [*(ROOT / "service").rglob("*.py"), *(ROOT / "workers").rglob("*.py")]:
        source = path.read_text(encoding="utf-8")
        if "security_log" in source:
            actions |= _actions_in(ast.parse(source))
    assert {"login", "login.lockout", "file.download", "contact.reveal", "month.close"} <= actions
    missing = sorted(a for a in actions if a not in ACTIONS_ZH)
    assert not missing, f"give these actions a name in ACTIONS_ZH: {missing}"
