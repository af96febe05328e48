"""The plan state read model and the runner: batched, exactly once, on both backends."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal

import pytest

from ledger.application import Counterpart
from ledger.clock import SimulatedClock
from ledger.domain import AdjustmentKind
from ledger.settings import Settings
from projections.models.plan_state import TABLE, PlanState, plan_document, plan_documents
from projections.models.plan_view import plan_view
from projections.runtime.runner import Positioned, Runner
from projections.runtime.store import Cursor, ReadStore, open_store
from tests.builders import World, a_world, an_active_plan_in
from tests.support import shortcuts


def runner_for(app: Counterpart, store: ReadStore, batch_size: int = 500) -> Runner:
    """A runner with the plan state projection, its tables created."""
    runner = Runner(app, store, [PlanState(app.mapper)], batch_size=batch_size)
    runner.setup()
    return runner


def busy_plan(w: World) -> object:
    """An active plan with reports, a review and an accepted adjustment; returns its id."""
    app, clock = w.app, w.clock
    plan_id, metrics = an_active_plan_in(w)
    for day in range(1, 6):
        clock.advance(timedelta(days=day))
        shortcuts.report_progress(
            app,
            plan_id,
            metrics.partner,
            value=Decimal(day) / 2,
            as_of=clock.now().date(),
            actor_id=w.contact,
        )
    shortcuts.record_review(
        app,
        plan_id,
        held_on=clock.now().date(),
        attendee_ids=[w.manager, w.contact],
        notes="ok",
        actor_id=w.manager,
    )
    _, adjustment = shortcuts.propose_adjustment(
        app,
        plan_id,
        metrics.vendor,
        kind=AdjustmentKind.CHANGE_TARGET,
        new_target=Decimal("3.50"),
        reason="r",
        actor_id=w.manager,
    )
    shortcuts.accept_adjustment(app, plan_id, adjustment, actor_id=w.contact)
    return plan_id


def documents(store: ReadStore) -> list[dict[str, object]]:
    """Every plan document in the read model."""
    with store.transaction() as cursor:
        return plan_documents(cursor, limit=10_000)


def test_the_plan_state_equals_the_plan_rebuilt_from_its_events(
    app: Counterpart, clock: SimulatedClock, store: ReadStore
) -> None:
    """After catching up, each row's document is the view of the aggregate at its version."""
    w = a_world(app, clock)
    plan_id = busy_plan(w)
    draft = shortcuts.draft_plan(
        app,
        partner_id=w.partner,
        title="Draft only",
        period_start=clock.now().date(),
        period_end=clock.now().date() + timedelta(days=90),
        actor_id=w.contact,
    )
    runner = runner_for(app, store)
    assert runner.catch_up() == app.recorder.max_notification_id()
    with store.transaction() as cursor:
        for pid in (plan_id, draft.id):
            assert plan_document(cursor, pid) == plan_view(app.get_plan(pid))  # type: ignore[arg-type]
        active = plan_documents(cursor, partner_ids=[w.partner], status="active")
    assert [d["id"] for d in active] == [str(plan_id)]
    assert active[0]["metrics"][0]["target"] == "3.5"  # type: ignore[index]
    assert [s.lag for s in runner.status()] == [0]


def test_small_batches_and_one_big_batch_give_the_same_rows(
    settings: Settings, clock: SimulatedClock
) -> None:
    """The batch size changes how many transactions there are, never the result."""
    app = Counterpart(settings, clock)
    busy_plan(a_world(app, clock))
    store = open_store(settings)
    small = runner_for(app, store, batch_size=3)
    small.catch_up()
    by_threes = documents(store)
    small.rebuild("plan_state")  # rebuild runs with the runner's batch size: try one batch too
    big = Runner(app, store, [PlanState(app.mapper)], batch_size=10_000)
    big.rebuild("plan_state")
    assert documents(store) == by_threes
    assert len(by_threes) == 1
    store.close()
    app.close()


class Exploding(PlanState):
    """The plan state projection, failing after it has written a batch's rows."""

    def process(self, cursor: Cursor, batch: Sequence[Positioned]) -> None:
        super().process(cursor, batch)
        if any(p.position > self.fail_after for p in batch):
            raise RuntimeError("crash in the middle of a batch")

    fail_after = 10**9


def test_a_batch_that_fails_leaves_neither_rows_nor_position_behind(
    app: Counterpart, clock: SimulatedClock, store: ReadStore
) -> None:
    """Rows and tracking position commit together: a failure rolls both back."""
    w = a_world(app, clock)
    plan_id = busy_plan(w)
    projection = Exploding(app.mapper)
    runner = Runner(app, store, [projection], batch_size=5)
    runner.setup()
    head = app.recorder.max_notification_id() or 0
    projection.fail_after = head - 7
    with pytest.raises(RuntimeError):
        runner.catch_up()
    position = runner.positions()["plan_state"]
    assert position < head - 7
    assert position % 5 == 0  # only whole batches were committed
    with store.transaction() as cursor:
        cursor.execute(f"SELECT MAX(position) FROM {TABLE}")  # noqa: S608 (constant table)
        (highest,) = cursor.fetchone() or (None,)
    assert highest is None or highest <= position
    projection.fail_after = 10**9
    runner.catch_up()
    with store.transaction() as cursor:
        assert plan_document(cursor, plan_id) == plan_view(app.get_plan(plan_id))  # type: ignore[arg-type]


def test_no_event_is_skipped_while_writers_append_concurrently(
    settings: Settings, clock: SimulatedClock
) -> None:
    """Four writers append to their own plans while the runner runs live; every report lands."""
    setup_app = Counterpart(settings, clock)
    w = a_world(setup_app, clock)
    plans = [an_active_plan_in(w) for _ in range(4)]
    store = open_store(settings)
    runner = runner_for(setup_app, store, batch_size=7)
    live = threading.Thread(target=runner.run_forever, kwargs={"poll_interval": 0.01})
    live.start()
    reports = 25

    def write(plan_id: object, metric_id: object) -> None:
        app = Counterpart(settings, clock)
        for n in range(reports):
            shortcuts.report_progress(
                app,
                plan_id,
                metric_id,
                value=Decimal(n),  # type: ignore[arg-type]
                as_of=clock.now().date(),
                actor_id=w.contact,
            )
        app.close()

    writers = [threading.Thread(target=write, args=(p, m.partner)) for p, m in plans]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join(timeout=120)
    head = setup_app.recorder.max_notification_id() or 0
    assert runner.wait_for(head, timeout=30)
    runner.stop()
    live.join(timeout=10)
    with store.transaction() as cursor:
        for plan_id, metrics in plans:
            document = plan_document(cursor, plan_id)
            stored = setup_app.get_plan(plan_id)
            assert document == plan_view(stored)
            assert stored.metric(metrics.partner).reports_count == reports
    store.close()
    setup_app.close()


def test_a_live_runner_follows_new_events_promptly(
    app: Counterpart, clock: SimulatedClock, store: ReadStore
) -> None:
    """PostgreSQL wakes the runner by NOTIFY well before its (long) poll; SQLite polls."""
    w = a_world(app, clock)
    plan_id, metrics = an_active_plan_in(w)
    runner = runner_for(app, store)
    poll = 30.0 if store.dialect == "postgres" else 0.05
    live = threading.Thread(target=runner.run_forever, kwargs={"poll_interval": poll})
    live.start()
    try:
        assert runner.wait_for(app.recorder.max_notification_id() or 0, timeout=10)
        shortcuts.report_progress(
            app,
            plan_id,
            metrics.partner,
            value=Decimal(7),
            as_of=clock.now().date(),
            actor_id=w.contact,
        )
        head = app.recorder.max_notification_id() or 0
        assert runner.wait_for(head, timeout=3), "the runner did not wake up for the new event"
        with store.transaction() as cursor:
            document = plan_document(cursor, plan_id)
        assert document is not None
        assert document["metrics"][1]["latest_value"] == "7"
    finally:
        runner.stop()
        shortcuts.report_progress(
            app,
            plan_id,
            metrics.partner,
            value=Decimal(8),
            as_of=clock.now().date(),
            actor_id=w.contact,
        )  # wake it to stop
        live.join(timeout=10)
    assert not live.is_alive()


def test_a_writer_can_wait_until_the_read_models_show_its_own_write(
    app: Counterpart, clock: SimulatedClock, store: ReadStore
) -> None:
    """The position of the command's events, then a bounded wait, then the read shows it."""
    w = a_world(app, clock)
    plan_id, metrics = an_active_plan_in(w)
    runner = runner_for(app, store)
    live = threading.Thread(target=runner.run_forever, kwargs={"poll_interval": 0.01})
    live.start()
    try:
        for value in range(1, 6):
            shortcuts.report_progress(
                app,
                plan_id,
                metrics.partner,
                value=Decimal(value),
                as_of=clock.now().date(),
                actor_id=w.contact,
            )
            position = app.last_saved_position()
            assert position == app.recorder.max_notification_id()
            assert runner.wait_for(position, timeout=5)
            with store.transaction() as cursor:
                document = plan_document(cursor, plan_id)
            assert document is not None
            assert document["metrics"][1]["latest_value"] == str(value)
    finally:
        runner.stop()
        live.join(timeout=10)
