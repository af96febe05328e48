"""The routes of the plan forms: one POST per command, each through ``api.web.acting``."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api import schemas
from api.deps import ServicesDep
from api.errors import Problem, domain_problem
from api.reads import today
from api.routes.plans import spec_of
from api.web.acting import act, handled, partner_page, plain_fields
from api.web.actions import drafting
from api.web.forms import Form, SubmittedDep, checked_csrf, parsed, text
from api.web.viewer import ViewerDep
from ledger import commands as c
from ledger.domain import AdjustmentKind, LedgerError

router = APIRouter(include_in_schema=False)


# ------------------------------------------------------------------- routes


@router.post("/partners/{partner_id}/plans", response_model=None)
def draft_plan(
    partner_id: UUID, request: Request, services: ServicesDep, viewer: ViewerDep, sent: SubmittedDep
) -> Response:
    """Draft a plan for the partnership; on to the new plan's page."""
    checked_csrf(viewer, sent)
    form = drafting(services, viewer.principal, partner_id, today(services))
    fields = form.fields if form else plain_fields(schemas.PlanIn)
    shown = (form or Form("draft", "", "", "", fields)).as_typed(sent)
    sent = {**sent, "partner_id": str(partner_id)}
    found = parsed(schemas.PlanIn, sent, fields, ("objectives",))
    if isinstance(found, list):
        return partner_page(request, services, viewer, partner_id, 422, shown.invalid(found))
    body = found
    command = c.DraftPlan(
        partner_id,
        body.title,
        body.period_start,
        body.period_end,
        tuple(body.objectives),
        body.report_every_days,
        body.review_every_days,
        body.grace_days,
    )
    try:
        return handled(
            request,
            services,
            viewer,
            sent,
            command,
            body,
            lambda done: f"/plans/{done.aggregate.id}?done=drafted",
            shown,
            None,
        )
    except LedgerError as error:
        status = domain_problem(error).status_code
        return partner_page(
            request, services, viewer, partner_id, status, shown.refused(str(error))
        )


@router.post("/plans/{plan_id}/metrics", response_model=None)
def propose_metric(
    plan_id: UUID, request: Request, services: ServicesDep, viewer: ViewerDep, sent: SubmittedDep
) -> Response:
    """Propose a metric."""
    return act(
        request,
        services,
        viewer,
        sent,
        plan_id,
        "propose",
        "proposed",
        schemas.MetricIn,
        lambda body: c.ProposeMetric(plan_id, spec_of(body)),
    )


@router.post("/plans/{plan_id}/metrics/{metric_id}/revise", response_model=None)
def revise_metric(
    plan_id: UUID,
    metric_id: UUID,
    *,
    request: Request,
    services: ServicesDep,
    viewer: ViewerDep,
    sent: SubmittedDep,
) -> Response:
    """Revise a draft metric."""
    return act(
        request,
        services,
        viewer,
        sent,
        plan_id,
        f"revise-{metric_id}",
        "revised",
        schemas.MetricIn,
        lambda body: c.ReviseMetric(plan_id, metric_id, spec_of(body)),
    )


@router.post("/plans/{plan_id}/metrics/{metric_id}/agree", response_model=None)
def agree_metric(
    plan_id: UUID,
    metric_id: UUID,
    *,
    request: Request,
    services: ServicesDep,
    viewer: ViewerDep,
    sent: SubmittedDep,
) -> Response:
    """Agree to a metric."""
    return act(
        request,
        services,
        viewer,
        sent,
        plan_id,
        f"agree-{metric_id}",
        "agreed",
        None,
        lambda _: c.AgreeMetric(plan_id, metric_id),
    )


@router.post("/plans/{plan_id}/commit", response_model=None)
def commit(
    plan_id: UUID, request: Request, services: ServicesDep, viewer: ViewerDep, sent: SubmittedDep
) -> Response:
    """Commit the viewer's side."""
    return act(
        request,
        services,
        viewer,
        sent,
        plan_id,
        "commit",
        "committed",
        None,
        lambda _: c.Commit(plan_id),
    )


@router.post("/plans/{plan_id}/metrics/{metric_id}/progress", response_model=None)
def report_progress(
    plan_id: UUID,
    metric_id: UUID,
    *,
    request: Request,
    services: ServicesDep,
    viewer: ViewerDep,
    sent: SubmittedDep,
) -> Response:
    """Report progress on a metric."""
    return act(
        request,
        services,
        viewer,
        sent,
        plan_id,
        f"progress-{metric_id}",
        "reported",
        schemas.ProgressIn,
        lambda b: c.ReportProgress(plan_id, metric_id, b.value, b.as_of, b.note, b.evidence_url),
    )


@router.post("/plans/{plan_id}/reviews", response_model=None)
def record_review(
    plan_id: UUID, request: Request, services: ServicesDep, viewer: ViewerDep, sent: SubmittedDep
) -> Response:
    """Record a review."""
    return act(
        request,
        services,
        viewer,
        sent,
        plan_id,
        "review",
        "reviewed",
        schemas.ReviewIn,
        lambda b: c.RecordReview(plan_id, b.held_on, tuple(b.attendee_ids), b.notes, b.decisions),
        ("attendee_ids",),
    )


@router.post("/plans/{plan_id}/adjustments", response_model=None)
def propose_adjustment(
    plan_id: UUID, request: Request, services: ServicesDep, viewer: ViewerDep, sent: SubmittedDep
) -> Response:
    """Propose an adjustment (the fields of the other kinds are ignored)."""
    kind = text(sent, "kind")
    sent = {
        k: v
        for k, v in sent.items()
        if not (k == "new_target" and kind != "change_target")
        and not (k == "new_due_date" and kind != "change_due_date")
    }
    return act(
        request,
        services,
        viewer,
        sent,
        plan_id,
        "adjust",
        "adjustment",
        schemas.AdjustmentIn,
        lambda b: c.ProposeAdjustment(
            plan_id, b.metric_id, AdjustmentKind(b.kind), b.reason, b.new_target, b.new_due_date
        ),
    )


ANSWERS = {
    "accept": (c.AcceptAdjustment, "accepted", "answer"),
    "reject": (c.RejectAdjustment, "rejected", "answer"),
    "withdraw": (c.WithdrawAdjustment, "withdrawn", "withdraw"),
}


@router.post("/plans/{plan_id}/adjustments/{adjustment_id}/{verb}", response_model=None)
def answer_adjustment(
    plan_id: UUID,
    adjustment_id: UUID,
    verb: str,
    *,
    request: Request,
    services: ServicesDep,
    viewer: ViewerDep,
    sent: SubmittedDep,
) -> Response:
    """Accept, reject or withdraw an adjustment."""
    if verb not in ANSWERS:
        raise Problem(404, f"no such action: {verb}")
    command, done, form = ANSWERS[verb]
    return act(
        request,
        services,
        viewer,
        sent,
        plan_id,
        f"{form}-{adjustment_id}",
        done,
        schemas.ReasonIn,
        lambda b: command(plan_id, adjustment_id, b.reason),
    )


@router.post("/plans/{plan_id}/close", response_model=None)
def close_plan(
    plan_id: UUID, request: Request, services: ServicesDep, viewer: ViewerDep, sent: SubmittedDep
) -> Response:
    """Close the plan."""
    return act(
        request,
        services,
        viewer,
        sent,
        plan_id,
        "close",
        "closed",
        schemas.CloseIn,
        lambda b: c.ClosePlan(plan_id, b.summary),
    )
