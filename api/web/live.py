"""Live pages: server-sent events tell an open page that what it shows has changed.

Each stream compares a stamp of what its page shows (a plan's version; the versions of the
plans of the viewer's partnerships) with the read models every half second. The read models
live in the shared database, so a change made through any API process, projected by any
worker, reaches a page served by any other process.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Annotated
from uuid import UUID

from anyio import to_thread
from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from api.auth import Principal, visible_partners
from api.deps import ServicesDep
from api.reads import require_visible
from api.services import Services
from api.web.viewer import ViewerDep
from projections.models.plan_state import plans_stamp

router = APIRouter(include_in_schema=False)
POLL_SECONDS = 0.5
KEEPALIVE_SECONDS = 15.0
Since = Annotated[str, Query(max_length=100)]


def plan_stamp(services: Services, principal: Principal, plan_id: UUID) -> str:
    """What an open plan page shows changes with the plan's version (404 out of scope)."""
    return str(require_visible(services, principal, plan_id))


def home_stamp(services: Services, principal: Principal) -> str:
    """A home page changes with the plans of the viewer's partnerships."""
    with services.reading() as cursor:
        return plans_stamp(cursor, visible_partners(cursor, principal))


def stream(request: Request, stamp: Callable[[], str], since: str) -> StreamingResponse:
    """An event stream that says ``changed`` whenever the stamp moves from ``since``."""

    async def events() -> AsyncIterator[str]:
        seen = since
        quiet = 0.0
        yield "retry: 1000\n\n"
        while not await request.is_disconnected():
            now = await to_thread.run_sync(stamp)
            if now != seen:
                seen = now
                quiet = 0.0
                yield f"event: changed\ndata: {now}\n\n"
            elif quiet >= KEEPALIVE_SECONDS:
                quiet = 0.0
                yield ": still here\n\n"
            await asyncio.sleep(POLL_SECONDS)
            quiet += POLL_SECONDS

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get("/live/plans/{plan_id}")
def live_plan(
    plan_id: UUID, request: Request, services: ServicesDep, viewer: ViewerDep, since: Since = ""
) -> StreamingResponse:
    """Tells an open plan page when the plan changes."""
    plan_stamp(services, viewer.principal, plan_id)  # 404 before any stream out of scope
    return stream(request, lambda: plan_stamp(services, viewer.principal, plan_id), since)


@router.get("/live/home")
def live_home(
    request: Request, services: ServicesDep, viewer: ViewerDep, since: Since = ""
) -> StreamingResponse:
    """Tells an open home page when any of the viewer's plans changes."""
    return stream(request, lambda: home_stamp(services, viewer.principal), since)
