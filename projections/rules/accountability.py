"""A plan's Accountability document (docs/api.md): both sides' scores, components and histories."""

from __future__ import annotations

from datetime import date
from typing import Any

from ledger.domain import Side
from projections.rules.facts import PlanFacts
from projections.rules.history import side_history
from projections.rules.scoring import RULE_VERSION, Component, SideScore, pace, side_score


def component_view(component: Component) -> dict[str, Any]:
    """One component: value rounded to four decimals (or null), weight, counts and items."""
    rounded = component.rounded
    return {
        "value": None if rounded is None else float(rounded),
        "weight": float(component.weight),
        "met": component.met,
        "total": component.total,
        "items": [dict(item) for item in component.items],
    }


def side_view(facts: PlanFacts, scored: SideScore, as_of: date) -> dict[str, Any]:
    """docs/api.md's SideScore: the score to one decimal, every component, the side's history."""
    score = scored.score
    return {
        "score": None if score is None else float(score),
        "components": {name: component_view(c) for name, c in scored.components.items()},
        "history": side_history(facts, scored, as_of),
    }


def plan_accountability(facts: PlanFacts, as_of: date) -> dict[str, Any]:
    """docs/api.md's Accountability of a plan as of the end of day ``as_of`` (plain JSON values)."""
    return {
        "plan_id": str(facts.plan_id),
        "as_of": as_of.isoformat(),
        "rule_version": RULE_VERSION,
        "sides": {
            side.value: side_view(facts, side_score(facts, side, as_of), as_of) for side in Side
        },
    }


def metric_paces(facts: PlanFacts, as_of: date) -> dict[str, str | None]:
    """Each metric's pace as of the date, by metric id text (null before activation/retired)."""
    paces: dict[str, str | None] = {}
    for key, metric in facts.metrics.items():
        found = pace(metric, facts, as_of)
        paces[key] = None if found is None else found.value
    return paces
