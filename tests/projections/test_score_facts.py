"""Stored score facts give the same score as facts rebuilt from the ledger's events in memory."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.application import Counterpart
from ledger.clock import SimulatedClock
from ledger.domain import AdjustmentKind, Side
from projections.models.score_facts import LEGACY_REPORTS, REPORTS, ScoreFacts
from projections.rules.scoring import score
from projections.runtime.runner import Runner
from projections.runtime.store import ReadStore
from tests.builders import a_world, an_active_plan_in
from tests.conftest import START
from tests.projections.replay import replayed_facts
from tests.support import shortcuts


def a_scored_history(app: Counterpart, clock: SimulatedClock) -> object:
    """A plan with reports on and off time, reviews, answered and unanswered requests."""
    w = a_world(app, clock)
    plan_id, metrics = an_active_plan_in(w)
    for week in range(1, 13):
        clock.advance(timedelta(days=7, hours=week))
        today = clock.now().date()
        if week % 3:
            shortcuts.report_progress(
                app,
                plan_id,
                metrics.partner,
                value=Decimal(week * 2),
                as_of=today,
                actor_id=w.contact,
            )
        if week % 4 == 0:
            shortcuts.report_progress(
                app,
                plan_id,
                metrics.vendor,
                value=Decimal(week // 4),
                as_of=today - timedelta(days=2),
                actor_id=w.manager,
            )
        if week in (4, 9):
            attendees = [w.manager, w.contact] if week == 4 else [w.manager]
            shortcuts.record_review(
                app, plan_id, held_on=today, attendee_ids=attendees, actor_id=w.manager
            )
        if week == 5:
            _, adjustment = shortcuts.propose_adjustment(
                app,
                plan_id,
                metrics.partner,
                kind=AdjustmentKind.CHANGE_TARGET,
                new_target=Decimal(15),
                reason="fewer sellers",
                actor_id=w.contact,
            )
        if week == 7:
            shortcuts.accept_adjustment(app, plan_id, adjustment, actor_id=w.manager)
        if week == 10:
            shortcuts.propose_adjustment(
                app,
                plan_id,
                metrics.vendor,
                kind=AdjustmentKind.RETIRE,
                reason="budget",
                actor_id=w.manager,
            )
    return plan_id


def test_stored_facts_equal_the_facts_replayed_from_the_ledger(
    app: Counterpart, clock: SimulatedClock, store: ReadStore
) -> None:
    """The projection's facts, read back, are the facts of an in-memory replay."""
    plan_id = a_scored_history(app, clock)
    runner = Runner(app, store, [ScoreFacts()], batch_size=11)
    runner.setup()
    runner.catch_up()
    with store.transaction() as cursor:
        stored = ScoreFacts().load(cursor, plan_id)  # type: ignore[arg-type]
    assert stored == replayed_facts(app, plan_id)
    assert stored is not None
    assert stored.activated_at is not None
    assert len(stored.requests) >= 4


def test_the_score_from_stored_facts_equals_the_score_from_replayed_events(
    app: Counterpart, clock: SimulatedClock, store: ReadStore
) -> None:
    """For random dates T, stored facts and an in-memory replay of the events score the same."""
    plan_id = a_scored_history(app, clock)
    runner = Runner(app, store, [ScoreFacts()])
    runner.setup()
    runner.catch_up()
    with store.transaction() as cursor:
        stored = ScoreFacts().load(cursor, plan_id)  # type: ignore[arg-type]
    assert stored is not None
    replayed = replayed_facts(app, plan_id)

    @settings(max_examples=60, deadline=None)
    @given(offset=st.integers(min_value=-5, max_value=130))
    def same_score(offset: int) -> None:
        as_of = START.date() + timedelta(days=offset)
        from_store, from_replay = score(stored, as_of), score(replayed, as_of)
        for side, side_score in from_store.sides.items():
            other = from_replay.sides[side]
            assert side_score.exact == other.exact
            assert side_score.components == other.components

    same_score()
    assert score(stored, START.date() + timedelta(days=90)).sides[Side.PARTNER].exact is not None


def test_a_partners_plans_facts_load_together_as_they_load_one_by_one(
    app: Counterpart, clock: SimulatedClock, store: ReadStore
) -> None:
    """of_partner gives each plan's facts, reports included, as load does for that plan."""
    first = a_scored_history(app, clock)
    w = a_world(app, clock)
    second, metrics = an_active_plan_in(w)
    shortcuts.report_progress(
        app, second, metrics.partner, value=Decimal(1), as_of=clock.now().date(), actor_id=w.contact
    )
    runner = Runner(app, store, [ScoreFacts()])
    runner.setup()
    runner.catch_up()
    projection = ScoreFacts()
    with store.transaction() as cursor:
        together = projection.of_partner(cursor, w.partner)
        one_by_one = [projection.load(cursor, second)]  # type: ignore[arg-type]
        first_partner = projection.load(cursor, first)  # type: ignore[arg-type]
    assert together == one_by_one
    assert first_partner is not None
    assert first_partner.partner_id != w.partner
    assert sum(len(m.reports) for m in together[0].metrics.values()) == 1


def test_reports_kept_compact_across_batches_equal_the_replayed_ones(
    app: Counterpart, clock: SimulatedClock, store: ReadStore
) -> None:
    """Many reports a day, as of the same and of other dates, split over batches of 3: the
    stored slots (first of the day, last per date, with counts) are the replay's."""
    w = a_world(app, clock)
    plan_id, metrics = an_active_plan_in(w)
    for day in range(4):
        clock.advance(timedelta(days=1))
        today = clock.now().date()
        for n in range(7):
            clock.advance(timedelta(minutes=5))
            shortcuts.report_progress(
                app,
                plan_id,
                metrics.partner,
                value=Decimal(n),
                as_of=today - timedelta(days=n % (day + 1)),
                actor_id=w.contact,
            )
    runner = Runner(app, store, [ScoreFacts()], batch_size=3)
    runner.setup()
    runner.catch_up()
    with store.reading() as cursor:
        stored = ScoreFacts().load(cursor, plan_id)  # type: ignore[arg-type]
    replayed = replayed_facts(app, plan_id)
    assert stored == replayed
    metric = replayed.metrics[str(metrics.partner)]
    assert sum(metric.counts().values()) == 28
    assert len(metric.reports) < 28


def test_a_store_of_one_row_per_report_is_rebuilt_compact(
    app: Counterpart, clock: SimulatedClock, store: ReadStore
) -> None:
    """The runner's setup finds the old report table, drops it and replays score facts."""
    plan_id = a_scored_history(app, clock)
    runner = Runner(app, store, [ScoreFacts()])
    runner.setup()
    runner.catch_up()
    with store.transaction() as cursor:
        cursor.execute(f"CREATE TABLE {LEGACY_REPORTS} (position BIGINT PRIMARY KEY)")
        cursor.execute(f"DELETE FROM {REPORTS}")  # noqa: S608 (the module's table name)
    runner.setup()
    assert runner.positions() == {"score_facts": 0}
    runner.catch_up()
    with store.reading() as cursor:
        stored = ScoreFacts().load(cursor, plan_id)  # type: ignore[arg-type]
        cursor.execute(f"SELECT count(*) FROM {REPORTS}")  # noqa: S608 (a table name)
        assert (cursor.fetchone() or (0,))[0] > 0
    assert stored == replayed_facts(app, plan_id)
