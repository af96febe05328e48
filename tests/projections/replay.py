"""A plan's score facts rebuilt in memory from the ledger, to compare with the stored ones."""

from __future__ import annotations

from ledger.application import Counterpart
from ledger.domain import Plan
from projections.rules.facts import PlanFacts


def replayed_facts(app: Counterpart, plan_id: object) -> PlanFacts:
    """The plan's facts rebuilt from the ledger's notifications, with their positions."""
    built: PlanFacts | None = None
    for notification in app.recorder.select_notifications(start=1, limit=1_000_000):
        if notification.originator_id != plan_id:
            continue
        event = app.mapper.to_domain_event(notification)
        if isinstance(event, Plan.Drafted):
            built = PlanFacts.start(event)
        elif built is not None and isinstance(event, Plan.Event):
            built.apply(event, notification.id)
    assert built is not None
    return built
