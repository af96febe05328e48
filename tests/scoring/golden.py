"""Helpers for the golden score scenarios: plans driven in memory, their facts, score figures."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from ledger.domain import Acting, ActorRef, MetricSpec, Plan, Side
from projections.rules.facts import PlanFacts
from projections.rules.scoring import DELIVERY, REPORTING, RESPONSIVENESS, REVIEWS, side_score
from tests.builders import Cast, a_plan

Figures = tuple[str | None, int, int]
"""A component as reported: its value rounded to four decimals (or None), met, total."""


def day(month: int, dom: int) -> date:
    """A date of 2026, the year every golden scenario lives in."""
    return date(2026, month, dom)


def an_active_plan_with(
    cast: Cast, vendor: list[MetricSpec], partner: list[MetricSpec], **changes: Any
) -> tuple[Plan, list[UUID], list[UUID]]:
    """A plan drafted, agreed and committed by both sides at the clock's current time.

    Its events, numbered from 1: the draft; the vendor's proposals, then the partner's; the
    partner's agreements, then the vendor's; the vendor's commitment, the partner's, and the
    activation. Every draft request is answered at once (0 days: credit 1).
    """
    plan = a_plan(cast, **changes)
    vendor_ids = [plan.propose_metric(spec, by=cast.vendor()) for spec in vendor]
    partner_ids = [plan.propose_metric(spec, by=cast.partner_side()) for spec in partner]
    for metric_id in vendor_ids:
        plan.agree_metric(metric_id, by=cast.partner_side())
    for metric_id in partner_ids:
        plan.agree_metric(metric_id, by=cast.vendor())
    plan.commit(by=cast.vendor())
    plan.commit(by=cast.partner_side())
    return plan, vendor_ids, partner_ids


def report(plan: Plan, metric_id: UUID, value: str, by: Acting, as_of: date | None = None) -> None:
    """Report a metric's value, as of today unless told otherwise."""
    plan.report_progress(
        metric_id, value=Decimal(value), as_of=by.today if as_of is None else as_of, by=by
    )


def both(cast: Cast) -> list[ActorRef]:
    """Attendees from both sides: the manager and the partner's contact."""
    return [cast.manager.ref, cast.contact.ref]


def facts_of(plan: Plan) -> PlanFacts:
    """The score facts of every event the plan recorded, numbered 1..N in recording order."""
    events = plan.collect_events()
    drafted = events[0]
    assert isinstance(drafted, Plan.Drafted)
    facts = PlanFacts.start(drafted)
    for n, event in enumerate(events[1:], start=2):
        assert isinstance(event, Plan.Event)
        facts.apply(event, n)
    return facts


def figures(facts: PlanFacts, side: Side, as_of: date) -> dict[str, Any]:
    """A side's score as of a date (a string, or None) and each component's figures."""
    result = side_score(facts, side, as_of)
    shown: dict[str, Any] = {"score": None if result.score is None else str(result.score)}
    for name in (DELIVERY, REPORTING, REVIEWS, RESPONSIVENESS):
        component = result.components[name]
        rounded = component.rounded
        shown[name] = (None if rounded is None else str(rounded), component.met, component.total)
    return shown


def items(facts: PlanFacts, side: Side, as_of: date, component: str) -> list[dict[str, Any]]:
    """The items of one component of a side's score as of a date."""
    return side_score(facts, side, as_of).components[component].items


def event_ids(facts: PlanFacts, side: Side, as_of: date, component: str) -> list[list[int]]:
    """The ids of the events behind each item of one component, in item order."""
    return [item["event_ids"] for item in items(facts, side, as_of, component)]
