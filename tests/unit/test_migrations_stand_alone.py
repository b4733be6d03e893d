"""Migrations import no application code: a migration must do the same thing in a year, when
the modules it would have imported have changed (issue 18). Each carries what it needs."""

import ast
from pathlib import Path

VERSIONS = Path(__file__).resolve().parents[2] / "service" / "migrations" / "versions"
APPLICATION = ("service", "catalog", "workers", "ops")


def test_no_migration_imports_application_code():
    offenders = []
    for path in sorted(VERSIONS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in APPLICATION]
    assert len(list(VERSIONS.glob("*.py"))) >= 13
    assert not offenders
