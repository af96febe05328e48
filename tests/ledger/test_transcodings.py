"""Every event type, and a plan snapshot, round-trips exactly through each backend."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from eventsourcing.application import project_aggregate
from eventsourcing.domain import DomainEvent

from ledger.application import Counterpart
from ledger.clock import SimulatedClock
from ledger.domain import Actor, AdjustmentKind, Direction, Partner, Plan
from ledger.domain.base import LedgerAggregate
from tests.builders import PERIOD_END, PERIOD_START, a_world, partner_terms, vendor_terms
from tests.support import shortcuts


def event_classes() -> set[str]:
    """Every concrete event class nested in the ledger's aggregates."""
    names = set()
    for aggregate in (Actor, Partner, Plan):
        for attribute in vars(aggregate).values():
            if (
                isinstance(attribute, type)
                and issubclass(attribute, LedgerAggregate.Event)
                and attribute.__name__ not in {"Event", "Created"}
            ):
                names.add(attribute.__qualname__)
    return names


def exact(event: DomainEvent) -> str:
    """A rendering that tells Decimal('4') from Decimal('4.0') and a date from a string."""
    return repr(sorted(event.__dict__.items()))


def every_kind_of_event(app: Counterpart, clock: SimulatedClock) -> list[Any]:
    """Drive the application so that each event type is stored at least once."""
    recorded: list[Any] = []
    original_save = app.save

    def recording_save(*objs: Any, **kwargs: Any) -> Any:
        recordings = original_save(*objs, **kwargs)
        recorded.extend(r.domain_event for r in recordings)
        return recordings

    app.save = recording_save  # type: ignore[method-assign]
    w = a_world(app, clock)
    shortcuts.issue_token(app, w.manager, by=w.admin)
    shortcuts.revoke_tokens(app, w.manager, by=w.admin, request_id="revoke-1")
    shortcuts.reassign_manager(app, w.partner, manager_id=w.other_manager, by=w.admin)
    shortcuts.reassign_manager(app, w.partner, manager_id=w.manager, by=w.admin)
    plan = shortcuts.draft_plan(
        app,
        partner_id=w.partner,
        title="Q1 — ünïcode ✓",
        period_start=PERIOD_START,
        period_end=PERIOD_END,
        objectives=["Grow", "Keep"],
        actor_id=w.manager,
    )
    _, v = shortcuts.propose_metric(
        app, plan.id, vendor_terms(target=Decimal("4.50")), actor_id=w.manager
    )
    _, p = shortcuts.propose_metric(
        app,
        plan.id,
        partner_terms(direction=Direction.AT_MOST, target=Decimal("1E+1")),
        actor_id=w.contact,
    )
    shortcuts.revise_metric(
        app, plan.id, p, partner_terms(target=Decimal("12.5")), actor_id=w.contact
    )
    shortcuts.agree_metric(app, plan.id, v, actor_id=w.contact)
    shortcuts.agree_metric(app, plan.id, p, actor_id=w.manager)
    shortcuts.commit(app, plan.id, actor_id=w.manager)
    shortcuts.commit(app, plan.id, actor_id=w.contact)
    clock.advance(timedelta(days=3))
    shortcuts.report_progress(
        app,
        plan.id,
        p,
        value=Decimal("-0.000"),
        as_of=clock.now().date(),
        note="note",
        evidence_url="https://example.com/e",
        actor_id=w.contact,
    )
    shortcuts.record_review(
        app,
        plan.id,
        held_on=clock.now().date(),
        attendee_ids=[w.manager, w.leader],
        notes=None,
        decisions="d",
        actor_id=w.contact,
    )
    for days, answer in enumerate(("accept", "reject", "withdraw"), start=40):
        _, adjustment = shortcuts.propose_adjustment(
            app,
            plan.id,
            v,
            kind=AdjustmentKind.CHANGE_DUE_DATE,
            new_due_date=clock.now().date() + timedelta(days=days),
            reason="r",
            actor_id=w.manager,
        )
        by = w.manager if answer == "withdraw" else w.contact
        getattr(shortcuts, f"{answer}_adjustment")(app, plan.id, adjustment, actor_id=by)
    _, target = shortcuts.propose_adjustment(
        app,
        plan.id,
        p,
        kind=AdjustmentKind.CHANGE_TARGET,
        new_target=Decimal("9.75"),
        reason="r",
        actor_id=w.manager,
    )
    shortcuts.accept_adjustment(app, plan.id, target, actor_id=w.contact)
    clock.set(clock.now().replace(month=4, day=5))
    shortcuts.close_plan(app, plan.id, actor_id=w.manager)
    return recorded


def test_every_event_type_round_trips_exactly(app: Counterpart, clock: SimulatedClock) -> None:
    """Each stored event decodes to an equal event, with the same types and digits."""
    recorded = every_kind_of_event(app, clock)
    assert {type(e).__qualname__ for e in recorded} == event_classes()
    fresh = Counterpart(app.settings, clock)
    for original in recorded:
        (stored,) = fresh.events.get(
            original.originator_id,
            gt=original.originator_version - 1,
            lte=original.originator_version,
        )
        assert type(stored) is type(original)
        assert exact(stored) == exact(original)
    fresh.close()


def test_a_plan_snapshot_round_trips_to_the_same_state(
    app: Counterpart, clock: SimulatedClock
) -> None:
    """A snapshot of a plan with every kind of state decodes to the replayed plan."""
    every_kind_of_event(app, clock)
    (plan_id,) = {e.originator_id for e in app.events.get(_any_plan(app))}
    app.take_snapshot(plan_id)
    assert app.snapshots is not None
    (snapshot,) = app.snapshots.get(plan_id, desc=True, limit=1)
    from_snapshot = snapshot.mutate(None)
    replayed = project_aggregate(None, app.events.get(plan_id))
    assert repr(sorted(vars(from_snapshot).items())) == repr(sorted(vars(replayed).items()))


def _any_plan(app: Counterpart) -> Any:
    for notification in app.recorder.select_notifications(start=1, limit=1000):
        if notification.topic.endswith("Plan.Drafted"):
            return notification.originator_id
    raise AssertionError("no plan stored")
