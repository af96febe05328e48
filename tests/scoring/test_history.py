"""A side's accountability history: its own acts with their events, and what time decided."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ledger.clock import SimulatedClock
from ledger.domain import AdjustmentKind, Side
from projections.rules.history import side_history
from projections.rules.scoring import side_score
from tests.builders import Cast, a_cast, partner_terms, vendor_terms
from tests.conftest import START
from tests.scoring.golden import an_active_plan_with, day, facts_of, report


@pytest.fixture
def cast() -> Cast:
    """The cast on a simulated clock starting Monday 2026-01-05 09:00 UTC."""
    return a_cast(SimulatedClock(START))


def test_the_history_lists_a_sides_acts_and_what_time_decided_in_order(cast: Cast) -> None:
    """Agreements and commitment (events 2-8), reports on time and late, a review window
    attended and one missed, a request ignored, a metric met and one missed."""
    plan, (sessions,), (opps,) = an_active_plan_with(
        cast,
        vendor=[vendor_terms(due_date=day(2, 1))],
        partner=[partner_terms(due_date=day(2, 1), target=partner_terms().target)],
        review_every_days=14,
    )
    cast.on(day(1, 9))
    report(plan, opps, "20", cast.partner_side())  # event 9, on time
    plan.record_review(held_on=day(1, 9), attendees=[cast.contact.ref], by=cast.partner_side())
    cast.on(day(1, 15))
    report(plan, sessions, "4", cast.vendor(), as_of=day(1, 10))  # event 11: 5 days later
    plan.propose_adjustment(
        opps,
        kind=AdjustmentKind.CHANGE_TARGET,
        new_target=partner_terms().target - 1,
        reason="x",
        by=cast.partner_side(),
    )  # event 12, never answered by the vendor
    facts = facts_of(plan)
    as_of = day(2, 5)
    vendor = side_history(facts, side_score(facts, Side.VENDOR, as_of), as_of)
    partner = side_history(facts, side_score(facts, Side.PARTNER, as_of), as_of)

    assert [(e["kind"], e["event_position"]) for e in vendor] == [
        ("agreed", 2),  # proposed sessions
        ("agreed", 5),  # agreed to opps
        ("answered_request", 5),  # ... which answered the partner's proposal at once
        ("committed", 6),
        ("reported_late", 11),
        ("missed_review", None),  # 01-05..01-18: only the partner attended
        ("ignored_request", 12),  # the adjustment, open 5 days on 01-20
        ("missed_review", None),  # 01-19..02-01
        ("met_metric", 11),
    ]
    assert [(e["kind"], e["event_position"]) for e in partner] == [
        ("agreed", 3),
        ("agreed", 4),
        ("answered_request", 4),
        ("committed", 7),
        ("reported_on_time", 9),
        ("attended_review", 10),
        ("missed_review", None),
        ("met_metric", 9),
    ]
    times = [e["recorded_at"] for e in vendor]
    assert times == sorted(times)
    assert "5 day(s) later" in vendor[4]["summary"]
    assert vendor[-1]["summary"] == (
        "met 'Enablement sessions': 4 against a target of 4 due 2026-02-01"
    )


def test_the_history_as_of_an_earlier_date_holds_only_what_was_known_then(cast: Cast) -> None:
    """Nothing recorded after T, and nothing time decided after T, appears as of T."""
    plan, _, (opps,) = an_active_plan_with(cast, vendor=[vendor_terms()], partner=[partner_terms()])
    cast.days(3)
    report(plan, opps, "3", cast.partner_side())
    facts = facts_of(plan)
    early = START.date() + timedelta(days=1)
    partner = side_history(facts, side_score(facts, Side.PARTNER, early), early)
    assert [e["kind"] for e in partner] == ["agreed", "agreed", "answered_request", "committed"]
