"""The portfolio's weekly trend: past weeks are computed once, within a time budget per request."""

from __future__ import annotations

from datetime import date

from api.reads import jsonable
from api.web.views import PastFigures, portfolio_trend, trend_days
from projections.rules.rollups import portfolio

TODAY = date(2026, 12, 3)


def test_a_request_without_budget_gets_only_the_weeks_already_kept() -> None:
    past = PastFigures()
    figures = jsonable(portfolio({}, TODAY))
    points, complete = portfolio_trend({}, TODAY, figures, past, today=TODAY, budget_seconds=0.0)
    assert (points, complete) == ([], False)
    points, complete = portfolio_trend({}, TODAY, figures, past, today=TODAY, budget_seconds=60.0)
    assert complete
    assert [p["as_of"] for p in points] == [d.isoformat() for d in trend_days(TODAY)]
    again, complete = portfolio_trend({}, TODAY, figures, past, today=TODAY, budget_seconds=0.0)
    assert complete  # every past week is kept now
    assert again == points


def test_kept_weeks_are_the_portfolio_rules_as_of_that_week() -> None:
    past = PastFigures()
    week = trend_days(TODAY)[0]
    assert past.of({}, week, TODAY) == jsonable(portfolio({}, week))
    assert past.has(week, {})
    assert not past.has(TODAY, {})  # today's figures still change: never kept
    past.of({}, TODAY, TODAY)
    assert not past.has(TODAY, {})
