"""Roll-ups: partnership scores weighted by age, manager scores, the portfolio view."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest

from ledger.clock import SimulatedClock
from ledger.domain import Side
from projections.rules.facts import PlanFacts, ReviewFact
from projections.rules.portfolio import portfolio
from projections.rules.rollups import age_weight, manager_score, partnership_score
from tests.builders import Cast, a_cast, a_plan, an_agreed_plan, vendor_terms
from tests.conftest import START
from tests.scoring.golden import facts_of

T = date(2026, 6, 30)


def at(day: date) -> datetime:
    """Noon UTC on a day."""
    return datetime.combine(day, time(12), tzinfo=UTC)


def reviewed_plan(activated: date, period_end: date, held: list[date]) -> PlanFacts:
    """A plan with no metrics and no requests, reviewed every 10 days by the vendor on ``held``:
    its only available component is V, so its score is 100 x (windows met / windows elapsed)."""
    facts = PlanFacts(
        plan_id=uuid4(),
        partner_id=uuid4(),
        period_end=period_end,
        report_every_days=14,
        review_every_days=10,
        grace_days=3,
        activated_at=at(activated),
        activated_by=1,
    )
    facts.reviews = [ReviewFact(d, frozenset({Side.VENDOR}), at(d), n) for n, d in enumerate(held)]
    return facts


def test_an_old_plan_counts_half_as_much_per_ninety_days_after_its_period() -> None:
    """Weight 1 until the period ends, 0.5 after 90 days, 0.25 after 180."""
    assert age_weight(T, T) == 1.0
    assert age_weight(T + timedelta(days=5), T) == 1.0
    assert age_weight(T - timedelta(days=90), T) == 0.5
    assert age_weight(T - timedelta(days=180), T) == 0.25


def test_a_partnership_score_weights_each_plan_by_its_age() -> None:
    """Old plan: A = T-120, period ends T-90, windows A..A+9, A+10..A+19, A+20..A+29 (the next
    ends T-81, after the period), one met: 33.3, weight 0.5. Current plan: A = T-20, two
    windows, both met: 100.0, weight 1. (0.5 x 33.3 + 100.0) / 1.5 = 77.766.. -> 77.8."""
    old_start = T - timedelta(days=120)
    old = reviewed_plan(old_start, T - timedelta(days=90), [old_start + timedelta(days=3)])
    new_start = T - timedelta(days=20)
    current = reviewed_plan(
        new_start,
        T + timedelta(days=70),
        [new_start + timedelta(days=1), new_start + timedelta(days=12)],
    )
    result = partnership_score([old, current], Side.VENDOR, T)
    assert result.score == Decimal("77.8")
    assert [(p["score"], p["weight"]) for p in result.plans] == [(33.3, 0.5), (100.0, 1.0)]
    assert partnership_score([old, current], Side.PARTNER, T).score == Decimal("0.0")
    assert partnership_score([], Side.VENDOR, T).score is None


def test_a_managers_score_is_the_mean_of_their_partnerships_vendor_scores() -> None:
    """77.8 and 50.0 -> 63.9; a partnership without a score is left out."""
    start = T - timedelta(days=20)
    strong = reviewed_plan(start, T + timedelta(days=70), [start, start + timedelta(days=10)])
    weak = reviewed_plan(start, T + timedelta(days=70), [start])
    old_start = T - timedelta(days=120)
    old = reviewed_plan(old_start, T - timedelta(days=90), [old_start + timedelta(days=3)])
    score, rows = manager_score({uuid4(): [old, strong], uuid4(): [weak], uuid4(): []}, T)
    assert score == Decimal("63.9")
    assert [r["score"] for r in rows] == [Decimal("77.8"), Decimal("50.0"), None]


@pytest.fixture
def cast() -> Cast:
    """The cast on a simulated clock starting Monday 2026-01-05 09:00 UTC."""
    return a_cast(SimulatedClock(START))


def test_the_portfolio_counts_partnerships_by_how_far_their_plans_have_come(cast: Cast) -> None:
    """Three partnerships: one active and reviewed, one with a draft awaiting agreement,
    one without a plan. Each figure is a count and a share of the three."""
    active, metrics = an_agreed_plan(cast)
    active.commit(by=cast.vendor())
    active.commit(by=cast.partner_side())
    cast.days(2)
    active.record_review(
        held_on=cast.clock.now().date(), attendees=[cast.manager.ref], by=cast.vendor()
    )
    draft = a_plan(cast)
    draft.propose_metric(vendor_terms(), by=cast.vendor())
    active_facts = facts_of(active)
    as_of = cast.clock.now().date()
    figures = portfolio({uuid4(): [active_facts], uuid4(): [facts_of(draft)], uuid4(): []}, as_of)
    assert figures["partnerships"] == 3
    assert figures["active_plan"] == {"count": 1, "share": Decimal("0.3333")}
    assert figures["metrics_on_both_sides"] == {"count": 1, "share": Decimal("0.3333")}
    assert figures["all_metrics_agreed"] == {"count": 1, "share": Decimal("0.3333")}
    assert figures["reviewed_recently"] == {"count": 1, "share": Decimal("0.3333")}
    assert (
        figures["plans_by_pace"]["on_track"]
        + figures["plans_by_pace"]["at_risk"]
        + (figures["plans_by_pace"]["off_track"])
        == 1
    )
    assert set(figures["mean_score"]) == {"vendor", "partner"}
    assert metrics.vendor != metrics.partner
