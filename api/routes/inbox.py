"""The caller's inbox: what is waiting on their side, by when, and what it protects."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from api import schemas
from api.auth import visible_partners
from api.deps import PrincipalDep, ServicesDep
from api.reads import today
from api.schemas import Day
from ledger.domain import Side
from projections.models.inbox import side_inbox

router = APIRouter(prefix="/v1", tags=["inbox and notifications"])
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": schemas.ProblemOut, "description": "Missing, unknown or revoked token"},
    422: {"model": schemas.ProblemOut, "description": "Invalid input"},
}


@router.get("/me/inbox", response_model=schemas.Inbox, responses=ERRORS)
def inbox(
    services: ServicesDep,
    principal: PrincipalDep,
    as_of: Annotated[Day | None, Query(description="YYYY-MM-DD (default: today).")] = None,
) -> JSONResponse:
    """What waits on your side: items sorted by act_by, each with what it protects and the
    call that clears it (managers: the vendor side of their partnerships; partner contacts:
    their partnership's partner side; other roles have none)."""
    day = as_of or today(services)
    items: list[dict[str, Any]] = []
    if principal.side is not None and principal.role in {"manager", "partner"}:
        services.catch_up()  # include what was written a moment ago
        with services.reading() as cursor:
            partner_ids = visible_partners(cursor, principal) or []
            found = side_inbox(cursor, partner_ids, Side(principal.side), day)
        items = [item.view() for item in found]
    return JSONResponse({"as_of": day.isoformat(), "items": items})
