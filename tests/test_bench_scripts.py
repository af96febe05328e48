"""Every benchmark under bench/ starts as `make bench` starts it: its imports resolve and it
answers ``--help``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
SCRIPTS = sorted(
    path for path in BENCH.glob("*.py") if path.name not in {"_support.py", "cputime.py"}
)


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_a_benchmark_script_starts_from_any_directory(script: Path, tmp_path: Path) -> None:
    finished = subprocess.run(
        [sys.executable, str(script), "--help"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert "usage:" in finished.stdout
