"""The admin pages' partners: register one, hand a partnership to another manager — through
the JSON API's route, or (reassigning has no JSON route) the API's own admin command handling."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict

from api import schemas
from api.deps import Command, Page, PageDep, Result, ServicesDep
from api.routes import directory
from api.services import Services
from api.views import partner_view
from api.web import admin_views
from api.web.admin import Done, first_page
from api.web.admin_acting import Refused, checked_form, redirected, require_admin, through_api
from api.web.forms import Form, SubmittedDep
from api.web.rendering import render
from api.web.viewer import Viewer, ViewerDep
from ledger import commands as c
from ledger.domain import NotFound

router = APIRouter(include_in_schema=False)

NOTICES = {
    "registered": "Partner registered. Add its contacts with “Add a contact” in its row.",
    "reassigned": "Manager reassigned: the new manager acts for the vendor side from now on.",
}
"""What the partners page says after a form succeeded (``?done=``): fixed words only."""


class ReassignIn(BaseModel):
    """Hand a partnership to another manager (the form's body; it keys the form's resends)."""

    manager_id: UUID

    model_config = ConfigDict(extra="forbid")


def partners_page(  # noqa: PLR0917
    request: Request,
    services: Services,
    viewer: Viewer,
    page: Page,
    status_code: int = 200,
    done: str | None = None,
    failed: Form | None = None,
) -> HTMLResponse:
    """The partners page (a refused form kept as typed, its message next to the field)."""
    require_admin(viewer.principal)
    data = admin_views.partners_page(services, first_page(page), failed)
    return render(
        request,
        "admin_partners.html",
        viewer,
        status_code=status_code,
        notice=NOTICES.get(done or ""),
        csrf=viewer.session.csrf,
        section="partners",
        **data,
    )


@router.get("/admin/partners")
def list_partners(
    request: Request, services: ServicesDep, viewer: ViewerDep, page: PageDep, done: Done = None
) -> HTMLResponse:
    """Every partner, 50 a page, with its manager."""
    return partners_page(request, services, viewer, page, done=done)


@router.post("/admin/partners", response_model=None)
def register_partner(
    request: Request, services: ServicesDep, viewer: ViewerDep, sent: SubmittedDep
) -> Response:
    """Register a partner (POST-redirect-GET)."""
    require_admin(viewer.principal, "registering partners")
    form = admin_views.register_partner_form(services)
    shown, body, refused = checked_form(viewer, sent, form, schemas.PartnerIn)
    if refused is None:
        assert isinstance(body, schemas.PartnerIn)  # noqa: S101 - checked_form parsed it
        outcome = through_api(
            request,
            services,
            viewer,
            sent,
            shown=shown,
            call=lambda command: directory.register_partner(body, command),
        )
        if not isinstance(outcome, Refused):
            return redirected("/admin/partners?done=registered")
        refused = outcome
    first = Page(admin_views.ROWS, None)
    return partners_page(request, services, viewer, first, refused.status, failed=refused.form)


def reassign_page(
    request: Request,
    services: Services,
    viewer: Viewer,
    partner_id: UUID,
    refused: Refused | None = None,
) -> HTMLResponse:
    """The form that hands a partnership to another manager (refused: as typed)."""
    require_admin(viewer.principal)
    partner = admin_views.partner_row(services, partner_id)
    if partner is None:
        msg = f"partner {partner_id} not found"
        raise NotFound(msg)
    form = admin_views.reassign_form(services, partner)
    shown = form if refused is None else refused.form.with_version(None, form.key)
    return render(
        request,
        "admin_reassign.html",
        viewer,
        status_code=200 if refused is None else refused.status,
        partner=partner,
        form=shown,
        csrf=viewer.session.csrf,
        section="partners",
    )


@router.get("/admin/partners/{partner_id}/manager")
def reassign_form(
    partner_id: UUID, request: Request, services: ServicesDep, viewer: ViewerDep
) -> HTMLResponse:
    """Who manages the partnership, and the form that hands it to another manager."""
    return reassign_page(request, services, viewer, partner_id)


@router.post("/admin/partners/{partner_id}/manager", response_model=None)
def reassign(
    partner_id: UUID, request: Request, services: ServicesDep, viewer: ViewerDep, sent: SubmittedDep
) -> Response:
    """Hand the partnership to another manager: the ledger's ReassignManager command, handled
    as the API handles every admin command (there is no JSON route for it yet)."""
    require_admin(viewer.principal, "reassigning managers")
    partner = admin_views.partner_row(services, partner_id)
    if partner is None:
        msg = f"partner {partner_id} not found"
        raise NotFound(msg)
    form = admin_views.reassign_form(services, partner)
    shown, body, refused = checked_form(viewer, sent, form, ReassignIn)
    if refused is None:
        assert isinstance(body, ReassignIn)  # noqa: S101 - checked_form parsed it

        def handle(command: Command) -> Response:
            return directory.admin_command(
                command,
                c.ReassignManager(partner_id, body.manager_id),
                200,
                lambda done: Result(partner_view(done.aggregate)),
                body,
            )

        outcome = through_api(request, services, viewer, sent, shown=shown, call=handle)
        if not isinstance(outcome, Refused):
            return redirected("/admin/partners?done=reassigned")
        refused = outcome
    return reassign_page(request, services, viewer, partner_id, refused)
