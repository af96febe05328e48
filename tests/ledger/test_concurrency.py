"""Optimistic concurrency: of two writers on the same version, one wins and one conflicts."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest

from ledger.application import Counterpart
from ledger.clock import SimulatedClock
from ledger.domain import ConcurrencyConflict, Plan
from ledger.settings import Settings
from tests.builders import a_world, an_active_plan_in
from tests.support import shortcuts


def test_of_two_writers_saving_the_same_version_exactly_one_succeeds(
    settings: Settings, clock: SimulatedClock
) -> None:
    """Two application instances load the same plan; the second save is a ConcurrencyConflict."""
    first = Counterpart(settings, clock)
    second = Counterpart(settings, clock)
    w = a_world(first, clock)
    plan_id, metrics = an_active_plan_in(w)
    clock.advance(timedelta(days=2))
    today = clock.now().date()

    plan_a = first.get_plan(plan_id)
    plan_b = second.get_plan(plan_id)
    partner = first.get_partner(w.partner)
    by = partner.vouch(first.get_actor(w.contact), at=clock.now())
    plan_a.report_progress(metrics.partner, value=Decimal(3), as_of=today, by=by)
    plan_b.report_progress(metrics.partner, value=Decimal(5), as_of=today, by=by)
    first.save(plan_a)
    with pytest.raises(ConcurrencyConflict, match="re-read"):
        second.save(plan_b)

    stored = list(second.events.get(plan_id))
    assert len(stored) == plan_a.version
    last = stored[-1]
    assert isinstance(last, Plan.ProgressReported)
    assert last.value == Decimal(3)
    assert second.get_plan(plan_id).version == plan_a.version
    first.close()
    second.close()


def test_concurrent_commands_either_land_once_or_conflict_and_store_nothing(
    settings: Settings, clock: SimulatedClock
) -> None:
    """Writers racing through the application: the plan's version counts exactly the winners."""
    writers = [Counterpart(settings, clock) for _ in range(4)]
    w = a_world(writers[0], clock)
    plan_id, metrics = an_active_plan_in(w)
    clock.advance(timedelta(days=1))
    start_version = writers[0].get_plan(plan_id).version
    barrier = threading.Barrier(len(writers))
    outcomes: list[str] = []
    lock = threading.Lock()

    def write(app: Counterpart, rounds: int = 10) -> None:
        for _ in range(rounds):
            barrier.wait()
            try:
                shortcuts.report_progress(
                    app,
                    plan_id,
                    metrics.partner,
                    value=Decimal(1),
                    as_of=clock.now().date(),
                    actor_id=w.contact,
                )
                outcome = "ok"
            except ConcurrencyConflict:
                outcome = "conflict"
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=write, args=(app,)) for app in writers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(outcomes) == 40
    wins = outcomes.count("ok")
    assert wins >= 10  # at least one writer wins every round
    final = Counterpart(settings, clock)
    events = list(final.events.get(plan_id))
    assert len(events) == start_version + wins
    assert [e.originator_version for e in events] == list(range(1, len(events) + 1))
    assert final.get_plan(plan_id).metric(metrics.partner).reports_count == wins
    for app in [*writers, final]:
        app.close()
