"""Commands as data: one frozen dataclass per command, and the context it is handled in.

A route, the command line or a test builds a command and hands it to
``Counterpart.handle(command, context)``. A plan command names its plan and runs one method
of the ``Plan`` aggregate (``run``); every rule lives in the aggregate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from ledger.domain import Acting, Actor, AdjustmentKind, MetricSpec, Partner, Plan, Role


@dataclass(frozen=True)
class Keyed:
    """An Idempotency-Key: whose, which key, and the fingerprint of the request it names."""

    actor_id: UUID
    key: str
    fingerprint: str


@dataclass(frozen=True)
class Answer:
    """What a command answered: status, JSON body and headers; ``kept`` is the body a
    replay gets when it differs (a new token is shown once, never kept)."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    kept: bytes | None = None

    @property
    def replayed_body(self) -> bytes:
        """The body a repeat of the key gets."""
        return self.body if self.kept is None else self.kept


@dataclass
class Done:
    """A handled command: the aggregate it changed, what it returned (a new id, a token), and
    its answer (rendered by the context before the save, or replayed from the key)."""

    aggregate: Any
    result: Any = None
    answer: Answer | None = None
    replayed: bool = False


@dataclass(frozen=True)
class Context:
    """Who acts, in which request, on which version, under which key; how to answer.

    ``actor_id`` None is the operator at the command line (admin commands only). ``answer``
    renders the response from the changed aggregate before it is saved: with a key, that
    answer is stored in the same transaction as the events.
    """

    actor_id: UUID | None = None
    request_id: str | None = None
    expected_version: int | None = None
    key: Keyed | None = None
    answer: Callable[[Done], Answer] | None = None


# --------------------------------------------------------------------------- plans


class PlanCommand:
    """A command on an existing plan."""

    plan_id: UUID

    def run(
        self, plan: Plan, by: Acting, partner: Partner, actor: Callable[[UUID, str], Actor]
    ) -> Any:
        """Run the aggregate's method; what it returns (a new id) or None."""
        raise NotImplementedError


@dataclass(frozen=True)
class DraftPlan:
    """Draft a plan for a partnership (its manager or one of its contacts)."""

    partner_id: UUID
    title: str
    period_start: date
    period_end: date
    objectives: Sequence[str] = ()
    report_every_days: int = 14
    review_every_days: int = 30
    grace_days: int = 3


@dataclass(frozen=True)
class ProposeMetric(PlanCommand):
    """Propose a metric on a draft plan; returns the new metric's id."""

    plan_id: UUID
    spec: MetricSpec

    def run(self, plan: Plan, by: Acting, partner: Partner, actor: Any) -> UUID:
        """Propose it."""
        return plan.propose_metric(self.spec, by=by)


@dataclass(frozen=True)
class ReviseMetric(PlanCommand):
    """Revise a draft metric (a counter-proposal)."""

    plan_id: UUID
    metric_id: UUID
    spec: MetricSpec

    def run(self, plan: Plan, by: Acting, partner: Partner, actor: Any) -> None:
        """Revise it."""
        plan.revise_metric(self.metric_id, self.spec, by=by)


@dataclass(frozen=True)
class AgreeMetric(PlanCommand):
    """The caller's side agrees to a metric."""

    plan_id: UUID
    metric_id: UUID

    def run(self, plan: Plan, by: Acting, partner: Partner, actor: Any) -> None:
        """Agree."""
        plan.agree_metric(self.metric_id, by=by)


@dataclass(frozen=True)
class Commit(PlanCommand):
    """The caller's side commits; the second commitment activates the plan."""

    plan_id: UUID

    def run(self, plan: Plan, by: Acting, partner: Partner, actor: Any) -> None:
        """Commit."""
        plan.commit(by=by)


@dataclass(frozen=True)
class ReportProgress(PlanCommand):
    """The owner side reports a metric's value as of a date."""

    plan_id: UUID
    metric_id: UUID
    value: Decimal
    as_of: date
    note: str | None = None
    evidence_url: str | None = None

    def run(self, plan: Plan, by: Acting, partner: Partner, actor: Any) -> None:
        """Report."""
        plan.report_progress(
            self.metric_id,
            value=self.value,
            as_of=self.as_of,
            note=self.note,
            evidence_url=self.evidence_url,
            by=by,
        )


@dataclass(frozen=True)
class RecordReview(PlanCommand):
    """Record a review; attendees are the partnership's parties or vendor leaders."""

    plan_id: UUID
    held_on: date
    attendee_ids: Sequence[UUID] = ()
    notes: str | None = None
    decisions: str | None = None

    def run(
        self, plan: Plan, by: Acting, partner: Partner, actor: Callable[[UUID, str], Actor]
    ) -> UUID:
        """Record it; returns the review's id."""
        named = list(dict.fromkeys(self.attendee_ids))
        attendees = [actor(a, "attendee_ids") for a in named]
        return plan.record_review(
            held_on=self.held_on,
            attendees=partner.attendees(attendees),
            notes=self.notes,
            decisions=self.decisions,
            by=by,
        )


@dataclass(frozen=True)
class ProposeAdjustment(PlanCommand):
    """Propose changing or retiring a metric of an active plan; returns its id."""

    plan_id: UUID
    metric_id: UUID
    kind: AdjustmentKind
    reason: str
    new_target: Decimal | None = None
    new_due_date: date | None = None

    def run(self, plan: Plan, by: Acting, partner: Partner, actor: Any) -> UUID:
        """Propose it."""
        return plan.propose_adjustment(
            self.metric_id,
            kind=self.kind,
            reason=self.reason,
            new_target=self.new_target,
            new_due_date=self.new_due_date,
            by=by,
        )


@dataclass(frozen=True)
class AcceptAdjustment(PlanCommand):
    """The other side accepts an adjustment."""

    plan_id: UUID
    adjustment_id: UUID
    reason: str | None = None

    def run(self, plan: Plan, by: Acting, partner: Partner, actor: Any) -> None:
        """Accept it."""
        plan.accept_adjustment(self.adjustment_id, reason=self.reason, by=by)


@dataclass(frozen=True)
class RejectAdjustment(PlanCommand):
    """The other side rejects an adjustment."""

    plan_id: UUID
    adjustment_id: UUID
    reason: str | None = None

    def run(self, plan: Plan, by: Acting, partner: Partner, actor: Any) -> None:
        """Reject it."""
        plan.reject_adjustment(self.adjustment_id, reason=self.reason, by=by)


@dataclass(frozen=True)
class WithdrawAdjustment(PlanCommand):
    """The proposing side withdraws its adjustment."""

    plan_id: UUID
    adjustment_id: UUID
    reason: str | None = None

    def run(self, plan: Plan, by: Acting, partner: Partner, actor: Any) -> None:
        """Withdraw it."""
        plan.withdraw_adjustment(self.adjustment_id, reason=self.reason, by=by)


@dataclass(frozen=True)
class ClosePlan(PlanCommand):
    """Close a plan after its period; its metrics are graded met or missed."""

    plan_id: UUID
    summary: str | None = None

    def run(self, plan: Plan, by: Acting, partner: Partner, actor: Any) -> None:
        """Close it."""
        plan.close(summary=self.summary, by=by)


# ------------------------------------------------------------ actors and partners


@dataclass(frozen=True)
class RegisterActor:
    """Register an actor and issue their first token (the result is the token)."""

    name: str
    email: str
    role: Role
    partner_id: UUID | None = None


@dataclass(frozen=True)
class IssueToken:
    """Issue another token to an actor (the result); older tokens stay valid."""

    actor_id: UUID


@dataclass(frozen=True)
class RevokeTokens:
    """Revoke every token of an actor."""

    actor_id: UUID


@dataclass(frozen=True)
class RegisterPartner:
    """Register a partner organisation owned by a channel manager."""

    name: str
    manager_id: UUID


@dataclass(frozen=True)
class ReassignManager:
    """Hand a partnership to another channel manager."""

    partner_id: UUID
    manager_id: UUID


Command = (
    DraftPlan
    | PlanCommand
    | RegisterActor
    | IssueToken
    | RevokeTokens
    | RegisterPartner
    | ReassignManager
)
