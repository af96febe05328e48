"""Score facts: what the score rules need from a plan's events, each fact with its event id.

A fact is recorded once, from one event, and never rewritten; later events only add facts
(or close an open request). The score as of a date T uses the facts recorded by the end of
day T, so replaying events is never needed to compute a past score.

Progress reports are kept compact: per metric and recorded day, the first report of the day
and, for each ``as_of`` date reported that day, the last report with it and how many it
stands for (``ReportSlot``). Every rule reads only those (see ``MetricFacts.reports``), so a
plan's facts grow with the days it was reported on, not with its number of reports.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import singledispatchmethod
from typing import TypeVar
from uuid import UUID

from ledger.domain import AdjustmentKind, Direction, Plan, Side

EventId = int
"""An event's global position in the ledger (its notification id)."""
K = TypeVar("K")


@dataclass(frozen=True)
class TermsFact:
    """A metric's terms from a moment on: from a proposal, a revision or an accepted adjustment.

    The name, owner and direction are those of that moment, so that a date's score and history
    use the metric as it was then. (Facts stored before they were kept here leave them None:
    the metric's latest ones stand in; ``counterpart projections rebuild`` fills them.)
    """

    recorded_at: datetime
    target: Decimal
    due_date: date
    retired: bool
    event_id: EventId
    name: str | None = None
    owner_side: Side | None = None
    direction: Direction | None = None


@dataclass(frozen=True)
class ReportFact:
    """A progress report: value as of a business date, recorded at a time."""

    value: Decimal
    as_of: date
    recorded_at: datetime
    event_id: EventId


@dataclass(frozen=True)
class ReportSlot:
    """A kept report and how many reports of its slot it stands for (0: kept as the day's
    first only)."""

    report: ReportFact
    count: int


FIRST = "first"


def slot_keys(report: ReportFact) -> tuple[str, str]:
    """The two slots a report may be kept in: its recorded day's first report, and the last
    report of its recorded day with its ``as_of`` date."""
    day = report.recorded_at.astimezone(UTC).date().isoformat()
    return f"{day} {FIRST}", f"{day} {report.as_of.isoformat()}"


def keep_report(
    slots: MutableMapping[K, ReportSlot], first: K, last: K, report: ReportFact
) -> None:
    """Keep a report recorded after every kept one in its two slots (``slot_keys``): the
    first of its day stays the first; the last of its day and date replaces the one before
    and adds to its count."""
    slots.setdefault(first, ReportSlot(report, 0))
    before = slots.get(last)
    slots[last] = ReportSlot(report, 1 + (before.count if before else 0))


@dataclass
class MetricFacts:
    """A metric: who owns it, which way its target points, its terms over time, and its
    reports, compact: per recorded day the first report and the last one per ``as_of`` date."""

    metric_id: UUID
    name: str
    owner_side: Side
    direction: Direction
    proposed_at: datetime
    terms: list[TermsFact] = field(default_factory=list)
    slots: dict[str, ReportSlot] = field(default_factory=dict)

    def add_report(self, report: ReportFact) -> None:
        """Keep a report recorded after every kept one (``keep_report``)."""
        keep_report(self.slots, *slot_keys(report), report)

    @property
    def reports(self) -> list[ReportFact]:
        """The kept reports in recording order: every report that any rule can pick.

        The latest report by (as_of, order) among any set of whole recorded days, with or
        without an ``as_of`` bound, is kept (the last of its day and date), and so is the
        first report of every day (reporting windows).
        """
        kept = {slot.report.event_id: slot.report for slot in self.slots.values()}
        return [kept[event_id] for event_id in sorted(kept)]

    def terms_at(self, moment: datetime) -> TermsFact | None:
        """The terms in force at a moment (None before the metric was proposed)."""
        current = None
        for terms in self.terms:
            if terms.recorded_at > moment:
                break
            current = terms
        return current

    def name_in(self, terms: TermsFact | None) -> str:
        """The metric's name under these terms."""
        return terms.name if terms is not None and terms.name is not None else self.name

    def owner_in(self, terms: TermsFact | None) -> Side:
        """The side that owned the metric under these terms."""
        return (
            terms.owner_side
            if terms is not None and terms.owner_side is not None
            else self.owner_side
        )

    def direction_in(self, terms: TermsFact | None) -> Direction:
        """Which way the target pointed under these terms."""
        return (
            terms.direction if terms is not None and terms.direction is not None else self.direction
        )

    def counts(self) -> dict[EventId, int]:
        """How many reports each kept report stands for (its day, its ``as_of``)."""
        found: dict[EventId, int] = {}
        for slot in self.slots.values():
            found[slot.report.event_id] = found.get(slot.report.event_id, 0) + slot.count
        return found


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
        self.metrics[str(event.metric_id)].add_report(
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
            TermsFact(
                event.timestamp,
                spec.target,
                spec.due_date,
                retired=False,
                event_id=event_id,
                name=spec.name,
                owner_side=spec.owner_side,
                direction=spec.direction,
            )
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
                name=current.name,
                owner_side=current.owner_side,
                direction=current.direction,
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
