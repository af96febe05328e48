"""The routes of the plan forms: one POST per command (a table), each through ``api.web.acting``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel

from api import schemas
from api.deps import ServicesDep
from api.errors import domain_problem
from api.reads import today
from api.routes.plans import spec_of
from api.services import Services
from api.web.acting import act, handled, partner_page, plain_fields
from api.web.actions import drafting
from api.web.forms import Form, Submitted, SubmittedDep, checked_csrf, parsed, text
from api.web.viewer import Viewer, ViewerDep
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


@dataclass(frozen=True)
class PlanForm:
    """One plan form's route: its path, the form it answers (``{item}``: the metric or the
    adjustment in the path), the notice when done, its body and the command it sends."""

    path: str
    form: str
    done: str
    model: type[BaseModel] | None
    command: Callable[[UUID, UUID | None, Any], c.Command]
    lists: tuple[str, ...] = ()


def _adjustment(plan_id: UUID, _: UUID | None, b: schemas.AdjustmentIn) -> c.Command:
    return c.ProposeAdjustment(
        plan_id, b.metric_id, AdjustmentKind(b.kind), b.reason, b.new_target, b.new_due_date
    )


PLAN_FORMS = (
    PlanForm(
        "/plans/{plan_id}/metrics",
        "propose",
        "proposed",
        schemas.MetricIn,
        lambda plan_id, _, b: c.ProposeMetric(plan_id, spec_of(b)),
    ),
    PlanForm(
        "/plans/{plan_id}/metrics/{item_id}/revise",
        "revise-{item}",
        "revised",
        schemas.MetricIn,
        lambda plan_id, metric_id, b: c.ReviseMetric(plan_id, _item(metric_id), spec_of(b)),
    ),
    PlanForm(
        "/plans/{plan_id}/metrics/{item_id}/agree",
        "agree-{item}",
        "agreed",
        None,
        lambda plan_id, metric_id, _: c.AgreeMetric(plan_id, _item(metric_id)),
    ),
    PlanForm("/plans/{plan_id}/commit", "commit", "committed", None, lambda p, _, __: c.Commit(p)),
    PlanForm(
        "/plans/{plan_id}/metrics/{item_id}/progress",
        "progress-{item}",
        "reported",
        schemas.ProgressIn,
        lambda plan_id, metric_id, b: c.ReportProgress(
            plan_id, _item(metric_id), b.value, b.as_of, b.note, b.evidence_url
        ),
    ),
    PlanForm(
        "/plans/{plan_id}/reviews",
        "review",
        "reviewed",
        schemas.ReviewIn,
        lambda plan_id, _, b: c.RecordReview(
            plan_id, b.held_on, tuple(b.attendee_ids), b.notes, b.decisions
        ),
        ("attendee_ids",),
    ),
    PlanForm(
        "/plans/{plan_id}/adjustments", "adjust", "adjustment", schemas.AdjustmentIn, _adjustment
    ),
    PlanForm(
        "/plans/{plan_id}/adjustments/{item_id}/accept",
        "answer-{item}",
        "accepted",
        schemas.ReasonIn,
        lambda plan_id, a, b: c.AcceptAdjustment(plan_id, _item(a), b.reason),
    ),
    PlanForm(
        "/plans/{plan_id}/adjustments/{item_id}/reject",
        "answer-{item}",
        "rejected",
        schemas.ReasonIn,
        lambda plan_id, a, b: c.RejectAdjustment(plan_id, _item(a), b.reason),
    ),
    PlanForm(
        "/plans/{plan_id}/adjustments/{item_id}/withdraw",
        "withdraw-{item}",
        "withdrawn",
        schemas.ReasonIn,
        lambda plan_id, a, b: c.WithdrawAdjustment(plan_id, _item(a), b.reason),
    ),
    PlanForm(
        "/plans/{plan_id}/close",
        "close",
        "closed",
        schemas.CloseIn,
        lambda plan_id, _, b: c.ClosePlan(plan_id, b.summary),
    ),
)
"""Every plan form but drafting (whose refusal shows the partnership page): one POST each."""


def _item(item_id: UUID | None) -> UUID:
    if item_id is None:  # pragma: no cover - every path with {item} has {item_id}
        msg = "this form's path names no item"
        raise TypeError(msg)
    return item_id


def _route(spec: PlanForm) -> Callable[..., Response]:
    """The endpoint of one plan form (with the item's id from the path when it names one)."""

    def on_plan(
        plan_id: UUID,
        request: Request,
        services: ServicesDep,
        viewer: ViewerDep,
        sent: SubmittedDep,
    ) -> Response:
        return _sent(spec, plan_id, None, request, services, viewer, sent)

    def on_item(
        plan_id: UUID,
        item_id: UUID,
        *,
        request: Request,
        services: ServicesDep,
        viewer: ViewerDep,
        sent: SubmittedDep,
    ) -> Response:
        return _sent(spec, plan_id, item_id, request, services, viewer, sent)

    return on_item if "{item_id}" in spec.path else on_plan


def _sent(  # noqa: PLR0917 (the endpoint's arguments, passed on)
    spec: PlanForm,
    plan_id: UUID,
    item_id: UUID | None,
    request: Request,
    services: Services,
    viewer: Viewer,
    sent: Submitted,
) -> Response:
    if spec.model is schemas.AdjustmentIn:
        sent = _this_kind_only(sent)
    return act(
        request,
        services,
        viewer,
        sent,
        plan_id,
        spec.form.format(item=item_id),
        spec.done,
        spec.model,
        lambda body: spec.command(plan_id, item_id, body),
        spec.lists,
    )


def _this_kind_only(sent: Submitted) -> Submitted:
    """An adjustment's form without the fields of the other kinds (they are ignored)."""
    kind = text(sent, "kind")
    return {
        k: v
        for k, v in sent.items()
        if not (k == "new_target" and kind != "change_target")
        and not (k == "new_due_date" and kind != "change_due_date")
    }


for _spec in PLAN_FORMS:
    router.add_api_route(
        _spec.path, _route(_spec), methods=["POST"], response_model=None, name=_spec.done
    )
