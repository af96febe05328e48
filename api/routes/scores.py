"""Scores and audit: a plan's accountability, roll-ups, the portfolio, who committed to what."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from api import schemas
from api.auth import require_role, visible_partners
from api.deps import PageDep, PrincipalDep, ServicesDep, page_of
from api.reads import FACTS, jsonable, read_visible, today
from api.routes.directory import visible_partner
from api.schemas import Day, Moment
from ledger.domain import InvalidInput, NotFound, Side
from projections.models.directory import actor, partners
from projections.models.plan_history import audit_entries
from projections.rules.accountability import plan_accountability
from projections.rules.rollups import manager_score, partnership_score, portfolio

router = APIRouter(prefix="/v1", tags=["scores and audit"])
LEADERSHIP = frozenset({"leader", "admin", "auditor"})
AUDIT = frozenset({"auditor", "leader", "admin"})
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": schemas.ProblemOut, "description": "Missing, unknown or revoked token"},
    403: {"model": schemas.ProblemOut, "description": "Your role may not see this"},
    404: {"model": schemas.ProblemOut, "description": "Not found in your scope"},
    422: {"model": schemas.ProblemOut, "description": "Invalid input"},
}
AsOf = Annotated[Day | None, Query(description="YYYY-MM-DD (default: today).")]


@router.get(
    "/plans/{plan_id}/accountability", response_model=schemas.Accountability, responses=ERRORS
)
def plan_scores(
    plan_id: UUID, services: ServicesDep, principal: PrincipalDep, as_of: AsOf = None
) -> JSONResponse:
    """Both sides' scores as of a date: every component, its items and their event ids."""
    facts = read_visible(services, principal, plan_id, lambda cursor: FACTS.load(cursor, plan_id))
    return JSONResponse(plan_accountability(facts, as_of or today(services)))


@router.get(
    "/partners/{partner_id}/accountability",
    response_model=schemas.PartnerAccountability,
    responses=ERRORS,
)
def partner_scores(
    partner_id: UUID, services: ServicesDep, principal: PrincipalDep, as_of: AsOf = None
) -> JSONResponse:
    """A partnership's score per side, with the plans (and their weights) behind it."""
    visible_partner(services, principal, partner_id)
    services.catch_up()  # include what was written a moment ago
    day = as_of or today(services)
    with services.reading() as cursor:
        plans = FACTS.of_partner(cursor, partner_id)
    sides = {}
    for side in Side:
        found = partnership_score(plans, side, day)
        sides[side.value] = {"score": jsonable(found.score), "plans": found.plans}
    return JSONResponse({"partner_id": str(partner_id), "as_of": day.isoformat(), "sides": sides})


@router.get(
    "/managers/{actor_id}/accountability",
    response_model=schemas.ManagerAccountability,
    responses=ERRORS,
)
def manager_scores(
    actor_id: UUID, services: ServicesDep, principal: PrincipalDep, as_of: AsOf = None
) -> JSONResponse:
    """A channel manager's score: the mean of their partnerships' vendor-side scores."""
    if principal.role == "manager" and principal.id != actor_id:
        raise NotFound(f"manager {actor_id} not found")
    if principal.role != "manager":
        require_role(principal, LEADERSHIP, "a manager's accountability")
    day = as_of or today(services)
    services.catch_up()  # include what was written a moment ago
    with services.reading() as cursor:
        found = actor(cursor, actor_id)
        if found is None or found["role"] != "manager":
            raise NotFound(f"manager {actor_id} not found")
        owned = partners(cursor, manager_id=actor_id, limit=1_000_000)
        partnerships = {UUID(p["id"]): FACTS.of_partner(cursor, UUID(p["id"])) for p in owned}
    score, rows = manager_score(partnerships, day)
    return JSONResponse(
        jsonable(
            {
                "manager_id": str(actor_id),
                "as_of": day.isoformat(),
                "score": score,
                "partners": rows,
            }
        )
    )


@router.get("/portfolio", response_model=schemas.Portfolio, responses=ERRORS)
def portfolio_view(
    services: ServicesDep, principal: PrincipalDep, as_of: AsOf = None
) -> JSONResponse:
    """The leadership view: partnerships with plans, agreed metrics, reviews, pace, scores."""
    require_role(principal, LEADERSHIP, "the portfolio")
    services.catch_up()  # include what was written a moment ago
    day = as_of or today(services)
    with services.reading() as cursor:
        every = partners(cursor, limit=1_000_000)
        partnerships = {UUID(p["id"]): FACTS.of_partner(cursor, UUID(p["id"])) for p in every}
    return JSONResponse(jsonable(portfolio(partnerships, day)))


@router.get("/audit/commitments", response_model=schemas.AuditList, responses=ERRORS)
def commitments(
    services: ServicesDep,
    principal: PrincipalDep,
    page: PageDep,
    actor_id: Annotated[UUID | None, Query(description="Only this actor's acts.")] = None,
    partner_id: Annotated[UUID | None, Query(description="Only this partnership.")] = None,
    since: Annotated[Moment | None, Query(description="Recorded at or after (ISO-8601).")] = None,
    until: Annotated[Moment | None, Query(description="Recorded at or before (ISO-8601).")] = None,
) -> JSONResponse:
    """Who proposed, agreed or committed to which terms, or accepted which change, and when."""
    require_role(principal, AUDIT, "the audit trail")
    after = 0
    if page.after is not None:
        if not (page.after.isascii() and page.after.isdigit()) or len(page.after) > 18:
            raise InvalidInput("cursor: not a cursor of this list")
        after = int(page.after)
    services.catch_up()  # include what was written a moment ago
    with services.reading() as cursor:
        visible = visible_partners(cursor, principal)
        if partner_id is not None:
            visible = [partner_id] if visible is None or partner_id in visible else []
        entries = audit_entries(
            cursor,
            services.app.mapper.transcoder,
            actor_id=actor_id,
            partner_ids=visible,
            since=since,
            until=until,
            after=after,
            limit=page.limit + 1,
        )
    return JSONResponse(page_of(entries, page, key=lambda e: int(e["position"])))
