"""The roll-ups and plan scores kept per date equal a recomputation from the events, even
after an event is appended that was recorded on or before a date already kept (back-dated)."""

from __future__ import annotations

import json
import threading
import time
from datetime import date, timedelta
from uuid import UUID

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.application import Counterpart
from ledger.clock import SimulatedClock
from projections.models.directory import Directory, partners
from projections.models.rollup_reads import RollupDays, plan_days, plan_read, registered_by
from projections.models.score_facts import ScoreFacts
from projections.rules.accountability import plan_accountability
from projections.rules.facts import PlanFacts
from projections.rules.portfolio import partnership_day, portfolio
from projections.rules.rollups import manager_score
from projections.runtime.runner import Runner
from projections.runtime.store import Cursor, ReadStore
from tests.builders import a_world, an_active_plan_in
from tests.conftest import START
from tests.projections.replay import replayed_facts
from tests.scoring.test_score_properties import Life, Script, scripts


def test_kept_figures_equal_a_recomputation_from_the_events_after_late_appends(
    app: Counterpart, store: ReadStore
) -> None:
    """A plan's first events are projected and the figures of random dates read (and kept);
    the rest, recorded on or before those dates, are appended; every date read again gives
    the figures of its partnership and of the portfolio recomputed from the events."""
    runner = Runner(app, store, [Directory(), ScoreFacts()], batch_size=13)
    runner.setup()
    kept = RollupDays(store)

    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        script=scripts(),
        offsets=st.lists(st.integers(-3, 200), min_size=2, max_size=6),
        split=st.floats(0, 1),
    )
    def same_figures(script: Script, offsets: list[int], split: float) -> None:
        life = Life(script)
        partner_id = life.cast.partner.id
        first = max(1, int(len(life.events) * split))
        app.save(*life.cast.partner.collect_events(), *life.events[:first])
        runner.catch_up()
        days = [START.date() + timedelta(days=offset) for offset in offsets]
        for day in days:
            kept.partnerships(day)
            kept.portfolio(day)
            kept.manager(life.cast.manager.id, day)
        plan_scores(store, life.plan.id, days)
        app.save(*life.events[first:])
        runner.catch_up()
        facts = [replayed_facts(app, life.plan.id)]
        for day, (vendor, partner, document) in plan_scores(store, life.plan.id, days).items():
            expected = plan_accountability(facts[0], day)
            assert json.loads(document or "") == expected, f"as of {day}"
            assert [vendor, partner] == [
                None if side["score"] is None else str(side["score"])
                for side in expected["sides"].values()
            ]
        for day in days:
            assert kept.partnerships(day, [partner_id])[partner_id] == partnership_day(
                partner_id, facts, day
            ), f"as of {day}"
            assert kept.portfolio(day) == recomputed_portfolio(store, day), f"as of {day}"
            assert kept.manager(life.cast.manager.id, day) == recomputed_manager(
                store, life.cast.manager.id, day
            ), f"as of {day}"

    same_figures()


def plan_scores(
    store: ReadStore, plan_id: UUID, days: list[date]
) -> dict[date, tuple[str | None, str | None, str | None]]:
    """A plan's kept scores and accountability documents of these dates (filled if missing)."""
    with store.reading() as cursor:
        read = plan_read(cursor, ScoreFacts(), plan_id, days, documents=True)
    assert read is not None
    return plan_days(store, read)


def recomputed_portfolio(store: ReadStore, day: object) -> object:
    """The portfolio as of a day from every plan's facts (as JSON gives it)."""
    with store.reading() as cursor:
        registered = registered_by(cursor, day)  # type: ignore[arg-type]
        plans: dict[UUID, list[PlanFacts]] = {p: [] for p in registered}
        for facts in ScoreFacts().load_all(cursor):
            if facts.partner_id in plans:
                plans[facts.partner_id].append(facts)
    return json.loads(json.dumps(portfolio(plans, day), default=float))  # type: ignore[arg-type]


def recomputed_manager(store: ReadStore, manager_id: UUID, day: date) -> object:
    """A manager's roll-up as of a day from their partnerships' facts (as JSON gives it)."""
    with store.reading() as cursor:
        owned = [UUID(p["id"]) for p in partners(cursor, manager_id=manager_id, limit=10**6)]
        plans = {p: ScoreFacts().of_partner(cursor, p) for p in owned}
    score, rows = manager_score(plans, day)
    return json.loads(json.dumps({"score": score, "partners": rows}, default=float))


class CountedFacts(ScoreFacts):
    """The score facts, counting the partnerships whose facts a fill read (and reading
    slowly enough that concurrent reads overlap)."""

    def __init__(self) -> None:
        super().__init__()
        self.read: list[UUID] = []

    def of_partner(self, cursor: Cursor, partner_id: UUID) -> list[PlanFacts]:
        self.read.append(partner_id)
        time.sleep(0.2)
        return super().of_partner(cursor, partner_id)


def test_concurrent_first_reads_of_a_day_compute_its_figures_once(
    app: Counterpart, store: ReadStore, clock: SimulatedClock
) -> None:
    """Requests that all read a day nobody kept yet (say, after a timeout, whose threads still
    run) wait for one fill: each partnership's facts are read once, not once per request."""
    world = a_world(app, clock)
    an_active_plan_in(world)
    runner = Runner(app, store, [Directory(), ScoreFacts()])
    runner.setup()
    runner.catch_up()
    facts = CountedFacts()
    day = START.date() + timedelta(days=30)
    start = threading.Barrier(4)
    answers: list[dict[str, object]] = []

    def read() -> None:
        start.wait()
        answers.append(RollupDays(store, facts).portfolio(day))

    readers = [threading.Thread(target=read) for _ in range(4)]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join(timeout=60)
    assert len(answers) == 4
    assert all(answer == answers[0] for answer in answers)
    assert sorted(facts.read) == sorted(set(facts.read))
    assert facts.read, "the day was filled"
