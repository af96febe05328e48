"""Keyword shortcuts for scripts, the demo and tests: each builds one command and handles it.

The API and the command line build commands themselves (``ledger.commands``) and call
``Counterpart.handle``; these keep the older keyword calls working on top of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from ledger import commands as c
from ledger.domain import Actor, AdjustmentKind, MetricSpec, Partner, Plan, Role


class Shortcuts:
    """Mixed into ``Counterpart``: ``report_progress(...)`` handles ``ReportProgress(...)``."""

    def handle(self, command: c.Command, context: c.Context | None = None) -> c.Done:
        """Implemented by the application."""
        raise NotImplementedError

    def _plan(
        self,
        command: c.Command,
        actor_id: UUID,
        request_id: str | None,
        expected_version: int | None,
    ) -> c.Done:
        return self.handle(command, c.Context(actor_id, request_id, expected_version))

    def register_actor(
        self,
        *,
        name: str,
        email: str,
        role: Role,
        partner_id: UUID | None = None,
        by: UUID | None = None,
        request_id: str | None = None,
    ) -> tuple[Actor, str]:
        """Register an actor; the actor and its first token."""
        done = self.handle(
            c.RegisterActor(name, email, role, partner_id), c.Context(by, request_id)
        )
        return done.aggregate, done.result

    def issue_token(
        self, actor_id: UUID, *, by: UUID | None = None, request_id: str | None = None
    ) -> str:
        """Issue another token."""
        token: str = self.handle(c.IssueToken(actor_id), c.Context(by, request_id)).result
        return token

    def revoke_tokens(
        self, actor_id: UUID, *, by: UUID | None = None, request_id: str | None = None
    ) -> Actor:
        """Revoke every token of an actor."""
        actor: Actor = self.handle(c.RevokeTokens(actor_id), c.Context(by, request_id)).aggregate
        return actor

    def register_partner(
        self, *, name: str, manager_id: UUID, by: UUID | None = None, request_id: str | None = None
    ) -> Partner:
        """Register a partner organisation."""
        partner: Partner = self.handle(
            c.RegisterPartner(name, manager_id), c.Context(by, request_id)
        ).aggregate
        return partner

    def reassign_manager(
        self,
        partner_id: UUID,
        *,
        manager_id: UUID,
        by: UUID | None = None,
        request_id: str | None = None,
    ) -> Partner:
        """Hand a partnership to another manager."""
        partner: Partner = self.handle(
            c.ReassignManager(partner_id, manager_id), c.Context(by, request_id)
        ).aggregate
        return partner

    def draft_plan(
        self,
        *,
        partner_id: UUID,
        title: str,
        period_start: date,
        period_end: date,
        objectives: Sequence[str] = (),
        report_every_days: int = 14,
        review_every_days: int = 30,
        grace_days: int = 3,
        actor_id: UUID,
        request_id: str | None = None,
    ) -> Plan:
        """Draft a plan."""
        command = c.DraftPlan(
            partner_id,
            title,
            period_start,
            period_end,
            tuple(objectives),
            report_every_days,
            review_every_days,
            grace_days,
        )
        plan: Plan = self._plan(command, actor_id, request_id, None).aggregate
        return plan

    def _on(
        self,
        command: c.Command,
        actor_id: UUID,
        request_id: str | None,
        expected_version: int | None,
    ) -> tuple[Plan, Any]:
        done = self._plan(command, actor_id, request_id, expected_version)
        return done.aggregate, done.result

    def propose_metric(
        self,
        plan_id: UUID,
        spec: MetricSpec,
        *,
        actor_id: UUID,
        request_id: str | None = None,
        expected_version: int | None = None,
    ) -> tuple[Plan, UUID]:
        """Propose a metric; the plan and the metric's id."""
        return self._on(c.ProposeMetric(plan_id, spec), actor_id, request_id, expected_version)

    def revise_metric(
        self,
        plan_id: UUID,
        metric_id: UUID,
        spec: MetricSpec,
        *,
        actor_id: UUID,
        request_id: str | None = None,
        expected_version: int | None = None,
    ) -> Plan:
        """Revise a draft metric."""
        return self._on(
            c.ReviseMetric(plan_id, metric_id, spec), actor_id, request_id, expected_version
        )[0]

    def agree_metric(
        self,
        plan_id: UUID,
        metric_id: UUID,
        *,
        actor_id: UUID,
        request_id: str | None = None,
        expected_version: int | None = None,
    ) -> Plan:
        """Agree to a metric."""
        return self._on(c.AgreeMetric(plan_id, metric_id), actor_id, request_id, expected_version)[
            0
        ]

    def commit(
        self,
        plan_id: UUID,
        *,
        actor_id: UUID,
        request_id: str | None = None,
        expected_version: int | None = None,
    ) -> Plan:
        """Commit the caller's side."""
        return self._on(c.Commit(plan_id), actor_id, request_id, expected_version)[0]

    def report_progress(
        self,
        plan_id: UUID,
        metric_id: UUID,
        *,
        value: Decimal,
        as_of: date,
        note: str | None = None,
        evidence_url: str | None = None,
        actor_id: UUID,
        request_id: str | None = None,
        expected_version: int | None = None,
    ) -> Plan:
        """Report a metric's value."""
        command = c.ReportProgress(plan_id, metric_id, value, as_of, note, evidence_url)
        return self._on(command, actor_id, request_id, expected_version)[0]

    def record_review(
        self,
        plan_id: UUID,
        *,
        held_on: date,
        attendee_ids: Iterable[UUID],
        notes: str | None = None,
        decisions: str | None = None,
        actor_id: UUID,
        request_id: str | None = None,
        expected_version: int | None = None,
    ) -> tuple[Plan, UUID]:
        """Record a review; the plan and the review's id."""
        command = c.RecordReview(plan_id, held_on, tuple(attendee_ids), notes, decisions)
        return self._on(command, actor_id, request_id, expected_version)

    def propose_adjustment(
        self,
        plan_id: UUID,
        metric_id: UUID,
        *,
        kind: AdjustmentKind,
        reason: str,
        new_target: Decimal | None = None,
        new_due_date: date | None = None,
        actor_id: UUID,
        request_id: str | None = None,
        expected_version: int | None = None,
    ) -> tuple[Plan, UUID]:
        """Propose an adjustment; the plan and the adjustment's id."""
        command = c.ProposeAdjustment(plan_id, metric_id, kind, reason, new_target, new_due_date)
        return self._on(command, actor_id, request_id, expected_version)

    def accept_adjustment(
        self,
        plan_id: UUID,
        adjustment_id: UUID,
        *,
        reason: str | None = None,
        actor_id: UUID,
        request_id: str | None = None,
        expected_version: int | None = None,
    ) -> Plan:
        """Accept an adjustment."""
        return self._on(
            c.AcceptAdjustment(plan_id, adjustment_id, reason),
            actor_id,
            request_id,
            expected_version,
        )[0]

    def reject_adjustment(
        self,
        plan_id: UUID,
        adjustment_id: UUID,
        *,
        reason: str | None = None,
        actor_id: UUID,
        request_id: str | None = None,
        expected_version: int | None = None,
    ) -> Plan:
        """Reject an adjustment."""
        return self._on(
            c.RejectAdjustment(plan_id, adjustment_id, reason),
            actor_id,
            request_id,
            expected_version,
        )[0]

    def withdraw_adjustment(
        self,
        plan_id: UUID,
        adjustment_id: UUID,
        *,
        reason: str | None = None,
        actor_id: UUID,
        request_id: str | None = None,
        expected_version: int | None = None,
    ) -> Plan:
        """Withdraw an adjustment."""
        return self._on(
            c.WithdrawAdjustment(plan_id, adjustment_id, reason),
            actor_id,
            request_id,
            expected_version,
        )[0]

    def close_plan(
        self,
        plan_id: UUID,
        *,
        summary: str | None = None,
        actor_id: UUID,
        request_id: str | None = None,
        expected_version: int | None = None,
    ) -> Plan:
        """Close a plan."""
        return self._on(c.ClosePlan(plan_id, summary), actor_id, request_id, expected_version)[0]
