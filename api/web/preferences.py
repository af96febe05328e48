"""Preferences: each signed-in actor chooses which e-mails they get, their own only, through
the JSON API's own route (``PUT /v1/me/notifications``), once per rendered form."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from api import schemas
from api.deps import Command, Result, ServicesDep
from api.routes import notifications
from api.routes.webhooks import keyed
from api.services import Services
from api.web.admin_acting import Refused, checked_form, redirected, through_api
from api.web.forms import Field, Form, Option, SubmittedDep
from api.web.rendering import render
from api.web.viewer import Viewer, ViewerDep

router = APIRouter(include_in_schema=False)

WHO_GETS_WHAT = {
    "manager": "You get reminders of what waits on your partnerships' vendor side, and a "
    "digest of them each Monday.",
    "partner": "You get reminders of what waits on your partnership's partner side, and a "
    "digest of it each Monday.",
    "leader": "You get the portfolio's weekly digest on Mondays; reminders are for managers "
    "and partner contacts.",
}
"""What each role receives (docs/notifications.md); other roles receive no e-mail."""


def preferences_form(services: Services, viewer: Viewer) -> Form:
    """The viewer's e-mail choices, as stored (both on unless they said otherwise)."""
    shown = json.loads(bytes(notifications.show_preferences(services, viewer.principal).body))[
        "email"
    ]
    chosen = tuple(name for name in ("reminders", "digest") if shown[name])
    return Form(
        "preferences",
        "/preferences",
        "Save preferences",
        "E-mail",
        (
            Field(
                "email",
                "E-mails I get",
                "checkboxes",
                chosen,
                False,
                "Takes effect at the next reminder pass.",
                (
                    Option(
                        "reminders",
                        "Reminders: something waits on me (from two days before it is due)",
                    ),
                    Option("digest", "Weekly digest, on Mondays"),
                ),
            ),
        ),
        open=True,
    )


def preferences_page(
    request: Request,
    services: Services,
    viewer: Viewer,
    done: str | None = None,
    refused: Refused | None = None,
) -> HTMLResponse:
    """The viewer's own preferences."""
    form = preferences_form(services, viewer)
    if refused is not None:
        form = refused.form.with_version(None, form.key)
    return render(
        request,
        "preferences.html",
        viewer,
        status_code=200 if refused is None else refused.status,
        form=form,
        csrf=viewer.session.csrf,
        notice="Saved." if done == "saved" else None,
        who=WHO_GETS_WHAT.get(viewer.principal.role, "Your role receives no e-mail."),
    )


@router.get("/preferences")
def show(
    request: Request,
    services: ServicesDep,
    viewer: ViewerDep,
    done: Annotated[str | None, Query(max_length=40)] = None,
) -> HTMLResponse:
    """Which e-mails you get."""
    return preferences_page(request, services, viewer, done)


@router.post("/preferences", response_model=None)
def save(
    request: Request, services: ServicesDep, viewer: ViewerDep, sent: SubmittedDep
) -> Response:
    """Save your choices (POST-redirect-GET); a resend of the same form changes nothing more,
    so the back button cannot undo a later change."""
    shown, _, _ = checked_form(viewer, sent, preferences_form(services, viewer), None)
    ticked = sent.get("email", [])
    names = set(ticked if isinstance(ticked, list) else [ticked])
    unknown = names - {"reminders", "digest"}
    if unknown:
        failed = shown.invalid([("email", "Choose among the options shown.")])
        return preferences_page(request, services, viewer, refused=Refused(failed, 422))
    body = schemas.NotificationPreferences(
        email=schemas.EmailPreferences(reminders="reminders" in names, digest="digest" in names)
    )

    def change(command: Command) -> Response:
        def action() -> Result:
            answer = notifications.change_preferences(body, services, command.principal)
            return Result(json.loads(bytes(answer.body)))

        return keyed(command, body, 200, action)

    outcome = through_api(request, services, viewer, sent, shown=shown, call=change)
    if isinstance(outcome, Refused):
        return preferences_page(request, services, viewer, refused=outcome)
    return redirected("/preferences?done=saved")
