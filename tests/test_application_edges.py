"""The API asks the application its questions; it never reaches into the library's parts.

``Counterpart`` answers what the routes, pages and the command line need (``head_position``,
``transcoder``, ``chain``, ``stored_version``, …). Reading ``app.recorder``, ``app.mapper`` or
``app.repository`` from ``api/`` would tie a route to how the library stores events.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIBRARY_PARTS = frozenset({"recorder", "mapper", "repository"})


def reaches_into_the_library(path: Path, root: Path = ROOT) -> list[str]:
    """``file:line attribute`` for every ``….recorder``/``.mapper``/``.repository`` in a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        f"{path.relative_to(root)}:{node.lineno} .{node.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr in LIBRARY_PARTS
    ]


def test_no_api_module_touches_the_recorder_the_mapper_or_the_repository() -> None:
    found = [
        hit
        for path in sorted((ROOT / "api").rglob("*.py"))
        for hit in reaches_into_the_library(path)
    ]
    assert found == []


def test_the_scan_sees_an_attribute_access(tmp_path: Path) -> None:
    module = tmp_path / "probe.py"
    module.write_text("def head(app):\n    return app.recorder.max_notification_id()\n")
    assert reaches_into_the_library(module, tmp_path) == ["probe.py:2 .recorder"]
