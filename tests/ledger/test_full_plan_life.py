"""A whole plan's life through the application, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

from ledger.application import Counterpart
from ledger.clock import SimulatedClock
from ledger.domain import (
    AdjustmentKind,
    AdjustmentStatus,
    Direction,
    Grade,
    PlanStatus,
    Side,
)
from tests.builders import DUE, PERIOD_END, PERIOD_START, a_world, partner_terms, vendor_terms
from tests.support import shortcuts


def test_a_plans_whole_life_records_exactly_the_expected_events(
    app: Counterpart, clock: SimulatedClock
) -> None:
    """Draft, metrics by both sides, agreement, commitments, activation, progress on time and
    late, two reviews, one adjustment accepted and one rejected, close."""
    w = a_world(app, clock)
    m, p = w.manager, w.contact

    plan = shortcuts.draft_plan(
        app,
        partner_id=w.partner,
        title="Q1 2026 joint plan",
        period_start=PERIOD_START,
        period_end=PERIOD_END,
        objectives=["Grow qualified pipeline"],
        actor_id=m,
        request_id="r-draft",
    )
    plan_id = plan.id
    _, sessions = shortcuts.propose_metric(app, plan_id, vendor_terms(), actor_id=m)
    w.days(1)
    _, opps = shortcuts.propose_metric(app, plan_id, partner_terms(target=Decimal(25)), actor_id=p)
    _, escalations = shortcuts.propose_metric(
        app,
        plan_id,
        partner_terms(name="Escalations", direction=Direction.AT_MOST, target=Decimal(3)),
        actor_id=p,
    )
    w.days(1)
    shortcuts.revise_metric(app, plan_id, opps, partner_terms(target=Decimal(20)), actor_id=m)
    shortcuts.agree_metric(app, plan_id, escalations, actor_id=m)
    w.days(1)
    shortcuts.agree_metric(app, plan_id, sessions, actor_id=p)
    shortcuts.agree_metric(app, plan_id, opps, actor_id=p)
    shortcuts.commit(app, plan_id, actor_id=p)
    w.days(1)
    plan = shortcuts.commit(app, plan_id, actor_id=m)
    assert plan.status is PlanStatus.ACTIVE
    activated_on = clock.now().date()

    w.days(13)  # on time, inside the first reporting window
    shortcuts.report_progress(
        app, plan_id, sessions, value=Decimal(1), as_of=clock.now().date(), actor_id=m
    )
    shortcuts.report_progress(
        app, plan_id, opps, value=Decimal(6), as_of=clock.now().date(), actor_id=p
    )
    shortcuts.record_review(
        app,
        plan_id,
        held_on=clock.now().date() - timedelta(days=1),
        attendee_ids=[m, p, w.leader],
        notes="Kick-off review",
        decisions="Weekly pipeline call",
        actor_id=m,
    )
    w.days(20)
    _, moved = shortcuts.propose_adjustment(
        app,
        plan_id,
        opps,
        kind=AdjustmentKind.CHANGE_TARGET,
        new_target=Decimal(15),
        reason="Two sellers left",
        actor_id=p,
    )
    w.days(2)
    shortcuts.accept_adjustment(app, plan_id, moved, reason="Fair", actor_id=m)
    _, refused = shortcuts.propose_adjustment(
        app,
        plan_id,
        sessions,
        kind=AdjustmentKind.RETIRE,
        reason="Budget cut",
        actor_id=m,
    )
    w.days(1)
    shortcuts.reject_adjustment(app, plan_id, refused, reason="We need the sessions", actor_id=p)
    shortcuts.record_review(app, plan_id, held_on=clock.now().date(), attendee_ids=[p], actor_id=p)

    clock.set(clock.now().replace(year=DUE.year, month=DUE.month, day=DUE.day))
    shortcuts.report_progress(app, plan_id, sessions, value=Decimal(4), as_of=DUE, actor_id=m)
    shortcuts.report_progress(app, plan_id, escalations, value=Decimal(1), as_of=DUE, actor_id=p)
    w.days(5)  # late: recorded more than grace_days after the due date
    shortcuts.report_progress(app, plan_id, opps, value=Decimal(16), as_of=DUE, actor_id=p)

    clock.set(clock.now().replace(month=4, day=6))
    plan = shortcuts.close_plan(
        app, plan_id, summary="Sessions delivered", actor_id=p, request_id="r-close"
    )

    stored = list(app.events.get(plan_id))
    assert [type(e).__name__ for e in stored] == [
        "Drafted",
        "MetricProposed",
        "MetricProposed",
        "MetricProposed",
        "MetricRevised",
        "MetricAgreed",
        "MetricAgreed",
        "MetricAgreed",
        "Committed",
        "Committed",
        "Activated",
        "ProgressReported",
        "ProgressReported",
        "ReviewRecorded",
        "AdjustmentProposed",
        "AdjustmentAccepted",
        "AdjustmentProposed",
        "AdjustmentRejected",
        "ReviewRecorded",
        "ProgressReported",
        "ProgressReported",
        "ProgressReported",
        "Closed",
    ]
    assert [e.originator_version for e in stored] == list(range(1, 24))
    assert [(e.actor.id, e.actor.side) for e in stored[9:11]] == [(m, Side.VENDOR)] * 2
    assert stored[0].request_id == "r-draft"
    assert stored[-1].request_id == "r-close"
    assert all(a.timestamp <= b.timestamp for a, b in pairwise(stored))

    reloaded = Counterpart(app.settings, clock).get_plan(plan_id)
    for state in (plan, reloaded):
        assert state.version == 23
        assert state.status is PlanStatus.CLOSED
        assert state.activated_at is not None
        assert state.activated_at.date() == activated_on
        assert state.summary == "Sessions delivered"
        assert state.metric(opps).target == Decimal(15)
        assert [t.target for t in state.metric(opps).terms_history] == [
            Decimal(25),
            Decimal(20),
            Decimal(15),
        ]
        assert state.adjustment(moved).status is AdjustmentStatus.ACCEPTED
        assert state.adjustment(refused).status is AdjustmentStatus.REJECTED
        assert not state.metric(sessions).retired
        assert len(state.reviews) == 2
        assert state.reviews[0].attendees[2].id == w.leader
        assert state.grades == {
            str(sessions): Grade.MET,
            str(opps): Grade.MISSED,  # 6 counted; the 16 came too late
            str(escalations): Grade.MET,
        }
        assert state.metric(opps).latest is not None
        assert state.metric(opps).latest.value == Decimal(16)
    assert reloaded == plan

    # The plan's events appear in the global notification order, in order, with no gaps.
    notifications = app.recorder.select_notifications(start=1, limit=1000)
    ids = [n.id for n in notifications]
    assert ids == list(range(ids[0], ids[0] + len(ids)))
    assert [n.originator_version for n in notifications if n.originator_id == plan_id] == list(
        range(1, 24)
    )


def test_the_plan_period_dates_survive_storage(app: Counterpart, clock: SimulatedClock) -> None:
    """Dates come back as dates, not strings, on every backend."""
    w = a_world(app, clock)
    plan = shortcuts.draft_plan(
        app,
        partner_id=w.partner,
        title="T",
        period_start=PERIOD_START,
        period_end=PERIOD_END,
        actor_id=w.contact,
    )
    loaded = Counterpart(app.settings, clock).get_plan(plan.id)
    assert loaded.period_start == PERIOD_START
    assert isinstance(loaded.period_end, date)
