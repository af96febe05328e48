"""Webhook endpoints (admin): subscribe, list, disable/enable, rotate the secret, deliveries."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from api import schemas
from api.auth import Principal, require_role
from api.deps import (
    JSON,
    Command,
    CommandDep,
    PageDep,
    PrincipalDep,
    Result,
    ServicesDep,
    page_of,
    serialised,
)
from api.errors import Problem
from api.idempotency import check_key, fingerprint
from api.services import Services
from ledger.domain import InvalidInput, NotFound
from ledger.idempotency import KeyReused
from projections.models import notifications
from projections.models import webhook_outbox as outbox
from projections.rules.webhooks import EndpointRefused, check_event_types, check_url
from projections.runtime.webhook_sender import check_endpoint

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
ADMIN = frozenset({"admin"})
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": schemas.ProblemOut, "description": "Missing, unknown or revoked token"},
    403: {"model": schemas.ProblemOut, "description": "Webhooks are for admins"},
    404: {"model": schemas.ProblemOut, "description": "No such endpoint or delivery"},
    422: {"model": schemas.ProblemOut, "description": "Invalid input"},
}


def keyed(
    command: Command, body: BaseModel | None, status: int, action: Callable[[], Result]
) -> Response:
    """Run a webhook change once per Idempotency-Key: a repeat with the same body gets the
    first answer (``Idempotent-Replayed``), with another body 422; a refusal frees the key."""
    if command.idempotency_key is None:
        return JSONResponse(action().body, status_code=status)
    services = command.services
    key = check_key(command.idempotency_key)
    printed = fingerprint(
        command.request.method,
        command.request.url.path,
        None if body is None else body.model_dump(mode="json"),
    )
    actor, claim = str(command.principal.id), uuid.uuid4().hex
    kept = notifications.reserve_request(services.store, actor, key, printed, claim)
    if kept.claim_id != claim:
        if kept.fingerprint != printed:
            raise KeyReused
        if kept.status == 0 or kept.body is None:
            raise Problem(
                409,
                "a request with this Idempotency-Key is still in progress",
                headers={"Retry-After": "1"},
            )
        headers = {"Idempotent-Replayed": "true"}
        return Response(kept.body, kept.status, headers, JSON)
    try:
        result = action()
    except BaseException:
        notifications.release_request(services.store, actor, key, claim)
        raise
    text = serialised(result.body)
    notifications.answer_request(
        services.store, actor, key, claim, status=status, body=text.decode()
    )
    return Response(text, status, {}, JSON)


def _admin(principal: Principal) -> None:
    require_role(principal, ADMIN, "managing webhooks")


def _found(endpoint: outbox.Endpoint | None, webhook_id: UUID) -> outbox.Endpoint:
    if endpoint is None:
        msg = f"webhook {webhook_id} not found"
        raise NotFound(msg)
    return endpoint


def _read(services: Services, webhook_id: UUID) -> outbox.Endpoint:
    with services.reading() as cursor:
        return _found(outbox.endpoint(cursor, str(webhook_id)), webhook_id)


@router.post("", status_code=201, response_model=schemas.WebhookWithSecret, responses=ERRORS)
def subscribe(body: schemas.WebhookIn, command: CommandDep) -> Response:
    """Subscribe an endpoint to ledger events from now on; the secret is shown only here."""
    _admin(command.principal)
    services = command.services
    try:
        url = check_url(body.url)
        check_endpoint(url, allow_private=services.notify.webhooks_allow_private)
        types = check_event_types(body.event_types)
    except (EndpointRefused, ValueError) as error:
        raise InvalidInput(str(error)) from None

    def action() -> Result:
        created = outbox.create_endpoint(
            services.store,
            url,
            types,
            body.description,
            now=services.app.clock.now(),
            head=services.app.head_position(),
        )
        return Result({**created.view(), "secret": created.secret})

    return keyed(command, body, 201, action)


@router.get("", response_model=schemas.WebhookList, responses=ERRORS)
def list_webhooks(services: ServicesDep, principal: PrincipalDep, page: PageDep) -> JSONResponse:
    """Every endpoint, in id order (without secrets)."""
    _admin(principal)
    with services.reading() as cursor:
        found = outbox.endpoints(cursor, after=page.after, limit=page.limit + 1)
    return JSONResponse(page_of([e.view() for e in found], page, key=lambda e: str(e["id"])))


@router.get("/{webhook_id}", response_model=schemas.Webhook, responses=ERRORS)
def show_webhook(webhook_id: UUID, services: ServicesDep, principal: PrincipalDep) -> JSONResponse:
    """One endpoint (without its secret)."""
    _admin(principal)
    return JSONResponse(_read(services, webhook_id).view())


def _switch(command: CommandDep, webhook_id: UUID, status: str) -> Response:
    _admin(command.principal)

    def action() -> Result:
        head = command.services.app.head_position()
        changed = outbox.set_status(command.services.store, str(webhook_id), status, head)
        return Result(_found(changed, webhook_id).view())

    return keyed(command, None, 200, action)


@router.post("/{webhook_id}/disable", response_model=schemas.Webhook, responses=ERRORS)
def disable(webhook_id: UUID, command: CommandDep) -> Response:
    """Stop delivering: nothing is sent, and events recorded meanwhile are not queued for it."""
    return _switch(command, webhook_id, outbox.DISABLED)


@router.post("/{webhook_id}/enable", response_model=schemas.Webhook, responses=ERRORS)
def enable(webhook_id: UUID, command: CommandDep) -> Response:
    """Deliver again: messages still pending resume, and new events are queued from now on."""
    return _switch(command, webhook_id, outbox.ACTIVE)


@router.post(
    "/{webhook_id}/rotate-secret", response_model=schemas.WebhookWithSecret, responses=ERRORS
)
def rotate_secret(webhook_id: UUID, command: CommandDep) -> Response:
    """A new secret (shown only here); the previous one keeps signing alongside it for 24 h."""
    _admin(command.principal)
    services = command.services

    def action() -> Result:
        rotated = outbox.rotate_secret(services.store, str(webhook_id), services.app.clock.now())
        found = _found(rotated, webhook_id)
        return Result({**found.view(), "secret": found.secret})

    return keyed(command, None, 200, action)


@router.get("/{webhook_id}/deliveries", response_model=schemas.DeliveryList, responses=ERRORS)
def deliveries(
    webhook_id: UUID,
    services: ServicesDep,
    principal: PrincipalDep,
    page: PageDep,
    status: Annotated[
        Literal["pending", "delivered", "failed"] | None, Query(description="Only this status.")
    ] = None,
) -> JSONResponse:
    """The endpoint's messages in ledger order, with attempts and the last answer."""
    _admin(principal)
    after = 0
    if page.after is not None:
        if not (page.after.isascii() and page.after.isdigit()) or len(page.after) > 18:
            raise InvalidInput("cursor: not a cursor of this list")
        after = int(page.after)
    _read(services, webhook_id)
    with services.reading() as cursor:
        found = outbox.deliveries(cursor, str(webhook_id), status, after, page.limit + 1)
    return JSONResponse(page_of(found, page, key=lambda d: int(d["position"])))


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/retry",
    response_model=schemas.Delivery,
    responses=ERRORS,
)
def retry(webhook_id: UUID, delivery_id: str, command: CommandDep) -> Response:
    """Queue a message again at once (a failed one gets a fresh day of retries)."""
    _admin(command.principal)
    services = command.services

    def action() -> Result:
        queued = outbox.retry(
            services.store, str(webhook_id), delivery_id[:100], services.app.clock.now()
        )
        if queued is None:
            msg = f"delivery {delivery_id[:100]!r} of webhook {webhook_id} not found"
            raise NotFound(msg)
        return Result(queued)

    return keyed(command, None, 200, action)
