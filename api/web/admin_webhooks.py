"""The admin pages' webhooks: add an endpoint (its secret shown once), disable or enable it,
its deliveries 50 at a time, retry one — each through the JSON API's own webhook routes."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from api import schemas
from api.deps import Page, PageDep, ServicesDep
from api.routes import webhooks
from api.services import Services
from api.web.admin import Done, first_page, secret_page
from api.web.admin_acting import (
    Answered,
    Refused,
    checked_form,
    redirected,
    require_admin,
    through_api,
)
from api.web.admin_views import ROWS, placed
from api.web.forms import Field, Form, Option, SubmittedDep
from api.web.rendering import render
from api.web.viewer import Viewer, ViewerDep
from projections.rules.webhooks import ALL, EVENT_TYPES

router = APIRouter(include_in_schema=False)
Status = Annotated[Literal["pending", "delivered", "failed"] | None, Query()]

NOTICES = {
    "disabled": "Disabled: nothing is sent to it, and events recorded meanwhile are not queued.",
    "enabled": "Enabled: pending messages resume, and new events are queued from now on.",
    "retried": "Queued again: the delivery is attempted at once.",
}
"""What the webhook pages say after a form succeeded (``?done=``): fixed words only."""


def event_type_options() -> tuple[Option, ...]:
    """Every event type, and all of them (including types added later)."""
    every = Option(ALL, "Every event (including types added later)")
    return (every, *(Option(t, t) for t in sorted(EVENT_TYPES.values())))


def add_form() -> Form:
    """Subscribe an endpoint to ledger events from now on."""
    return Form(
        "add-webhook",
        "/admin/webhooks",
        "Add webhook",
        "Add a webhook endpoint",
        (
            Field("url", "URL", "url", "", True, "An https:// address on the public internet."),
            Field("description", "Description", "text", "", False, None),
            Field(
                "event_types",
                "Events",
                "checkboxes",
                (ALL,),
                True,
                None,
                event_type_options(),
                ("event type", "event_types"),
            ),
        ),
        "Events recorded from now on are sent, each signed with the endpoint's secret; the "
        "secret is shown once, on the next page.",
    )


def switch_form(endpoint: dict[str, Any]) -> Form:
    """Disable an active endpoint, or enable a disabled one."""
    verb = "Disable" if endpoint["status"] == "active" else "Enable"
    base = f"/admin/webhooks/{endpoint['id']}"
    return Form(f"switch-{endpoint['id']}", f"{base}/{verb.lower()}", verb, endpoint["url"])


def api_body(response: Response) -> dict[str, Any]:
    """The JSON body of a route's answer."""
    found = json.loads(bytes(response.body))
    return found if isinstance(found, dict) else {}


def webhooks_page(  # noqa: PLR0917
    request: Request,
    services: Services,
    viewer: Viewer,
    page: Page,
    status_code: int = 200,
    done: str | None = None,
    failed: Form | None = None,
) -> HTMLResponse:
    """The endpoints, 50 a page (the API's own list), and the form that adds one."""
    require_admin(viewer.principal, "managing webhooks")
    listed = api_body(webhooks.list_webhooks(services, viewer.principal, first_page(page)))
    rows = [{**e, "form": placed([switch_form(e)], failed)[0]} for e in listed["items"]]
    refusal = failed.error if failed is not None and failed.id != "add-webhook" else None
    return render(
        request,
        "admin_webhooks.html",
        viewer,
        status_code=status_code,
        notice=NOTICES.get(done or ""),
        refusal=refusal,
        rows=rows,
        next_cursor=listed["next_cursor"],
        first_page=page.after is None,
        add=placed([add_form()], failed)[0],
        csrf=viewer.session.csrf,
        section="webhooks",
    )


@router.get("/admin/webhooks")
def list_webhooks(
    request: Request, services: ServicesDep, viewer: ViewerDep, page: PageDep, done: Done = None
) -> HTMLResponse:
    """Every webhook endpoint, without its secret."""
    return webhooks_page(request, services, viewer, page, done=done)


@router.post("/admin/webhooks", response_model=None)
def add_webhook(
    request: Request, services: ServicesDep, viewer: ViewerDep, sent: SubmittedDep
) -> Response:
    """Subscribe an endpoint; its signing secret is on the answer, once."""
    require_admin(viewer.principal, "managing webhooks")
    shown, body, refused = checked_form(
        viewer, sent, add_form(), schemas.WebhookIn, lists=("event_types",)
    )
    if refused is None:
        assert isinstance(body, schemas.WebhookIn)  # noqa: S101 - checked_form parsed it
        outcome = through_api(
            request,
            services,
            viewer,
            sent,
            shown=shown,
            call=lambda command: webhooks.subscribe(body, command),
        )
        if isinstance(outcome, Answered):
            return secret_answer(request, viewer, outcome)
        refused = outcome
    first = Page(ROWS, None)
    return webhooks_page(request, services, viewer, first, refused.status, failed=refused.form)


def secret_answer(request: Request, viewer: Viewer, outcome: Answered) -> HTMLResponse:
    """The new endpoint's secret, once (a repeat of the form's key does not show it)."""
    endpoint = outcome.body
    return secret_page(
        request,
        viewer,
        title=f"Webhook added: {endpoint.get('url', '')}",
        person=None,
        secret=None if outcome.replayed else endpoint.get("secret"),
        what="Its signing secret: put it in the receiver's configuration now, to verify the "
        "webhook-signature header of every delivery.",
        lost="This form was sent already: the endpoint was added once and its secret was shown "
        "on the first answer only. If it was lost, rotate the secret (POST "
        "/v1/webhooks/{id}/rotate-secret).",
        back="/admin/webhooks",
        status_code=200 if outcome.replayed else 201,
    )


def switched(  # noqa: PLR0917
    request: Request,
    services: Services,
    viewer: Viewer,
    sent: SubmittedDep,
    webhook_id: UUID,
    verb: str,
) -> Response:
    """Disable or enable through the API's route (POST-redirect-GET)."""
    require_admin(viewer.principal, "managing webhooks")
    endpoint = api_body(webhooks.show_webhook(webhook_id, services, viewer.principal))
    shown, _, _ = checked_form(viewer, sent, switch_form(endpoint), None)
    route = webhooks.disable if verb == "disable" else webhooks.enable
    outcome = through_api(
        request, services, viewer, sent, shown=shown, call=lambda c: route(webhook_id, c)
    )
    if isinstance(outcome, Refused):
        first = Page(ROWS, None)
        return webhooks_page(request, services, viewer, first, outcome.status, failed=outcome.form)
    return redirected(f"/admin/webhooks?done={verb}d")


@router.post("/admin/webhooks/{webhook_id}/disable", response_model=None)
def disable(
    webhook_id: UUID, request: Request, services: ServicesDep, viewer: ViewerDep, sent: SubmittedDep
) -> Response:
    """Stop delivering to an endpoint."""
    return switched(request, services, viewer, sent, webhook_id, "disable")


@router.post("/admin/webhooks/{webhook_id}/enable", response_model=None)
def enable(
    webhook_id: UUID, request: Request, services: ServicesDep, viewer: ViewerDep, sent: SubmittedDep
) -> Response:
    """Deliver to an endpoint again."""
    return switched(request, services, viewer, sent, webhook_id, "enable")


# --------------------------------------------------------------- deliveries


def retry_form(webhook_id: UUID, delivery: dict[str, Any]) -> Form:
    """Queue one message again at once."""
    action = f"/admin/webhooks/{webhook_id}/deliveries/{delivery['id']}/retry"
    return Form(f"retry-{delivery['id']}", action, "Retry", delivery["event_type"])


def deliveries_page(  # noqa: PLR0917
    request: Request,
    services: Services,
    viewer: Viewer,
    webhook_id: UUID,
    page: Page,
    status: str | None = None,
    done: str | None = None,
    refused: Refused | None = None,
) -> HTMLResponse:
    """An endpoint's messages in ledger order, 50 a page (the API's own list), each with
    its attempts, last answer, and a Retry button unless it was delivered."""
    require_admin(viewer.principal, "managing webhooks")
    endpoint = api_body(webhooks.show_webhook(webhook_id, services, viewer.principal))
    listed = api_body(
        webhooks.deliveries(
            webhook_id,
            services,
            viewer.principal,
            first_page(page),
            status,  # type: ignore[arg-type]
        )
    )
    failed = None if refused is None else refused.form
    rows = [{**d, "form": placed([retry_form(webhook_id, d)], failed)[0]} for d in listed["items"]]
    base = f"/admin/webhooks/{webhook_id}/deliveries"
    return render(
        request,
        "admin_deliveries.html",
        viewer,
        status_code=200 if refused is None else refused.status,
        endpoint=endpoint,
        rows=rows,
        status=status,
        base=base,
        pager_base=base if status is None else f"{base}?status={status}",
        next_cursor=listed["next_cursor"],
        first_page=page.after is None,
        notice=NOTICES.get(done or ""),
        refusal=None if failed is None else failed.error,
        csrf=viewer.session.csrf,
        section="webhooks",
    )


@router.get("/admin/webhooks/{webhook_id}/deliveries")
def deliveries(  # noqa: PLR0917
    webhook_id: UUID,
    request: Request,
    services: ServicesDep,
    viewer: ViewerDep,
    page: PageDep,
    status: Status = None,
    done: Done = None,
) -> HTMLResponse:
    """An endpoint's deliveries (``?status=`` pending, delivered or failed)."""
    return deliveries_page(request, services, viewer, webhook_id, page, status, done)


@router.post("/admin/webhooks/{webhook_id}/deliveries/{delivery_id}/retry", response_model=None)
def retry(  # noqa: PLR0917
    webhook_id: UUID,
    delivery_id: str,
    request: Request,
    services: ServicesDep,
    viewer: ViewerDep,
    sent: SubmittedDep,
) -> Response:
    """Queue a message again at once (POST-redirect-GET to the deliveries)."""
    require_admin(viewer.principal, "managing webhooks")
    form = retry_form(webhook_id, {"id": delivery_id[:100], "event_type": "delivery"})
    shown, _, _ = checked_form(viewer, sent, form, None)
    outcome = through_api(
        request,
        services,
        viewer,
        sent,
        shown=shown,
        call=lambda c: webhooks.retry(webhook_id, delivery_id, c),
    )
    if isinstance(outcome, Refused):
        first = Page(ROWS, None)
        return deliveries_page(request, services, viewer, webhook_id, first, refused=outcome)
    return redirected(f"/admin/webhooks/{webhook_id}/deliveries?done=retried")
