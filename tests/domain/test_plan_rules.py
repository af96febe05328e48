"""The Plan aggregate's rules, checked on the events its commands trigger (no storage)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from ledger.clock import SimulatedClock
from ledger.domain import (
    Acting,
    AdjustmentKind,
    AdjustmentStatus,
    Direction,
    Grade,
    InvalidInput,
    MetricSpec,
    NotAllowedForRole,
    NotAParty,
    NotFound,
    Plan,
    PlanStatus,
    RuleViolation,
    Side,
    WrongSide,
)
from tests.builders import (
    DUE,
    PERIOD_END,
    PERIOD_START,
    Cast,
    a_cast,
    a_plan,
    an_active_plan,
    an_agreed_plan,
    partner_terms,
    vendor_terms,
)
from tests.conftest import START
from tests.domain.helpers import event_types, refused


@pytest.fixture
def cast() -> Cast:
    """The actors and partnerships of every scenario, on a simulated clock."""
    return a_cast(SimulatedClock(START))


# --- who may act -------------------------------------------------------------------------


def test_only_the_partnerships_manager_and_contacts_may_act_on_its_plans(cast: Cast) -> None:
    """Partner.vouch admits its manager and its contacts, and nobody else."""
    now = cast.clock.now()
    assert cast.partner.vouch(cast.manager, at=now).partner_id == cast.partner.id
    assert cast.partner.vouch(cast.contact, at=now).partner_id == cast.partner.id
    for stranger in (cast.other_manager, cast.outsider, cast.leader, cast.auditor, cast.admin):
        with pytest.raises(NotAParty):
            cast.partner.vouch(stranger, at=now)


def test_a_plan_refuses_actors_vouched_for_another_partnership(cast: Cast) -> None:
    """A party to one partnership cannot act on another partnership's plan."""
    plan, metrics = an_agreed_plan(cast)
    plan.collect_events()
    elsewhere = cast.other_partner.vouch(cast.outsider, at=cast.clock.now())
    refused(plan, NotAParty, lambda: plan.commit(by=elsewhere))
    refused(plan, NotAParty, lambda: plan.agree_metric(metrics.vendor, by=elsewhere))
    unvouched = Acting(actor=cast.manager.ref, at=cast.clock.now())
    refused(plan, NotAParty, lambda: plan.commit(by=unvouched))


def test_actors_without_a_side_cannot_act_on_plans(cast: Cast) -> None:
    """An auditor has no side, so even if vouched for a partnership it cannot act."""
    plan, _ = an_agreed_plan(cast)
    plan.collect_events()
    auditor = Acting(actor=cast.auditor.ref, at=cast.clock.now(), partner_id=cast.partner.id)
    refused(plan, NotAllowedForRole, lambda: plan.commit(by=auditor))


def test_a_side_agrees_only_for_itself(cast: Cast) -> None:
    """The vendor's agreement marks the vendor side only; the partner must still agree."""
    plan = a_plan(cast)
    metric_id = plan.propose_metric(partner_terms(), by=cast.partner_side())
    plan.agree_metric(metric_id, by=cast.vendor())
    assert plan.metric(metric_id).agreed_by == {"vendor": True, "partner": True}
    other = plan.propose_metric(vendor_terms(), by=cast.vendor())
    assert plan.metric(other).agreed_by == {"vendor": True, "partner": False}
    refused(plan, RuleViolation, lambda: plan.agree_metric(other, by=cast.vendor()))


def test_a_side_commits_only_for_itself(cast: Cast) -> None:
    """A commitment is recorded for the acting side only."""
    plan, _ = an_agreed_plan(cast)
    plan.commit(by=cast.vendor())
    assert plan.commitments["vendor"] is not None
    assert plan.commitments["partner"] is None
    assert plan.status is PlanStatus.DRAFT


# --- SMART terms and dates ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "  "}, "name"),
        ({"description": ""}, "description"),
        ({"unit": ""}, "unit"),
        ({"target": Decimal(0)}, "target"),
        ({"target": Decimal(-3)}, "target"),
        ({"target": Decimal("NaN")}, "target"),
        ({"target": Decimal("Infinity")}, "target"),
        ({"target": Decimal("1e20")}, "target"),
        ({"due_date": PERIOD_START - timedelta(days=1)}, "due_date"),
        ({"due_date": PERIOD_END + timedelta(days=1)}, "due_date"),
        ({"name": "x" * 201}, "name"),
    ],
)
def test_metric_terms_must_be_smart(cast: Cast, change: dict[str, object], field: str) -> None:
    """Specific, measurable and time-bound terms are checked when proposed or revised."""
    plan = a_plan(cast)
    metric_id = plan.propose_metric(vendor_terms(), by=cast.vendor())
    plan.collect_events()
    bad = vendor_terms(**change)
    error = refused(plan, InvalidInput, lambda: plan.propose_metric(bad, by=cast.vendor()))
    assert field in str(error)
    refused(plan, InvalidInput, lambda: plan.revise_metric(metric_id, bad, by=cast.vendor()))


def test_due_dates_on_the_period_bounds_are_inside_the_period(cast: Cast) -> None:
    """The period includes its first and last day."""
    plan = a_plan(cast)
    plan.propose_metric(vendor_terms(due_date=PERIOD_START), by=cast.vendor())
    plan.propose_metric(vendor_terms(due_date=PERIOD_END), by=cast.vendor())
    assert event_types(plan) == ["Drafted", "MetricProposed", "MetricProposed"]


@pytest.mark.parametrize(
    ("start", "end"),
    [(date(2026, 1, 5), date(2026, 1, 5)), (date(2026, 1, 5), date(2026, 1, 4))],
)
def test_a_plan_period_must_end_after_it_starts(cast: Cast, start: date, end: date) -> None:
    """period_end > period_start."""
    with pytest.raises(InvalidInput, match="period_end"):
        a_plan(cast, period_start=start, period_end=end)


def test_a_plan_needs_a_title_and_sane_cadences(cast: Cast) -> None:
    """Title non-empty; report and review cadences at least a day; grace not negative."""
    for changes in (
        {"title": " "},
        {"report_every_days": 0},
        {"review_every_days": -1},
        {"grace_days": -1},
    ):
        with pytest.raises(InvalidInput):
            a_plan(cast, **changes)


def test_progress_as_of_must_not_be_in_the_future(cast: Cast) -> None:
    """as_of is at most today (the recorded date)."""
    plan, metrics = an_active_plan(cast)
    tomorrow = cast.clock.now().date() + timedelta(days=1)
    refused(
        plan,
        InvalidInput,
        lambda: plan.report_progress(
            metrics.partner, value=Decimal(1), as_of=tomorrow, by=cast.partner_side()
        ),
    )
    plan.report_progress(
        metrics.partner, value=Decimal(1), as_of=cast.clock.now().date(), by=cast.partner_side()
    )
    assert event_types(plan) == ["ProgressReported"]


def test_review_held_on_must_not_be_in_the_future(cast: Cast) -> None:
    """A review cannot be recorded before it is held."""
    plan, _ = an_active_plan(cast)
    tomorrow = cast.clock.now().date() + timedelta(days=1)
    refused(
        plan,
        InvalidInput,
        lambda: plan.record_review(
            held_on=tomorrow, attendees=[cast.manager.ref], by=cast.vendor()
        ),
    )


def test_review_held_on_must_not_be_before_the_plan_starts(cast: Cast) -> None:
    """A plan activated on its first day takes no review held the day before."""
    plan, _ = an_active_plan(cast)
    refused(
        plan,
        InvalidInput,
        lambda: plan.record_review(
            held_on=PERIOD_START - timedelta(days=1), attendees=[cast.manager.ref], by=cast.vendor()
        ),
    )


def test_review_held_on_at_most_grace_days_before_it_is_recorded(cast: Cast) -> None:
    """With grace_days = 3, a review held 3 days ago is accepted and one held 4 days ago not."""
    plan, _ = an_active_plan(cast)
    cast.days(10)
    today = cast.clock.now().date()
    refused(
        plan,
        InvalidInput,
        lambda: plan.record_review(
            held_on=today - timedelta(days=4), attendees=[cast.manager.ref], by=cast.vendor()
        ),
    )
    plan.record_review(
        held_on=today - timedelta(days=3), attendees=[cast.manager.ref], by=cast.vendor()
    )
    assert event_types(plan) == ["ReviewRecorded"]


# --- agreement ----------------------------------------------------------------------------


def test_proposing_a_metric_is_the_proposers_agreement(cast: Cast) -> None:
    """The proposing side has agreed; the other side has not."""
    plan = a_plan(cast)
    metric_id = plan.propose_metric(vendor_terms(), by=cast.partner_side())
    assert plan.metric(metric_id).agreed_by == {"vendor": False, "partner": True}
    assert not plan.metric(metric_id).is_agreed


def test_the_other_side_must_agree_explicitly(cast: Cast) -> None:
    """Agreement by the other side is its own event; the proposer cannot agree again."""
    plan = a_plan(cast)
    metric_id = plan.propose_metric(vendor_terms(), by=cast.vendor())
    refused(plan, RuleViolation, lambda: plan.agree_metric(metric_id, by=cast.vendor()))
    plan.agree_metric(metric_id, by=cast.partner_side())
    assert event_types(plan) == ["Drafted", "MetricProposed", "MetricAgreed"]
    assert plan.metric(metric_id).is_agreed


def test_revising_a_metric_clears_the_other_sides_agreement(cast: Cast) -> None:
    """A revision is the reviser's agreement only: a counter-proposal."""
    plan, metrics = an_agreed_plan(cast)
    plan.revise_metric(metrics.partner, partner_terms(target=Decimal(15)), by=cast.partner_side())
    metric = plan.metric(metrics.partner)
    assert metric.agreed_by == {"vendor": False, "partner": True}
    assert metric.target == Decimal(15)
    plan.revise_metric(metrics.partner, partner_terms(target=Decimal(18)), by=cast.vendor())
    assert plan.metric(metrics.partner).agreed_by == {"vendor": True, "partner": False}


def test_revising_a_metric_clears_both_commitments(cast: Cast) -> None:
    """Any change to the terms clears commitments already given."""
    plan, metrics = an_agreed_plan(cast)
    plan.commit(by=cast.vendor())
    version = plan.terms_version
    plan.revise_metric(metrics.vendor, vendor_terms(target=Decimal(5)), by=cast.vendor())
    assert plan.commitments == {"vendor": None, "partner": None}
    assert plan.terms_version == version + 1


def test_a_revision_that_changes_nothing_is_refused(cast: Cast) -> None:
    """To accept the terms as they stand, a side agrees rather than revises."""
    plan, metrics = an_agreed_plan(cast)
    refused(
        plan,
        RuleViolation,
        lambda: plan.revise_metric(metrics.vendor, vendor_terms(), by=cast.partner_side()),
    )


def test_proposing_a_new_metric_clears_both_commitments(cast: Cast) -> None:
    """Adding a metric changes the terms, so commitments given before no longer stand."""
    plan, _ = an_agreed_plan(cast)
    plan.commit(by=cast.vendor())
    plan.propose_metric(vendor_terms(name="Joint webinars"), by=cast.vendor())
    assert plan.commitments == {"vendor": None, "partner": None}


def test_metrics_are_proposed_revised_and_agreed_only_on_drafts(cast: Cast) -> None:
    """After activation the terms change only through adjustments."""
    plan, metrics = an_active_plan(cast)
    vendor = cast.vendor()
    refused(plan, RuleViolation, lambda: plan.propose_metric(vendor_terms(), by=vendor))
    refused(
        plan,
        RuleViolation,
        lambda: plan.revise_metric(metrics.vendor, vendor_terms(target=Decimal(9)), by=vendor),
    )
    refused(plan, RuleViolation, lambda: plan.agree_metric(metrics.partner, by=vendor))


def test_unknown_metrics_are_not_found(cast: Cast) -> None:
    """Naming a metric the plan does not have is NotFound."""
    plan, _ = an_agreed_plan(cast)
    plan.collect_events()
    refused(plan, NotFound, lambda: plan.agree_metric(cast.partner.id, by=cast.vendor()))


# --- commitment and activation ------------------------------------------------------------


def test_a_side_may_commit_only_when_every_metric_is_agreed_by_both_sides(cast: Cast) -> None:
    """A metric awaiting the other side's agreement blocks commitment."""
    plan = a_plan(cast)
    plan.propose_metric(vendor_terms(), by=cast.vendor())
    plan.propose_metric(partner_terms(), by=cast.partner_side())
    error = refused(plan, RuleViolation, lambda: plan.commit(by=cast.vendor()))
    assert "agreed by both sides" in str(error)


def test_a_side_may_commit_only_when_each_side_owns_a_metric(cast: Cast) -> None:
    """Mutual accountability: a plan where one side owns nothing cannot be committed to."""
    plan = a_plan(cast)
    metric_id = plan.propose_metric(vendor_terms(), by=cast.vendor())
    plan.agree_metric(metric_id, by=cast.partner_side())
    error = refused(plan, RuleViolation, lambda: plan.commit(by=cast.partner_side()))
    assert "partner side owns none" in str(error)


def test_the_second_commitment_to_the_same_terms_activates_the_plan(cast: Cast) -> None:
    """Committed, then Committed and Activated together, with both commitments on one version."""
    plan, _ = an_agreed_plan(cast)
    plan.collect_events()
    plan.commit(by=cast.vendor())
    assert event_types(plan) == ["Committed"]
    cast.days(1)
    plan.commit(by=cast.partner_side())
    assert event_types(plan) == ["Committed", "Activated"]
    assert plan.status is PlanStatus.ACTIVE
    assert plan.activated_at == cast.clock.now()
    vendor, partner = plan.commitments["vendor"], plan.commitments["partner"]
    assert vendor is not None
    assert partner is not None
    assert vendor.terms_version == partner.terms_version == plan.terms_version


def test_a_side_cannot_commit_twice(cast: Cast) -> None:
    """A side's commitment stands until the terms change."""
    plan, _ = an_agreed_plan(cast)
    plan.commit(by=cast.vendor())
    refused(plan, RuleViolation, lambda: plan.commit(by=cast.vendor()))


# --- progress and reviews -------------------------------------------------------------------


def test_only_the_owner_side_reports_progress_on_a_metric(cast: Cast) -> None:
    """The vendor cannot report on the partner's metric, nor the partner on the vendor's."""
    plan, metrics = an_active_plan(cast)
    today = cast.clock.now().date()
    refused(
        plan,
        WrongSide,
        lambda: plan.report_progress(
            metrics.partner, value=Decimal(3), as_of=today, by=cast.vendor()
        ),
    )
    refused(
        plan,
        WrongSide,
        lambda: plan.report_progress(
            metrics.vendor, value=Decimal(3), as_of=today, by=cast.partner_side()
        ),
    )
    second = cast.partner.vouch(cast.second_contact, at=cast.clock.now())
    plan.report_progress(metrics.partner, value=Decimal(3), as_of=today, by=second)
    assert event_types(plan) == ["ProgressReported"]


def test_progress_is_reported_only_on_active_plans(cast: Cast) -> None:
    """A draft plan takes no progress."""
    plan, metrics = an_agreed_plan(cast)
    refused(
        plan,
        RuleViolation,
        lambda: plan.report_progress(
            metrics.vendor, value=Decimal(1), as_of=cast.clock.now().date(), by=cast.vendor()
        ),
    )


def test_reviews_are_recorded_only_on_active_plans(cast: Cast) -> None:
    """A draft plan takes no reviews."""
    plan, _ = an_agreed_plan(cast)
    refused(
        plan,
        RuleViolation,
        lambda: plan.record_review(
            held_on=cast.clock.now().date(), attendees=[cast.manager.ref], by=cast.vendor()
        ),
    )


def test_review_attendees_must_be_parties_or_vendor_leaders(cast: Cast) -> None:
    """The manager, the partner's contacts and vendor leaders may attend; nobody else."""
    refs = cast.partner.attendees([cast.manager, cast.contact, cast.leader, cast.contact])
    assert refs == [cast.manager.ref, cast.contact.ref, cast.leader.ref]
    for stranger in (cast.other_manager, cast.outsider, cast.auditor, cast.admin):
        with pytest.raises(InvalidInput):
            cast.partner.attendees([cast.manager, stranger])
    with pytest.raises(InvalidInput):
        cast.partner.attendees([])


def test_the_latest_report_is_latest_by_as_of_then_by_recording_order(cast: Cast) -> None:
    """A late report about an earlier date does not replace a report about a later date."""
    plan, metrics = an_active_plan(cast)
    cast.days(10)
    today = cast.clock.now().date()
    side = cast.partner_side()
    plan.report_progress(metrics.partner, value=Decimal(7), as_of=today, by=side)
    plan.report_progress(
        metrics.partner, value=Decimal(5), as_of=today - timedelta(days=3), by=side
    )
    latest = plan.metric(metrics.partner).latest
    assert latest is not None
    assert (latest.value, latest.as_of) == (Decimal(7), today)
    plan.report_progress(metrics.partner, value=Decimal(8), as_of=today, by=side)
    latest = plan.metric(metrics.partner).latest
    assert latest is not None
    assert latest.value == Decimal(8)


# --- adjustments -----------------------------------------------------------------------------


def test_adjustments_are_proposed_only_on_active_plans(cast: Cast) -> None:
    """A draft plan changes by revision, not adjustment."""
    plan, metrics = an_agreed_plan(cast)
    refused(
        plan,
        RuleViolation,
        lambda: plan.propose_adjustment(
            metrics.vendor, kind=AdjustmentKind.RETIRE, reason="no budget", by=cast.vendor()
        ),
    )


def test_adjustments_only_before_the_metrics_current_due_date(cast: Cast) -> None:
    """On or after the due date, the terms are final."""
    plan, metrics = an_active_plan(cast)
    cast.on(DUE)
    refused(
        plan,
        RuleViolation,
        lambda: plan.propose_adjustment(
            metrics.vendor,
            kind=AdjustmentKind.CHANGE_TARGET,
            new_target=Decimal(2),
            reason="late start",
            by=cast.vendor(),
        ),
    )


def test_an_adjustment_is_accepted_only_before_the_metrics_due_date(cast: Cast) -> None:
    """An adjustment left open until the due date can no longer be accepted."""
    plan, metrics = an_active_plan(cast)
    adjustment = plan.propose_adjustment(
        metrics.vendor,
        kind=AdjustmentKind.CHANGE_TARGET,
        new_target=Decimal(2),
        reason="late start",
        by=cast.vendor(),
    )
    plan.collect_events()
    cast.on(DUE)
    refused(plan, RuleViolation, lambda: plan.accept_adjustment(adjustment, by=cast.partner_side()))


@pytest.mark.parametrize(
    "new_due_date", [PERIOD_END + timedelta(days=1), PERIOD_START - timedelta(days=1)]
)
def test_a_new_due_date_must_be_inside_the_period(cast: Cast, new_due_date: date) -> None:
    """Moving a due date out of the plan period is refused."""
    plan, metrics = an_active_plan(cast)
    refused(
        plan,
        InvalidInput,
        lambda: plan.propose_adjustment(
            metrics.vendor,
            kind=AdjustmentKind.CHANGE_DUE_DATE,
            new_due_date=new_due_date,
            reason="holidays",
            by=cast.vendor(),
        ),
    )


def test_a_new_due_date_must_be_after_today(cast: Cast) -> None:
    """A due date cannot be moved into the past."""
    plan, metrics = an_active_plan(cast)
    cast.days(20)
    refused(
        plan,
        InvalidInput,
        lambda: plan.propose_adjustment(
            metrics.vendor,
            kind=AdjustmentKind.CHANGE_DUE_DATE,
            new_due_date=cast.clock.now().date(),
            reason="already done",
            by=cast.vendor(),
        ),
    )


@pytest.mark.parametrize(
    ("kind", "fields"),
    [
        (AdjustmentKind.CHANGE_TARGET, {}),
        (AdjustmentKind.CHANGE_TARGET, {"new_target": Decimal(0)}),
        (AdjustmentKind.CHANGE_TARGET, {"new_target": Decimal(4)}),
        (AdjustmentKind.CHANGE_TARGET, {"new_target": Decimal(3), "new_due_date": DUE}),
        (AdjustmentKind.CHANGE_DUE_DATE, {}),
        (AdjustmentKind.CHANGE_DUE_DATE, {"new_due_date": DUE}),
        (AdjustmentKind.CHANGE_DUE_DATE, {"new_target": Decimal(3)}),
        (AdjustmentKind.RETIRE, {"new_target": Decimal(3)}),
        (AdjustmentKind.RETIRE, {"new_due_date": date(2026, 3, 1)}),
    ],
)
def test_adjustment_fields_must_match_its_kind(
    cast: Cast, kind: AdjustmentKind, fields: dict[str, object]
) -> None:
    """change_target takes a new positive target, change_due_date a new date, retire neither."""
    plan, metrics = an_active_plan(cast)
    refused(
        plan,
        InvalidInput,
        lambda: plan.propose_adjustment(
            metrics.vendor,
            kind=kind,
            reason="because",
            by=cast.vendor(),
            **fields,  # type: ignore[arg-type]
        ),
    )


def test_an_adjustment_needs_a_reason(cast: Cast) -> None:
    """Changing agreed terms must be explained."""
    plan, metrics = an_active_plan(cast)
    refused(
        plan,
        InvalidInput,
        lambda: plan.propose_adjustment(
            metrics.vendor, kind=AdjustmentKind.RETIRE, reason=" ", by=cast.vendor()
        ),
    )


def test_an_adjustment_is_accepted_or_rejected_only_by_the_other_side(cast: Cast) -> None:
    """The proposer cannot answer its own proposal."""
    plan, metrics = an_active_plan(cast)
    adjustment = plan.propose_adjustment(
        metrics.vendor,
        kind=AdjustmentKind.CHANGE_TARGET,
        new_target=Decimal(3),
        reason="one session fewer",
        by=cast.vendor(),
    )
    plan.collect_events()
    refused(plan, WrongSide, lambda: plan.accept_adjustment(adjustment, by=cast.vendor()))
    refused(plan, WrongSide, lambda: plan.reject_adjustment(adjustment, by=cast.vendor()))
    plan.reject_adjustment(adjustment, reason="keep the target", by=cast.partner_side())
    assert event_types(plan) == ["AdjustmentRejected"]
    assert plan.adjustment(adjustment).status is AdjustmentStatus.REJECTED
    assert plan.metric(metrics.vendor).target == Decimal(4)


def test_an_adjustment_is_withdrawn_only_by_its_proposing_side(cast: Cast) -> None:
    """The other side answers; only the proposing side withdraws."""
    plan, metrics = an_active_plan(cast)
    adjustment = plan.propose_adjustment(
        metrics.partner,
        kind=AdjustmentKind.RETIRE,
        reason="product discontinued",
        by=cast.partner_side(),
    )
    plan.collect_events()
    refused(plan, WrongSide, lambda: plan.withdraw_adjustment(adjustment, by=cast.vendor()))
    second = cast.partner.vouch(cast.second_contact, at=cast.clock.now())
    plan.withdraw_adjustment(adjustment, by=second)
    assert event_types(plan) == ["AdjustmentWithdrawn"]
    refused(plan, RuleViolation, lambda: plan.accept_adjustment(adjustment, by=cast.vendor()))


def test_at_most_one_open_adjustment_per_metric(cast: Cast) -> None:
    """A second proposal waits until the first is answered or withdrawn."""
    plan, metrics = an_active_plan(cast)
    first = plan.propose_adjustment(
        metrics.vendor, kind=AdjustmentKind.RETIRE, reason="no budget", by=cast.vendor()
    )
    plan.collect_events()
    refused(
        plan,
        RuleViolation,
        lambda: plan.propose_adjustment(
            metrics.vendor,
            kind=AdjustmentKind.CHANGE_TARGET,
            new_target=Decimal(2),
            reason="half budget",
            by=cast.partner_side(),
        ),
    )
    plan.propose_adjustment(
        metrics.partner, kind=AdjustmentKind.RETIRE, reason="other metric", by=cast.vendor()
    )
    plan.withdraw_adjustment(first, by=cast.vendor())
    plan.propose_adjustment(
        metrics.vendor,
        kind=AdjustmentKind.CHANGE_TARGET,
        new_target=Decimal(2),
        reason="half budget",
        by=cast.partner_side(),
    )
    assert event_types(plan) == ["AdjustmentProposed", "AdjustmentWithdrawn", "AdjustmentProposed"]


def test_an_accepted_adjustment_changes_the_terms_from_then_on_and_keeps_their_history(
    cast: Cast,
) -> None:
    """Target and due date change at acceptance; the earlier terms stay in the history."""
    plan, metrics = an_active_plan(cast)
    cast.days(14)
    new_due = DUE - timedelta(days=10)
    adjustment = plan.propose_adjustment(
        metrics.partner,
        kind=AdjustmentKind.CHANGE_DUE_DATE,
        new_due_date=new_due,
        reason="quarter closes earlier",
        by=cast.vendor(),
    )
    cast.days(2)
    version = plan.terms_version
    plan.accept_adjustment(adjustment, by=cast.partner_side())
    metric = plan.metric(metrics.partner)
    assert (metric.target, metric.due_date) == (Decimal(20), new_due)
    assert [(t.target, t.due_date, t.adjustment_id) for t in metric.terms_history] == [
        (Decimal(20), DUE, None),
        (Decimal(20), new_due, adjustment),
    ]
    assert metric.terms_history[-1].effective_at == cast.clock.now()
    assert plan.terms_version == version + 1
    assert plan.status is PlanStatus.ACTIVE


def test_a_retired_metric_takes_no_more_progress_or_adjustments(cast: Cast) -> None:
    """Retiring removes a metric from the plan's live terms."""
    plan, metrics = an_active_plan(cast)
    adjustment = plan.propose_adjustment(
        metrics.vendor, kind=AdjustmentKind.RETIRE, reason="no budget", by=cast.vendor()
    )
    plan.accept_adjustment(adjustment, by=cast.partner_side())
    assert plan.metric(metrics.vendor).retired
    plan.collect_events()
    today = cast.clock.now().date()
    refused(
        plan,
        RuleViolation,
        lambda: plan.report_progress(
            metrics.vendor, value=Decimal(1), as_of=today, by=cast.vendor()
        ),
    )
    refused(
        plan,
        RuleViolation,
        lambda: plan.propose_adjustment(
            metrics.vendor, kind=AdjustmentKind.RETIRE, reason="again", by=cast.vendor()
        ),
    )


# --- closing -------------------------------------------------------------------------------


def test_a_plan_closes_only_after_its_period_ends(cast: Cast) -> None:
    """On period_end it is still open; the day after it may be closed."""
    plan, _ = an_active_plan(cast)
    cast.on(PERIOD_END, hour=23)
    refused(plan, RuleViolation, lambda: plan.close(by=cast.vendor()))
    cast.on(PERIOD_END + timedelta(days=1), hour=0)
    plan.close(summary="Good quarter", by=cast.partner_side())
    assert event_types(plan) == ["Closed"]
    assert plan.status is PlanStatus.CLOSED
    assert plan.closed_at == cast.clock.now()


def test_a_closed_plan_accepts_nothing(cast: Cast) -> None:
    """Every command on a closed plan is refused and records nothing."""
    plan, metrics = an_active_plan(cast)
    cast.on(PERIOD_END + timedelta(days=2))
    plan.close(by=cast.vendor())
    plan.collect_events()
    vendor, today = cast.vendor(), cast.clock.now().date()
    commands = [
        lambda: plan.close(by=vendor),
        lambda: plan.commit(by=vendor),
        lambda: plan.propose_metric(vendor_terms(), by=vendor),
        lambda: plan.agree_metric(metrics.partner, by=vendor),
        lambda: plan.report_progress(metrics.vendor, value=Decimal(1), as_of=today, by=vendor),
        lambda: plan.record_review(held_on=today, attendees=[cast.manager.ref], by=vendor),
        lambda: plan.propose_adjustment(
            metrics.vendor, kind=AdjustmentKind.RETIRE, reason="x", by=vendor
        ),
    ]
    for command in commands:
        refused(plan, RuleViolation, command)


def test_closing_grades_each_live_metric_met_or_missed(cast: Cast) -> None:
    """Met when the deciding report attains the target; at_most metrics met when at or below."""
    plan, metrics = an_agreed_plan(cast)
    ceiling = plan.propose_metric(
        partner_terms(name="Escalations", direction=Direction.AT_MOST, target=Decimal(2)),
        by=cast.partner_side(),
    )
    plan.agree_metric(ceiling, by=cast.vendor())
    plan.commit(by=cast.vendor())
    plan.commit(by=cast.partner_side())
    cast.days(30)
    today = cast.clock.now().date()
    plan.report_progress(metrics.vendor, value=Decimal(4), as_of=today, by=cast.vendor())
    plan.report_progress(metrics.partner, value=Decimal(19), as_of=today, by=cast.partner_side())
    plan.report_progress(ceiling, value=Decimal(2), as_of=today, by=cast.partner_side())
    cast.on(PERIOD_END + timedelta(days=1))
    plan.close(by=cast.vendor())
    assert plan.grades == {
        str(metrics.vendor): Grade.MET,
        str(metrics.partner): Grade.MISSED,
        str(ceiling): Grade.MET,
    }


def test_a_report_recorded_after_the_grace_days_does_not_decide_the_grade(cast: Cast) -> None:
    """Reported about the due date but recorded more than grace_days after it: missed."""
    plan, metrics = an_active_plan(cast)
    cast.on(DUE + timedelta(days=4))
    plan.report_progress(metrics.vendor, value=Decimal(4), as_of=DUE, by=cast.vendor())
    assert plan.metric(metrics.vendor).deciding is None
    assert plan.metric(metrics.vendor).latest is not None
    cast.on(PERIOD_END + timedelta(days=1))
    plan.close(by=cast.vendor())
    assert plan.grades[str(metrics.vendor)] is Grade.MISSED


def test_a_draft_plan_may_be_closed_after_its_period_without_grades(cast: Cast) -> None:
    """A plan stuck in draft can be closed once its period is over; nothing is graded."""
    plan, _ = an_agreed_plan(cast)
    cast.on(PERIOD_END + timedelta(days=1))
    plan.close(summary="never agreed", by=cast.partner_side())
    assert plan.status is PlanStatus.CLOSED
    assert plan.activated_at is None
    assert plan.grades == {}


# --- what every event carries ---------------------------------------------------------------


def test_every_event_carries_the_actor_the_recorded_time_and_the_request_id(cast: Cast) -> None:
    """Actor id, side and role from the caller; time from the clock; the request id given."""
    plan = Plan.draft(
        title="Q1",
        period_start=PERIOD_START,
        period_end=PERIOD_END,
        by=cast.vendor(request_id="req-1"),
    )
    cast.days(1.5)
    plan.propose_metric(partner_terms(), by=cast.partner_side(request_id="req-2"))
    drafted, proposed = plan.collect_events()
    assert isinstance(drafted, Plan.Drafted)
    assert isinstance(proposed, Plan.MetricProposed)
    assert drafted.actor == cast.manager.ref
    assert drafted.actor.side is Side.VENDOR
    assert (drafted.request_id, drafted.timestamp) == ("req-1", START)
    assert proposed.actor == cast.contact.ref
    assert proposed.actor.side is Side.PARTNER
    assert proposed.request_id == "req-2"
    assert proposed.timestamp == START + timedelta(days=1.5)


def test_terms_are_stored_trimmed(cast: Cast) -> None:
    """Leading and trailing blanks are not part of a metric's name, description or unit."""
    plan = a_plan(cast)
    spec = MetricSpec(**{**vendor_terms().__dict__, "name": "  Webinars ", "unit": " talks "})
    metric_id = plan.propose_metric(spec, by=cast.vendor())
    assert (plan.metric(metric_id).name, plan.metric(metric_id).unit) == ("Webinars", "talks")
