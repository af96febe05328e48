"""Plans: drafting, metrics, agreement, commitment, progress, reviews, adjustments, closing."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from api import schemas
from api.auth import visible_partners
from api.deps import CommandDep, PageDep, PrincipalDep, ServicesDep, page_of
from api.errors import Problem
from api.reads import (
    current_plan,
    etag,
    past_plan,
    plan_result,
    plans_with_paces,
    require_visible,
    today,
)
from api.schemas import Moment
from ledger import commands as c
from ledger.commands import Command as LedgerCommand
from ledger.domain import (
    AdjustmentKind,
    Direction,
    InvalidInput,
    MetricKind,
    MetricSpec,
    NotFound,
    Side,
)
from projections.models.plan_history import plan_history
from projections.models.plan_state import plan_documents

router = APIRouter(prefix="/v1/plans", tags=["plans"])
PLAN: dict[str, Any] = {
    "model": schemas.Plan,
    "headers": {"ETag": {"description": 'The plan version: "7"'}},
}
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": schemas.ProblemOut, "description": "Missing, unknown or revoked token"},
    403: {"model": schemas.ProblemOut, "description": "Your role or side may not do this"},
    404: {"model": schemas.ProblemOut, "description": "No such plan in your scope"},
    409: {"model": schemas.ProblemOut, "description": "The plan's state forbids it, or a race"},
    412: {"model": schemas.ProblemOut, "description": "If-Match is not the current version"},
    422: {"model": schemas.ProblemOut, "description": "Invalid input"},
}


def spec_of(body: schemas.MetricIn) -> MetricSpec:
    """Domain terms from a request body."""
    return MetricSpec(
        owner_side=Side(body.owner_side),
        kind=MetricKind(body.kind),
        name=body.name,
        description=body.description,
        unit=body.unit,
        direction=Direction(body.direction),
        target=body.target,
        due_date=body.due_date,
        objective=body.objective,
    )


def plan_command(
    command: CommandDep, ledger_command: LedgerCommand, status: int, body: BaseModel | None = None
) -> Response:
    """Handle a plan command; the answer is the plan as the command left it, with ETag."""
    services = command.services
    return command.handle(
        ledger_command, status, lambda done: plan_result(services, done.aggregate), body
    )


@router.post("", status_code=201, response_model=schemas.Plan, responses={**ERRORS, 201: PLAN})
def draft_plan(body: schemas.PlanIn, command: CommandDep) -> Response:
    """Draft a plan for a partnership (its manager or one of its partner contacts)."""
    drafted = c.DraftPlan(
        partner_id=body.partner_id,
        title=body.title,
        period_start=body.period_start,
        period_end=body.period_end,
        objectives=tuple(body.objectives),
        report_every_days=body.report_every_days,
        review_every_days=body.review_every_days,
        grace_days=body.grace_days,
    )
    return plan_command(command, drafted, 201, body)


@router.get("", response_model=schemas.PlanList, responses=ERRORS)
def list_plans(
    services: ServicesDep,
    principal: PrincipalDep,
    page: PageDep,
    partner_id: Annotated[UUID | None, Query(description="Only this partner's plans.")] = None,
    status: Annotated[
        Literal["draft", "active", "closed"] | None, Query(description="Only plans in this status.")
    ] = None,
) -> JSONResponse:
    """The plans you may see, in id order."""
    services.catch_up()  # a plan drafted or changed a moment ago is listed as it now is
    with services.reading() as cursor:
        visible = visible_partners(cursor, principal)
        if partner_id is not None:
            visible = [partner_id] if visible is None or partner_id in visible else []
        documents = plan_documents(
            cursor, partner_ids=visible, status=status, after=page.after, limit=page.limit + 1
        )
        listed = page_of(documents, page, key=lambda d: str(d["id"]))
        listed["items"] = plans_with_paces(cursor, listed["items"], today(services))
    return JSONResponse(listed)


@router.get("/{plan_id}", response_model=schemas.Plan, responses={**ERRORS, 200: PLAN})
def get_plan(
    plan_id: UUID,
    services: ServicesDep,
    principal: PrincipalDep,
    version: Annotated[
        int | None, Query(ge=1, le=1_000_000_000, description="The plan after its N-th event.")
    ] = None,
    as_of: Annotated[
        Moment | None, Query(description="The plan as it was at this time (ISO-8601).")
    ] = None,
) -> JSONResponse:
    """A plan now, after its N-th event (`?version=`), or as it was at a time (`?as_of=`)."""
    if version is not None and as_of is not None:
        msg = "ask for either ?version= or ?as_of=, not both"
        raise Problem(422, msg, errors=[{"loc": ["query", "version"], "msg": msg}])
    if version is None and as_of is None:
        document = current_plan(services, principal, plan_id)
        return JSONResponse(document, headers=etag(document))
    current = require_visible(services, principal, plan_id)
    if as_of is not None:
        plan = services.app.plan_as_of(plan_id, as_of)
    elif version is not None and version <= current:
        plan = services.app.get_plan(plan_id, version)
    else:
        msg = f"plan {plan_id} has {current} events, not {version}"
        raise NotFound(msg)
    document = past_plan(services, plan)
    return JSONResponse(document, headers=etag(document))


@router.post(
    "/{plan_id}/metrics",
    status_code=201,
    response_model=schemas.Plan,
    responses={**ERRORS, 201: PLAN},
)
def propose_metric(plan_id: UUID, body: schemas.MetricIn, command: CommandDep) -> Response:
    """Propose a metric on a draft plan (your side agrees to it by proposing it)."""
    return plan_command(command, c.ProposeMetric(plan_id, spec_of(body)), 201, body)


@router.put(
    "/{plan_id}/metrics/{metric_id}", response_model=schemas.Plan, responses={**ERRORS, 200: PLAN}
)
def revise_metric(
    plan_id: UUID, metric_id: UUID, body: schemas.MetricIn, command: CommandDep
) -> Response:
    """Revise a draft metric: clears the other side's agreement and both commitments."""
    return plan_command(command, c.ReviseMetric(plan_id, metric_id, spec_of(body)), 200, body)


@router.post(
    "/{plan_id}/metrics/{metric_id}/agree",
    response_model=schemas.Plan,
    responses={**ERRORS, 200: PLAN},
)
def agree_metric(plan_id: UUID, metric_id: UUID, command: CommandDep) -> Response:
    """Your side agrees to a metric."""
    return plan_command(command, c.AgreeMetric(plan_id, metric_id), 200)


@router.post("/{plan_id}/commit", response_model=schemas.Plan, responses={**ERRORS, 200: PLAN})
def commit(plan_id: UUID, command: CommandDep) -> Response:
    """Your side commits to the current terms; the second commitment activates the plan."""
    return plan_command(command, c.Commit(plan_id), 200)


@router.post(
    "/{plan_id}/metrics/{metric_id}/progress",
    status_code=201,
    response_model=schemas.Plan,
    responses={**ERRORS, 201: PLAN},
)
def report_progress(
    plan_id: UUID, metric_id: UUID, body: schemas.ProgressIn, command: CommandDep
) -> Response:
    """Report a metric's value as of a date (the owner side, active plans)."""
    reported = c.ReportProgress(
        plan_id, metric_id, body.value, body.as_of, body.note, body.evidence_url
    )
    return plan_command(command, reported, 201, body)


@router.post(
    "/{plan_id}/reviews",
    status_code=201,
    response_model=schemas.Plan,
    responses={**ERRORS, 201: PLAN},
)
def record_review(plan_id: UUID, body: schemas.ReviewIn, command: CommandDep) -> Response:
    """Record a review meeting of an active plan, with its attendees."""
    review = c.RecordReview(
        plan_id, body.held_on, tuple(body.attendee_ids), body.notes, body.decisions
    )
    return plan_command(command, review, 201, body)


@router.post(
    "/{plan_id}/adjustments",
    status_code=201,
    response_model=schemas.Plan,
    responses={**ERRORS, 201: PLAN},
)
def propose_adjustment(plan_id: UUID, body: schemas.AdjustmentIn, command: CommandDep) -> Response:
    """Propose changing a metric's target or due date, or retiring it (active plans)."""
    proposal = c.ProposeAdjustment(
        plan_id,
        body.metric_id,
        AdjustmentKind(body.kind),
        body.reason,
        body.new_target,
        body.new_due_date,
    )
    return plan_command(command, proposal, 201, body)


ANSWERS = {
    "accept": c.AcceptAdjustment,
    "reject": c.RejectAdjustment,
    "withdraw": c.WithdrawAdjustment,
}


def _answer(
    verb: str,
    plan_id: UUID,
    adjustment_id: UUID,
    body: schemas.ReasonIn | None,
    command: CommandDep,
) -> Response:
    reason_in = body or schemas.ReasonIn()
    answered = ANSWERS[verb](plan_id, adjustment_id, reason_in.reason)
    return plan_command(command, answered, 200, reason_in)


@router.post(
    "/{plan_id}/adjustments/{adjustment_id}/accept",
    response_model=schemas.Plan,
    responses={**ERRORS, 200: PLAN},
)
def accept_adjustment(
    plan_id: UUID, adjustment_id: UUID, command: CommandDep, body: schemas.ReasonIn | None = None
) -> Response:
    """Accept the other side's adjustment: its new terms are in force from now."""
    return _answer("accept", plan_id, adjustment_id, body, command)


@router.post(
    "/{plan_id}/adjustments/{adjustment_id}/reject",
    response_model=schemas.Plan,
    responses={**ERRORS, 200: PLAN},
)
def reject_adjustment(
    plan_id: UUID, adjustment_id: UUID, command: CommandDep, body: schemas.ReasonIn | None = None
) -> Response:
    """Reject the other side's adjustment."""
    return _answer("reject", plan_id, adjustment_id, body, command)


@router.post(
    "/{plan_id}/adjustments/{adjustment_id}/withdraw",
    response_model=schemas.Plan,
    responses={**ERRORS, 200: PLAN},
)
def withdraw_adjustment(
    plan_id: UUID, adjustment_id: UUID, command: CommandDep, body: schemas.ReasonIn | None = None
) -> Response:
    """Withdraw your side's adjustment."""
    return _answer("withdraw", plan_id, adjustment_id, body, command)


@router.post("/{plan_id}/close", response_model=schemas.Plan, responses={**ERRORS, 200: PLAN})
def close_plan(plan_id: UUID, command: CommandDep, body: schemas.CloseIn | None = None) -> Response:
    """Close a plan after its period ends; its metrics are graded met or missed."""
    close_in = body or schemas.CloseIn()
    return plan_command(command, c.ClosePlan(plan_id, close_in.summary), 200, close_in)


@router.get("/{plan_id}/history", response_model=schemas.EventList, responses=ERRORS)
def history(
    plan_id: UUID, services: ServicesDep, principal: PrincipalDep, page: PageDep
) -> JSONResponse:
    """The plan's events, oldest first: who did what, when, with the data as stored."""
    require_visible(services, principal, plan_id)
    after = 0
    if page.after is not None:
        if not (page.after.isascii() and page.after.isdigit()) or len(page.after) > 18:
            raise InvalidInput("cursor: not a cursor of this list")
        after = int(page.after)
    with services.reading() as cursor:
        events = plan_history(
            cursor, services.app.transcoder, plan_id, after=after, limit=page.limit + 1
        )
    for event in events:
        event.pop("plan_id", None)
    return JSONResponse(page_of(events, page, key=lambda e: int(e["position"])))
