"""The domain imports only the standard library, eventsourcing.domain and itself."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

DOMAIN = Path(__file__).resolve().parents[2] / "ledger" / "domain"
ALLOWED_PREFIXES = ("eventsourcing.domain", "ledger.domain")


def imported_modules(path: Path) -> set[str]:
    """Every module a source file imports, absolute names."""
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def is_allowed(module: str) -> bool:
    """Standard library, eventsourcing.domain, or the domain package itself."""
    top = module.split(".", maxsplit=1)[0]
    return top in sys.stdlib_module_names or module.startswith(ALLOWED_PREFIXES)


def test_the_domain_imports_only_the_standard_library_and_eventsourcing_domain() -> None:
    """Walk every domain module's imports and list anything from elsewhere."""
    files = sorted(DOMAIN.glob("*.py"))
    assert len(files) >= 5, "the domain package was not found"
    offenders = {
        f"{path.name}: {module}"
        for path in files
        for module in imported_modules(path)
        if not is_allowed(module)
    }
    assert offenders == set()


def test_the_import_check_catches_a_foreign_import(tmp_path: Path) -> None:
    """The check itself fails on a module importing, say, psycopg or eventsourcing.persistence."""
    bad = tmp_path / "bad.py"
    bad.write_text("import psycopg\nfrom eventsourcing.persistence import Mapper\n")
    assert {m for m in imported_modules(bad) if not is_allowed(m)} == {
        "psycopg",
        "eventsourcing.persistence",
    }
