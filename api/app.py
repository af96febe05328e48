"""The composition root: ``create_app(settings)`` builds the FastAPI app; its lifespan runs it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import FastAPI
from fastapi.routing import APIRoute

from api import errors
from api.config import ServerSettings
from api.observability import LOGGER, LateRequests, Metrics, RequestLog, configure_logging
from api.routes import audit, directory, ops, plans, scores
from api.services import Services
from api.web.routes import install as install_web
from ledger.clock import Clock
from ledger.settings import Settings

LATE_REQUESTS_GRACE = 30.0
"""Seconds a stopping server waits for requests still working after their deadline."""

DESCRIPTION = """
Counterpart keeps the record of mutual accountability between a vendor's channel managers and
their partners: SMART plans with metrics on both sides, agreement and commitment by both,
progress, reviews and adjustments, each an immutable event, and an explainable score per side.

Authenticate with `Authorization: Bearer <token>`. Errors are `application/problem+json`.
Every POST accepts an `Idempotency-Key`; plan responses carry `ETag: "<version>"` and plan
commands accept `If-Match`.
"""


def operation_id(route: APIRoute) -> str:
    """An operation's id is its route function's name (``report_progress``): generated
    clients get functions named like the API's own verbs."""
    return route.name


def create_app(
    settings: Settings | None = None,
    server: ServerSettings | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    """The HTTP API; nothing connects until the lifespan starts."""
    settings = settings or Settings.from_env()
    server = server or ServerSettings.from_env()
    metrics = Metrics()
    late = LateRequests()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = Services.start(settings, server, clock)
        services.on_appended.append(metrics.events.inc)
        app.state.services = services
        try:
            yield
        finally:
            # Requests answered 503 at their deadline may still be using the database.
            if await late.drain(LATE_REQUESTS_GRACE):
                services.stop()
            else:  # closing connections in use could crash the process (SQLite): leave them
                structlog.get_logger(LOGGER).warning(
                    "shutdown_with_late_requests", requests=len(late.tasks)
                )
                services.stop_background()

    configure_logging()
    app = FastAPI(
        title="Counterpart",
        version="1.0.0",
        summary="The mutual accountability ledger for channel sales.",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served by api.web from installed packages: they work offline
        redoc_url=None,
        generate_unique_id_function=operation_id,
    )
    app.state.metrics = metrics
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        return errors.document_problems(generate())

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override
    errors.install(app)
    for router in (directory.router, plans.router, scores.router, audit.router, ops.router):
        app.include_router(router)
    install_web(app)
    app.add_middleware(RequestLog, metrics=metrics, max_body_bytes=server.max_body_bytes, late=late)
    return app
