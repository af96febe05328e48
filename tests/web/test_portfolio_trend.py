"""The portfolio's weekly trend: past weeks are computed once, within a time budget per request."""

from __future__ import annotations

from datetime import date

from api.web.views import Everyone, PastFigures, portfolio_trend
from projections.rules.series import series_days

TODAY = date(2026, 12, 3)
NOBODY = Everyone([], {})


def test_a_request_without_budget_gets_only_the_weeks_already_kept() -> None:
    past = PastFigures()
    figures = past.of(NOBODY, TODAY, TODAY)
    points, complete = portfolio_trend(
        NOBODY, TODAY, figures, past, today=TODAY, budget_seconds=0.0
    )
    assert (points, complete) == ([], False)
    points, complete = portfolio_trend(
        NOBODY, TODAY, figures, past, today=TODAY, budget_seconds=60.0
    )
    assert complete
    assert [p["as_of"] for p in points] == [d.isoformat() for d in series_days(None, TODAY, 7)]
    again, complete = portfolio_trend(NOBODY, TODAY, figures, past, today=TODAY, budget_seconds=0.0)
    assert complete  # every past week is kept now
    assert again == points


def test_only_past_days_are_kept() -> None:
    past = PastFigures()
    week = series_days(None, TODAY, 7)[0]
    past.of(NOBODY, week, TODAY)
    assert past.has(week, NOBODY)
    past.of(NOBODY, TODAY, TODAY)
    assert not past.has(TODAY, NOBODY)  # today's figures still change: never kept
