"""The caller's notification preferences: which e-mails they get."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api import schemas
from api.deps import PrincipalDep, ServicesDep
from projections.models import notifications
from projections.models.notifications import Preferences

router = APIRouter(prefix="/v1/me", tags=["inbox and notifications"])
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": schemas.ProblemOut, "description": "Missing, unknown or revoked token"},
    422: {"model": schemas.ProblemOut, "description": "Invalid input"},
}


@router.get("/notifications", response_model=schemas.NotificationPreferences, responses=ERRORS)
def show_preferences(services: ServicesDep, principal: PrincipalDep) -> JSONResponse:
    """Whether you get reminders of inbox items and weekly digests by e-mail (default: both)."""
    with services.reading() as cursor:
        found = notifications.preferences(cursor, str(principal.id))
    return JSONResponse(found.view())


@router.put("/notifications", response_model=schemas.NotificationPreferences, responses=ERRORS)
def change_preferences(
    body: schemas.NotificationPreferences, services: ServicesDep, principal: PrincipalDep
) -> JSONResponse:
    """Choose which e-mails you get; takes effect at the next reminder pass."""
    chosen = Preferences(reminders=body.email.reminders, digest=body.email.digest)
    notifications.set_preferences(
        services.store, str(principal.id), chosen, services.app.clock.now()
    )
    return JSONResponse(chosen.view())
