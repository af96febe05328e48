"""A plan as clients see it (docs/api.md's Plan), rendered from the Plan aggregate's state."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from ledger.domain import Adjustment, Commitment, Metric, Plan, Review, Side
from projections.rules.text import day, decimal_text, moment

JSON = dict[str, Any]


def metric_view(metric: Metric) -> JSON:
    """docs/api.md's Metric (``pace`` is filled in at query time: it depends on the day)."""
    if metric.retired:
        status = "retired"
    elif metric.is_agreed:
        status = "agreed"
    else:
        status = "proposed"
    latest = metric.latest
    return {
        "id": str(metric.id),
        "owner_side": metric.owner_side.value,
        "kind": metric.kind.value,
        "name": metric.name,
        "description": metric.description,
        "unit": metric.unit,
        "direction": metric.direction.value,
        "target": decimal_text(metric.target),
        "due_date": day(metric.due_date),
        "objective": metric.objective,
        "status": status,
        "agreed_by": {side.value: metric.is_agreed_by(side) for side in Side},
        "latest_value": decimal_text(latest.value) if latest else None,
        "latest_as_of": day(latest.as_of) if latest else None,
        "pace": None,
    }


def commitment_view(commitment: Commitment | None) -> JSON | None:
    """docs/api.md's Commitment."""
    if commitment is None:
        return None
    return {
        "actor_id": str(commitment.actor_id),
        "committed_at": moment(commitment.committed_at),
        "terms_version": commitment.terms_version,
    }


def adjustment_view(adjustment: Adjustment) -> JSON:
    """docs/api.md's Adjustment."""
    return {
        "id": str(adjustment.id),
        "metric_id": str(adjustment.metric_id),
        "kind": adjustment.kind.value,
        "new_target": decimal_text(adjustment.new_target),
        "new_due_date": day(adjustment.new_due_date),
        "reason": adjustment.reason,
        "proposed_by_side": adjustment.proposed_by_side.value,
        "status": adjustment.status.value,
    }


def review_view(review: Review) -> JSON:
    """docs/api.md's Review."""
    return {
        "id": str(review.id),
        "held_on": day(review.held_on),
        "attendee_ids": [str(a.id) for a in review.attendees],
        "notes": review.notes,
        "decisions": review.decisions,
    }


def plan_view(plan: Plan) -> JSON:
    """docs/api.md's Plan, as of the plan's current version."""
    return {
        "id": str(plan.id),
        "partner_id": str(plan.partner_id),
        "title": plan.title,
        "status": plan.status.value,
        "version": plan.version,
        "period_start": day(plan.period_start),
        "period_end": day(plan.period_end),
        "report_every_days": plan.report_every_days,
        "review_every_days": plan.review_every_days,
        "grace_days": plan.grace_days,
        "objectives": list(plan.objectives),
        "activated_at": moment(plan.activated_at),
        "closed_at": moment(plan.closed_at),
        "metrics": [metric_view(m) for m in plan.metrics.values()],
        "commitments": {side.value: commitment_view(plan.commitments[side.value]) for side in Side},
        "adjustments": [adjustment_view(a) for a in plan.adjustments.values()],
        "reviews": [review_view(r) for r in plan.reviews],
    }


def plain(value: Any) -> Any:
    """An event field as plain JSON: ids and decimals as strings, dates ISO, enums by value."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, datetime):
        return moment(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | frozenset | set):
        return [plain(v) for v in value]
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in fields(value)}
    return str(value)


ENVELOPE = {
    "originator_id",
    "originator_version",
    "timestamp",
    "actor",
    "request_id",
    "originator_topic",
}
