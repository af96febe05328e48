"""For random plan histories, scores from the stored facts equal scores from a replay."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.application import Counterpart
from projections.models.score_facts import ScoreFacts
from projections.rules.scoring import score
from projections.runtime.runner import Runner
from projections.runtime.store import ReadStore
from tests.conftest import START
from tests.projections.replay import replayed_facts
from tests.scoring.test_score_properties import Life, Script, scripts


def test_random_histories_score_the_same_from_stored_facts_and_from_a_replay(
    app: Counterpart, store: ReadStore
) -> None:
    """Random plan lives are stored, projected in small batches, and scored both ways."""
    runner = Runner(app, store, [ScoreFacts()], batch_size=17)
    runner.setup()

    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(script=scripts(), offsets=st.lists(st.integers(-3, 200), min_size=3, max_size=8))
    def same_scores(script: Script, offsets: list[int]) -> None:
        life = Life(script)
        app.save(*life.events)
        runner.catch_up()
        plan_id = life.plan.id
        with store.transaction() as cursor:
            stored = ScoreFacts().load(cursor, plan_id)
        assert stored is not None
        from_replay = replayed_facts(app, plan_id)
        assert stored == from_replay
        for offset in offsets:
            as_of = START.date() + timedelta(days=offset)
            left, right = score(stored, as_of), score(from_replay, as_of)
            for side, side_score in left.sides.items():
                assert side_score.exact == right.sides[side].exact, f"{side} as of {as_of}"
                assert side_score.components == right.sides[side].components

    same_scores()
