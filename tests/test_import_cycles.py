"""Imports point one way (api → projections → ledger), and no module imports itself back."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("ledger", "projections", "api")
LAYER = {"ledger": 0, "projections": 1, "api": 2}


def module_name(path: Path) -> str:
    """``api/cli/common.py`` → ``api.cli.common``; a package's ``__init__`` is the package."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    """Every module of the packages, by name."""
    return {
        module_name(path): path for package in PACKAGES for path in (ROOT / package).rglob("*.py")
    }


def type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_at_import_time(path: Path, known: dict[str, Path], name: str) -> set[str]:
    """The package modules a module imports when it is imported (module level, not under
    ``if TYPE_CHECKING:``, not inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()

    def visit(statements: list[ast.stmt]) -> None:
        for node in statements:
            if isinstance(node, ast.If):
                if not type_checking_only(node):
                    visit(node.body)
                    visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name in known)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    child = f"{node.module}.{alias.name}"
                    if child in known:
                        found.add(child)
                    elif node.module in known:
                        found.add(node.module)

    visit(tree.body)
    found.discard(name)
    return found


def graph() -> dict[str, set[str]]:
    """Each module's imports within the packages."""
    known = modules()
    return {name: imports_at_import_time(path, known, name) for name, path in known.items()}


def test_no_module_of_the_packages_imports_itself_back_through_others() -> None:
    """A cycle (``api.cli`` and ``api.cli_audit`` importing each other, as once) fails here."""
    edges = graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                walk(nxt)
        stack.pop()
        state[node] = 2

    for name in sorted(edges):
        if name not in state:
            walk(name)
    assert not cycles, "\n".join(" → ".join(c) for c in cycles)


def test_imports_point_from_api_to_projections_to_ledger() -> None:
    """The ledger imports neither projections nor api; projections do not import api."""
    wrong = [
        f"{name} imports {target}"
        for name, targets in graph().items()
        for target in targets
        if LAYER[target.split(".")[0]] > LAYER[name.split(".")[0]]
    ]
    assert not wrong, "\n".join(sorted(wrong))
