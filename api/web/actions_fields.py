"""The fields the plan forms share: a metric's terms as fields and values, a reason, a metric's
terms in words."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from uuid import UUID

from api.web.forms import Field, Option
from ledger.domain import (
    Direction,
    MetricSpec,
    Plan,
)
from projections.rules.text import decimal_text


def metric_fields(plan: Plan, values: dict[str, str]) -> tuple[Field, ...]:
    """The terms of a metric, SMART: who owns it, what it counts, how much, by when."""
    return (
        Field(
            "owner_side",
            "Owned by",
            "select",
            values.get("owner_side", ""),
            True,
            "The side that does the work and reports on it.",
            (Option("vendor", "The vendor side"), Option("partner", "The partner side")),
        ),
        Field(
            "kind",
            "Kind",
            "select",
            values.get("kind", "activity"),
            True,
            None,
            (Option("activity", "Activity (something done)"), Option("result", "Result")),
        ),
        Field("name", "Name", "text", values.get("name", ""), True),
        Field("description", "Description", "textarea", values.get("description", ""), True),
        Field("unit", "Unit", "text", values.get("unit", ""), True, "What is counted."),
        Field(
            "direction",
            "Direction",
            "select",
            values.get("direction", "at_least"),
            True,
            None,
            (Option("at_least", "At least the target"), Option("at_most", "At most the target")),
        ),
        Field("target", "Target", "amount", values.get("target", ""), True),
        Field(
            "due_date",
            "Due date",
            "date",
            values.get("due_date", plan.period_end.isoformat()),
            True,
            f"Inside the plan period, {plan.period_start} to {plan.period_end}.",
        ),
        Field("objective", "Objective", "text", values.get("objective", ""), False, None),
    )


def metric_values(plan: Plan, metric_id: UUID) -> dict[str, str]:
    """A metric's terms as form values."""
    m = plan.metric(metric_id)
    return {
        "owner_side": m.owner_side.value,
        "kind": m.kind.value,
        "name": m.name,
        "description": m.description,
        "unit": m.unit,
        "direction": m.direction.value,
        "target": decimal_text(m.target) or "",
        "due_date": m.due_date.isoformat(),
        "objective": m.objective or "",
    }


def reason_field(label: str = "Reason", required: bool = False) -> Field:
    """Why (optional unless required)."""
    return Field("reason", label, "textarea", "", required, None)


def terms(plan: Plan, metric_id: UUID) -> str:
    """A metric's terms in words: "≥ 20 opportunities by 2026-03-31"."""
    m = plan.metric(metric_id)
    sign = "≥" if m.direction is Direction.AT_LEAST else "≤"
    return f"{sign} {decimal_text(m.target)} {m.unit} by {m.due_date}"


def replace_spec(spec: MetricSpec, **changes: Any) -> MetricSpec:
    """The spec with some terms changed."""
    return replace(spec, **changes)
