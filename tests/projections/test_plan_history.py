"""The plan history read model: a plan's events in order, and the audit index."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from ledger.application import Counterpart
from ledger.clock import SimulatedClock
from projections.models.plan_history import PlanHistory, audit_entries, plan_history
from projections.runtime.runner import Runner
from projections.runtime.store import ReadStore
from tests.builders import a_world, an_active_plan_in
from tests.conftest import START
from tests.support import shortcuts


def test_a_plans_history_lists_its_events_in_order_with_positions_and_actors(
    app: Counterpart, clock: SimulatedClock, store: ReadStore
) -> None:
    """Version 1..N, increasing global positions, the actor of each, the event's own data."""
    w = a_world(app, clock)
    plan_id, metrics = an_active_plan_in(w)
    clock.advance(timedelta(days=2))
    shortcuts.report_progress(
        app,
        plan_id,
        metrics.partner,
        value=Decimal("2.50"),
        as_of=clock.now().date(),
        note="first",
        actor_id=w.contact,
    )
    runner = Runner(app, store, [PlanHistory()], batch_size=4)
    runner.setup()
    runner.catch_up()
    with store.transaction() as cursor:
        history = plan_history(cursor, app.mapper.transcoder, plan_id)
    assert [e["version"] for e in history] == list(range(1, 10))
    assert [e["type"] for e in history][-3:] == ["Committed", "Activated", "ProgressReported"]
    positions = [e["position"] for e in history]
    assert positions == sorted(positions)
    last = history[-1]
    assert last["actor"] == {"id": str(w.contact), "side": "partner", "role": "partner"}
    assert last["data"] == {
        "metric_id": str(metrics.partner),
        "value": "2.5",
        "as_of": clock.now().date().isoformat(),
        "note": "first",
        "evidence_url": None,
    }
    assert history[1]["data"]["spec"]["target"] == "4"
    assert last["recorded_at"] == clock.now().strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_the_audit_index_finds_who_agreed_and_committed_by_actor_partner_and_time(
    app: Counterpart, clock: SimulatedClock, store: ReadStore
) -> None:
    """Proposals, revisions, agreements, commitments and activations; filters narrow them."""
    w = a_world(app, clock)
    plan_id, _ = an_active_plan_in(w)
    clock.advance(timedelta(days=10))
    second, _ = an_active_plan_in(w)
    runner = Runner(app, store, [PlanHistory()])
    runner.setup()
    runner.catch_up()
    with store.transaction() as cursor:
        everything = audit_entries(cursor, app.mapper.transcoder)
        by_contact = audit_entries(cursor, app.mapper.transcoder, actor_id=w.contact)
        later = audit_entries(cursor, app.mapper.transcoder, since=START + timedelta(days=5))
        other_partner = audit_entries(cursor, app.mapper.transcoder, partner_ids=[w.outsider])
        none_allowed = audit_entries(cursor, app.mapper.transcoder, partner_ids=[])
    kinds = [e["type"] for e in everything]
    assert kinds.count("Committed") == 4
    assert kinds.count("Activated") == 2
    assert kinds.count("MetricAgreed") == 4
    assert "Drafted" not in kinds
    assert {e["actor"]["id"] for e in by_contact} == {str(w.contact)}
    assert {e["plan_id"] for e in later} == {str(second)}
    assert {e["partner_id"] for e in everything} == {str(w.partner)}
    assert other_partner == []
    assert none_allowed == []
    # per plan the contact proposed one metric, agreed one, committed second and so activated
    assert len(by_contact) == 8
    assert str(plan_id) in {e["plan_id"] for e in everything}
