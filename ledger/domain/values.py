"""Value objects and enumerations carried by events: sides, roles, actors, metric terms."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Self
from uuid import UUID


class Side(Enum):
    """The two sides of a partnership."""

    VENDOR = "vendor"
    PARTNER = "partner"

    @property
    def other(self) -> Side:
        """The opposite side."""
        return Side.PARTNER if self is Side.VENDOR else Side.VENDOR


class Role(Enum):
    """What an actor is allowed to do."""

    ADMIN = "admin"
    LEADER = "leader"
    MANAGER = "manager"
    PARTNER = "partner"
    AUDITOR = "auditor"

    @property
    def side(self) -> Side | None:
        """The side an actor of this role belongs to (auditors belong to none)."""
        if self is Role.PARTNER:
            return Side.PARTNER
        if self is Role.AUDITOR:
            return None
        return Side.VENDOR


class PlanStatus(Enum):
    """The lifecycle of a plan: draft, then active, then closed."""

    DRAFT = "draft"
    ACTIVE = "active"
    CLOSED = "closed"


class MetricKind(Enum):
    """Whether a metric measures an activity or a result."""

    ACTIVITY = "activity"
    RESULT = "result"


class Direction(Enum):
    """Whether the target is a floor (at least) or a ceiling (at most)."""

    AT_LEAST = "at_least"
    AT_MOST = "at_most"


class AdjustmentKind(Enum):
    """The three ways an active plan's terms may change."""

    CHANGE_TARGET = "change_target"
    CHANGE_DUE_DATE = "change_due_date"
    RETIRE = "retire"


class AdjustmentStatus(Enum):
    """Where an adjustment stands."""

    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class Grade(Enum):
    """A metric's grade when its plan closes."""

    MET = "met"
    MISSED = "missed"


@dataclass(frozen=True)
class ActorRef:
    """The acting actor as recorded on every event: id, side and role."""

    id: UUID
    side: Side | None
    role: Role

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        return self  # immutable: copies share it


OPERATOR = ActorRef(id=UUID(int=0), side=None, role=Role.ADMIN)
"""The person at the command line with direct access to the database (bootstrap, operations)."""


@dataclass(frozen=True)
class Acting:
    """Who acts, when (the recorded time) and under which request id.

    ``partner_id`` is set only by :meth:`Partner.vouch`, after checking that the actor is
    party to that partnership; plan commands require it to equal the plan's partner.
    """

    actor: ActorRef
    at: datetime
    request_id: str | None = None
    partner_id: UUID | None = None

    def __post_init__(self) -> None:
        offset = self.at.utcoffset()
        if offset is None or offset.total_seconds() != 0:
            msg = "the recorded time must be a timezone-aware UTC datetime"
            raise ValueError(msg)

    @property
    def side(self) -> Side | None:
        """The acting side."""
        return self.actor.side

    @property
    def today(self) -> date:
        """The recorded date (UTC calendar date of the recorded time)."""
        return self.at.date()


@dataclass(frozen=True)
class MetricSpec:
    """Everything that defines a metric when it is proposed or revised."""

    owner_side: Side
    kind: MetricKind
    name: str
    description: str
    unit: str
    direction: Direction
    target: Decimal
    due_date: date
    objective: str | None = None

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        return self  # immutable: copies share it
