"""Plan time travel: the plan as of its N-th event and as of a moment."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from eventsourcing.application import project_aggregate

from ledger.application import SNAPSHOT_INTERVAL, Counterpart
from ledger.clock import SimulatedClock
from ledger.domain import InvalidInput, NotFound, PlanStatus
from tests.builders import a_world, an_active_plan_in
from tests.conftest import START
from tests.support import shortcuts


def test_the_plan_as_of_version_n_is_the_plan_after_its_nth_event(
    app: Counterpart, clock: SimulatedClock
) -> None:
    """Version 1 is the draft; the activation version is active; later versions add reports."""
    w = a_world(app, clock)
    plan_id, metrics = an_active_plan_in(w)
    activated = app.get_plan(plan_id).version
    for day in range(1, 4):
        clock.advance(timedelta(days=1))
        shortcuts.report_progress(
            app,
            plan_id,
            metrics.partner,
            value=Decimal(day),
            as_of=clock.now().date(),
            actor_id=w.contact,
        )
    first = app.get_plan(plan_id, version=1)
    assert (first.version, first.status, first.metrics) == (1, PlanStatus.DRAFT, {})
    assert app.get_plan(plan_id, version=activated - 1).status is PlanStatus.DRAFT
    assert app.get_plan(plan_id, version=activated).status is PlanStatus.ACTIVE
    middle = app.get_plan(plan_id, version=activated + 2).metric(metrics.partner)
    assert middle.latest is not None
    assert middle.latest.value == Decimal(2)
    assert app.get_plan(plan_id).metric(metrics.partner).reports_count == 3


def test_the_plan_as_of_a_moment_holds_every_event_recorded_by_then(
    app: Counterpart, clock: SimulatedClock
) -> None:
    """Events recorded at or before the moment count; later ones do not."""
    w = a_world(app, clock)
    plan_id, metrics = an_active_plan_in(w)
    clock.advance(timedelta(days=5))
    reported_at = clock.now()
    shortcuts.report_progress(
        app,
        plan_id,
        metrics.partner,
        value=Decimal(9),
        as_of=reported_at.date(),
        actor_id=w.contact,
    )
    before = app.plan_as_of(plan_id, reported_at - timedelta(microseconds=1))
    exactly = app.plan_as_of(plan_id, reported_at)
    assert before.metric(metrics.partner).latest is None
    latest = exactly.metric(metrics.partner).latest
    assert latest is not None
    assert latest.value == Decimal(9)
    assert exactly.version == before.version + 1
    assert app.plan_as_of(plan_id, START + timedelta(days=365)).version == exactly.version


def test_there_is_no_plan_before_it_was_drafted(app: Counterpart, clock: SimulatedClock) -> None:
    """A moment before the draft, a version past the last, or version 0 finds nothing valid."""
    w = a_world(app, clock)
    clock.advance(timedelta(hours=1))
    plan_id, _ = an_active_plan_in(w)
    with pytest.raises(NotFound, match="did not exist"):
        app.plan_as_of(plan_id, START)
    with pytest.raises(InvalidInput):
        app.get_plan(plan_id, version=0)
    assert app.get_plan(plan_id, version=1000).version == app.get_plan(plan_id).version


def test_time_travel_on_a_snapshotted_plan_replays_from_the_right_snapshot(
    app: Counterpart, clock: SimulatedClock
) -> None:
    """Past snapshots are used only up to the version asked for."""
    w = a_world(app, clock)
    plan_id, metrics = an_active_plan_in(w)
    base = app.get_plan(plan_id).version
    for i in range(120 - base):
        clock.advance(timedelta(minutes=30))
        shortcuts.report_progress(
            app,
            plan_id,
            metrics.partner,
            value=Decimal(i),
            as_of=clock.now().date(),
            actor_id=w.contact,
        )
    assert app.snapshots is not None
    every = SNAPSHOT_INTERVAL
    snapshots = list(app.snapshots.get(plan_id))
    assert [s.originator_version for s in snapshots] == list(range(every, 121, every))
    for snapshot in snapshots:  # taken from memory, each equals a replay up to its version
        replayed = project_aggregate(None, app.events.get(plan_id, lte=snapshot.originator_version))
        assert sorted(vars(snapshot.mutate(None)).items()) == sorted(vars(replayed).items())
    cold = Counterpart(app.settings, clock)
    for version in (every - 1, every, every + 1, 2 * every, 120):
        old = cold.get_plan(plan_id, version=version)
        latest = old.metric(metrics.partner).latest
        assert old.version == version
        assert latest is not None
        assert latest.value == Decimal(version - base - 1)
    cold.close()
