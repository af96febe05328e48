"""The audit routes: who committed to what, and tamper evidence (the chain, the signed
checkpoint, the public key, exports)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, StreamingResponse

from api import schemas
from api.auth import READ_ALL, require_role, visible_partners
from api.deps import PageDep, PrincipalDep, ServicesDep, page_of
from api.errors import Problem
from api.integrity import NoCheckpoint
from api.routes.directory import visible_partner
from api.schemas import Moment
from ledger.domain import InvalidInput
from ledger.integrity.export import ExportError
from ledger.integrity.signing import public_pem
from projections.models.plan_history import audit_entries

router = APIRouter(prefix="/v1/audit", tags=["scores and audit"])
INTEGRITY = frozenset({"auditor", "admin"})
AUDIT = READ_ALL  # who may read everything (api/auth.py) may read the audit trail
INVALID: dict[str, Any] = {"model": schemas.ProblemOut, "description": "Invalid input"}
NOT_FOUND: dict[str, Any] = {"model": schemas.ProblemOut, "description": "Not found in your scope"}
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": schemas.ProblemOut, "description": "Missing, unknown or revoked token"},
    403: {"model": schemas.ProblemOut, "description": "Your role may not see this"},
}
NDJSON = "application/x-ndjson"


@router.get("/verify", response_model=schemas.Verification, responses=ERRORS)
def verify(services: ServicesDep, principal: PrincipalDep) -> JSONResponse:
    """Recompute the hash chain over every event and check every signed checkpoint."""
    require_role(principal, INTEGRITY, "verifying the ledger")
    return JSONResponse(services.integrity.verify().as_dict())


@router.get(
    "/checkpoint",
    response_model=schemas.SignedCheckpoint,
    responses={
        **ERRORS,
        404: {"model": schemas.ProblemOut, "description": "No checkpoint has been signed yet"},
    },
)
def checkpoint(services: ServicesDep, principal: PrincipalDep) -> JSONResponse:
    """The latest signed checkpoint (one of the chain's head, when this server holds the key)."""
    require_role(principal, INTEGRITY, "the signed checkpoint")
    try:
        latest = services.integrity.covering()
    except NoCheckpoint as error:
        raise Problem(404, str(error), slug="no-checkpoint", title="No checkpoint") from None
    return JSONResponse(latest.as_dict())


@router.post(
    "/checkpoint",
    response_model=schemas.SignedCheckpoint,
    status_code=201,
    responses={
        **ERRORS,
        409: {"model": schemas.ProblemOut, "description": "No signing key, or an empty ledger"},
    },
)
def issue_checkpoint(services: ServicesDep, principal: PrincipalDep) -> JSONResponse:
    """Sign the chain's head now (an extension of docs/api.md; see docs/integrity.md)."""
    require_role(principal, INTEGRITY, "signing a checkpoint")
    try:
        issued = services.integrity.issue()
    except NoCheckpoint as error:
        raise Problem(409, str(error), slug="no-checkpoint", title="No checkpoint") from None
    return JSONResponse(issued.as_dict(), status_code=201)


@router.get(
    "/public-key",
    response_model=schemas.PublicKey,
    responses={404: {"model": schemas.ProblemOut, "description": "No signing key configured"}},
)
def public_key(services: ServicesDep) -> JSONResponse:
    """The public key that checks every checkpoint (no authentication: it is public)."""
    signer = services.integrity.signer
    if signer is None:
        raise Problem(404, "this server holds no signing key", slug="no-key", title="No key")
    return JSONResponse(
        {
            "key_id": signer.key_id,
            "algorithm": "Ed25519",
            "public_key": public_pem(signer.public_key),
        }
    )


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={
        **ERRORS,
        200: {
            "description": "JSON Lines for `counterpart verify-export` (docs/integrity.md)",
            "content": {NDJSON: {"schema": {"type": "string"}}},
        },
        404: {"model": schemas.ProblemOut, "description": "Partner not found in your scope"},
        409: {"model": schemas.ProblemOut, "description": "No signed checkpoint to export"},
        422: {"model": schemas.ProblemOut, "description": "Invalid input"},
    },
)
def export(
    services: ServicesDep,
    principal: PrincipalDep,
    partner_id: Annotated[
        UUID | None,
        Query(description="Only this partnership (default for a partner contact: their own)."),
    ] = None,
) -> StreamingResponse:
    """A verifiable export: events with their hashes and a signed checkpoint, as JSON Lines."""
    if partner_id is None and principal.role == "partner":
        partner_id = principal.partner_id
    if partner_id is None:
        require_role(principal, INTEGRITY, "exporting the whole ledger")
    else:
        visible_partner(services, principal, partner_id)
    try:
        lines = services.integrity.export(partner_id)
        first = next(lines)
    except NoCheckpoint as error:
        raise Problem(409, str(error), slug="no-checkpoint", title="No checkpoint") from None
    return StreamingResponse(_ndjson(first, lines), media_type=NDJSON)


def _ndjson(first: dict[str, Any], rest: Iterator[dict[str, Any]]) -> Iterator[bytes]:
    yield (json.dumps(first) + "\n").encode("utf-8")
    try:
        for line in rest:
            yield (json.dumps(line) + "\n").encode("utf-8")
    except ExportError:  # the file ends without its checkpoint: verify-export rejects it
        return


@router.get(
    "/commitments",
    response_model=schemas.AuditList,
    responses={**ERRORS, 404: NOT_FOUND, 422: INVALID},
)
def commitments(
    services: ServicesDep,
    principal: PrincipalDep,
    page: PageDep,
    actor_id: Annotated[UUID | None, Query(description="Only this actor's acts.")] = None,
    partner_id: Annotated[UUID | None, Query(description="Only this partnership.")] = None,
    since: Annotated[Moment | None, Query(description="Recorded at or after (ISO-8601).")] = None,
    until: Annotated[Moment | None, Query(description="Recorded at or before (ISO-8601).")] = None,
) -> JSONResponse:
    """Who proposed, agreed or committed to which terms, or accepted which change, and when."""
    require_role(principal, AUDIT, "the audit trail")
    after = 0
    if page.after is not None:
        if not (page.after.isascii() and page.after.isdigit()) or len(page.after) > 18:
            raise InvalidInput("cursor: not a cursor of this list")
        after = int(page.after)
    services.catch_up()  # include what was written a moment ago
    with services.reading() as cursor:
        visible = visible_partners(cursor, principal)
        if partner_id is not None:
            visible = [partner_id] if visible is None or partner_id in visible else []
        entries = audit_entries(
            cursor,
            services.app.transcoder,
            actor_id=actor_id,
            partner_ids=visible,
            since=since,
            until=until,
            after=after,
            limit=page.limit + 1,
        )
    return JSONResponse(page_of(entries, page, key=lambda e: int(e["position"])))
