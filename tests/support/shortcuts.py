"""Keyword shortcuts for tests and benchmarks: each builds one ledger command and handles it.

``shortcuts.report_progress(app, plan_id, metric_id, value=…, as_of=…, actor_id=…)`` is
``app.handle(ReportProgress(…), Context(actor_id))``: the application itself has one entry
point, ``Counterpart.handle``; these keep the rules in tests short.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from ledger import commands as c
from ledger.application import Counterpart
from ledger.domain import Actor, AdjustmentKind, MetricSpec, Partner, Plan, Role


def _plan(
    app: Counterpart,
    command: c.Command,
    actor_id: UUID,
    request_id: str | None,
    expected_version: int | None,
) -> c.Done:
    return app.handle(command, c.Context(actor_id, request_id, expected_version))


def register_actor(
    app: Counterpart,
    *,
    name: str,
    email: str,
    role: Role,
    partner_id: UUID | None = None,
    by: UUID | None = None,
    request_id: str | None = None,
) -> tuple[Actor, str]:
    """Register an actor; the actor and its first token."""
    done = app.handle(c.RegisterActor(name, email, role, partner_id), c.Context(by, request_id))
    return done.aggregate, done.result


def issue_token(
    app: Counterpart, actor_id: UUID, *, by: UUID | None = None, request_id: str | None = None
) -> str:
    """Issue another token."""
    token: str = app.handle(c.IssueToken(actor_id), c.Context(by, request_id)).result
    return token


def revoke_tokens(
    app: Counterpart, actor_id: UUID, *, by: UUID | None = None, request_id: str | None = None
) -> Actor:
    """Revoke every token of an actor."""
    actor: Actor = app.handle(c.RevokeTokens(actor_id), c.Context(by, request_id)).aggregate
    return actor


def register_partner(
    app: Counterpart,
    *,
    name: str,
    manager_id: UUID,
    by: UUID | None = None,
    request_id: str | None = None,
) -> Partner:
    """Register a partner organisation."""
    partner: Partner = app.handle(
        c.RegisterPartner(name, manager_id), c.Context(by, request_id)
    ).aggregate
    return partner


def reassign_manager(
    app: Counterpart,
    partner_id: UUID,
    *,
    manager_id: UUID,
    by: UUID | None = None,
    request_id: str | None = None,
) -> Partner:
    """Hand a partnership to another manager."""
    partner: Partner = app.handle(
        c.ReassignManager(partner_id, manager_id), c.Context(by, request_id)
    ).aggregate
    return partner


def draft_plan(
    app: Counterpart,
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
    plan: Plan = _plan(app, command, actor_id, request_id, None).aggregate
    return plan


def _on(
    app: Counterpart,
    command: c.Command,
    actor_id: UUID,
    request_id: str | None,
    expected_version: int | None,
) -> tuple[Plan, Any]:
    done = _plan(app, command, actor_id, request_id, expected_version)
    return done.aggregate, done.result


def propose_metric(
    app: Counterpart,
    plan_id: UUID,
    spec: MetricSpec,
    *,
    actor_id: UUID,
    request_id: str | None = None,
    expected_version: int | None = None,
) -> tuple[Plan, UUID]:
    """Propose a metric; the plan and the metric's id."""
    return _on(app, c.ProposeMetric(plan_id, spec), actor_id, request_id, expected_version)


def revise_metric(
    app: Counterpart,
    plan_id: UUID,
    metric_id: UUID,
    spec: MetricSpec,
    *,
    actor_id: UUID,
    request_id: str | None = None,
    expected_version: int | None = None,
) -> Plan:
    """Revise a draft metric."""
    return _on(
        app, c.ReviseMetric(plan_id, metric_id, spec), actor_id, request_id, expected_version
    )[0]


def agree_metric(
    app: Counterpart,
    plan_id: UUID,
    metric_id: UUID,
    *,
    actor_id: UUID,
    request_id: str | None = None,
    expected_version: int | None = None,
) -> Plan:
    """Agree to a metric."""
    return _on(app, c.AgreeMetric(plan_id, metric_id), actor_id, request_id, expected_version)[0]


def commit(
    app: Counterpart,
    plan_id: UUID,
    *,
    actor_id: UUID,
    request_id: str | None = None,
    expected_version: int | None = None,
) -> Plan:
    """Commit the caller's side."""
    return _on(app, c.Commit(plan_id), actor_id, request_id, expected_version)[0]


def report_progress(
    app: Counterpart,
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
    return _on(app, command, actor_id, request_id, expected_version)[0]


def record_review(
    app: Counterpart,
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
    return _on(app, command, actor_id, request_id, expected_version)


def propose_adjustment(
    app: Counterpart,
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
    return _on(app, command, actor_id, request_id, expected_version)


def accept_adjustment(
    app: Counterpart,
    plan_id: UUID,
    adjustment_id: UUID,
    *,
    reason: str | None = None,
    actor_id: UUID,
    request_id: str | None = None,
    expected_version: int | None = None,
) -> Plan:
    """Accept an adjustment."""
    return _on(
        app,
        c.AcceptAdjustment(plan_id, adjustment_id, reason),
        actor_id,
        request_id,
        expected_version,
    )[0]


def reject_adjustment(
    app: Counterpart,
    plan_id: UUID,
    adjustment_id: UUID,
    *,
    reason: str | None = None,
    actor_id: UUID,
    request_id: str | None = None,
    expected_version: int | None = None,
) -> Plan:
    """Reject an adjustment."""
    return _on(
        app,
        c.RejectAdjustment(plan_id, adjustment_id, reason),
        actor_id,
        request_id,
        expected_version,
    )[0]


def withdraw_adjustment(
    app: Counterpart,
    plan_id: UUID,
    adjustment_id: UUID,
    *,
    reason: str | None = None,
    actor_id: UUID,
    request_id: str | None = None,
    expected_version: int | None = None,
) -> Plan:
    """Withdraw an adjustment."""
    return _on(
        app,
        c.WithdrawAdjustment(plan_id, adjustment_id, reason),
        actor_id,
        request_id,
        expected_version,
    )[0]


def close_plan(
    app: Counterpart,
    plan_id: UUID,
    *,
    summary: str | None = None,
    actor_id: UUID,
    request_id: str | None = None,
    expected_version: int | None = None,
) -> Plan:
    """Close a plan."""
    return _on(app, c.ClosePlan(plan_id, summary), actor_id, request_id, expected_version)[0]
