"""What routes depend on: the services, the caller, paging, and the command envelope."""

from __future__ import annotations

import base64
import binascii
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

import structlog
from fastapi import Depends, Header, Query, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from api.auth import Principal, authenticate
from api.errors import Problem
from api.idempotency import Recorded, Reservation, check_key, fingerprint
from api.services import Services
from api.views import actor_view, partner_view
from ledger.domain import Actor, LedgerError, Partner, Plan
from ledger.domain.base import LedgerAggregate
from projections.models.plan_view import plan_view
from projections.rules.live_pace import paces
from projections.runtime.embedded import UNAVAILABLE

bearer = HTTPBearer(
    auto_error=False,
    description="A token from `POST /v1/actors`, `POST /v1/actors/{id}/tokens` or "
    "`counterpart actors add`.",
)


async def get_services(request: Request) -> Services:
    """The services the lifespan started (async: no I/O, so no thread-pool hop)."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_principal(
    request: Request,
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The authenticated caller (401 otherwise)."""
    header = None if credentials is None else f"{credentials.scheme} {credentials.credentials}"
    if header is None:
        header = request.headers.get("authorization")
    try:
        with services.reading() as cursor:
            principal = authenticate(cursor, header)
    except Problem:
        # A token issued a moment ago (say, at the command line) may not be projected yet.
        # Look once more even when catch_up finds nothing to wait for: the projections may
        # have reached the token between the first look and catch_up's check.
        if header is None:
            raise
        services.catch_up()
        with services.reading() as cursor:
            principal = authenticate(cursor, header)
    request.state.actor_id = str(principal.id)
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


# ------------------------------------------------------------------- paging


@dataclass(frozen=True)
class Page:
    """``?limit=`` and the decoded ``?cursor=``."""

    limit: int
    after: str | None


def encode_cursor(value: str | int) -> str:
    """An opaque cursor for the next page."""
    return base64.urlsafe_b64encode(str(value).encode()).decode().rstrip("=")


async def get_page(
    limit: Annotated[int, Query(ge=1, le=500, description="Items per page (at most 500).")] = 50,
    cursor: Annotated[
        str | None, Query(max_length=200, description="`next_cursor` of the previous page.")
    ] = None,
) -> Page:
    """Paging parameters; a cursor that was not issued by this API answers 422 (async: no I/O)."""
    if cursor is None or cursor == "":
        return Page(limit, None)
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        after = base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        after = None
    if not after or not after.isprintable():
        msg = "cursor: not a cursor this API issued (use next_cursor from a previous page)"
        raise Problem(422, msg, errors=[{"loc": ["query", "cursor"], "msg": "invalid cursor"}])
    return Page(limit, after)


PageDep = Annotated[Page, Depends(get_page)]


def page_of(items: list[Any], page: Page, key: Callable[[Any], str | int]) -> dict[str, Any]:
    """``{items, next_cursor}`` from up to ``limit + 1`` items fetched."""
    more = len(items) > page.limit
    items = items[: page.limit]
    return {
        "items": items,
        "next_cursor": encode_cursor(key(items[-1])) if more and items else None,
    }


# ----------------------------------------------------------------- commands


@dataclass
class Result:
    """A command's response: its body, headers, and the body a replay gets (if different)."""

    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    replay_body: Any = None


def parse_if_match(value: str | None) -> int | None:
    """``If-Match: "7"`` → 7; ``*`` or absent → None; anything else answers 412."""
    if value is None or value.strip() in {"", "*"}:
        return None
    text = value.strip().removeprefix("W/").strip('"')
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        msg = f'If-Match must be a plan version as an ETag, such as "7"; got {value!r}'
        raise Problem(412, msg)
    return int(text)


CLOCK_SKEW = 60.0
"""Seconds by which the clocks of two server processes may disagree (bounds a search)."""


@dataclass
class Command:
    """The envelope of a command: who, which request, which key, which expected version."""

    request: Request
    services: Services
    principal: Principal
    idempotency_key: str | None
    if_match: str | None
    recorded_request_id: str | None = None
    """Set when this request runs again the command of an earlier attempt with its key."""

    @property
    def request_id(self) -> str:
        """The request id recorded on every event: this request's (from X-Request-ID or
        generated), or, for a retry that runs the command of an earlier attempt that never
        answered, that attempt's, so that every attempt of one command records one id."""
        if self.recorded_request_id is not None:
            return self.recorded_request_id
        state = self.request.scope.get("state", {})
        return str(state.get("request_id") or "")

    @property
    def expected_version(self) -> int | None:
        """The plan version the caller expects (If-Match)."""
        return parse_if_match(self.if_match)

    def run(
        self, body: BaseModel | None, status: int, action: Callable[[], Result]
    ) -> JSONResponse:
        """Run the action once per Idempotency-Key; repeats get the first response."""
        if self.idempotency_key is None:
            result = action()
            return JSONResponse(result.body, status_code=status, headers=result.headers)
        key = check_key(self.idempotency_key)
        print_ = fingerprint(
            self.request.method,
            self.request.url.path,
            None if body is None else body.model_dump(mode="json"),
        )
        store = self.services.idempotency
        begun = store.begin(str(self.principal.id), key, print_, self.request_id)
        if isinstance(begun, Reservation) and begun.recovering:
            taken = begun
            try:
                begun = self._recover(taken, status)
            except BaseException:
                with contextlib.suppress(*UNAVAILABLE):  # the next repeat looks again
                    store.abandon(taken)
                raise
        if isinstance(begun, Recorded):
            return JSONResponse(
                begun.body,
                status_code=begun.status,
                headers={**begun.headers, "Idempotent-Replayed": "true"},
            )
        saved = self.services.app.last_saved_position()
        try:
            result = action()
        except BaseException as error:
            # A refusal stored nothing: the key is free again. Anything else (the database
            # went away mid-way, possibly after a commit it could not confirm, or after the
            # events were stored) keeps the key: a repeat takes it over at once and answers
            # from the stored events if there are any, rather than running the command twice.
            stored = self.services.app.last_saved_position() != saved
            refused = isinstance(error, LedgerError | Problem) and not stored
            with contextlib.suppress(*UNAVAILABLE):
                (store.release if refused else store.abandon)(begun)
            raise
        replay = result.body if result.replay_body is None else result.replay_body
        try:
            store.complete(begun, Recorded(status, replay, result.headers))
        except BaseException:
            with contextlib.suppress(*UNAVAILABLE):  # the next repeat answers from the events
                store.abandon(begun)
            raise
        return JSONResponse(result.body, status_code=status, headers=result.headers)

    def _recover(self, reservation: Reservation, status: int) -> Recorded | Reservation:
        """A retry took over the key of an attempt that never answered: if that attempt
        stored its command, record and return the answer it would have given; otherwise
        run the command, recording the first attempt's request id on its events."""
        services = self.services
        if reservation.ledger_head is not None:
            until = datetime.fromtimestamp(reservation.started_at + CLOCK_SKEW, UTC)
            events = services.app.events_of_request(
                reservation.request_id,
                self.principal.id,
                after=reservation.ledger_head,
                until=until,
            )
            if events:
                recorded = answer_from_events(services, events, status)
                services.idempotency.complete(reservation, recorded)
                structlog.get_logger("counterpart.api").warning(
                    "idempotent_command_recovered",
                    first_request_id=reservation.request_id,
                    positions=len(events),
                )
                return recorded
        self.recorded_request_id = reservation.request_id
        return reservation


def answer_from_events(
    services: Services, events: Sequence[LedgerAggregate.Event], status: int
) -> Recorded:
    """The answer a command gave (as a replay gives it), rebuilt from the events it stored.

    Plans answer the plan as the command left it (with ETag); a registered actor answers
    itself with ``token: null``, an issued token ``{"token": null}`` (tokens are never kept),
    a revocation the actor, a partner registration the partner.
    """
    last = events[-1]
    aggregate: Any = services.app.repository.get(
        last.originator_id, version=last.originator_version
    )
    if isinstance(aggregate, Plan):
        body = plan_view(aggregate)
        found = paces(aggregate, services.app.clock.now().date())
        for metric in body["metrics"]:
            metric["pace"] = found.get(metric["id"])
        return Recorded(status, body, {"ETag": f'"{body["version"]}"'})
    if isinstance(aggregate, Actor):
        if any(event.originator_version == 1 for event in events):
            return Recorded(status, {**actor_view(aggregate), "token": None}, {})
        if isinstance(last, Actor.TokenIssued):
            return Recorded(status, {"token": None}, {})
        return Recorded(status, actor_view(aggregate), {})
    if isinstance(aggregate, Partner):
        return Recorded(status, partner_view(aggregate), {})
    msg = f"no answer is known for the events of {type(aggregate).__name__}"  # pragma: no cover
    raise TypeError(msg)  # pragma: no cover


async def get_command(
    request: Request,
    services: ServicesDep,
    principal: PrincipalDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="Repeat a POST safely: the same key and body return the first response.",
        ),
    ] = None,
    if_match: Annotated[
        str | None,
        Header(alias="If-Match", description='The plan version you read, e.g. "7" (412 if stale).'),
    ] = None,
) -> Command:
    """The command envelope of this request (async: no I/O, so no thread-pool hop)."""
    return Command(request, services, principal, idempotency_key, if_match)


CommandDep = Annotated[Command, Depends(get_command)]
