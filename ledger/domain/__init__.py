"""The domain model: aggregates, events, values, errors (stdlib and eventsourcing.domain only)."""

from ledger.domain.actor import Actor
from ledger.domain.errors import (
    ConcurrencyConflict,
    Forbidden,
    InvalidInput,
    LedgerError,
    NotAllowedForRole,
    NotAParty,
    NotFound,
    OutOfScope,
    RuleViolation,
    VersionMismatch,
    WrongSide,
)
from ledger.domain.partner import Partner
from ledger.domain.plan import Plan
from ledger.domain.state import Adjustment, Commitment, Metric, Report, Review, Terms
from ledger.domain.values import (
    OPERATOR,
    Acting,
    ActorRef,
    AdjustmentKind,
    AdjustmentStatus,
    Direction,
    Grade,
    MetricKind,
    MetricSpec,
    PlanStatus,
    Role,
    Side,
)

__all__ = [
    "OPERATOR",
    "Acting",
    "Actor",
    "ActorRef",
    "Adjustment",
    "AdjustmentKind",
    "AdjustmentStatus",
    "Commitment",
    "ConcurrencyConflict",
    "Direction",
    "Forbidden",
    "Grade",
    "InvalidInput",
    "LedgerError",
    "Metric",
    "MetricKind",
    "MetricSpec",
    "NotAParty",
    "NotAllowedForRole",
    "NotFound",
    "OutOfScope",
    "Partner",
    "Plan",
    "PlanStatus",
    "Report",
    "Review",
    "Role",
    "RuleViolation",
    "Side",
    "Terms",
    "VersionMismatch",
    "WrongSide",
]
