"""The workspace's pages: thin routes that read view data and render a template."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from api.deps import ServicesDep
from api.errors import Problem
from api.integrity import NoCheckpoint
from api.routes.audit import _ndjson
from api.schemas import Day
from api.web import acting, live, plan_views, views
from api.web.access import home_of, require_page
from api.web.rendering import render
from api.web.viewer import ViewerDep

router = APIRouter(include_in_schema=False)


@router.get("/", response_model=None)
def home(request: Request, services: ServicesDep, viewer: ViewerDep) -> Response:
    """Each role's home: leaders, auditors and admins go to the portfolio."""
    elsewhere = home_of(viewer.principal)
    if elsewhere is not None:
        return RedirectResponse(elsewhere, status_code=303)
    data = views.home_page(services, viewer.principal)
    stamp = live.home_stamp(services, viewer.principal)
    return render(request, "home.html", viewer, stamp=stamp, **data)


@router.get("/portfolio")
def portfolio(
    request: Request,
    services: ServicesDep,
    viewer: ViewerDep,
    as_of: Annotated[Day | None, Query()] = None,
    start: Annotated[int, Query(alias="from", ge=0, le=10_000_000)] = 0,
) -> HTMLResponse:
    """The leaders' dashboard (``?from=``: the first partnership of the attention list's page)."""
    data = views.portfolio_page(services, viewer.principal, as_of, start)
    return render(request, "portfolio.html", viewer, **data)


@router.get("/portfolio/trend")
def portfolio_trend(
    request: Request,
    services: ServicesDep,
    viewer: ViewerDep,
    as_of: Annotated[Day | None, Query()] = None,
) -> HTMLResponse:
    """The portfolio's 26-week trend, on its own (loaded by the portfolio page)."""
    data = views.portfolio_trend_part(services, viewer.principal, as_of)
    return render(request, "portfolio_trend.html", viewer, **data)


@router.get("/partners/{partner_id}")
def partner(
    partner_id: UUID, request: Request, services: ServicesDep, viewer: ViewerDep
) -> HTMLResponse:
    """A partnership and its plans (and, for its parties, the form that drafts one)."""
    return acting.partner_page(request, services, viewer, partner_id)


@router.get("/managers/{manager_id}")
def manager(
    manager_id: UUID, request: Request, services: ServicesDep, viewer: ViewerDep
) -> HTMLResponse:
    """A channel manager and their partnerships."""
    data = views.manager_page(services, viewer.principal, manager_id)
    return render(request, "manager.html", viewer, **data)


@router.get("/plans/{plan_id}")
def plan(
    plan_id: UUID,
    request: Request,
    services: ServicesDep,
    viewer: ViewerDep,
    version: Annotated[int | None, Query(ge=1, le=1_000_000_000)] = None,
    as_of: Annotated[str | None, Query(max_length=40)] = None,
    history_before: Annotated[int | None, Query(ge=1, le=1_000_000_000)] = None,
    done: Annotated[str | None, Query(max_length=40)] = None,
) -> HTMLResponse:
    """A plan now (with the forms of what the viewer may do), or as it was at a date or after
    a version (time travel: nothing to do); its history a page at a time, newest first
    (``history_before``: the page of events before a version)."""
    if version is None and not as_of:
        return acting.plan_page(
            request, services, viewer, plan_id, done=done, history_before=history_before
        )
    data = plan_views.plan_page(
        services, viewer.principal, plan_id, version, as_of or None, history_before=history_before
    )
    return render(request, "plan.html", viewer, **data)


@router.get("/audit")
def audit(request: Request, services: ServicesDep, viewer: ViewerDep) -> HTMLResponse:
    """Verification, the latest signed checkpoint and the public key."""
    data = views.audit_page(services, viewer.principal)
    return render(request, "audit.html", viewer, **data)


@router.get("/audit/export.jsonl")
def audit_export(services: ServicesDep, viewer: ViewerDep) -> StreamingResponse:
    """The verifiable export of the whole ledger, as a download."""
    require_page(viewer.principal, "export")
    try:
        lines = services.integrity.export(None)
        first = next(lines)
    except NoCheckpoint as error:
        raise Problem(409, str(error), slug="no-checkpoint", title="No checkpoint") from None
    return StreamingResponse(
        _ndjson(first, lines),
        media_type="application/x-ndjson",
        headers={"Content-Disposition": 'attachment; filename="counterpart-ledger.jsonl"'},
    )
