"""Why a partnership needs a leader's attention, and the requests waiting on each side."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from ledger.domain import Side
from ledger.domain.rules import recorded_on
from projections.rules.facts import PlanFacts
from projections.rules.rollups import is_active, reviewed_within
from projections.rules.scoring import activation, end_of_day, responsiveness

DRAFT_TOO_LONG_DAYS = 14


def attention(partner_id: str, plans: Sequence[PlanFacts], as_of: date) -> list[dict[str, str]]:
    """Why a partnership needs a leader's attention, each reason with the page that explains it.

    No active plan; a plan in draft for more than 14 days; an active plan whose review is
    overdue (none in its last review cadence); requests unanswered for 5 days or more (the
    score's responsiveness items that are still unanswered).
    """
    reasons = []
    if not any(is_active(p, as_of) for p in plans):
        reasons.append({"reason": "no active plan", "href": f"/partners/{partner_id}"})
    horizon = end_of_day(as_of)
    for plan in plans:
        closed = plan.closed_at is not None and plan.closed_at < horizon
        href = f"/plans/{plan.plan_id}"
        if plan.drafted_at is None or plan.drafted_at >= horizon or closed:
            continue
        activated = activation(plan, as_of)
        if activated is None:
            days = (as_of - recorded_on(plan.drafted_at)).days
            if days > DRAFT_TOO_LONG_DAYS:
                reasons.append({"reason": f"in draft for {days} days", "href": href})
        elif (as_of - activated).days >= plan.review_every_days and not reviewed_within(
            [plan], plan.review_every_days, as_of
        ):
            reasons.append({"reason": "review overdue", "href": href})
        for side in Side:
            items = responsiveness(plan, side, as_of).items
            ignored = sum(1 for item in items if item["state"] == "unanswered")
            if ignored:
                reasons.append(
                    {
                        "reason": f"{ignored} {'request' if ignored == 1 else 'requests'} "
                        f"unanswered by the {side.value} side "
                        "for 5 days or more",
                        "href": href,
                    }
                )
    return reasons


def waiting_requests(plans: Sequence[PlanFacts], side: Side, as_of: date) -> int:
    """Requests still waiting for the side's answer at the end of the day."""
    horizon = end_of_day(as_of)
    return sum(
        1
        for plan in plans
        for request in plan.requests
        if request.side is side
        and request.opened_at < horizon
        and not (request.answered_at is not None and request.answered_at < horizon)
        and not (request.superseded_at is not None and request.superseded_at < horizon)
    )
