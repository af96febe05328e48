"""The portfolio's weekly trend: weeks not kept yet are computed within a time budget per
request, and kept by the roll-up read model for the next request."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from api.web.views import portfolio_trend
from ledger.application import Counterpart
from ledger.settings import Settings
from projections.models.rollup_reads import RollupDays
from projections.rules.series import series_days
from projections.runtime.registry import all_projections
from projections.runtime.runner import Runner
from projections.runtime.store import open_store

TODAY = date(2026, 12, 3)


@pytest.fixture
def kept(app: Counterpart, settings: Settings) -> Iterator[RollupDays]:
    """The roll-ups of an empty portfolio, in a real read store."""
    store = open_store(settings)
    Runner(app, store, all_projections(app)).setup()
    yield RollupDays(store)
    store.close()


def test_a_request_without_budget_gets_only_the_weeks_already_kept(kept: RollupDays) -> None:
    figures = kept.portfolio(TODAY)
    points, complete = portfolio_trend(kept, TODAY, figures, budget_seconds=0.0)
    assert (points, complete) == ([], False)
    points, complete = portfolio_trend(kept, TODAY, figures, budget_seconds=60.0)
    assert complete
    assert [p["as_of"] for p in points] == [d.isoformat() for d in series_days(None, TODAY, 7)]
    again, complete = portfolio_trend(kept, TODAY, figures, budget_seconds=0.0)
    assert complete  # every week is kept now
    assert again == points
