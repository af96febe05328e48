"""The day turn: at start and when the day turns, today's roll-ups are computed ahead."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ledger.application import Counterpart
from ledger.clock import SimulatedClock
from projections.models.rollup_days import MANAGER_DAYS, PORTFOLIO, kept_portfolio
from projections.models.rollup_reads import RollupDays
from projections.rules.series import series_days
from projections.runtime.day_turn import DayTurn
from projections.runtime.embedded import EmbeddedProjections
from projections.runtime.registry import all_projections
from projections.runtime.runner import Runner
from projections.runtime.store import ReadStore
from tests.builders import a_world, an_active_plan_in


def _caught_up(app: Counterpart, store: ReadStore) -> Runner:
    runner = Runner(app, store, all_projections(app))
    runner.setup()
    runner.catch_up()
    return runner


def _kept(store: ReadStore) -> list[tuple[Any, ...]]:
    with store.reading() as cursor:
        cursor.execute(f"SELECT as_of, position, figures FROM {PORTFOLIO} ORDER BY as_of")  # noqa: S608
        portfolio = [tuple(row) for row in cursor.fetchall()]
        cursor.execute(f"SELECT manager_id, as_of, position, figures FROM {MANAGER_DAYS}")  # noqa: S608
        managers = sorted(tuple(row) for row in cursor.fetchall())
    return portfolio + managers


def test_a_turn_keeps_todays_portfolio_each_managers_roll_up_and_the_series_dates(
    app: Counterpart, clock: SimulatedClock, store: ReadStore
) -> None:
    w = a_world(app, clock)
    an_active_plan_in(w)
    turn = DayTurn(_caught_up(app, store), look_every=0.01)
    today = clock.now().date()
    turn.start()
    try:
        assert turn.wait_turned(today)
    finally:
        turn.stop()
    assert not turn.running
    assert turn.error is None
    kept = RollupDays(store)
    assert all(kept.has_portfolio(day) for day in series_days(None, today, 7))
    assert not kept.has_portfolio(today - timedelta(days=1))
    with store.reading() as cursor:
        assert kept_portfolio(cursor, today, w.manager) is not None


def test_when_the_day_turns_the_new_day_is_warmed(
    app: Counterpart, clock: SimulatedClock, store: ReadStore
) -> None:
    an_active_plan_in(a_world(app, clock))
    turn = DayTurn(_caught_up(app, store), look_every=0.01)
    turn.start()
    try:
        assert turn.wait_turned(clock.now().date())
        clock.advance(timedelta(days=1))
        assert turn.wait_turned(clock.now().date())
    finally:
        turn.stop()
    assert RollupDays(store).has_portfolio(clock.now().date())


def test_a_restart_keeps_the_same_figures(
    app: Counterpart, clock: SimulatedClock, store: ReadStore
) -> None:
    an_active_plan_in(a_world(app, clock))
    runner = _caught_up(app, store)
    kept = []
    for _ in ("first start", "restart"):
        turn = DayTurn(runner, look_every=0.01)
        turn.start()
        try:
            assert turn.wait_turned(clock.now().date())
        finally:
            turn.stop()
        kept.append(_kept(store))
    assert kept[0]
    assert kept[1] == kept[0]


def test_the_embedded_projections_turn_the_day_and_stop_it(
    app: Counterpart, clock: SimulatedClock, store: ReadStore
) -> None:
    an_active_plan_in(a_world(app, clock))
    embedded = EmbeddedProjections(app, store, poll_interval=0.01)
    assert embedded.day_turn is not None
    embedded.day_turn.look_every = 0.01
    embedded.start()
    try:
        assert embedded.day_turn.wait_turned(clock.now().date())
    finally:
        embedded.stop()
    assert not embedded.day_turn.running
    assert RollupDays(store).has_portfolio(clock.now().date())
