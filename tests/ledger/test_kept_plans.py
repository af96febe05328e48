"""Plans kept in memory between commands never let a stale copy decide what is stored."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from ledger.application import Counterpart
from ledger.clock import SimulatedClock
from ledger.domain import NotAParty, RuleViolation, VersionMismatch
from ledger.settings import Settings
from tests.builders import a_world, an_active_plan_in
from tests.support import shortcuts


def test_a_command_on_a_stale_kept_plan_retries_on_the_stored_plan(
    settings: Settings, clock: SimulatedClock
) -> None:
    """Another process appended meanwhile: the command lands after its event, nothing lost."""
    here, elsewhere = Counterpart(settings, clock), Counterpart(settings, clock)
    w = a_world(here, clock)
    plan_id, metrics = an_active_plan_in(w)
    clock.advance(timedelta(days=1))
    today = clock.now().date()
    shortcuts.report_progress(
        here, plan_id, metrics.partner, value=Decimal(1), as_of=today, actor_id=w.contact
    )
    shortcuts.report_progress(
        elsewhere, plan_id, metrics.partner, value=Decimal(2), as_of=today, actor_id=w.contact
    )
    plan = shortcuts.report_progress(
        here, plan_id, metrics.partner, value=Decimal(3), as_of=today, actor_id=w.contact
    )
    stored = [e.value for e in here.events.get(plan_id) if hasattr(e, "value")]
    assert stored == [Decimal(1), Decimal(2), Decimal(3)]
    assert plan.metric(metrics.partner).reports_count == 3
    assert plan == Counterpart(settings, clock).get_plan(plan_id)


def test_expected_versions_are_checked_against_the_stored_plan_not_a_stale_copy(
    settings: Settings, clock: SimulatedClock
) -> None:
    """A version the caller read from the store is accepted even if this process lags behind;
    an outdated one is refused even if this process's copy still has it."""
    here, elsewhere = Counterpart(settings, clock), Counterpart(settings, clock)
    w = a_world(here, clock)
    plan_id, metrics = an_active_plan_in(w)
    today = clock.now().date()
    shortcuts.report_progress(
        here, plan_id, metrics.partner, value=Decimal(1), as_of=today, actor_id=w.contact
    )
    seen = shortcuts.report_progress(
        elsewhere, plan_id, metrics.partner, value=Decimal(2), as_of=today, actor_id=w.contact
    ).version
    plan = shortcuts.report_progress(
        here,
        plan_id,
        metrics.partner,
        value=Decimal(3),
        as_of=today,
        actor_id=w.contact,
        expected_version=seen,
    )
    assert plan.version == seen + 1
    shortcuts.report_progress(
        elsewhere, plan_id, metrics.partner, value=Decimal(4), as_of=today, actor_id=w.contact
    )
    with pytest.raises(VersionMismatch):
        shortcuts.report_progress(
            here,
            plan_id,
            metrics.partner,
            value=Decimal(5),
            as_of=today,
            actor_id=w.contact,
            expected_version=seen + 1,
        )
    assert here.get_plan(plan_id).version == seen + 2


def test_a_refused_command_leaves_the_kept_plan_usable(
    app: Counterpart, clock: SimulatedClock
) -> None:
    """After a refusal the next command sees exactly the stored state."""
    w = a_world(app, clock)
    plan_id, metrics = an_active_plan_in(w)
    today = clock.now().date()
    with pytest.raises(RuleViolation):
        shortcuts.commit(app, plan_id, actor_id=w.manager)
    with pytest.raises(NotAParty):
        shortcuts.report_progress(
            app, plan_id, metrics.partner, value=Decimal(1), as_of=today, actor_id=w.outsider
        )
    plan = shortcuts.report_progress(
        app, plan_id, metrics.partner, value=Decimal(1), as_of=today, actor_id=w.contact
    )
    assert plan == Counterpart(app.settings, clock).get_plan(plan_id)


def test_commands_on_a_plan_share_one_cached_plan_and_copy_nothing(
    app: Counterpart, clock: SimulatedClock
) -> None:
    """The library's aggregate cache is the one cache: a command changes the cached plan in
    place and saves it (no copy); what it returns is that plan, for reading only."""
    w = a_world(app, clock)
    plan_id, metrics = an_active_plan_in(w)
    first = shortcuts.report_progress(
        app,
        plan_id,
        metrics.partner,
        value=Decimal(1),
        as_of=clock.now().date(),
        actor_id=w.contact,
    )
    second = shortcuts.report_progress(
        app,
        plan_id,
        metrics.partner,
        value=Decimal(2),
        as_of=clock.now().date(),
        actor_id=w.contact,
    )
    assert second is first
    assert second.metric(metrics.partner).reports_count == 2
    assert second == Counterpart(app.settings, clock).get_plan(plan_id)


def test_a_manager_reassigned_by_another_process_can_no_longer_act(
    settings: Settings, clock: SimulatedClock
) -> None:
    """Who may act for the vendor is read from the stored partner on every command."""
    here, elsewhere = Counterpart(settings, clock), Counterpart(settings, clock)
    w = a_world(here, clock)
    plan_id, metrics = an_active_plan_in(w)
    today = clock.now().date()
    shortcuts.report_progress(
        here, plan_id, metrics.vendor, value=Decimal(1), as_of=today, actor_id=w.manager
    )
    shortcuts.reassign_manager(elsewhere, w.partner, manager_id=w.other_manager, by=w.admin)
    with pytest.raises(NotAParty):
        shortcuts.report_progress(
            here, plan_id, metrics.vendor, value=Decimal(2), as_of=today, actor_id=w.manager
        )
