"""The counterpart command line: projections status, run and rebuild; errors in one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ledger.application import Counterpart
from ledger.clock import SimulatedClock
from ledger.settings import Settings
from tests.builders import a_world, an_active_plan_in

ROOT = Path(__file__).resolve().parents[2]


def counterpart(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the command line to completion."""
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_status_shows_the_lag_until_the_projections_have_run(
    settings: Settings, clock: SimulatedClock
) -> None:
    """Every projection starts at 0 with the whole ledger as lag; after a run, lag 0."""
    app = Counterpart(settings, clock)
    an_active_plan_in(a_world(app, clock))
    head = app.recorder.max_notification_id()
    app.close()
    url = settings.database_url
    assert counterpart("--database-url", url, "db", "upgrade").returncode == 0
    before = counterpart("--database-url", url, "projections", "status", "--json")
    assert before.returncode == 0, before.stderr
    rows = json.loads(before.stdout)
    assert {r["name"] for r in rows} == {"directory", "plan_state", "score_facts", "plan_history"}
    assert {(r["position"], r["lag"]) for r in rows} == {(0, head)}
    ran = counterpart("--database-url", url, "projections", "run", "--once")
    assert ran.returncode == 0, ran.stderr
    assert f"processed {head} events" in ran.stdout
    after = json.loads(counterpart("--database-url", url, "projections", "status", "--json").stdout)
    assert {(r["position"], r["lag"]) for r in after} == {(head, 0)}
    rebuilt = counterpart("--database-url", url, "projections", "rebuild", "plan_state")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert f"rebuilt plan_state from {head} events" in rebuilt.stdout


def test_errors_are_one_clear_line_and_a_non_zero_exit(tmp_path: Path) -> None:
    """An unknown projection, an unusable URL: one line on stderr, exit code 1."""
    url = f"sqlite:///{tmp_path}/cli.db"
    unknown = counterpart("--database-url", url, "projections", "rebuild", "nope")
    assert unknown.returncode == 1
    assert unknown.stderr.strip().splitlines() == [
        "counterpart: error: no projection named 'nope' (known: directory, plan_state, "
        "score_facts, plan_history)"
    ]
    memory = counterpart("--database-url", "sqlite:///:memory:", "projections", "status")
    assert memory.returncode == 1
    assert len(memory.stderr.strip().splitlines()) == 1
    assert ":memory:" in memory.stderr


def test_every_command_has_help() -> None:
    """--help works at every level."""
    for args in (
        [],
        ["db"],
        ["projections"],
        ["projections", "rebuild"],
        ["projections", "run"],
        ["projections", "status"],
        ["db", "upgrade"],
    ):
        shown = counterpart(*args, "--help")
        assert shown.returncode == 0, shown.stderr
        assert "Usage" in shown.stdout
