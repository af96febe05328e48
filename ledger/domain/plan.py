"""The Plan aggregate: a partner-specific SMART plan agreed, committed and kept by both sides."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, TypeAlias
from uuid import UUID, uuid4

from ledger.domain import plan_events as events
from ledger.domain import rules
from ledger.domain.base import LedgerAggregate
from ledger.domain.errors import (
    InvalidInput,
    NotAParty,
    NotFound,
    RuleViolation,
    WrongSide,
)
from ledger.domain.plan_checks import PlanChecks, not_in_future, sided
from ledger.domain.state import Adjustment, Commitment, Metric, Review
from ledger.domain.values import (
    Acting,
    ActorRef,
    AdjustmentKind,
    Grade,
    MetricSpec,
    Side,
)

MAX_METRICS = 50


class Plan(PlanChecks, LedgerAggregate):
    """A plan of one partnership: draft, then active once both sides commit, then closed."""

    if TYPE_CHECKING:  # declared for the type checker; annotations here would be init fields
        # partner_id, period_start, period_end, status, metrics, adjustments: see PlanChecks
        title: str
        objectives: list[str]
        report_every_days: int
        review_every_days: int
        grace_days: int
        reviews: list[Review]
        commitments: dict[str, Commitment | None]
        terms_version: int
        activated_at: datetime | None
        closed_at: datetime | None
        summary: str | None
        grades: dict[str, Grade]

    # ----------------------------------------------------------------- events
    # What each records and assigns is in ledger/domain/plan_events.py; named here, each is
    # redefined as Plan.<Name> and keeps its stored topic.

    if TYPE_CHECKING:
        Drafted: TypeAlias = events.Drafted
        MetricProposed: TypeAlias = events.MetricProposed
        MetricRevised: TypeAlias = events.MetricRevised
        MetricAgreed: TypeAlias = events.MetricAgreed
        Committed: TypeAlias = events.Committed
        Activated: TypeAlias = events.Activated
        ProgressReported: TypeAlias = events.ProgressReported
        ReviewRecorded: TypeAlias = events.ReviewRecorded
        AdjustmentProposed: TypeAlias = events.AdjustmentProposed
        AdjustmentAccepted: TypeAlias = events.AdjustmentAccepted
        AdjustmentRejected: TypeAlias = events.AdjustmentRejected
        AdjustmentWithdrawn: TypeAlias = events.AdjustmentWithdrawn
        Closed: TypeAlias = events.Closed
    else:
        Drafted = events.Drafted
        MetricProposed = events.MetricProposed
        MetricRevised = events.MetricRevised
        MetricAgreed = events.MetricAgreed
        Committed = events.Committed
        Activated = events.Activated
        ProgressReported = events.ProgressReported
        ReviewRecorded = events.ReviewRecorded
        AdjustmentProposed = events.AdjustmentProposed
        AdjustmentAccepted = events.AdjustmentAccepted
        AdjustmentRejected = events.AdjustmentRejected
        AdjustmentWithdrawn = events.AdjustmentWithdrawn
        Closed = events.Closed

    # ------------------------------------------------------------- commands

    @classmethod
    def draft(
        cls,
        *,
        title: str,
        period_start: date,
        period_end: date,
        objectives: list[str] | None = None,
        report_every_days: int = 14,
        review_every_days: int = 30,
        grace_days: int = 3,
        by: Acting,
    ) -> Plan:
        """Draft a plan for the partnership ``by`` was vouched for."""
        if by.partner_id is None:
            msg = "only a party to the partnership may draft its plans"
            raise NotAParty(msg)
        sided(by)
        rules.check_period(period_start, period_end)
        objectives = [rules.required_text(o, "objective") for o in objectives or []]
        if len(objectives) > rules.MAX_OBJECTIVES:
            msg = f"a plan has at most {rules.MAX_OBJECTIVES} objectives"
            raise InvalidInput(msg)
        return cls._start(
            cls.Drafted,
            by,
            partner_id=by.partner_id,
            title=rules.required_text(title, "title"),
            period_start=period_start,
            period_end=period_end,
            objectives=objectives,
            report_every_days=rules.day_count(
                report_every_days, "report_every_days", 1, rules.MAX_CADENCE_DAYS
            ),
            review_every_days=rules.day_count(
                review_every_days, "review_every_days", 1, rules.MAX_CADENCE_DAYS
            ),
            grace_days=rules.day_count(grace_days, "grace_days", 0, rules.MAX_GRACE_DAYS),
        )

    def propose_metric(self, spec: MetricSpec, *, by: Acting) -> UUID:
        """Propose a metric owned by either side; the proposer agrees by proposing."""
        side = self._party(by)
        self._require_draft("metrics are proposed")
        if len(self.metrics) >= MAX_METRICS:
            msg = f"a plan has at most {MAX_METRICS} metrics"
            raise RuleViolation(msg)
        spec = rules.smart(spec, self.period_start, self.period_end)
        metric_id = uuid4()
        self._trigger(self.MetricProposed, by, metric_id=metric_id, spec=spec, side=side)
        return metric_id

    def revise_metric(self, metric_id: UUID, spec: MetricSpec, *, by: Acting) -> None:
        """Revise a draft metric: a counter-proposal the other side must agree to again."""
        side = self._party(by)
        self._require_draft("metrics are revised")
        metric = self._metric(metric_id)
        spec = rules.smart(spec, self.period_start, self.period_end)
        if spec == metric.spec:
            msg = "the revision changes nothing; to accept these terms, agree to them"
            raise RuleViolation(msg)
        self._trigger(self.MetricRevised, by, metric_id=metric_id, spec=spec, side=side)

    def agree_metric(self, metric_id: UUID, *, by: Acting) -> None:
        """The acting side agrees to a metric's current terms."""
        side = self._party(by)
        self._require_draft("metrics are agreed")
        metric = self._metric(metric_id)
        if metric.is_agreed_by(side):
            msg = f"the {side.value} side has already agreed to {metric.name!r}"
            raise RuleViolation(msg)
        self._trigger(self.MetricAgreed, by, metric_id=metric_id, side=side)

    def commit(self, *, by: Acting) -> None:
        """The acting side commits to the current terms; the second commitment activates."""
        side = self._party(by)
        self._require_draft("sides commit")
        if self.commitments[side.value] is not None:
            msg = f"the {side.value} side has already committed to these terms"
            raise RuleViolation(msg)
        live = [m for m in self.metrics.values() if not m.retired]
        pending = [m.name for m in live if not m.is_agreed]
        if pending:
            msg = f"every metric must be agreed by both sides first; not yet: {pending}"
            raise RuleViolation(msg)
        for owner in Side:
            if not any(m.owner_side is owner for m in live):
                msg = f"each side must own at least one metric; the {owner.value} side owns none"
                raise RuleViolation(msg)
        self._trigger(self.Committed, by, side=side, terms_version=self.terms_version)
        other = self.commitments[side.other.value]
        if other is not None and other.terms_version == self.terms_version:
            self._trigger(self.Activated, by, terms_version=self.terms_version)

    def report_progress(
        self,
        metric_id: UUID,
        *,
        value: Decimal,
        as_of: date,
        note: str | None = None,
        evidence_url: str | None = None,
        by: Acting,
    ) -> None:
        """The owner side reports a metric's value as of a date (not in the future)."""
        side = self._party(by)
        self._require_active("progress is reported")
        metric = self._live_metric(metric_id)
        if side is not metric.owner_side:
            msg = f"only the {metric.owner_side.value} side reports on {metric.name!r}"
            raise WrongSide(msg)
        rules.amount(value, "value")
        not_in_future(as_of, by, "as_of")
        if as_of < self.period_start:
            msg = f"as_of ({as_of}) must not be before the plan starts ({self.period_start})"
            raise InvalidInput(msg)
        self._trigger(
            self.ProgressReported,
            by,
            metric_id=metric_id,
            value=value,
            as_of=as_of,
            note=rules.optional_text(note, "note"),
            evidence_url=rules.evidence_link(evidence_url),
        )

    def record_review(
        self,
        *,
        held_on: date,
        attendees: list[ActorRef],
        notes: str | None = None,
        decisions: str | None = None,
        by: Acting,
    ) -> UUID:
        """Record a review held on a date, at most ``grace_days`` before today."""
        self._party(by)
        self._require_active("reviews are recorded")
        not_in_future(held_on, by, "held_on")
        earliest = by.today - timedelta(days=self.grace_days)
        if held_on < earliest:
            msg = (
                f"held_on ({held_on}) is more than {self.grace_days} days ago; "
                f"reviews are recorded within {self.grace_days} days of being held"
            )
            raise InvalidInput(msg)
        if held_on < self.period_start:
            msg = f"held_on ({held_on}) must not be before the plan starts ({self.period_start})"
            raise InvalidInput(msg)
        if not attendees:
            msg = "a review needs at least one attendee"
            raise InvalidInput(msg)
        review_id = uuid4()
        self._trigger(
            self.ReviewRecorded,
            by,
            review_id=review_id,
            held_on=held_on,
            attendees=list(attendees),
            notes=rules.optional_text(notes, "notes"),
            decisions=rules.optional_text(decisions, "decisions"),
        )
        return review_id

    def propose_adjustment(
        self,
        metric_id: UUID,
        *,
        kind: AdjustmentKind,
        reason: str,
        new_target: Decimal | None = None,
        new_due_date: date | None = None,
        by: Acting,
    ) -> UUID:
        """Propose changing a metric's target or due date, or retiring it, before it is due."""
        self._party(by)
        self._require_active("adjustments are proposed")
        metric = self._live_metric(metric_id)
        self._require_not_due(metric, by)
        if any(a.is_open and a.metric_id == metric_id for a in self.adjustments.values()):
            msg = f"{metric.name!r} already has an open adjustment; answer or withdraw it first"
            raise RuleViolation(msg)
        reason = rules.required_text(reason, "reason", rules.MAX_LONG_TEXT)
        self._check_adjustment(metric, kind, new_target, new_due_date, by)
        adjustment_id = uuid4()
        self._trigger(
            self.AdjustmentProposed,
            by,
            adjustment_id=adjustment_id,
            metric_id=metric_id,
            kind=kind,
            new_target=new_target,
            new_due_date=new_due_date,
            reason=reason,
        )
        return adjustment_id

    def accept_adjustment(
        self, adjustment_id: UUID, *, reason: str | None = None, by: Acting
    ) -> None:
        """The other side accepts an adjustment; the terms change from now on."""
        adjustment = self._answerable(adjustment_id, by)
        metric = self.metrics[str(adjustment.metric_id)]
        self._require_not_due(metric, by)
        if adjustment.new_due_date is not None and adjustment.new_due_date <= by.today:
            msg = f"the proposed due date {adjustment.new_due_date} has already come"
            raise RuleViolation(msg)
        self._trigger(
            self.AdjustmentAccepted,
            by,
            adjustment_id=adjustment_id,
            reason=rules.optional_text(reason, "reason"),
        )

    def reject_adjustment(
        self, adjustment_id: UUID, *, reason: str | None = None, by: Acting
    ) -> None:
        """The other side rejects an adjustment; the terms stay as they are."""
        self._answerable(adjustment_id, by)
        self._trigger(
            self.AdjustmentRejected,
            by,
            adjustment_id=adjustment_id,
            reason=rules.optional_text(reason, "reason"),
        )

    def withdraw_adjustment(
        self, adjustment_id: UUID, *, reason: str | None = None, by: Acting
    ) -> None:
        """The proposing side withdraws its adjustment."""
        side = self._party(by)
        self._require_active("adjustments are withdrawn")
        adjustment = self._open_adjustment(adjustment_id)
        if side is not adjustment.proposed_by_side:
            msg = "only the side that proposed an adjustment may withdraw it"
            raise WrongSide(msg)
        self._trigger(
            self.AdjustmentWithdrawn,
            by,
            adjustment_id=adjustment_id,
            reason=rules.optional_text(reason, "reason"),
        )

    def close(self, *, summary: str | None = None, by: Acting) -> None:
        """Close the plan after its period ends; an activated plan's metrics are graded."""
        self._party(by)
        if by.today <= self.period_end:
            msg = f"the plan can be closed only after its period ends on {self.period_end}"
            raise RuleViolation(msg)
        self._trigger(
            self.Closed,
            by,
            summary=rules.optional_text(summary, "summary"),
            grades=self.grading(),
        )

    # -------------------------------------------------------------- queries

    def grading(self) -> dict[str, Grade]:
        """Met or missed for each live metric of an activated plan (none for a draft)."""
        if self.activated_at is None:
            return {}
        grades: dict[str, Grade] = {}
        for key, metric in self.metrics.items():
            if metric.retired:
                continue
            value = metric.deciding.value if metric.deciding else None
            met = rules.attainment(metric.direction, metric.target, value) == 1
            grades[key] = Grade.MET if met else Grade.MISSED
        return grades

    def metric(self, metric_id: UUID) -> Metric:
        """The metric with this id."""
        return self._metric(metric_id)

    def adjustment(self, adjustment_id: UUID) -> Adjustment:
        """The adjustment with this id."""
        try:
            return self.adjustments[str(adjustment_id)]
        except KeyError:
            msg = f"adjustment {adjustment_id} not found on this plan"
            raise NotFound(msg) from None
