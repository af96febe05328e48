"""A projection worker killed at random points during a rebuild ends exactly as a clean one."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from ledger.application import Counterpart
from ledger.clock import SimulatedClock
from ledger.settings import Settings
from projections.runtime.runner import TRACKING_TABLE
from tests.builders import fill_ledger
from tests.projections.read_models import dump_read_models

ROOT = Path(__file__).resolve().parents[2]


def counterpart(url: str, *args: str) -> subprocess.Popen[bytes]:
    """Start the command line as its own process."""
    return subprocess.Popen(
        [sys.executable, "-m", "api.cli", "--database-url", url, *args],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def finish(url: str, *args: str) -> None:
    """Run the command line to completion and insist it succeeded."""
    process = counterpart(url, *args)
    _, errors = process.communicate(timeout=300)
    assert process.returncode == 0, errors.decode()


def test_killing_the_worker_during_a_rebuild_then_resuming_equals_a_clean_rebuild(
    settings: Settings, clock: SimulatedClock
) -> None:
    """SIGKILL at random moments of a rebuild and of its resumptions; compare row for row."""
    app = Counterpart(settings, clock)
    fill_ledger(app, clock, plans=24, reports=300)
    head = app.recorder.max_notification_id()
    app.close()
    url = settings.database_url
    finish(url, "db", "upgrade")
    finish(url, "projections", "rebuild")
    clean = dump_read_models(settings)
    assert {position for _, position in clean[TRACKING_TABLE]} == {head}

    chance = random.Random(2026)
    kills = 0
    process = counterpart(url, "projections", "rebuild", "--batch-size", "40")
    for _ in range(4):
        time.sleep(chance.uniform(0.3, 1.2))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait(timeout=60)
        process = counterpart(url, "projections", "run", "--once", "--batch-size", "40")
    _, errors = process.communicate(timeout=300)
    assert process.returncode == 0, errors.decode()
    assert kills >= 1, "the worker finished before it could be killed: grow the ledger"
    assert dump_read_models(settings) == clean
