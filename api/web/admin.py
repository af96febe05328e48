"""The admin pages' actors: register, issue a sign-in link or a token, revoke — each form
through the JSON API's own route; a new secret is shown once, on the answer to the POST."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api import schemas
from api.deps import Command, Page, PageDep, Result, ServicesDep
from api.routes import directory
from api.routes.webhooks import keyed
from api.services import Services
from api.web import admin_views
from api.web.admin_acting import (
    Answered,
    Refused,
    checked_form,
    redirected,
    require_admin,
    through_api,
)
from api.web.forms import Form, SubmittedDep
from api.web.rendering import render
from api.web.viewer import Viewer, ViewerDep, sign_ins
from ledger.domain import NotFound
from projections.models.directory import holds_live_token

router = APIRouter(include_in_schema=False)
Done = Annotated[str | None, Query(max_length=40)]

NOTICES = {
    "revoked": "Revoked: every token of theirs stopped working and their web sessions ended.",
}
"""What the actors page says after a form succeeded (``?done=``): fixed words only."""


def first_page(page: Page) -> Page:
    """The page of ``ROWS`` rows the cursor names (the API's cursor, decoded)."""
    return Page(admin_views.ROWS, page.after)


def actors_page(
    request: Request,
    services: Services,
    viewer: Viewer,
    page: Page,
    *,
    status_code: int = 200,
    done: str | None = None,
    failed: Form | None = None,
    partner_id: UUID | None = None,
) -> HTMLResponse:
    """The actors page (a refused form kept as typed, its message next to the field)."""
    require_admin(viewer.principal)
    prefill = "" if partner_id is None else str(partner_id)
    data = admin_views.actors_page(services, first_page(page), failed, prefill)
    refusal = None
    if failed is not None and failed.id != "register-actor":
        refusal = failed.error
    return render(
        request,
        "admin_actors.html",
        viewer,
        status_code=status_code,
        notice=NOTICES.get(done or ""),
        refusal=refusal,
        csrf=viewer.session.csrf,
        section="actors",
        **data,
    )


@router.get("/admin")
def admin_home(viewer: ViewerDep) -> Response:
    """The admin pages start with the actors."""
    require_admin(viewer.principal)
    return RedirectResponse("/admin/actors", status_code=303)


@router.get("/admin/actors")
def list_actors(  # noqa: PLR0917
    request: Request,
    services: ServicesDep,
    viewer: ViewerDep,
    page: PageDep,
    done: Done = None,
    partner_id: Annotated[UUID | None, Query()] = None,
) -> HTMLResponse:
    """Every actor, 50 a page, with their forms (``?partner_id=``: register a contact of it)."""
    return actors_page(request, services, viewer, page, done=done, partner_id=partner_id)


def secret_page(
    request: Request,
    viewer: Viewer,
    *,
    title: str,
    person: dict[str, Any] | None,
    secret: str | None,
    what: str,
    lost: str,
    back: str,
    status_code: int = 200,
) -> HTMLResponse:
    """The answer to a POST that made a secret: shown here once and kept nowhere (a repeat of
    the form's key answers without it; the page is never cached)."""
    return render(
        request,
        "admin_secret.html",
        viewer,
        status_code=status_code,
        title=title,
        person=person,
        secret=secret,
        what=what,
        lost=lost,
        back=back,
    )


def refused_on_actors(
    request: Request, services: Services, viewer: Viewer, refused: Refused
) -> HTMLResponse:
    """The actors page again, the refused form as typed, nothing stored."""
    return actors_page(
        request,
        services,
        viewer,
        Page(admin_views.ROWS, None),
        status_code=refused.status,
        failed=refused.form,
    )


@router.post("/admin/actors", response_model=None)
def register_actor(
    request: Request, services: ServicesDep, viewer: ViewerDep, sent: SubmittedDep
) -> Response:
    """Register an actor; their first token is on the answer, once."""
    require_admin(viewer.principal, "registering actors")
    shown, body, refused = checked_form(
        viewer, sent, admin_views.register_actor_form(), schemas.ActorIn
    )
    if refused is None:
        assert isinstance(body, schemas.ActorIn)  # noqa: S101 - checked_form parsed it
        outcome = through_api(
            request,
            services,
            viewer,
            sent,
            shown=shown,
            call=lambda c: directory.register_actor(body, c),
        )
        if isinstance(outcome, Answered):
            return token_answer(request, viewer, outcome, f"Registered {outcome.body['name']}")
        refused = outcome
    return refused_on_actors(request, services, viewer, refused)


def token_answer(request: Request, viewer: Viewer, outcome: Answered, title: str) -> HTMLResponse:
    """The page that shows a new token once (or says it was shown already)."""
    token = outcome.body.get("token")
    person = outcome.body if "name" in outcome.body else None
    return secret_page(
        request,
        viewer,
        title=title,
        person=person,
        secret=None if outcome.replayed else token,
        what="Their token: copy it now and give it to them by a channel you trust.",
        lost="This form was sent already: the token was shown on the first answer only and "
        "is kept nowhere. If it was lost, issue another token (and revoke the old ones).",
        back="/admin/actors",
        status_code=201 if not outcome.replayed else 200,
    )


def row_form(services: Services, actor_id: UUID, prefix: str) -> tuple[Form, dict[str, Any]]:
    """An actor's row form, as the page rendered it (404 page: no such actor)."""
    person = admin_views.actor_row(services, actor_id)
    if person is None:
        msg = f"actor {actor_id} not found"
        raise NotFound(msg)
    forms = admin_views.actor_forms(person)
    return next(f for f in forms if f.id.startswith(prefix)), person


@router.post("/admin/actors/{actor_id}/tokens", response_model=None)
def issue_token(
    actor_id: UUID, request: Request, services: ServicesDep, viewer: ViewerDep, sent: SubmittedDep
) -> Response:
    """Issue another token; it is on the answer, once. Older tokens keep working."""
    require_admin(viewer.principal, "issuing tokens")
    form, person = row_form(services, actor_id, "token-")
    shown, _, _ = checked_form(viewer, sent, form, None)
    outcome = through_api(
        request,
        services,
        viewer,
        sent,
        shown=shown,
        call=lambda c: directory.issue_token(actor_id, c),
    )
    if isinstance(outcome, Refused):
        return refused_on_actors(request, services, viewer, outcome)
    answered = Answered({**person, **outcome.body}, outcome.replayed)
    return token_answer(request, viewer, answered, f"A new token for {person['name']}")


@router.post("/admin/actors/{actor_id}/revoke", response_model=None)
def revoke(
    actor_id: UUID, request: Request, services: ServicesDep, viewer: ViewerDep, sent: SubmittedDep
) -> Response:
    """Revoke every token of an actor (their web sessions end with them)."""
    require_admin(viewer.principal, "revoking tokens")
    form, _ = row_form(services, actor_id, "revoke-")
    shown, _, _ = checked_form(viewer, sent, form, None)
    outcome = through_api(
        request,
        services,
        viewer,
        sent,
        shown=shown,
        call=lambda c: directory.revoke_tokens(actor_id, c),
    )
    if isinstance(outcome, Refused):
        return refused_on_actors(request, services, viewer, outcome)
    return redirected("/admin/actors?done=revoked")


@router.post("/admin/actors/{actor_id}/signin-link", response_model=None)
def issue_signin_link(
    actor_id: UUID, request: Request, services: ServicesDep, viewer: ViewerDep, sent: SubmittedDep
) -> Response:
    """A one-time sign-in link (15 minutes, once), on the answer only: the link itself is not
    kept with the form's key, so a repeat of the form says so instead of showing it again."""
    require_admin(viewer.principal, "issuing sign-in links")
    form, person = row_form(services, actor_id, "link-")
    shown, _, _ = checked_form(viewer, sent, form, None)
    issued: list[str] = []

    def link(command: Command) -> Response:
        def action() -> Result:
            code = sign_ins(services).issue_link(actor_id, services.app.clock.now())
            issued.append(f"{str(request.base_url).rstrip('/')}/signin/{code}")
            return Result({"actor_id": str(actor_id), "issued": True})

        return keyed(command, None, 201, action)

    outcome = through_api(request, services, viewer, sent, shown=shown, call=link)
    if isinstance(outcome, Refused):
        return refused_on_actors(request, services, viewer, outcome)
    with services.reading() as cursor:
        live = holds_live_token(cursor, actor_id)
    what = "Their sign-in link, valid for 15 minutes and once: send it by a channel you trust."
    if not live:
        what += (
            " They hold no working token (all revoked), so the link will not sign them in "
            "until you issue them a token."
        )
    return secret_page(
        request,
        viewer,
        title=f"A sign-in link for {person['name']}",
        person=person,
        secret=issued[0] if issued else None,
        what=what,
        lost="This form was sent already: the link was shown on the first answer only and is "
        "kept nowhere. If it was lost, issue another link.",
        back="/admin/actors",
        status_code=201 if issued else 200,
    )
