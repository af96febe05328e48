"""The mutable parts of a plan's state: metrics, reports, adjustments, reviews, commitments."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Self
from uuid import UUID

from ledger.domain.base import fast_copy
from ledger.domain.values import (
    ActorRef,
    AdjustmentKind,
    AdjustmentStatus,
    Direction,
    MetricKind,
    MetricSpec,
    Side,
)


class Shared:
    """A frozen value: copies of the state share it (its fields are never mutated)."""

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        return self


class CopiedFast:
    """Mutable state: copies share its immutable field values."""

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        clone = copy.copy(self)
        clone.__dict__.update({k: fast_copy(v, memo) for k, v in self.__dict__.items()})
        return clone


@dataclass(frozen=True)
class Report(Shared):
    """One progress report as the plan remembers it."""

    value: Decimal
    as_of: date
    recorded_at: datetime


@dataclass(frozen=True)
class Terms(Shared):
    """A metric's terms (target, due date) and since when they are in force."""

    target: Decimal
    due_date: date
    effective_at: datetime
    adjustment_id: UUID | None = None


@dataclass
class Metric(CopiedFast):
    """A metric of a plan with its terms in force, agreement and reporting summary."""

    id: UUID
    owner_side: Side
    kind: MetricKind
    name: str
    description: str
    unit: str
    direction: Direction
    target: Decimal
    due_date: date
    objective: str | None
    agreed_by: dict[str, bool]
    proposed_by: Side
    retired: bool = False
    latest: Report | None = None
    deciding: Report | None = None
    reports_count: int = 0
    terms_history: list[Terms] = field(default_factory=list)

    @property
    def spec(self) -> MetricSpec:
        """The metric's current definition, with its terms in force."""
        return MetricSpec(
            owner_side=self.owner_side,
            kind=self.kind,
            name=self.name,
            description=self.description,
            unit=self.unit,
            direction=self.direction,
            target=self.target,
            due_date=self.due_date,
            objective=self.objective,
        )

    def is_agreed_by(self, side: Side) -> bool:
        """Whether the given side has agreed to the metric's current terms."""
        return self.agreed_by[side.value]

    @property
    def is_agreed(self) -> bool:
        """Whether both sides have agreed to the metric's current terms."""
        return all(self.agreed_by.values())


@dataclass
class Adjustment(CopiedFast):
    """A proposed change to an active plan's terms and its outcome."""

    id: UUID
    metric_id: UUID
    kind: AdjustmentKind
    new_target: Decimal | None
    new_due_date: date | None
    reason: str
    proposed_by: ActorRef
    proposed_at: datetime
    status: AdjustmentStatus = AdjustmentStatus.PROPOSED
    decided_by: ActorRef | None = None
    decided_at: datetime | None = None
    decision_reason: str | None = None

    @property
    def proposed_by_side(self) -> Side:
        """The side that proposed the adjustment."""
        if self.proposed_by.side is None:  # only sided actors act on plans
            msg = "adjustment proposed by an actor without a side"
            raise ValueError(msg)
        return self.proposed_by.side

    @property
    def is_open(self) -> bool:
        """Whether the adjustment still awaits an answer."""
        return self.status is AdjustmentStatus.PROPOSED


@dataclass(frozen=True)
class Review(Shared):
    """A review meeting recorded on the plan."""

    id: UUID
    held_on: date
    attendees: list[ActorRef]
    notes: str | None
    decisions: str | None
    recorded_by: ActorRef
    recorded_at: datetime


@dataclass(frozen=True)
class Commitment(Shared):
    """A side's commitment to the plan's terms as they stood at one terms version."""

    actor_id: UUID
    committed_at: datetime
    terms_version: int
