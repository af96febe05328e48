"""Score facts: what SCORING.md's rules need from a plan's events, each fact with its event id.

A fact is recorded once, from one event, and never rewritten; later events only add facts
(or close an open request). The score as of a date T uses the facts recorded by the end of
day T, so replaying events is never needed to compute a past score.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import singledispatchmethod
from uuid import UUID

from ledger.domain import AdjustmentKind, Direction, Plan, Side

EventId = int
"""An event's global position in the ledger (its notification id)."""


@dataclass(frozen=True)
class TermsFact:
    """A metric's terms from a moment on: from a proposal, a revision or an accepted adjustment."""

    recorded_at: datetime
    target: Decimal
    due_date: date
    retired: bool
    event_id: EventId


@dataclass(frozen=True)
class ReportFact:
    """A progress report: value as of a business date, recorded at a time."""

    value: Decimal
    as_of: date
    recorded_at: datetime
    event_id: EventId


@dataclass
class MetricFacts:
    """A metric: who owns it, which way its target points, its terms over time, its reports."""

    metric_id: UUID
    name: str
    owner_side: Side
    direction: Direction
    proposed_at: datetime
    terms: list[TermsFact] = field(default_factory=list)
    reports: list[ReportFact] = field(default_factory=list)


@dataclass(frozen=True)
class ReviewFact:
    """A review: the day it was held and the sides that attended."""

    held_on: date
    sides: frozenset[Side]
    recorded_at: datetime
    event_id: EventId


@dataclass(frozen=True)
class AdjustmentFact:
    """What an adjustment proposes, remembered until it is answered."""

    metric_id: UUID
    kind: AdjustmentKind
    new_target: Decimal | None
    new_due_date: date | None


@dataclass
class RequestFact:
    """Something that needs ``side``'s answer: agreeing to a metric, or answering an adjustment.

    ``answered_at`` is set when the side answered; ``superseded_at`` when the request lapsed
    before an answer (the other side revised the metric again, withdrew the adjustment, or the
    plan closed).
    """

    side: Side
    kind: str
    subject_id: UUID
    opened_at: datetime
    opened_by: EventId
    answered_at: datetime | None = None
    answered_by: EventId | None = None
    superseded_at: datetime | None = None
    superseded_by: EventId | None = None

    @property
    def is_open(self) -> bool:
        """Neither answered nor superseded yet."""
        return self.answered_at is None and self.superseded_at is None


@dataclass(frozen=True)
class StanceFact:
    """A side's stance on the terms: proposed, revised or agreed to a metric, or committed."""

    side: Side
    kind: str
    subject_id: UUID | None
    recorded_at: datetime
    event_id: EventId


AGREE_METRIC = "agree_metric"
ANSWER_ADJUSTMENT = "answer_adjustment"


@dataclass
class PlanFacts:
    """Everything the score rules need about one plan."""

    plan_id: UUID
    partner_id: UUID
    period_end: date
    report_every_days: int
    review_every_days: int
    grace_days: int
    activated_at: datetime | None = None
    activated_by: EventId | None = None
    closed_at: datetime | None = None
    metrics: dict[str, MetricFacts] = field(default_factory=dict)
    reviews: list[ReviewFact] = field(default_factory=list)
    requests: list[RequestFact] = field(default_factory=list)
    adjustments: dict[str, AdjustmentFact] = field(default_factory=dict)
    stances: list[StanceFact] = field(default_factory=list)
    period_start: date | None = None
    drafted_at: datetime | None = None

    # ------------------------------------------------------------ building

    @classmethod
    def start(cls, event: Plan.Drafted) -> PlanFacts:
        """The facts of a plan just drafted."""
        return cls(
            plan_id=event.originator_id,
            partner_id=event.partner_id,
            period_end=event.period_end,
            report_every_days=event.report_every_days,
            review_every_days=event.review_every_days,
            grace_days=event.grace_days,
            period_start=event.period_start,
            drafted_at=event.timestamp,
        )

    def apply(self, event: Plan.Event, event_id: EventId) -> None:
        """Add the facts one plan event brings (events of other kinds bring none)."""
        self._on(event, event_id)

    @singledispatchmethod
    def _on(self, event: Plan.Event, event_id: EventId) -> None:
        """Events that bring no score facts (drafting is handled by ``start``)."""

    @_on.register
    def _stated(self, event: Plan.MetricProposed | Plan.MetricRevised, event_id: EventId) -> None:
        at = event.timestamp
        kind = "proposed" if isinstance(event, Plan.MetricProposed) else "revised"
        self.stances.append(StanceFact(event.side, kind, event.metric_id, at, event_id))
        self._metric_terms(event, event_id)
        self._supersede(AGREE_METRIC, event.metric_id, event.side.other, at, event_id)
        self._answer(AGREE_METRIC, event.metric_id, event.side, at, event_id)
        self._open(event.side.other, AGREE_METRIC, event.metric_id, at, event_id)

    @_on.register
    def _agreed(self, event: Plan.MetricAgreed, event_id: EventId) -> None:
        at = event.timestamp
        self.stances.append(StanceFact(event.side, "agreed", event.metric_id, at, event_id))
        self._answer(AGREE_METRIC, event.metric_id, event.side, at, event_id)

    @_on.register
    def _committed(self, event: Plan.Committed, event_id: EventId) -> None:
        self.stances.append(StanceFact(event.side, "committed", None, event.timestamp, event_id))

    @_on.register
    def _activated(self, event: Plan.Activated, event_id: EventId) -> None:
        self.activated_at = event.timestamp
        self.activated_by = event_id

    @_on.register
    def _reported(self, event: Plan.ProgressReported, event_id: EventId) -> None:
        self.metrics[str(event.metric_id)].reports.append(
            ReportFact(event.value, event.as_of, event.timestamp, event_id)
        )

    @_on.register
    def _reviewed(self, event: Plan.ReviewRecorded, event_id: EventId) -> None:
        sides = frozenset(a.side for a in event.attendees if a.side is not None)
        self.reviews.append(ReviewFact(event.held_on, sides, event.timestamp, event_id))

    @_on.register
    def _adjustment_proposed(self, event: Plan.AdjustmentProposed, event_id: EventId) -> None:
        self.adjustments[str(event.adjustment_id)] = AdjustmentFact(
            event.metric_id, event.kind, event.new_target, event.new_due_date
        )
        proposer = _side_of(event)
        self._open(
            proposer.other, ANSWER_ADJUSTMENT, event.adjustment_id, event.timestamp, event_id
        )

    @_on.register
    def _adjustment_accepted(self, event: Plan.AdjustmentAccepted, event_id: EventId) -> None:
        self._answer(ANSWER_ADJUSTMENT, event.adjustment_id, None, event.timestamp, event_id)
        self._adjusted_terms(event, event_id)

    @_on.register
    def _adjustment_rejected(self, event: Plan.AdjustmentRejected, event_id: EventId) -> None:
        self._answer(ANSWER_ADJUSTMENT, event.adjustment_id, None, event.timestamp, event_id)

    @_on.register
    def _adjustment_withdrawn(self, event: Plan.AdjustmentWithdrawn, event_id: EventId) -> None:
        self._supersede(ANSWER_ADJUSTMENT, event.adjustment_id, None, event.timestamp, event_id)

    @_on.register
    def _closed(self, event: Plan.Closed, event_id: EventId) -> None:
        self.closed_at = event.timestamp
        for request in self.requests:
            if request.is_open:
                request.superseded_at = event.timestamp
                request.superseded_by = event_id

    def _metric_terms(
        self, event: Plan.MetricProposed | Plan.MetricRevised, event_id: EventId
    ) -> None:
        spec = event.spec
        metric = self.metrics.get(str(event.metric_id))
        if metric is None:
            metric = MetricFacts(
                metric_id=event.metric_id,
                name=spec.name,
                owner_side=spec.owner_side,
                direction=spec.direction,
                proposed_at=event.timestamp,
            )
            self.metrics[str(event.metric_id)] = metric
        else:
            metric.name = spec.name
            metric.owner_side = spec.owner_side
            metric.direction = spec.direction
        metric.terms.append(
            TermsFact(event.timestamp, spec.target, spec.due_date, retired=False, event_id=event_id)
        )

    def _adjusted_terms(self, event: Plan.AdjustmentAccepted, event_id: EventId) -> None:
        adjustment = self.adjustments[str(event.adjustment_id)]
        metric = self.metrics[str(adjustment.metric_id)]
        current = metric.terms[-1]
        target, due_date = adjustment.new_target, adjustment.new_due_date
        metric.terms.append(
            TermsFact(
                recorded_at=event.timestamp,
                target=target if target is not None else current.target,
                due_date=due_date if due_date is not None else current.due_date,
                retired=adjustment.kind is AdjustmentKind.RETIRE,
                event_id=event_id,
            )
        )

    def _open(
        self, side: Side, kind: str, subject_id: UUID, at: datetime, event_id: EventId
    ) -> None:
        self.requests.append(RequestFact(side, kind, subject_id, at, event_id))

    def _matching(self, kind: str, subject_id: UUID, side: Side | None) -> list[RequestFact]:
        return [
            r
            for r in self.requests
            if r.is_open
            and r.kind == kind
            and r.subject_id == subject_id
            and (side is None or r.side is side)
        ]

    def _answer(
        self, kind: str, subject_id: UUID, side: Side | None, at: datetime, event_id: EventId
    ) -> None:
        for request in self._matching(kind, subject_id, side):
            request.answered_at = at
            request.answered_by = event_id

    def _supersede(
        self, kind: str, subject_id: UUID, side: Side | None, at: datetime, event_id: EventId
    ) -> None:
        for request in self._matching(kind, subject_id, side):
            request.superseded_at = at
            request.superseded_by = event_id


def _side_of(event: Plan.Event) -> Side:
    side = event.actor.side
    if side is None:  # the domain lets only sided actors act on plans
        msg = f"plan event {type(event).__name__} recorded without a side"
        raise ValueError(msg)
    return side
