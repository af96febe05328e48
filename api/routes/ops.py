"""Operations: liveness, readiness (database and projection lag), Prometheus metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api import schemas
from api.deps import ServicesDep
from api.observability import Metrics

router = APIRouter(tags=["operations"])
MAX_READY_LAG = 10_000


@router.get("/healthz", response_model=schemas.Health)
def healthz() -> JSONResponse:
    """The process is up (no database access, no authentication)."""
    return JSONResponse({"status": "ok", "checks": {}})


@router.get(
    "/readyz",
    response_model=schemas.Health,
    responses={503: {"model": schemas.Health, "description": "Not ready"}},
)
def readyz(services: ServicesDep) -> JSONResponse:
    """Ready when the database answers and the projections are running and close behind."""
    checks: dict[str, Any] = {}
    ready = True
    try:
        # The read store's pool gives up after the connect timeout; ask it first, so that an
        # unreachable database answers 503 promptly (the ledger's recorder retries for longer).
        services.runner.positions()
        statuses = services.projection_status()
    except Exception as error:  # any failure to reach the database means not ready
        checks["database"] = f"unreachable: {type(error).__name__}"
        return JSONResponse({"status": "not ready", "checks": checks}, status_code=503)
    checks["database"] = "ok"
    lag = max((s.lag for s in statuses), default=0)
    checks["projections"] = "running" if services.projections_running else "stopped"
    checks["projection_lag"] = lag
    if not services.projections_running or lag > MAX_READY_LAG:
        ready = False
    status = 200 if ready else 503
    return JSONResponse({"status": "ok" if ready else "not ready", "checks": checks}, status)


@router.get("/metrics", response_class=Response)
def metrics(request: Request, services: ServicesDep) -> Response:
    """Prometheus text: requests and latency by route, events appended, projection lag."""
    registry: Metrics = request.app.state.metrics
    try:
        for status in services.projection_status():
            registry.lag.labels(status.name).set(status.lag)
            registry.position.labels(status.name).set(status.position)
            registry.head.set(status.head)
    except Exception:  # noqa: S110 (the database is down: serve the request figures anyway)
        pass
    return Response(generate_latest(registry.registry), media_type=CONTENT_TYPE_LATEST)
