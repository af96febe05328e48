"""The facts a plan records: each event of the Plan aggregate and what it assigns.

The Plan aggregate (``ledger.domain.plan``) names these classes in its body, so the library
redefines each as ``Plan.<Name>`` in that module: the stored topics stay
``ledger.domain.plan:Plan.<Name>`` (``tests/ledger/test_event_topics.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ledger.domain import rules
from ledger.domain.base import LedgerAggregate
from ledger.domain.state import Adjustment, Commitment, Metric, Report, Review, Terms
from ledger.domain.values import (
    ActorRef,
    AdjustmentKind,
    AdjustmentStatus,
    Grade,
    MetricSpec,
    PlanStatus,
    Side,
)

if TYPE_CHECKING:
    from datetime import date
    from decimal import Decimal
    from uuid import UUID

    from ledger.domain.plan import Plan


class Drafted(LedgerAggregate.Created):
    """A plan was drafted for a partnership."""

    partner_id: UUID
    title: str
    period_start: date
    period_end: date
    objectives: list[str]
    report_every_days: int
    review_every_days: int
    grace_days: int

    def apply(self, plan: Plan) -> None:
        plan.partner_id = self.partner_id
        plan.title = self.title
        plan.period_start = self.period_start
        plan.period_end = self.period_end
        plan.objectives = list(self.objectives)
        plan.report_every_days = self.report_every_days
        plan.review_every_days = self.review_every_days
        plan.grace_days = self.grace_days
        plan.status = PlanStatus.DRAFT
        plan.metrics = {}
        plan.adjustments = {}
        plan.reviews = []
        plan.commitments = {Side.VENDOR.value: None, Side.PARTNER.value: None}
        plan.terms_version = 0
        plan.activated_at = None
        plan.closed_at = None
        plan.summary = None
        plan.grades = {}


class MetricProposed(LedgerAggregate.Event):
    """A side proposed a metric; proposing is that side's agreement."""

    metric_id: UUID
    spec: MetricSpec
    side: Side

    def apply(self, plan: Plan) -> None:
        spec = self.spec
        plan.metrics[str(self.metric_id)] = Metric(
            id=self.metric_id,
            owner_side=spec.owner_side,
            kind=spec.kind,
            name=spec.name,
            description=spec.description,
            unit=spec.unit,
            direction=spec.direction,
            target=spec.target,
            due_date=spec.due_date,
            objective=spec.objective,
            agreed_by={s.value: s is self.side for s in Side},
            proposed_by=self.side,
            terms_history=[Terms(spec.target, spec.due_date, self.timestamp)],
        )
        _terms_changed(plan)


class MetricRevised(LedgerAggregate.Event):
    """A side revised a draft metric: its agreement stands, the other side's is cleared."""

    metric_id: UUID
    spec: MetricSpec
    side: Side

    def apply(self, plan: Plan) -> None:
        spec = self.spec
        metric = plan.metrics[str(self.metric_id)]
        metric.owner_side = spec.owner_side
        metric.kind = spec.kind
        metric.name = spec.name
        metric.description = spec.description
        metric.unit = spec.unit
        metric.direction = spec.direction
        metric.target = spec.target
        metric.due_date = spec.due_date
        metric.objective = spec.objective
        metric.agreed_by = {s.value: s is self.side for s in Side}
        metric.proposed_by = self.side
        metric.terms_history.append(Terms(spec.target, spec.due_date, self.timestamp))
        _terms_changed(plan)


class MetricAgreed(LedgerAggregate.Event):
    """A side agreed to a metric proposed by the other side."""

    metric_id: UUID
    side: Side

    def apply(self, plan: Plan) -> None:
        plan.metrics[str(self.metric_id)].agreed_by[self.side.value] = True


class Committed(LedgerAggregate.Event):
    """A side committed to the plan's terms as they stand at ``terms_version``."""

    side: Side
    terms_version: int

    def apply(self, plan: Plan) -> None:
        plan.commitments[self.side.value] = Commitment(
            actor_id=self.actor.id,
            committed_at=self.timestamp,
            terms_version=self.terms_version,
        )


class Activated(LedgerAggregate.Event):
    """Both sides committed to the same terms: the plan is active."""

    terms_version: int

    def apply(self, plan: Plan) -> None:
        plan.status = PlanStatus.ACTIVE
        plan.activated_at = self.timestamp


class ProgressReported(LedgerAggregate.Event):
    """The owner side reported a metric's value as of a date."""

    metric_id: UUID
    value: Decimal
    as_of: date
    note: str | None
    evidence_url: str | None

    def apply(self, plan: Plan) -> None:
        metric = plan.metrics[str(self.metric_id)]
        report = Report(self.value, self.as_of, self.timestamp)
        metric.reports_count += 1
        if metric.latest is None or report.as_of >= metric.latest.as_of:
            metric.latest = report
        counts = rules.counts_for_delivery(
            report.as_of, report.recorded_at, metric.due_date, plan.grace_days
        )
        if counts and (metric.deciding is None or report.as_of >= metric.deciding.as_of):
            metric.deciding = report


class ReviewRecorded(LedgerAggregate.Event):
    """A review meeting was recorded with its attendees, notes and decisions."""

    review_id: UUID
    held_on: date
    attendees: list[ActorRef]
    notes: str | None
    decisions: str | None

    def apply(self, plan: Plan) -> None:
        plan.reviews.append(
            Review(
                id=self.review_id,
                held_on=self.held_on,
                attendees=list(self.attendees),
                notes=self.notes,
                decisions=self.decisions,
                recorded_by=self.actor,
                recorded_at=self.timestamp,
            )
        )


class AdjustmentProposed(LedgerAggregate.Event):
    """A side proposed to change a metric's target or due date, or to retire it."""

    adjustment_id: UUID
    metric_id: UUID
    kind: AdjustmentKind
    new_target: Decimal | None
    new_due_date: date | None
    reason: str

    def apply(self, plan: Plan) -> None:
        plan.adjustments[str(self.adjustment_id)] = Adjustment(
            id=self.adjustment_id,
            metric_id=self.metric_id,
            kind=self.kind,
            new_target=self.new_target,
            new_due_date=self.new_due_date,
            reason=self.reason,
            proposed_by=self.actor,
            proposed_at=self.timestamp,
        )


class AdjustmentAccepted(LedgerAggregate.Event):
    """The other side accepted an adjustment: the metric's terms change from now on."""

    adjustment_id: UUID
    reason: str | None

    def apply(self, plan: Plan) -> None:
        adjustment = _decided(plan, self, AdjustmentStatus.ACCEPTED)
        metric = plan.metrics[str(adjustment.metric_id)]
        if adjustment.kind is AdjustmentKind.RETIRE:
            metric.retired = True
        else:
            if adjustment.new_target is not None:
                metric.target = adjustment.new_target
            if adjustment.new_due_date is not None:
                metric.due_date = adjustment.new_due_date
            metric.terms_history.append(
                Terms(metric.target, metric.due_date, self.timestamp, adjustment.id)
            )
        plan.terms_version += 1


class AdjustmentRejected(LedgerAggregate.Event):
    """The other side rejected an adjustment."""

    adjustment_id: UUID
    reason: str | None

    def apply(self, plan: Plan) -> None:
        _decided(plan, self, AdjustmentStatus.REJECTED)


class AdjustmentWithdrawn(LedgerAggregate.Event):
    """The proposing side withdrew its adjustment."""

    adjustment_id: UUID
    reason: str | None

    def apply(self, plan: Plan) -> None:
        _decided(plan, self, AdjustmentStatus.WITHDRAWN)


class Closed(LedgerAggregate.Event):
    """The plan was closed after its period; an activated plan's metrics were graded."""

    summary: str | None
    grades: dict[str, Grade]

    def apply(self, plan: Plan) -> None:
        plan.status = PlanStatus.CLOSED
        plan.closed_at = self.timestamp
        plan.summary = self.summary
        plan.grades = dict(self.grades)


def _terms_changed(plan: Plan) -> None:
    """Any change to the draft terms clears both commitments."""
    plan.terms_version += 1
    plan.commitments = {side.value: None for side in Side}


def _decided(
    plan: Plan,
    event: AdjustmentAccepted | AdjustmentRejected | AdjustmentWithdrawn,
    status: AdjustmentStatus,
) -> Adjustment:
    """Record the outcome of an adjustment."""
    adjustment = plan.adjustments[str(event.adjustment_id)]
    adjustment.status = status
    adjustment.decided_by = event.actor
    adjustment.decided_at = event.timestamp
    adjustment.decision_reason = event.reason
    return adjustment
