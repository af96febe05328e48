"""A plan's Accountability document: docs/api.md's shape, docs/scoring.md's numbers, JSON values."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from ledger.application import Counterpart
from ledger.clock import SimulatedClock
from ledger.domain import AdjustmentKind
from projections.models.score_facts import ScoreFacts
from projections.rules.accountability import metric_paces, plan_accountability
from projections.rules.facts import PlanFacts
from projections.rules.history import side_history
from projections.rules.scoring import pace, score
from projections.runtime.registry import all_projections
from projections.runtime.runner import Runner
from projections.runtime.store import ReadStore
from tests.builders import DUE, PERIOD_START, a_world, an_active_plan_in, vendor_terms
from tests.support import shortcuts

COMPONENTS = ["delivery", "reporting", "reviews", "responsiveness"]


def stored_facts(app: Counterpart, store: ReadStore, plan_id: UUID) -> PlanFacts:
    """The plan's facts as the score_facts read model keeps them, after catching up."""
    runner = Runner(app, store, all_projections(app), batch_size=7)
    runner.setup()
    runner.catch_up()
    with store.transaction() as cursor:
        facts = ScoreFacts().load(cursor, plan_id)
    assert facts is not None
    return facts


def a_kept_plan(app: Counterpart, clock: SimulatedClock) -> UUID:
    """An active plan with reports on both sides, a review and an accepted adjustment."""
    w = a_world(app, clock)
    plan_id, metrics = an_active_plan_in(w)
    for week in range(1, 9):
        w.days(7)
        today = clock.now().date()
        shortcuts.report_progress(
            app, plan_id, metrics.vendor, value=Decimal(week // 2), as_of=today, actor_id=w.manager
        )
        if week not in (4, 5):  # the partner misses a reporting window
            shortcuts.report_progress(
                app,
                plan_id,
                metrics.partner,
                value=Decimal(2 * week),
                as_of=today,
                actor_id=w.contact,
            )
        if week == 4:
            shortcuts.record_review(
                app, plan_id, held_on=today, attendee_ids=[w.manager, w.contact], actor_id=w.manager
            )
            _, adjustment = shortcuts.propose_adjustment(
                app,
                plan_id,
                metrics.partner,
                kind=AdjustmentKind.CHANGE_TARGET,
                new_target=Decimal(15),
                reason="A distributor merger slowed new logos",
                actor_id=w.contact,
            )
            w.days(2)
            shortcuts.accept_adjustment(app, plan_id, adjustment, actor_id=w.manager)
    return plan_id


def only_plain_json(value: Any) -> bool:
    """Whether a value holds nothing but JSON's own types (no Decimal, Fraction, date)."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and only_plain_json(v) for k, v in value.items())
    if isinstance(value, list):
        return all(only_plain_json(v) for v in value)
    return value is None or isinstance(value, str | int | float | bool)


def test_the_accountability_document_has_api_shape_and_the_score_rules_numbers(
    app: Counterpart, clock: SimulatedClock, store: ReadStore
) -> None:
    """Both sides' score, components (value to 4 places, weight, counts, items) and history."""
    plan_id = a_kept_plan(app, clock)
    facts = stored_facts(app, store, plan_id)
    for as_of in (PERIOD_START + timedelta(days=40), DUE + timedelta(days=5)):
        document = plan_accountability(facts, as_of)
        expected = score(facts, as_of)
        assert list(document) == ["plan_id", "as_of", "rule_version", "sides"]
        assert (document["plan_id"], document["as_of"]) == (str(plan_id), as_of.isoformat())
        assert document["rule_version"] == 1
        assert list(document["sides"]) == ["vendor", "partner"]
        for side, scored in expected.sides.items():
            shown = document["sides"][side.value]
            assert list(shown) == ["score", "components", "history"]
            assert scored.score is not None
            assert shown["score"] == float(scored.score)
            assert list(shown["components"]) == COMPONENTS
            for name, component in scored.components.items():
                view = shown["components"][name]
                assert list(view) == ["value", "weight", "met", "total", "items"]
                rounded = component.rounded
                assert view["value"] == (None if rounded is None else float(rounded))
                assert view["weight"] == (0.4 if name == "delivery" else 0.2)
                assert (view["met"], view["total"]) == (component.met, component.total)
                assert view["items"] == component.items
                assert all(isinstance(i["event_ids"], list) for i in view["items"])
            assert shown["history"] == side_history(facts, scored, as_of)
        assert only_plain_json(document)
        assert json.loads(json.dumps(document)) == document


def test_the_scores_spread_the_sides_apart_when_one_side_keeps_fewer_promises(
    app: Counterpart, clock: SimulatedClock, store: ReadStore
) -> None:
    """The partner missed reporting windows: its reporting value is below the vendor's."""
    plan_id = a_kept_plan(app, clock)
    as_of = PERIOD_START + timedelta(days=60)
    document = plan_accountability(stored_facts(app, store, plan_id), as_of)
    vendor, partner = (document["sides"][s]["components"]["reporting"] for s in document["sides"])
    assert vendor["value"] == 1.0
    assert partner["value"] < vendor["value"]
    assert any(not item["met"] and item["event_ids"] == [] for item in partner["items"])


def test_a_plan_never_activated_has_a_null_score_and_null_components(
    app: Counterpart, clock: SimulatedClock, store: ReadStore
) -> None:
    """A draft has no score: every component is null with zero counts and no items."""
    w = a_world(app, clock)
    plan = shortcuts.draft_plan(
        app,
        partner_id=w.partner,
        title="Q1 draft",
        period_start=PERIOD_START,
        period_end=PERIOD_START + timedelta(days=89),
        actor_id=w.manager,
    )
    shortcuts.propose_metric(app, plan.id, vendor_terms(), actor_id=w.manager)
    document = plan_accountability(stored_facts(app, store, plan.id), DUE)
    for side in document["sides"].values():
        assert side["score"] is None
        assert {name: c["value"] for name, c in side["components"].items()} == dict.fromkeys(
            COMPONENTS
        )
        assert all(
            (c["met"], c["total"], c["items"]) == (0, 0, []) for c in side["components"].values()
        )
    assert only_plain_json(document)


def test_metric_paces_give_each_metrics_pace_by_id_and_null_before_activation(
    app: Counterpart, clock: SimulatedClock, store: ReadStore
) -> None:
    """Pace per metric id text, as projections.rules.scoring.pace says, on any day."""
    plan_id = a_kept_plan(app, clock)
    facts = stored_facts(app, store, plan_id)
    before = PERIOD_START - timedelta(days=1)
    assert metric_paces(facts, before) == dict.fromkeys(facts.metrics)
    for as_of in (PERIOD_START + timedelta(days=30), DUE + timedelta(days=1)):
        paces = metric_paces(facts, as_of)
        assert set(paces) == set(facts.metrics)
        for key, metric in facts.metrics.items():
            found = pace(metric, facts, as_of)
            assert paces[key] == (None if found is None else found.value)
    after_due = metric_paces(facts, date(2026, 4, 1))
    assert set(after_due.values()) <= {"met", "missed"}
