"""Scores: a plan's accountability, roll-ups, the portfolio, the series."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response

from api import schemas
from api.auth import require_role
from api.deps import PrincipalDep, ServicesDep
from api.reads import FACTS, jsonable, read_visible, today
from api.routes.directory import visible_partner
from api.schemas import Day
from ledger.domain import InvalidInput, NotFound, Side
from projections.models.directory import actor
from projections.models.rollup_reads import RollupDays, plan_days, plan_read
from projections.rules.rollups import partnership_score
from projections.rules.series import series_days

router = APIRouter(prefix="/v1", tags=["scores and audit"])
LEADERSHIP = frozenset({"leader", "admin", "auditor"})
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": schemas.ProblemOut, "description": "Missing, unknown or revoked token"},
    403: {"model": schemas.ProblemOut, "description": "Your role may not see this"},
    404: {"model": schemas.ProblemOut, "description": "Not found in your scope"},
    422: {"model": schemas.ProblemOut, "description": "Invalid input"},
}
AsOf = Annotated[Day | None, Query(description="YYYY-MM-DD (default: today).")]
From = Annotated[
    Day | None,
    Query(alias="from", description="First date, YYYY-MM-DD (default: 25 steps before to)."),
]
To = Annotated[Day | None, Query(alias="to", description="Last date, YYYY-MM-DD (default: today).")]
Every = Annotated[int, Query(ge=1, le=366, description="Days between points (default 7).")]


def the_days(start: date | None, end: date | None, every: int, services: ServicesDep) -> list[date]:
    """The series' dates (422 for a reversed range or more than the points allowed)."""
    try:
        return series_days(start, end or today(services), every)
    except ValueError as error:
        raise InvalidInput(str(error)) from None


@router.get(
    "/plans/{plan_id}/accountability", response_model=schemas.Accountability, responses=ERRORS
)
def plan_scores(
    plan_id: UUID, services: ServicesDep, principal: PrincipalDep, as_of: AsOf = None
) -> Response:
    """Both sides' scores as of a date: every component, its items and their event ids."""
    day = as_of or today(services)
    read = read_visible(
        services, principal, plan_id, lambda c: plan_read(c, FACTS, plan_id, [day], documents=True)
    )
    document = plan_days(services.store, read)[day][2]
    return Response(content=document, media_type="application/json")


@router.get(
    "/plans/{plan_id}/accountability/series",
    response_model=schemas.AccountabilitySeries,
    responses=ERRORS,
)
def plan_score_series(
    plan_id: UUID,
    services: ServicesDep,
    principal: PrincipalDep,
    start: From = None,
    end: To = None,
    every: Every = 7,
) -> JSONResponse:
    """Each side's score as of each date (null where none), oldest first, at most 200 points;
    the last point is ``to``."""
    days = the_days(start, end, every, services)
    read = read_visible(
        services, principal, plan_id, lambda c: plan_read(c, FACTS, plan_id, days, documents=False)
    )
    kept = plan_days(services.store, read)
    points = []
    for day in days:
        vendor, partner, _ = kept[day]
        points.append(
            {
                "as_of": day.isoformat(),
                "vendor": None if vendor is None else float(vendor),
                "partner": None if partner is None else float(partner),
            }
        )
    return JSONResponse({"plan_id": str(plan_id), "every": every, "points": points})


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
) -> Response:
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
    figures = rollups(services).manager_text(actor_id, day)  # kept JSON text, not decoded
    head = json.dumps(
        {"manager_id": str(actor_id), "as_of": day.isoformat()}, separators=(",", ":")
    )
    rest = figures.strip()[1:].lstrip()
    body = head[:-1] + ("" if rest.startswith("}") else ",") + rest
    return Response(body, media_type="application/json")


def rollups(services: ServicesDep) -> RollupDays:
    """The roll-ups as of a date, kept per date (docs/projections.md)."""
    return RollupDays(services.store, FACTS)


@router.get("/portfolio", response_model=schemas.Portfolio, responses=ERRORS)
def portfolio_view(
    services: ServicesDep, principal: PrincipalDep, as_of: AsOf = None
) -> JSONResponse:
    """The leadership view: partnerships with plans, agreed metrics, reviews, pace, scores."""
    require_role(principal, LEADERSHIP, "the portfolio")
    services.catch_up()  # include what was written a moment ago
    figures = rollups(services).portfolio(as_of or today(services))
    figures["coverage_target"] = services.server.coverage_target
    return JSONResponse(figures)


@router.get("/portfolio/series", response_model=schemas.PortfolioSeries, responses=ERRORS)
def portfolio_series(
    services: ServicesDep,
    principal: PrincipalDep,
    start: From = None,
    end: To = None,
    every: Every = 7,
) -> JSONResponse:
    """The leadership figures as of each date, oldest first; the last point is ``to``."""
    require_role(principal, LEADERSHIP, "the portfolio")
    days = the_days(start, end, every, services)
    services.catch_up()  # include what was written a moment ago
    points = [series_point(figures) for figures in rollups(services).portfolios(days)]
    body = {"every": every, "coverage_target": services.server.coverage_target, "points": points}
    return JSONResponse(body)


def series_point(figures: dict[str, Any]) -> dict[str, Any]:
    """One point of the portfolio series: the date, the partnerships, the shares, the means."""
    return {
        "as_of": figures["as_of"],
        "partnerships": figures["partnerships"],
        "active_plan_share": figures["active_plan"]["share"],
        "all_metrics_agreed_share": figures["all_metrics_agreed"]["share"],
        "reviewed_recently_share": figures["reviewed_recently"]["share"],
        "mean_score": figures["mean_score"],
    }
