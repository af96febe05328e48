"""Every read model the service keeps, in one list (the composition of the projections)."""

from __future__ import annotations

from ledger.application import Counterpart
from projections.models.directory import Directory
from projections.models.plan_history import PlanHistory
from projections.models.plan_state import PlanState
from projections.models.score_facts import ScoreFacts
from projections.runtime.runner import Projection


def all_projections(app: Counterpart) -> list[Projection]:
    """The projections, by name: directory, plan_state, score_facts, plan_history."""
    return [Directory(), PlanState(app.mapper), ScoreFacts(), PlanHistory()]
