"""Actors and partners: registration, tokens, revocation, and who the caller is."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api import schemas
from api.auth import Principal, can_see, require_role, visible_partners
from api.deps import CommandDep, PageDep, PrincipalDep, Result, ServicesDep, page_of
from api.views import actor_view, partner_view
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


@router.post("/actors", status_code=201, response_model=schemas.ActorWithToken, responses=ERRORS)
def register_actor(body: schemas.ActorIn, command: CommandDep) -> JSONResponse:
    """Register an actor and issue their first token (shown only in this response)."""
    require_role(command.principal, ADMIN, "registering actors")

    def action() -> Result:
        actor, token = command.services.app.register_actor(
            name=body.name,
            email=body.email,
            role=Role(body.role),
            partner_id=body.partner_id,
            by=command.principal.id,
            request_id=command.request_id,
        )
        command.services.settle()  # the token works as soon as it is shown
        view = actor_view(actor)
        return Result({**view, "token": token}, replay_body={**view, "token": None})

    return command.run(body, 201, action)


@router.post(
    "/actors/{actor_id}/tokens", status_code=201, response_model=schemas.TokenOut, responses=ERRORS
)
def issue_token(actor_id: UUID, command: CommandDep) -> JSONResponse:
    """Issue another token to an actor; older tokens stay valid until revoked."""
    require_role(command.principal, ADMIN, "issuing tokens")

    def action() -> Result:
        token = command.services.app.issue_token(
            actor_id, by=command.principal.id, request_id=command.request_id
        )
        command.services.settle()
        return Result({"token": token}, replay_body={"token": None})

    return command.run(None, 201, action)


@router.post("/actors/{actor_id}/revoke", response_model=schemas.ActorOut, responses=ERRORS)
def revoke_tokens(actor_id: UUID, command: CommandDep) -> JSONResponse:
    """Revoke every token of an actor: they stop working when this answers."""
    require_role(command.principal, ADMIN, "revoking tokens")

    def action() -> Result:
        actor = command.services.app.revoke_tokens(
            actor_id, by=command.principal.id, request_id=command.request_id
        )
        command.services.settle()
        return Result(actor_view(actor))

    return command.run(None, 200, action)


@router.get("/me", response_model=schemas.ActorOut, responses=ERRORS)
def me(principal: PrincipalDep) -> JSONResponse:
    """The caller."""
    return JSONResponse(principal.view())


@router.post("/partners", status_code=201, response_model=schemas.PartnerOut, responses=ERRORS)
def register_partner(body: schemas.PartnerIn, command: CommandDep) -> JSONResponse:
    """Register a partner organisation owned by a channel manager."""
    require_role(command.principal, ADMIN, "registering partners")

    def action() -> Result:
        partner = command.services.app.register_partner(
            name=body.name,
            manager_id=body.manager_id,
            by=command.principal.id,
            request_id=command.request_id,
        )
        command.services.settle()
        return Result(partner_view(partner))

    return command.run(body, 201, action)


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
