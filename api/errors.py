"""Every error as RFC 9457 problem+json: one table maps the domain's errors to statuses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from ledger.domain import (
    ConcurrencyConflict,
    Forbidden,
    InvalidInput,
    LedgerError,
    NotFound,
    RuleViolation,
    VersionMismatch,
)
from ledger.idempotency import KeyReused
from projections.runtime.embedded import UNAVAILABLE

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:counterpart:problem:"

# The one table: domain error class -> (status, type slug, title). Most specific first.
DOMAIN_ERRORS: list[tuple[type[LedgerError], int, str, str]] = [
    (KeyReused, 422, "idempotency-key-reused", "Idempotency-Key reused"),
    (NotFound, 404, "not-found", "Not found"),
    (Forbidden, 403, "forbidden", "Not allowed"),
    (InvalidInput, 422, "invalid-input", "Invalid input"),
    (ConcurrencyConflict, 409, "concurrent-change", "Changed concurrently"),
    (RuleViolation, 409, "rule-violation", "Not allowed in the plan's current state"),
    (VersionMismatch, 412, "version-mismatch", "The plan has changed"),
]

HTTP_TITLES = {
    400: ("bad-request", "Bad request"),
    401: ("unauthenticated", "Authentication required"),
    403: ("forbidden", "Not allowed"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    409: ("conflict", "Conflict"),
    412: ("version-mismatch", "The plan has changed"),
    413: ("too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("invalid-input", "Invalid input"),
    503: ("unavailable", "Service unavailable"),
}

CONFLICT_ADVICE = " Re-read the plan (GET it for its current version) and send the command again."


class Problem(Exception):
    """An error the HTTP layer itself decides (authentication, idempotency, limits)."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        slug: str | None = None,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        default_slug, default_title = HTTP_TITLES.get(status, ("error", "Error"))
        self.status = status
        self.detail = detail
        self.slug = slug or default_slug
        self.title = title or default_title
        self.headers = headers or {}
        self.extra = extra


# Problems any operation of its kind may answer, whatever its route declares.
SHARED_PROBLEMS = {
    "409": ("post", "A request with this Idempotency-Key is still in progress (Retry-After)"),
    "413": ("body", "The request body is over the size limit"),
    "503": ("/v1/", "The database is unreachable or busy (Retry-After)"),
}


def document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Make the OpenAPI document say what is served: problems as ``application/problem+json``.

    FastAPI files every response model under ``application/json``; the error handlers answer
    ``application/problem+json``. Also declares the problems that the idempotency store, the
    body limit and the database may answer on any operation of their kind. Idempotent.
    """
    reference = {"$ref": "#/components/schemas/ProblemOut"}
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for status, response in responses.items():
                content = response.get("content", {})
                if (
                    int(status) >= 400
                    and content.get("application/json", {}).get("schema") == reference
                ):
                    content[PROBLEM_JSON] = content.pop("application/json")
            for status, (kind, description) in SHARED_PROBLEMS.items():
                applies = (
                    method == kind
                    or (kind == "body" and "requestBody" in operation)
                    or path.startswith(kind)
                )
                if applies and status not in responses:
                    responses[status] = {
                        "description": description,
                        "content": {PROBLEM_JSON: {"schema": reference}},
                    }
    return schema


def problem_response(
    status: int,
    slug: str,
    title: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem+json response."""
    body = {"type": TYPE_PREFIX + slug, "title": title, "status": status, "detail": detail}
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def domain_problem(error: LedgerError) -> JSONResponse:
    """The response for a refused command."""
    for kind, status, slug, title in DOMAIN_ERRORS:
        if isinstance(error, kind):
            detail = str(error) or title
            extra: dict[str, Any] = {}
            if isinstance(error, ConcurrencyConflict):
                detail = detail.rstrip(".") + "." + CONFLICT_ADVICE
                extra["retry"] = True
            if isinstance(error, VersionMismatch):
                extra["current_version"] = error.actual
            if status == 422:  # every 422 lists its errors; a rule of form names no one field
                extra["errors"] = [{"loc": [], "msg": detail}]
            return problem_response(status, slug, title, detail, **extra)
    detail = str(error) or "invalid input"
    return problem_response(
        422, "invalid-input", "Invalid input", detail, errors=[{"loc": [], "msg": detail}]
    )


def validation_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Pydantic's errors as docs/api.md's ``[{loc, msg}]`` (plus the error type)."""
    return [
        {"loc": [str(part) for part in error.get("loc", ())], "msg": str(error.get("msg", ""))}
        | {"type": str(error.get("type", ""))}
        for error in errors
    ]


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem+json."""

    @app.exception_handler(LedgerError)
    def on_ledger_error(request: Request, error: LedgerError) -> JSONResponse:
        return domain_problem(error)

    @app.exception_handler(Problem)
    def on_problem(request: Request, error: Problem) -> JSONResponse:
        return problem_response(
            error.status,
            error.slug,
            error.title,
            error.detail,
            headers=error.headers,
            **error.extra,
        )

    @app.exception_handler(RequestValidationError)
    def on_invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = validation_errors(error.errors())
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        where = ".".join(first["loc"]) or "request"
        return problem_response(
            422, "invalid-input", "Invalid input", f"{where}: {first['msg']}", errors=errors
        )

    @app.exception_handler(HTTPException)
    def on_http(request: Request, error: HTTPException) -> JSONResponse:
        if error.status_code == 400:  # FastAPI could not parse the body (e.g. nested too deep)
            msg = "the body could not be parsed as JSON"
            return problem_response(
                422,
                "invalid-input",
                "Invalid input",
                f"body: {msg}",
                errors=[{"loc": ["body"], "msg": msg}],
            )
        slug, title = HTTP_TITLES.get(error.status_code, ("error", "Error"))
        detail = str(error.detail) if error.detail else title
        if error.status_code == 404 and detail == "Not Found":
            detail = f"no such resource: {request.url.path}"
        if error.status_code == 405:
            detail = f"{request.method} is not allowed on {request.url.path}"
        return problem_response(
            error.status_code, slug, title, detail, headers=dict(error.headers or {})
        )

    def on_unavailable(request: Request, error: Exception) -> JSONResponse:
        structlog.get_logger("counterpart.api").warning(
            "database_unavailable", error=f"{type(error).__name__}: {error}"
        )
        return problem_response(
            503,
            "unavailable",
            "Service unavailable",
            "the database is unreachable or busy; retry shortly (with the same "
            "Idempotency-Key, so that a command is applied at most once)",
            headers={"Retry-After": "1"},
        )

    for unavailable in UNAVAILABLE:  # the database is away: 503, never 500
        app.add_exception_handler(unavailable, on_unavailable)

    @app.exception_handler(Exception)
    def on_unexpected(request: Request, error: Exception) -> JSONResponse:
        structlog.get_logger("counterpart.api").exception("unexpected_error")
        return problem_response(
            500, "internal", "Internal error", "an unexpected error; it has been logged"
        )
