"""Actors and partners: registration, tokens, revocation, and who the caller is."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from api import schemas
from api.auth import Principal, can_see, require_role, visible_partners
from api.deps import CommandDep, PageDep, PrincipalDep, Result, ServicesDep, page_of
from api.views import actor_view, partner_view
from ledger import commands as c
from ledger.commands import Command as LedgerCommand
from ledger.commands import Done
from ledger.domain import NotFound, Role
from projections.models.directory import partners

router = APIRouter(prefix="/v1", tags=["actors and partners"])
ADMIN = frozenset({"admin"})
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": schemas.ProblemOut, "description": "Missing, unknown or revoked token"},
    403: {"model": schemas.ProblemOut, "description": "Only admins may do this"},
    404: {"model": schemas.ProblemOut, "description": "Not found in your scope"},
    422: {"model": schemas.ProblemOut, "description": "Invalid input"},
}


def admin_command(
    command: CommandDep,
    ledger_command: LedgerCommand,
    status: int,
    render: Callable[[Done], Result],
    body: BaseModel | None = None,
) -> Response:
    """Handle an admin command; its answer waits until the read models hold it (a new token
    works, a revoked one stops working, as soon as the response says so)."""
    response = command.handle(ledger_command, status, render, body)
    command.services.settle()
    command.services.known_tokens.forget()  # a revoke is honoured here from this answer on
    return response


@router.post("/actors", status_code=201, response_model=schemas.ActorWithToken, responses=ERRORS)
def register_actor(body: schemas.ActorIn, command: CommandDep) -> Response:
    """Register an actor and issue their first token (shown only in this response)."""
    require_role(command.principal, ADMIN, "registering actors")
    registered = c.RegisterActor(body.name, body.email, Role(body.role), body.partner_id)

    def render(done: Done) -> Result:
        view = actor_view(done.aggregate)
        return Result({**view, "token": done.result}, replay_body={**view, "token": None})

    return admin_command(command, registered, 201, render, body)


@router.post(
    "/actors/{actor_id}/tokens", status_code=201, response_model=schemas.TokenOut, responses=ERRORS
)
def issue_token(actor_id: UUID, command: CommandDep) -> Response:
    """Issue another token to an actor; older tokens stay valid until revoked."""
    require_role(command.principal, ADMIN, "issuing tokens")

    def render(done: Done) -> Result:
        return Result({"token": done.result}, replay_body={"token": None})

    return admin_command(command, c.IssueToken(actor_id), 201, render)


@router.post("/actors/{actor_id}/revoke", response_model=schemas.ActorOut, responses=ERRORS)
def revoke_tokens(actor_id: UUID, command: CommandDep) -> Response:
    """Revoke every token of an actor: they stop working when this answers."""
    require_role(command.principal, ADMIN, "revoking tokens")
    render: Callable[[Done], Result] = lambda done: Result(actor_view(done.aggregate))  # noqa: E731
    return admin_command(command, c.RevokeTokens(actor_id), 200, render)


@router.get("/me", response_model=schemas.ActorOut, responses=ERRORS)
def me(principal: PrincipalDep) -> JSONResponse:
    """The caller."""
    return JSONResponse(principal.view())


@router.post("/partners", status_code=201, response_model=schemas.PartnerOut, responses=ERRORS)
def register_partner(body: schemas.PartnerIn, command: CommandDep) -> Response:
    """Register a partner organisation owned by a channel manager."""
    require_role(command.principal, ADMIN, "registering partners")
    registered = c.RegisterPartner(body.name, body.manager_id)
    render: Callable[[Done], Result] = lambda done: Result(partner_view(done.aggregate))  # noqa: E731
    return admin_command(command, registered, 201, render, body)


@router.get("/partners", response_model=schemas.PartnerList, responses=ERRORS)
def list_partners(services: ServicesDep, principal: PrincipalDep, page: PageDep) -> JSONResponse:
    """The partners you may see, in id order."""
    with services.reading() as cursor:
        visible = visible_partners(cursor, principal)
        found = partners(cursor, partner_ids=visible, after=page.after, limit=page.limit + 1)
    return JSONResponse(page_of(found, page, key=lambda p: str(p["id"])))


@router.get("/partners/{partner_id}", response_model=schemas.PartnerOut, responses=ERRORS)
def get_partner(partner_id: UUID, services: ServicesDep, principal: PrincipalDep) -> JSONResponse:
    """A partner in your scope."""
    return JSONResponse(visible_partner(services, principal, partner_id))


def visible_partner(
    services: ServicesDep, principal: Principal, partner_id: UUID
) -> dict[str, Any]:
    """The partner's row if the caller may see it; 404 otherwise."""
    with services.reading() as cursor:
        found = partners(cursor, partner_ids=[partner_id], limit=1)
        if not found or not can_see(cursor, principal, partner_id):
            msg = f"partner {partner_id} not found"
            raise NotFound(msg)
    return found[0]
