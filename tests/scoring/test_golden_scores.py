"""Golden scores: plans computed by hand from docs/scoring.md, each figure checked to the digit.

Every scenario drives a Plan in memory on the simulated clock (commands at 09:00 UTC unless
said otherwise), numbers its events 1..N in recording order as the ledger's global positions
would be, and checks each side's score and every component's figures (value rounded to four
decimals, met, total) as of one or more dates T. The arithmetic beside each scenario was done
by hand from the rule book: A is the activation date, r/c/g the report, review and grace days,
W0, W1, ... the windows, d a request's days, and the score is 100 * sum(w * x) / sum(w) over
the available components (D 0.4, R 0.2, V 0.2, P 0.2), rounded half-up to one decimal.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from ledger.clock import SimulatedClock
from ledger.domain import AdjustmentKind, Direction, Side
from projections.rules.scoring import DELIVERY, REPORTING, RESPONSIVENESS, REVIEWS
from tests.builders import Cast, a_cast, a_plan, partner_terms, vendor_terms
from tests.conftest import START
from tests.scoring.golden import (
    an_active_plan_with,
    both,
    day,
    event_ids,
    facts_of,
    figures,
    items,
    report,
)

VENDOR, PARTNER = Side.VENDOR, Side.PARTNER


@pytest.fixture
def cast() -> Cast:
    """The actors of every scenario, on a clock starting Monday 2026-01-05 09:00 UTC."""
    return a_cast(SimulatedClock(START))


def test_reports_recorded_late_or_not_in_every_window_lower_delivery_and_reporting(
    cast: Cast,
) -> None:
    """A report recorded after due + g does not count for D; empty windows lower R."""
    # Plan: r = 7, c = 30, g = 3; one metric per side, both at_least and due 02-01.
    # e1-e8 draft, proposals, agreements, commitments, activation on 01-05: A = 01-05.
    plan, (sessions,), (opportunities,) = an_active_plan_with(
        cast,
        vendor=[vendor_terms(due_date=day(2, 1))],  # target 4
        partner=[partner_terms(due_date=day(2, 1))],  # target 20
        report_every_days=7,
    )
    cast.on(day(1, 7))
    report(plan, sessions, "1", cast.vendor())  # e9
    cast.on(day(1, 9))
    report(plan, opportunities, "5", cast.partner_side())  # e10
    cast.on(day(1, 16))
    report(plan, opportunities, "8", cast.partner_side())  # e11
    cast.on(day(1, 20))
    report(plan, sessions, "2", cast.vendor())  # e12
    cast.on(day(1, 30))
    report(plan, opportunities, "18", cast.partner_side())  # e13
    cast.on(day(2, 3))
    report(plan, sessions, "5", cast.vendor())  # e14: as_of 02-03 is after the due date
    cast.on(day(2, 4))
    report(plan, sessions, "3", cast.vendor(), as_of=day(2, 1))  # e15: due + g, still counts
    report(plan, opportunities, "12", cast.partner_side(), as_of=day(1, 25))  # e16: older as_of
    cast.on(day(2, 5))
    report(plan, sessions, "4", cast.vendor(), as_of=day(2, 1))  # e17: due + 4, late
    cast.on(day(2, 6))
    report(plan, opportunities, "22", cast.partner_side(), as_of=day(2, 1))  # e18: late
    facts = facts_of(plan)

    # R windows [A + 7k, A + 7k + 6] elapsed by min(T, due 02-01): W0 01-05..01-11,
    # W1 01-12..01-18, W2 01-19..01-25, W3 01-26..02-01 (W4 ends 02-08, after the due date).
    # V windows (c = 30) elapsed by T: only 01-05..02-03, with no review in it: V = 0/1.
    # P: each side's one draft request was answered at d = 0: P = 1/1.
    #
    # As of T = 02-10.
    # Vendor D: eligible reports as_of <= 02-01 and recorded <= 02-04: e9 (1), e12 (2),
    #   e15 (3, as_of 02-01); e14 has as_of 02-03 > due, e17 was recorded 02-05 > 02-04.
    #   v = 3, a = 3/4.
    # Vendor R: W0 e9 yes, W1 no, W2 e12 yes, W3 no (e14, e15, e17 came after 02-01) = 2/4.
    # Vendor: 100 * (0.4 * 3/4 + 0.2 * 1/2 + 0.2 * 0 + 0.2 * 1) / 1 = 100 * 0.6 = 60.0
    assert figures(facts, VENDOR, day(2, 10)) == {
        "score": "60.0",
        DELIVERY: ("0.7500", 0, 1),
        REPORTING: ("0.5000", 2, 4),
        REVIEWS: ("0.0000", 0, 1),
        RESPONSIVENESS: ("1.0000", 1, 1),
    }
    assert event_ids(facts, VENDOR, day(2, 10), DELIVERY) == [[2, 15]]
    assert event_ids(facts, VENDOR, day(2, 10), REPORTING) == [[9], [], [12], []]
    # Partner D: eligible e10 (5), e11 (8), e13 (18, as_of 01-30), e16 (12, as_of 01-25,
    #   recorded later but older as_of: the latest by as_of decides); e18 was recorded 02-06
    #   > 02-04.  v = 18 (e13), a = 18/20.
    # Partner R: W0 e10, W1 e11, W2 none, W3 e13 = 3/4.
    # Partner: 100 * (0.4 * 9/10 + 0.2 * 3/4 + 0 + 0.2 * 1) = 100 * 0.71 = 71.0
    assert figures(facts, PARTNER, day(2, 10)) == {
        "score": "71.0",
        DELIVERY: ("0.9000", 0, 1),
        REPORTING: ("0.7500", 3, 4),
        REVIEWS: ("0.0000", 0, 1),
        RESPONSIVENESS: ("1.0000", 1, 1),
    }
    assert event_ids(facts, PARTNER, day(2, 10), DELIVERY) == [[3, 13]]

    # As of T = 02-03, e15 is not recorded yet: the vendor's v = 2 (e12), a = 1/2.
    # Vendor: 100 * (0.4 * 1/2 + 0.2 * 1/2 + 0 + 0.2) = 100 * 0.5 = 50.0; the partner is as
    # on 02-10 (the V window 01-05..02-03 has just elapsed).
    assert figures(facts, VENDOR, day(2, 3)) == {
        "score": "50.0",
        DELIVERY: ("0.5000", 0, 1),
        REPORTING: ("0.5000", 2, 4),
        REVIEWS: ("0.0000", 0, 1),
        RESPONSIVENESS: ("1.0000", 1, 1),
    }
    assert figures(facts, PARTNER, day(2, 3))["score"] == "71.0"


def test_a_review_counts_for_each_side_it_lists_once_it_is_recorded(cast: Cast) -> None:
    """A window without a review misses V for both; a one-sided review meets it for one."""
    # Plan: r = 14, c = 14, g = 3, default due dates 03-31 (nothing due: D not available).
    # e1-e8: draft to activation on 01-05: A = 01-05. No progress report at all.
    plan, _, _ = an_active_plan_with(
        cast, vendor=[vendor_terms()], partner=[partner_terms()], review_every_days=14
    )
    cast.on(day(1, 12))
    plan.record_review(held_on=day(1, 12), attendees=both(cast), by=cast.vendor())  # e9
    cast.on(day(1, 30))
    vendor_and_auditor = [cast.manager.ref, cast.auditor.ref]  # an auditor belongs to no side
    plan.record_review(held_on=day(1, 30), attendees=vendor_and_auditor, by=cast.vendor())  # e10
    cast.on(day(2, 17))
    partner_only = [cast.contact.ref, cast.second_contact.ref]
    plan.record_review(held_on=day(2, 15), attendees=partner_only, by=cast.partner_side())  # e11
    facts = facts_of(plan)

    # Windows (both r and c are 14 days): W0 01-05..01-18, W1 01-19..02-01, W2 02-02..02-15,
    # W3 02-16..03-01. R = 0 over every elapsed window (no reports). P = 1/1 per side.
    #
    # As of T = 01-20: W0 elapsed; e9 lists both sides: V = 1/1 for each; R = 0/1.
    # Each: 100 * (0.2 * 0 + 0.2 * 1 + 0.2 * 1) / 0.6 = 200/3 = 66.67 -> 66.7
    for side in Side:
        assert figures(facts, side, day(1, 20)) == {
            "score": "66.7",
            DELIVERY: (None, 0, 0),
            REPORTING: ("0.0000", 0, 1),
            REVIEWS: ("1.0000", 1, 1),
            RESPONSIVENESS: ("1.0000", 1, 1),
        }

    # As of T = 02-16: W0, W1, W2 elapsed (W2's last day is 02-15); R = 0/3.
    # Vendor V: W0 e9, W1 e10 (manager), W2 none = 2/3.
    #   100 * (0 + 0.2 * 2/3 + 0.2) / 0.6 = 500/9 = 55.56 -> 55.6
    # Partner V: W0 e9; W1 only the vendor and an auditor; W2's review (held 02-15) is not
    #   recorded until 02-17 = 1/3.  100 * (0 + 0.2 * 1/3 + 0.2) / 0.6 = 400/9 = 44.4
    assert figures(facts, VENDOR, day(2, 16)) == {
        "score": "55.6",
        DELIVERY: (None, 0, 0),
        REPORTING: ("0.0000", 0, 3),
        REVIEWS: ("0.6667", 2, 3),
        RESPONSIVENESS: ("1.0000", 1, 1),
    }
    assert figures(facts, PARTNER, day(2, 16)) == {
        "score": "44.4",
        DELIVERY: (None, 0, 0),
        REPORTING: ("0.0000", 0, 3),
        REVIEWS: ("0.3333", 1, 3),
        RESPONSIVENESS: ("1.0000", 1, 1),
    }

    # As of T = 02-20: e11 is recorded and held inside W2: partner V = 2/3, like the vendor's.
    # Both 55.6.
    assert figures(facts, PARTNER, day(2, 20))[REVIEWS] == ("0.6667", 2, 3)
    assert figures(facts, PARTNER, day(2, 20))["score"] == "55.6"
    assert figures(facts, VENDOR, day(2, 20))["score"] == "55.6"
    assert event_ids(facts, PARTNER, day(2, 20), REVIEWS) == [[9], [], [11]]
    assert event_ids(facts, VENDOR, day(2, 20), REVIEWS) == [[9], [10], []]


def test_an_at_most_metric_is_met_up_to_its_target_and_earns_target_over_value_above_it(
    cast: Cast,
) -> None:
    """At_most: v <= target gives 1 (equality included); v > target gives target / v."""
    # Plan: r = 14, c = 30, g = 3; every metric due 02-01.
    # e1 draft; e2 escalations (vendor, at_most 5), e3 sessions (vendor, at_least 4),
    # e4 days to register (partner, at_most 10); e5, e6 partner agrees; e7 vendor agrees;
    # e8, e9 commitments; e10 activation on 01-05: A = 01-05.
    escalations = vendor_terms(
        name="Escalations",
        description="Escalations the partner had to raise to the vendor",
        unit="escalations",
        direction=Direction.AT_MOST,
        target=Decimal(5),
        due_date=day(2, 1),
    )
    days_to_register = partner_terms(
        name="Days to register a deal",
        unit="days",
        direction=Direction.AT_MOST,
        target=Decimal(10),
        due_date=day(2, 1),
    )
    plan, (escalation_id, sessions), (register_id,) = an_active_plan_with(
        cast,
        vendor=[escalations, vendor_terms(due_date=day(2, 1))],
        partner=[days_to_register],
    )
    cast.on(day(1, 10))
    report(plan, escalation_id, "3", cast.vendor())  # e11
    cast.on(day(1, 15))
    report(plan, register_id, "12", cast.partner_side())  # e12
    cast.on(day(1, 20))
    plan.record_review(held_on=day(1, 20), attendees=both(cast), by=cast.vendor())  # e13
    cast.on(day(1, 25))
    report(plan, sessions, "3", cast.vendor())  # e14
    cast.on(day(1, 30))
    report(plan, escalation_id, "7", cast.vendor())  # e15
    cast.on(day(1, 31))
    report(plan, register_id, "10", cast.partner_side())  # e16
    facts = facts_of(plan)

    # As of T = 02-05 (past every due date and its grace days).
    # R windows by 02-01: W0 01-05..01-18, W1 01-19..02-01.  V: 01-05..02-03 has e13 (both).
    # Vendor D: escalations v = 7 > 5: a = 5/7; sessions v = 3: a = 3/4.
    #   D = (5/7 + 3/4) / 2 = (20/28 + 21/28) / 2 = 41/56 = 0.732142... -> 0.7321
    # Vendor R: escalations W0 e11, W1 e15; sessions W0 none, W1 e14 = 3/4.
    # Vendor P: the partner's metric agreed at d = 0 = 1/1.
    # Vendor score: 100 * (0.4 * 41/56 + 0.2 * 3/4 + 0.2 + 0.2), that is
    #   100 * (41/140 + 77/140) = 100 * 118/140 = 84.2857... -> 84.3
    assert figures(facts, VENDOR, day(2, 5)) == {
        "score": "84.3",
        DELIVERY: ("0.7321", 0, 2),
        REPORTING: ("0.7500", 3, 4),
        REVIEWS: ("1.0000", 1, 1),
        RESPONSIVENESS: ("1.0000", 1, 1),
    }
    escalation_item, sessions_item = items(facts, VENDOR, day(2, 5), DELIVERY)
    assert escalation_item["attainment"] == "0.7143"  # 5/7
    assert escalation_item["event_ids"] == [2, 15]
    assert sessions_item["attainment"] == "0.7500"
    # Partner D: days to register, latest v = 10 (e16) = target: a = 1 (the earlier 12, above
    # the target, no longer decides).  R: W0 e12, W1 e16 = 2/2.  V 1/1.  P: two agreements
    # at d = 0 = 2/2.  Partner: 100 * (0.4 + 0.2 + 0.2 + 0.2) = 100.0
    assert figures(facts, PARTNER, day(2, 5)) == {
        "score": "100.0",
        DELIVERY: ("1.0000", 1, 1),
        REPORTING: ("1.0000", 2, 2),
        REVIEWS: ("1.0000", 1, 1),
        RESPONSIVENESS: ("1.0000", 2, 2),
    }
    assert event_ids(facts, PARTNER, day(2, 5), DELIVERY) == [[4, 16]]


def test_accepted_adjustments_change_target_and_due_date_from_their_acceptance_on(
    cast: Cast,
) -> None:
    """Terms in force as of T: before acceptance the old ones, after it the adjusted ones."""
    # Plan: r = 14, c = 30, g = 3; sessions (vendor, at_least 4) and opportunities (partner,
    # at_least 20) both due 02-15.  e1-e8 draft to activation on 01-05: A = 01-05.
    plan, (sessions,), (opportunities,) = an_active_plan_with(
        cast,
        vendor=[vendor_terms(due_date=day(2, 15))],
        partner=[partner_terms(due_date=day(2, 15))],
    )
    cast.on(day(1, 12))
    report(plan, sessions, "1", cast.vendor())  # e9
    cast.on(day(1, 16))
    report(plan, opportunities, "6", cast.partner_side())  # e10
    cast.on(day(1, 20))
    plan.record_review(held_on=day(1, 20), attendees=both(cast), by=cast.vendor())  # e11
    cast.on(day(1, 26))
    report(plan, sessions, "2", cast.vendor())  # e12
    cast.on(day(2, 2))
    lower = plan.propose_adjustment(  # e13: a request to the partner
        sessions,
        kind=AdjustmentKind.CHANGE_TARGET,
        new_target=Decimal(3),
        reason="Two sellers left",
        by=cast.vendor(),
    )
    cast.on(day(2, 4))
    plan.accept_adjustment(lower, by=cast.partner_side())  # e14: d = 2; sessions target 3
    cast.on(day(2, 9))
    later = plan.propose_adjustment(  # e15: a request to the vendor
        opportunities,
        kind=AdjustmentKind.CHANGE_DUE_DATE,
        new_due_date=day(3, 15),
        reason="The deal registration portal was down for a week",
        by=cast.partner_side(),
    )
    cast.on(day(2, 10))
    report(plan, opportunities, "14", cast.partner_side())  # e16
    cast.on(day(2, 13))
    report(plan, sessions, "3", cast.vendor())  # e17
    cast.on(day(2, 14), hour=21)
    plan.accept_adjustment(later, by=cast.vendor())  # e18: d = 5.5; opportunities due 03-15
    cast.on(day(2, 20))
    plan.record_review(  # e19: the partner side only
        held_on=day(2, 20), attendees=[cast.contact.ref], by=cast.partner_side()
    )
    cast.on(day(3, 3))
    report(plan, opportunities, "15", cast.partner_side())  # e20
    cast.on(day(3, 17))
    report(plan, opportunities, "18", cast.partner_side(), as_of=day(3, 15))  # e21
    facts = facts_of(plan)

    # R windows: W0 01-05..01-18, W1 01-19..02-01, W2 02-02..02-15, W3 02-16..03-01,
    # W4 03-02..03-15, W5 03-16..03-29.  V windows: 01-05..02-03, 02-04..03-05, 03-06..04-04.
    #
    # As of T = 02-03 (the target change proposed, not accepted): both metrics due 02-15.
    # Vendor: D not available; R: W0 e9, W1 e12 = 2/2; V: e11 = 1/1; P: the draft request at
    #   d = 0 = 1/1.  100 * (0.2 + 0.2 + 0.2) / 0.6 = 100.0
    # Partner: D not available; R: W0 e10, W1 none = 1/2; V 1/1; P: the draft request = 1;
    #   e13 open 1.625 days by the end of 02-03 (< 5): left out.
    #   100 * (0.2 * 1/2 + 0.2 + 0.2) / 0.6 = 250/3 = 83.33 -> 83.3
    assert figures(facts, VENDOR, day(2, 3)) == {
        "score": "100.0",
        DELIVERY: (None, 0, 0),
        REPORTING: ("1.0000", 2, 2),
        REVIEWS: ("1.0000", 1, 1),
        RESPONSIVENESS: ("1.0000", 1, 1),
    }
    assert figures(facts, PARTNER, day(2, 3)) == {
        "score": "83.3",
        DELIVERY: (None, 0, 0),
        REPORTING: ("0.5000", 1, 2),
        REVIEWS: ("1.0000", 1, 1),
        RESPONSIVENESS: ("1.0000", 1, 1),
    }

    # As of T = 02-16, after both acceptances.
    # Vendor D: sessions' terms from e14: target 3, due 02-15 <= T; v = 3 (e17): a = 3/3 = 1.
    # Vendor R: W0 e9, W1 e12, W2 e17 = 3/3.  V 1/1 (02-04..03-05 has not elapsed).
    # Vendor P: draft request 1; e15 -> e18, d = 5.5: 1/2.  P = 3/4.
    #   100 * (0.4 * 1 + 0.2 * 1 + 0.2 * 1 + 0.2 * 3/4) = 100 * 0.95 = 95.0
    assert figures(facts, VENDOR, day(2, 16)) == {
        "score": "95.0",
        DELIVERY: ("1.0000", 1, 1),
        REPORTING: ("1.0000", 3, 3),
        REVIEWS: ("1.0000", 1, 1),
        RESPONSIVENESS: ("0.7500", 1, 2),
    }
    (sessions_item,) = items(facts, VENDOR, day(2, 16), DELIVERY)
    assert (sessions_item["target"], sessions_item["event_ids"]) == ("3", [14, 17])
    assert event_ids(facts, VENDOR, day(2, 16), RESPONSIVENESS) == [[3, 5], [15, 18]]
    # Partner D: opportunities' terms from e18 are due 03-15 > T: not due, D not available
    #   (under the old terms it would have been due on 02-15, with a = 14/20).
    # Partner R: windows by min(02-16, 03-15): W0 e10, W1 none, W2 e16 = 2/3.  V 1/1.
    # Partner P: draft request 1; e13 -> e14, d = 2: 1.  P = 2/2.
    #   100 * (0.2 * 2/3 + 0.2 + 0.2) / 0.6 = 800/9 = 88.89 -> 88.9
    assert figures(facts, PARTNER, day(2, 16)) == {
        "score": "88.9",
        DELIVERY: (None, 0, 0),
        REPORTING: ("0.6667", 2, 3),
        REVIEWS: ("1.0000", 1, 1),
        RESPONSIVENESS: ("1.0000", 2, 2),
    }

    # As of T = 03-20 (past 03-15 + g).  V: 01-05..02-03 e11 (both); 02-04..03-05 e19, partner
    # only.  Vendor V = 1/2, partner V = 2/2.
    # Vendor: D 1, R 3/3, V 1/2, P 3/4: 100 * (0.4 + 0.2 + 0.1 + 0.15) = 85.0
    assert figures(facts, VENDOR, day(3, 20)) == {
        "score": "85.0",
        DELIVERY: ("1.0000", 1, 1),
        REPORTING: ("1.0000", 3, 3),
        REVIEWS: ("0.5000", 1, 2),
        RESPONSIVENESS: ("0.7500", 1, 2),
    }
    # Partner D: target 20, due 03-15; eligible e10 (6), e16 (14), e20 (15), e21 (18, as_of
    #   03-15, recorded 03-17 <= 03-18): a = 18/20 = 9/10.
    # Partner R: windows by 03-15: W0 e10, W1 -, W2 e16, W3 -, W4 e20 = 3/5 (e21 is in W5).
    #   100 * (0.4 * 9/10 + 0.2 * 3/5 + 0.2 + 0.2) = 100 * 0.88 = 88.0
    assert figures(facts, PARTNER, day(3, 20)) == {
        "score": "88.0",
        DELIVERY: ("0.9000", 0, 1),
        REPORTING: ("0.6000", 3, 5),
        REVIEWS: ("1.0000", 2, 2),
        RESPONSIVENESS: ("1.0000", 2, 2),
    }
    (opportunities_item,) = items(facts, PARTNER, day(3, 20), DELIVERY)
    assert opportunities_item["due_date"] == "2026-03-15"
    assert opportunities_item["event_ids"] == [18, 21]
    assert event_ids(facts, PARTNER, day(3, 20), REPORTING) == [[10], [], [16], [], [20]]


def test_a_retired_metric_is_left_out_of_delivery_and_reporting_once_retired(
    cast: Cast,
) -> None:
    """Before the retirement is accepted the metric counts; from its acceptance on, never."""
    # Plan: r = 7, c = 30, g = 3.  e1 draft; e2 sessions (vendor, at_least 4, due 02-01);
    # e3 webinars (vendor, at_least 2, due 02-01); e4 opportunities (partner, at_least 20, due
    # 03-31); e5, e6 partner agrees; e7 vendor agrees; e8, e9 commit; e10 activation: A = 01-05.
    webinars = vendor_terms(
        name="Joint webinars",
        description="Co-branded webinars for the partner's customers",
        unit="webinars",
        target=Decimal(2),
        due_date=day(2, 1),
    )
    plan, (sessions, webinar_id), (opportunities,) = an_active_plan_with(
        cast,
        vendor=[vendor_terms(due_date=day(2, 1)), webinars],
        partner=[partner_terms()],
        report_every_days=7,
    )
    cast.on(day(1, 8))
    report(plan, sessions, "1", cast.vendor())  # e11
    report(plan, webinar_id, "0", cast.vendor())  # e12
    cast.on(day(1, 10))
    report(plan, opportunities, "5", cast.partner_side())  # e13
    cast.on(day(1, 15))
    report(plan, sessions, "2", cast.vendor())  # e14
    cast.on(day(1, 20))
    retire = plan.propose_adjustment(  # e15: a request to the partner
        webinar_id, kind=AdjustmentKind.RETIRE, reason="No venue this quarter", by=cast.vendor()
    )
    cast.on(day(1, 22))
    plan.accept_adjustment(retire, by=cast.partner_side())  # e16: d = 2
    report(plan, sessions, "2", cast.vendor())  # e17
    cast.on(day(1, 24))
    report(plan, opportunities, "9", cast.partner_side())  # e18
    cast.on(day(1, 27))
    plan.record_review(held_on=day(1, 27), attendees=both(cast), by=cast.vendor())  # e19
    cast.on(day(1, 29))
    report(plan, sessions, "3", cast.vendor())  # e20
    facts = facts_of(plan)

    # R windows: W0 01-05..01-11, W1 01-12..01-18, W2 01-19..01-25, W3 01-26..02-01,
    # W4 02-02..02-08.  V: the first window 01-05..02-03.
    #
    # As of T = 01-21 (retirement proposed, not accepted): D, V not available.
    # Vendor R: sessions W0 e11, W1 e14; webinars W0 e12, W1 none = 3/4.  P: 1/1.
    #   100 * (0.2 * 3/4 + 0.2 * 1) / 0.4 = 87.5
    # Partner R: W0 e13, W1 none = 1/2.  P: two draft agreements = 1; e15 open 1.625 days
    #   (< 5): left out.  100 * (0.2 * 1/2 + 0.2) / 0.4 = 75.0
    assert figures(facts, VENDOR, day(1, 21)) == {
        "score": "87.5",
        DELIVERY: (None, 0, 0),
        REPORTING: ("0.7500", 3, 4),
        REVIEWS: (None, 0, 0),
        RESPONSIVENESS: ("1.0000", 1, 1),
    }
    assert figures(facts, PARTNER, day(1, 21)) == {
        "score": "75.0",
        DELIVERY: (None, 0, 0),
        REPORTING: ("0.5000", 1, 2),
        REVIEWS: (None, 0, 0),
        RESPONSIVENESS: ("1.0000", 2, 2),
    }

    # As of T = 02-05: webinars retired by e16 (01-22): out of D and R.
    # Vendor D: sessions only, v = 3 (e20): a = 3/4 (webinars would have added a = 0).
    # Vendor R: sessions W0 e11, W1 e14, W2 e17, W3 e20 = 4/4 (webinars would make it 5/8).
    # Vendor V: e19 = 1/1.  P 1/1.
    #   100 * (0.4 * 3/4 + 0.2 + 0.2 + 0.2) = 90.0
    assert figures(facts, VENDOR, day(2, 5)) == {
        "score": "90.0",
        DELIVERY: ("0.7500", 0, 1),
        REPORTING: ("1.0000", 4, 4),
        REVIEWS: ("1.0000", 1, 1),
        RESPONSIVENESS: ("1.0000", 1, 1),
    }
    assert event_ids(facts, VENDOR, day(2, 5), DELIVERY) == [[2, 20]]
    # Partner: D not available (due 03-31).  R: W0 e13, W1 -, W2 e18, W3 - = 2/4.  V 1/1.
    # P: the two draft agreements and e15 -> e16 (d = 2) = 3/3: P is over requests, and the
    #   partner did answer the retirement (the metric leaves D and R, not the answers).
    #   100 * (0.2 * 1/2 + 0.2 + 0.2) / 0.6 = 250/3 = 83.3
    assert figures(facts, PARTNER, day(2, 5)) == {
        "score": "83.3",
        DELIVERY: (None, 0, 0),
        REPORTING: ("0.5000", 2, 4),
        REVIEWS: ("1.0000", 1, 1),
        RESPONSIVENESS: ("1.0000", 3, 3),
    }


def test_draft_requests_score_by_answer_time_and_a_revision_answers_and_asks_again(
    cast: Cast,
) -> None:
    """d <= 5 earns 1, 5 < d <= 10 earns 1/2, d > 10 earns 0; superseded requests lapse."""
    plan = a_plan(cast)  # e1, 01-05 09:00; defaults r = 14, c = 30, due 03-31
    sessions = plan.propose_metric(vendor_terms(), by=cast.vendor())  # e2
    webinars = plan.propose_metric(
        vendor_terms(name="Joint webinars", target=Decimal(2)), by=cast.vendor()
    )  # e3
    opportunities = plan.propose_metric(partner_terms(), by=cast.vendor())  # e4: target 20
    registered = plan.propose_metric(
        partner_terms(name="Registered deals", target=Decimal(12)), by=cast.partner_side()
    )  # e5
    cast.on(day(1, 10))
    plan.agree_metric(sessions, by=cast.partner_side())  # e6: d = 5 exactly
    cast.on(day(1, 10), hour=21)
    plan.agree_metric(registered, by=cast.vendor())  # e7: d = 5.5
    cast.on(day(1, 15))
    plan.revise_metric(  # e8: counter-proposal, d = 10 exactly
        opportunities, partner_terms(target=Decimal(15)), by=cast.partner_side()
    )
    cast.clock.advance(timedelta(minutes=1))
    plan.agree_metric(webinars, by=cast.partner_side())  # e9: d = 10 days and 1 minute
    cast.on(day(1, 17))
    plan.revise_metric(opportunities, partner_terms(target=Decimal(18)), by=cast.vendor())  # e10
    cast.on(day(1, 18))
    plan.revise_metric(opportunities, partner_terms(target=Decimal(17)), by=cast.vendor())  # e11
    cast.on(day(1, 24))
    plan.revise_metric(opportunities, partner_terms(target=Decimal(16)), by=cast.vendor())  # e12
    cast.on(day(1, 24), hour=21)
    plan.agree_metric(opportunities, by=cast.partner_side())  # e13: d = 0.5
    cast.on(day(1, 25))
    plan.commit(by=cast.vendor())  # e14
    plan.commit(by=cast.partner_side())  # e15, e16 activation: A = 01-25
    facts = facts_of(plan)

    # As of T = 01-24 the plan is not active yet: no score, whatever the requests.
    for side in Side:
        assert figures(facts, side, day(1, 24)) == {
            "score": None,
            DELIVERY: (None, 0, 0),
            REPORTING: (None, 0, 0),
            REVIEWS: (None, 0, 0),
            RESPONSIVENESS: (None, 0, 0),
        }

    # As of T = 01-25 (= A): nothing due, no R window (the first ends 02-07), no V window:
    # the score is P alone.
    # Partner's requests:
    #   e2 sessions, agreed e6:                  d = 5            -> 1
    #   e3 webinars, agreed e9:                  d = 10 + 1/1440  -> 0
    #   e4 opportunities, counter-proposed e8:   d = 10           -> 1/2
    #   e10 vendor's counter, revised again e11: superseded, open 1 day -> left out
    #   e11 vendor's revision, revised again e12: superseded, open 6 days -> 0
    #   e12 vendor's revision, agreed e13:       d = 0.5          -> 1
    #   P = (1 + 0 + 1/2 + 0 + 1) / 5 = 1/2.  Partner: 100 * 1/2 = 50.0
    # Vendor's requests:
    #   e5 registered deals, agreed e7:          d = 5.5          -> 1/2
    #   e8 partner's counter, answered by e10:   d = 2            -> 1
    #   P = (1/2 + 1) / 2 = 3/4.  Vendor: 100 * 3/4 = 75.0
    assert figures(facts, PARTNER, day(1, 25)) == {
        "score": "50.0",
        DELIVERY: (None, 0, 0),
        REPORTING: (None, 0, 0),
        REVIEWS: (None, 0, 0),
        RESPONSIVENESS: ("0.5000", 2, 5),
    }
    partner_requests = items(facts, PARTNER, day(1, 25), RESPONSIVENESS)
    assert [(r["event_ids"], r["state"], r["days"], r["credit"]) for r in partner_requests] == [
        ([2, 6], "answered", "5.0000", "1"),
        ([3, 9], "answered", "10.0007", "0"),
        ([4, 8], "answered", "10.0000", "1/2"),
        ([11, 12], "superseded", "6.0000", "0"),
        ([12, 13], "answered", "0.5000", "1"),
    ]
    assert figures(facts, VENDOR, day(1, 25)) == {
        "score": "75.0",
        DELIVERY: (None, 0, 0),
        REPORTING: (None, 0, 0),
        REVIEWS: (None, 0, 0),
        RESPONSIVENESS: ("0.7500", 1, 2),
    }
    assert event_ids(facts, VENDOR, day(1, 25), RESPONSIVENESS) == [[5, 7], [8, 10]]


def test_adjustments_left_unanswered_withdrawn_or_answered_late_count_by_days_open(
    cast: Cast,
) -> None:
    """Unanswered: 0 from 5 days on, left out before; withdrawn: by the days it was open."""
    # Plan: r = 14, c = 30, g = 3, due dates 03-31.  e1-e8 draft to activation: A = 01-05.
    plan, (sessions,), (opportunities,) = an_active_plan_with(
        cast, vendor=[vendor_terms()], partner=[partner_terms()]
    )
    cast.on(day(1, 12))
    report(plan, sessions, "1", cast.vendor())  # e9
    report(plan, opportunities, "5", cast.partner_side())  # e10
    cast.on(day(1, 20))
    plan.record_review(held_on=day(1, 20), attendees=both(cast), by=cast.vendor())  # e11
    cast.on(day(1, 26))
    report(plan, sessions, "2", cast.vendor())  # e12
    cast.on(day(2, 2))
    raise_target = plan.propose_adjustment(  # e13: to the partner
        opportunities,
        kind=AdjustmentKind.CHANGE_TARGET,
        new_target=Decimal(25),
        reason="The new region doubles the pipeline",
        by=cast.vendor(),
    )
    cast.on(day(2, 3))
    earlier = plan.propose_adjustment(  # e14: to the vendor
        sessions,
        kind=AdjustmentKind.CHANGE_DUE_DATE,
        new_due_date=day(3, 20),
        reason="Sellers start their new year on 03-21",
        by=cast.partner_side(),
    )
    cast.on(day(2, 5), hour=21)
    plan.withdraw_adjustment(earlier, by=cast.partner_side())  # e15: open 2.5 days
    cast.on(day(2, 6))
    fewer = plan.propose_adjustment(  # e16: to the vendor
        sessions,
        kind=AdjustmentKind.CHANGE_TARGET,
        new_target=Decimal(3),
        reason="One session fell through",
        by=cast.partner_side(),
    )
    cast.on(day(2, 12))
    plan.withdraw_adjustment(fewer, by=cast.partner_side())  # e17: open 6 days
    cast.on(day(2, 13))
    plan.reject_adjustment(raise_target, by=cast.partner_side())  # e18: d = 11
    facts = facts_of(plan)

    # Every T below is before 02-15: R windows W0 01-05..01-18, W1 01-19..02-01 only.
    # Vendor R: e9, e12 = 2/2.  Partner R: e10, none = 1/2.  V: 01-05..02-03, e11 = 1/1.
    # D: nothing due.  Score = 100 * (0.2 R + 0.2 V + 0.2 P) / 0.6 = 100 * (R + V + P) / 3.
    #
    # As of T = 02-06 (horizon 02-07 00:00):
    # Partner P: draft 1; e13 unanswered 4.625 days (< 5): left out.  P = 1.
    #   100 * (1/2 + 1 + 1) / 3 = 83.33 -> 83.3
    # Vendor P: draft 1; e14 withdrawn after 2.5 days: left out; e16 open 0.625: left out.
    #   100 * (1 + 1 + 1) / 3 = 100.0
    assert figures(facts, PARTNER, day(2, 6)) == {
        "score": "83.3",
        DELIVERY: (None, 0, 0),
        REPORTING: ("0.5000", 1, 2),
        REVIEWS: ("1.0000", 1, 1),
        RESPONSIVENESS: ("1.0000", 1, 1),
    }
    assert figures(facts, VENDOR, day(2, 6)) == {
        "score": "100.0",
        DELIVERY: (None, 0, 0),
        REPORTING: ("1.0000", 2, 2),
        REVIEWS: ("1.0000", 1, 1),
        RESPONSIVENESS: ("1.0000", 1, 1),
    }

    # As of T = 02-07: e13 unanswered 5.625 days: 0.  Partner P = 1/2.
    #   100 * (1/2 + 1 + 1/2) / 3 = 66.67 -> 66.7.  Vendor unchanged (e16 open 1.625): 100.0
    assert figures(facts, PARTNER, day(2, 7))[RESPONSIVENESS] == ("0.5000", 1, 2)
    assert figures(facts, PARTNER, day(2, 7))["score"] == "66.7"
    assert figures(facts, VENDOR, day(2, 7))["score"] == "100.0"

    # As of T = 02-11: e16 unanswered 02-06 09:00 to 02-12 00:00 = 5.625 days: 0.
    # Vendor P = 1/2: 100 * (1 + 1 + 1/2) / 3 = 83.33 -> 83.3
    assert figures(facts, VENDOR, day(2, 11)) == {
        "score": "83.3",
        DELIVERY: (None, 0, 0),
        REPORTING: ("1.0000", 2, 2),
        REVIEWS: ("1.0000", 1, 1),
        RESPONSIVENESS: ("0.5000", 1, 2),
    }
    vendor_open = items(facts, VENDOR, day(2, 11), RESPONSIVENESS)[-1]
    assert (vendor_open["state"], vendor_open["days"]) == ("unanswered", "5.6250")

    # As of T = 02-13: e16 withdrawn (e17) after 6 days: superseded, 0.  e13 rejected (e18)
    # after d = 11 > 10: 0.  Vendor 83.3, partner 66.7 as before, now for the final reasons.
    vendor_requests = items(facts, VENDOR, day(2, 13), RESPONSIVENESS)
    assert [(r["event_ids"], r["state"], r["credit"]) for r in vendor_requests] == [
        ([3, 5], "answered", "1"),
        ([16, 17], "superseded", "0"),
    ]
    partner_requests = items(facts, PARTNER, day(2, 13), RESPONSIVENESS)
    assert [(r["event_ids"], r["state"], r["days"], r["credit"]) for r in partner_requests] == [
        ([2, 4], "answered", "0.0000", "1"),
        ([13, 18], "answered", "11.0000", "0"),
    ]
    assert figures(facts, VENDOR, day(2, 13))["score"] == "83.3"
    assert figures(facts, PARTNER, day(2, 13))["score"] == "66.7"


def test_a_plan_never_activated_has_no_score(cast: Cast) -> None:
    """Agreed metrics, one commitment, even a close: without activation, both scores null."""
    plan = a_plan(cast)
    sessions = plan.propose_metric(vendor_terms(), by=cast.vendor())
    opportunities = plan.propose_metric(partner_terms(), by=cast.partner_side())
    cast.days(6)
    plan.agree_metric(sessions, by=cast.partner_side())  # would be a request answered late
    plan.agree_metric(opportunities, by=cast.vendor())
    plan.commit(by=cast.vendor())  # the partner never commits
    cast.on(day(4, 5))
    plan.close(summary="Never got going", by=cast.vendor())
    facts = facts_of(plan)

    for as_of in (day(1, 20), day(3, 31), day(4, 30)):
        for side in Side:
            assert figures(facts, side, as_of) == {
                "score": None,
                DELIVERY: (None, 0, 0),
                REPORTING: (None, 0, 0),
                REVIEWS: (None, 0, 0),
                RESPONSIVENESS: (None, 0, 0),
            }


def test_components_without_data_are_left_out_and_a_side_without_any_has_no_score(
    cast: Cast,
) -> None:
    """No metric due, no window elapsed, no request to answer: each leaves its component out."""
    plan = a_plan(cast)  # e1, 01-05 09:00; r = 14, c = 30, due dates 03-31
    sessions = plan.propose_metric(vendor_terms(), by=cast.vendor())  # e2
    opportunities = plan.propose_metric(partner_terms(), by=cast.vendor())  # e3
    cast.on(day(1, 6))
    plan.agree_metric(sessions, by=cast.partner_side())  # e4: d = 1
    plan.agree_metric(opportunities, by=cast.partner_side())  # e5: d = 1
    plan.commit(by=cast.vendor())  # e6
    plan.commit(by=cast.partner_side())  # e7, e8 activation on 01-06: A = 01-06
    cast.on(day(1, 10))
    report(plan, sessions, "1", cast.vendor())  # e9
    facts = facts_of(plan)

    # The vendor proposed both metrics, so no request ever needed the vendor's answer: its P
    # is never available.  The first R window is 01-06..01-19; the first V window ends 02-04.
    #
    # As of T = 01-06 and 01-18: D, R, V not available.  Vendor: nothing at all: null.
    # Partner: P = (1 + 1) / 2 = 1 (e2 -> e4, e3 -> e5): 100 * 0.2 * 1 / 0.2 = 100.0
    for as_of in (day(1, 6), day(1, 18)):
        assert figures(facts, VENDOR, as_of) == {
            "score": None,
            DELIVERY: (None, 0, 0),
            REPORTING: (None, 0, 0),
            REVIEWS: (None, 0, 0),
            RESPONSIVENESS: (None, 0, 0),
        }
        assert figures(facts, PARTNER, as_of) == {
            "score": "100.0",
            DELIVERY: (None, 0, 0),
            REPORTING: (None, 0, 0),
            REVIEWS: (None, 0, 0),
            RESPONSIVENESS: ("1.0000", 2, 2),
        }

    # As of T = 01-19, W0 has elapsed.  Vendor R: e9 = 1/1, its only component: 100.0.
    # Partner R: no report = 0/1.  100 * (0.2 * 0 + 0.2 * 1) / 0.4 = 50.0
    assert figures(facts, VENDOR, day(1, 19)) == {
        "score": "100.0",
        DELIVERY: (None, 0, 0),
        REPORTING: ("1.0000", 1, 1),
        REVIEWS: (None, 0, 0),
        RESPONSIVENESS: (None, 0, 0),
    }
    assert figures(facts, PARTNER, day(1, 19)) == {
        "score": "50.0",
        DELIVERY: (None, 0, 0),
        REPORTING: ("0.0000", 0, 1),
        REVIEWS: (None, 0, 0),
        RESPONSIVENESS: ("1.0000", 2, 2),
    }
    assert event_ids(facts, VENDOR, day(1, 19), REPORTING) == [[9]]

    # As of T = 01-05 (before A): null for both.
    assert figures(facts, PARTNER, day(1, 5))["score"] is None


def test_a_whole_quarter_on_the_due_date_within_the_grace_days_and_after_closing(
    cast: Cast,
) -> None:
    """Windows run from A, a report in the grace days counts, closing lapses an open request."""
    plan = a_plan(cast)  # e1, 01-05 09:00; r = 14, c = 30, g = 3, due dates 03-31
    sessions = plan.propose_metric(vendor_terms(), by=cast.vendor())  # e2: at_least 4
    opportunities = plan.propose_metric(partner_terms(), by=cast.partner_side())  # e3: 20
    cast.on(day(1, 6), hour=21)
    plan.agree_metric(sessions, by=cast.partner_side())  # e4: d = 1.5
    cast.on(day(1, 7))
    plan.agree_metric(opportunities, by=cast.vendor())  # e5: d = 2
    plan.commit(by=cast.vendor())  # e6
    cast.on(day(1, 7), hour=15)
    plan.commit(by=cast.partner_side())  # e7, e8 activation on 01-07: A = 01-07
    cast.on(day(1, 15))
    report(plan, sessions, "1", cast.vendor())  # e9
    cast.on(day(1, 20))
    report(plan, opportunities, "4", cast.partner_side())  # e10
    cast.on(day(1, 30))
    report(plan, sessions, "2", cast.vendor())  # e11
    cast.on(day(2, 4))
    report(plan, opportunities, "8", cast.partner_side())  # e12
    cast.on(day(2, 5))
    plan.record_review(held_on=day(2, 5), attendees=both(cast), by=cast.vendor())  # e13
    cast.on(day(2, 10))
    report(plan, sessions, "2", cast.vendor())  # e14
    cast.on(day(3, 9))
    plan.record_review(  # e15: held two days before it was recorded, the vendor side only
        held_on=day(3, 7), attendees=[cast.manager.ref], by=cast.vendor()
    )
    cast.on(day(3, 10))
    report(plan, sessions, "3", cast.vendor())  # e16
    cast.on(day(3, 25))
    report(plan, sessions, "4", cast.vendor())  # e17
    cast.on(day(3, 27))
    plan.propose_adjustment(  # e18: to the partner, never answered
        opportunities,
        kind=AdjustmentKind.CHANGE_TARGET,
        new_target=Decimal(25),
        reason="A second region joined",
        by=cast.vendor(),
    )
    cast.on(day(3, 31))
    report(plan, opportunities, "19", cast.partner_side())  # e19
    cast.on(day(4, 3))
    report(plan, opportunities, "20", cast.partner_side(), as_of=day(3, 31))  # e20: due + g
    cast.on(day(4, 4))
    plan.record_review(held_on=day(4, 4), attendees=both(cast), by=cast.partner_side())  # e21
    cast.on(day(4, 5))
    plan.close(summary="Pipeline target reached", by=cast.vendor())  # e22
    facts = facts_of(plan)

    # R windows from A = 01-07 (r = 14): W0 01-07..01-20, W1 01-21..02-03, W2 02-04..02-17,
    # W3 02-18..03-03, W4 03-04..03-17, W5 03-18..03-31 (its last day is the due date).
    # Vendor R: W0 e9, W1 e11, W2 e14, W3 -, W4 e16, W5 e17 = 5/6.
    # Partner R: W0 e10 (last day), W1 -, W2 e12 (first day), W3 -, W4 -, W5 e19 = 3/6;
    #   e20 (04-03) lies in no counted window.
    # V windows from A (c = 30): 01-07..02-05, 02-06..03-07, 03-08..04-06; the third never
    #   elapses by period_end 04-04, so e21 counts nowhere.  Vendor: e13, e15 = 2/2.
    #   Partner: e13, - = 1/2.
    #
    # As of T = 03-31 (the due date):
    # Vendor D: v = 4 (e17): a = 1.  P: e3 -> e5, d = 2: 1/1.
    #   100 * (0.4 * 1 + 0.2 * 5/6 + 0.2 * 1 + 0.2 * 1) = 100 * (0.8 + 1/6) = 96.67 -> 96.7
    # Partner D: reports recorded by 03-31: v = 19 (e19): a = 19/20.  P: e2 -> e4, d = 1.5: 1;
    #   e18 open 4.625 days by 04-01 00:00: left out.
    #   100 * (0.4 * 19/20 + 0.2 * 1/2 + 0.2 * 1/2 + 0.2 * 1) = 100 * 0.78 = 78.0
    assert figures(facts, VENDOR, day(3, 31)) == {
        "score": "96.7",
        DELIVERY: ("1.0000", 1, 1),
        REPORTING: ("0.8333", 5, 6),
        REVIEWS: ("1.0000", 2, 2),
        RESPONSIVENESS: ("1.0000", 1, 1),
    }
    assert event_ids(facts, VENDOR, day(3, 31), REPORTING) == [[9], [11], [14], [], [16], [17]]
    assert event_ids(facts, VENDOR, day(3, 31), REVIEWS) == [[13], [15]]
    assert figures(facts, PARTNER, day(3, 31)) == {
        "score": "78.0",
        DELIVERY: ("0.9500", 0, 1),
        REPORTING: ("0.5000", 3, 6),
        REVIEWS: ("0.5000", 1, 2),
        RESPONSIVENESS: ("1.0000", 1, 1),
    }
    assert event_ids(facts, PARTNER, day(3, 31), DELIVERY) == [[3, 19]]

    # As of T = 04-03 (due + g): e20 counts, same as_of as e19 and recorded later: v = 20,
    # a = 1.  e18 unanswered 7.625 days: 0, P = 1/2.
    #   Partner: 100 * (0.4 + 0.2 * 1/2 + 0.2 * 1/2 + 0.2 * 1/2) = 70.0.  Vendor still 96.7.
    assert figures(facts, PARTNER, day(4, 3)) == {
        "score": "70.0",
        DELIVERY: ("1.0000", 1, 1),
        REPORTING: ("0.5000", 3, 6),
        REVIEWS: ("0.5000", 1, 2),
        RESPONSIVENESS: ("0.5000", 1, 2),
    }
    assert event_ids(facts, PARTNER, day(4, 3), DELIVERY) == [[3, 20]]
    assert figures(facts, VENDOR, day(4, 3))["score"] == "96.7"

    # As of T = 04-10, after the close (e22, 04-05 09:00): e18 superseded after 9 days: 0.
    # Scores as on 04-03: vendor 96.7, partner 70.0.
    assert figures(facts, VENDOR, day(4, 10)) == figures(facts, VENDOR, day(3, 31))
    assert figures(facts, PARTNER, day(4, 10)) == figures(facts, PARTNER, day(4, 3))
    closed = items(facts, PARTNER, day(4, 10), RESPONSIVENESS)[-1]
    assert (closed["event_ids"], closed["state"], closed["days"]) == (
        [18, 22],
        "superseded",
        "9.0000",
    )
