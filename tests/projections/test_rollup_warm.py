"""``counterpart projections warm`` computes ahead, and keeps, the roll-ups of the series' dates."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from ledger.application import Counterpart
from ledger.clock import SimulatedClock
from ledger.settings import Settings
from projections.models.rollup_reads import RollupDays
from projections.rules.series import series_days
from projections.runtime.store import open_store
from tests.builders import a_world, an_active_plan_in

ROOT = Path(__file__).resolve().parents[2]


def test_warm_keeps_the_portfolio_of_today_and_the_25_weeks_before(
    settings: Settings, clock: SimulatedClock
) -> None:
    app = Counterpart(settings, clock)
    an_active_plan_in(a_world(app, clock))
    app.close()
    command = ["-m", "api.cli", "--database-url", settings.database_url, "projections", "warm"]
    warmed = subprocess.run(
        [sys.executable, *command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert warmed.returncode == 0, warmed.stderr
    assert "kept the roll-ups of 26 dates" in warmed.stdout
    store = open_store(settings)
    try:
        kept = RollupDays(store)
        days = series_days(None, datetime.now(UTC).date(), 7)
        assert all(kept.has_portfolio(day) for day in days)
        assert not kept.has_portfolio(days[0].replace(year=days[0].year - 1))
    finally:
        store.close()
