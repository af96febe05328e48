"""What routes depend on: the services, the caller, paging, and the command envelope."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from api.auth import Principal, authenticate
from api.errors import Problem
from api.idempotency import check_key, fingerprint
from api.services import Services
from ledger.commands import Answer, Context, Done, Keyed
from ledger.commands import Command as LedgerCommand

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


async def get_principal(
    request: Request,
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The authenticated caller (401 otherwise). A caller authenticated a moment ago is
    known without a read (``api.auth.KnownTokens``): async, so no thread-pool hop then."""
    header = None if credentials is None else f"{credentials.scheme} {credentials.credentials}"
    if header is None:
        header = request.headers.get("authorization")
    principal = services.known_tokens.get(header)
    if principal is None:
        principal = await run_in_threadpool(looked_up, services, header)
        if header is not None:
            services.known_tokens.keep(header, principal)
    request.state.actor_id = str(principal.id)
    return principal


def looked_up(services: Services, header: str | None) -> Principal:
    """The caller of an Authorization header, from the directory (401 otherwise)."""
    try:
        with services.reading() as cursor:
            return authenticate(cursor, header)
    except Problem:
        # A token issued a moment ago (say, at the command line) may not be projected yet.
        # Look once more even when catch_up finds nothing to wait for: the projections may
        # have reached the token between the first look and catch_up's check.
        if header is None:
            raise
        services.catch_up()
        with services.reading() as cursor:
            return authenticate(cursor, header)


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


def serialised(value: Any) -> bytes:
    """A JSON body, as FastAPI's JSONResponse writes it."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


@dataclass
class Command:
    """The envelope of a command: who, which request, which key, which expected version."""

    request: Request
    services: Services
    principal: Principal
    idempotency_key: str | None
    if_match: str | None

    @property
    def request_id(self) -> str:
        """The request id recorded on every event (from X-Request-ID or generated)."""
        state = self.request.scope.get("state", {})
        return str(state.get("request_id") or "")

    def handle(
        self,
        command: LedgerCommand,
        status: int,
        render: Callable[[Done], Result],
        body: BaseModel | None = None,
    ) -> Response:
        """Handle the command; the response is rendered once from the changed aggregate
        (before the save, so that with an Idempotency-Key it is stored in the same
        transaction as the events) and serialised once. A repeat of a key gets the first
        response, marked ``Idempotent-Replayed``."""
        keyed = None
        if self.idempotency_key is not None:
            printed = fingerprint(
                self.request.method,
                self.request.url.path,
                None if body is None else body.model_dump(mode="json"),
            )
            keyed = Keyed(self.principal.id, check_key(self.idempotency_key), printed)

        def answer(done: Done) -> Answer:
            result = render(done)
            kept = None if result.replay_body is None else serialised(result.replay_body)
            return Answer(status, serialised(result.body), result.headers, kept)

        context = Context(
            self.principal.id,
            self.request_id,
            parse_if_match(self.if_match),
            keyed,
            answer,
        )
        done = self.services.app.handle(command, context)
        given = done.answer
        if given is None:  # pragma: no cover - every context here renders an answer
            msg = "the command gave no answer"
            raise RuntimeError(msg)
        if done.replayed:
            headers = {**given.headers, "Idempotent-Replayed": "true"}
            return Response(given.replayed_body, given.status, headers, JSON)
        return Response(given.body, given.status, given.headers, JSON)


JSON = "application/json"


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
