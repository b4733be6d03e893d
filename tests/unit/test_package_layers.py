"""The feature packages inside service/ import each other one way only: no package may reach
itself again through the packages it imports. Imports inside functions count too, since
they are the usual way a loop is hidden."""

import ast
from collections import defaultdict
from itertools import pairwise
from pathlib import Path

SERVICE = Path(__file__).resolve().parents[2] / "service"
PACKAGES = {p.name for p in SERVICE.iterdir() if (p / "__init__.py").exists()} - {"migrations"}


def _imported_modules(path: Path) -> set[str]:
    """Every module an import statement in the file names, absolute or relative."""
    here = ["service", *path.relative_to(SERVICE).parts[:-1]]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = here[: len(here) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.add(module)
            found |= {f"{module}.{alias.name}" for alias in node.names}
    return found


def package_graph() -> dict[str, dict[str, set[str]]]:
    """package -> {package it imports: the files that import it}."""
    graph: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for package in PACKAGES:
        for path in (SERVICE / package).rglob("*.py"):
            for module in _imported_modules(path):
                parts = module.split(".")
                inside = len(parts) > 1 and parts[0] == "service" and parts[1] in PACKAGES
                if inside and parts[1] != package:
                    graph[package][parts[1]].add(str(path.relative_to(SERVICE.parent)))
    return graph


def cycles(graph: dict[str, dict[str, set[str]]]) -> list[list[str]]:
    """Each loop among the packages, as the path that closes it."""
    found, done = [], set()

    def visit(package: str, path: list[str]) -> None:
        for target in sorted(graph.get(package, {})):
            if target in path:
                found.append([*path[path.index(target) :], target])
            elif target not in done:
                visit(target, [*path, target])
        done.add(package)

    for package in sorted(graph):
        if package not in done:
            visit(package, [package])
    return found


def test_no_package_inside_service_imports_back_what_imports_it():
    graph = package_graph()
    loops = cycles(graph)
    explained = [
        " -> ".join(loop)
        + "".join(f"\n    {a} -> {b}: {sorted(graph[a][b])}" for a, b in pairwise(loop))
        for loop in loops
    ]
    assert not loops, "package loops:\n" + "\n".join(explained)


def test_the_walk_sees_real_imports_and_finds_a_loop():
    # Guards the test above against passing because it saw nothing.
    graph = package_graph()
    assert "cases" in graph["clocks"] and "cases" in graph["districts"]
    assert "outbox" in graph["cases"]
    assert cycles({"a": {"b": {"x"}}, "b": {"c": {"y"}}, "c": {"a": {"z"}}}) == [
        ["a", "b", "c", "a"]
    ]


def test_cases_knows_none_of_the_packages_that_react_to_it():
    # The step runner's handlers are registered (service/wiring.py), never imported by cases.
    reacting = {"clocks", "materials", "districts", "ratings", "casework", "stats", "web"}
    assert not reacting & set(package_graph()["cases"])
