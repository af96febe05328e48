"""Where an HTTP request's CPU goes: the app called in process, with no network, one at a time.

Each request is handed to the ASGI app directly (no socket, no uvicorn), so what is measured is
the app's own cost per request, split into the event loop (the main thread: middleware,
routing, dependency solving, validation, response sending) and the rest of the process (the
thread pool running the route, the embedded projections). Printed next to the same command
called in process, and with one part taken away at a time:

- ``POST progress, no key``: without ``Idempotency-Key`` (its two transactions);
- ``POST progress, bare route``: the same work behind a bare Starlette route, without
  FastAPI's dependency solving (a measurement only: the API never runs this route).

    .venv/bin/python bench/request_cost.py [--backend sqlite|postgres|both] [--requests 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from collections.abc import Callable, MutableMapping
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from _support import (
    DEFAULT_POSTGRES_URL,
    active_plans,
    backends,
    in_process,
    ledger_store,
    machine,
)
from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api import schemas
from api.app import create_app
from api.deps import Command, Result, get_principal
from api.reads import plan_result
from ledger.settings import Settings
from tests.support import shortcuts

Message = MutableMapping[str, Any]
Call = tuple[str, str, dict[str, str], bytes]
"""A request: method, path, headers, body."""
PLANS = 64
"""Active plans the commands rotate over (so that no plan grows much during a run)."""
PROGRESS = "/v1/plans/{plan_id}/metrics/{metric_id}/progress"


def bare_progress_route(path: str) -> Route:
    """``POST …/progress`` as a bare Starlette route: the same auth, body model, idempotency
    envelope, command and response as the API's route, with no FastAPI dependencies."""

    async def endpoint(request: Request) -> Response:
        services = request.app.state.services
        plan_id = UUID(request.path_params["plan_id"])
        metric_id = UUID(request.path_params["metric_id"])
        body = schemas.ProgressIn.model_validate_json(await request.body())

        def work() -> Response:
            principal = get_principal(request, services, None)
            command = Command(
                request,
                services,
                principal,
                request.headers.get("idempotency-key"),
                request.headers.get("if-match"),
            )

            def action() -> Result:
                plan = shortcuts.report_progress(
                    services.app,
                    plan_id,
                    metric_id,
                    value=body.value,
                    as_of=body.as_of,
                    actor_id=principal.id,
                    request_id=command.request_id,
                )
                return plan_result(services, plan)

            return command.run(body, 201, action)

        return await run_in_threadpool(work)

    return Route(path, endpoint, methods=["POST"])


async def call(app: FastAPI, method: str, path: str, headers: dict[str, str], body: bytes) -> int:
    """One request through the ASGI app; its status."""
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    raw += [(b"host", b"127.0.0.1"), (b"content-length", str(len(body)).encode())]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": raw,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    received = False
    status = 0

    async def receive() -> Message:
        nonlocal received
        if not received:
            received = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the client never disconnects
        raise AssertionError  # pragma: no cover

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def measure(app: FastAPI, label: str, count: int, request: Callable[[int], Call]) -> None:
    """Send ``count`` requests one at a time; print CPU per request (event loop, process)."""
    for n in range(-20, count):  # 20 to warm up, then the measured ones
        if n == 0:
            loop, process, wall = time.thread_time(), time.process_time(), time.perf_counter()
        status = await call(app, *request(n))
        if status >= 300:
            msg = f"{label}: answered {status}"
            raise RuntimeError(msg)
    loop = (time.thread_time() - loop) / count * 1000
    process = (time.process_time() - process) / count * 1000
    wall = (time.perf_counter() - wall) / count * 1000
    print(
        f"  {label:<30} event loop {loop:5.2f}   whole process {process:5.2f}   "
        f"wall {wall:5.2f} ms per request"
    )


def run(settings: Settings, count: int) -> None:
    """Measure each kind of request on one ledger."""
    fixture = active_plans(settings, PLANS)
    local = in_process(settings, fixture, count)
    print(
        f"  {'in-process report_progress':<30} {'':<17} whole process "
        f"{local.cpu_per_request:5.2f}   wall {local.wall / count * 1000:5.2f} ms per command"
    )
    today = datetime.now(UTC).date()
    quiet, sys.stderr = sys.stderr, open(os.devnull, "w")  # noqa: SIM115 (the request log)
    api = create_app(settings)  # its request log goes to the stderr of the moment
    auth = {"Authorization": f"Bearer {fixture.token}"}
    body = json.dumps({"value": "3", "as_of": today.isoformat()}).encode()
    paths = [f"/v1/plans/{p}/metrics/{m}/progress" for p, m in fixture.plans]

    def progress(key: bool) -> Callable[[int], Call]:
        def request(n: int) -> Call:
            headers = {**auth, "Content-Type": "application/json"}
            if key:
                headers["Idempotency-Key"] = uuid.uuid4().hex
            return "POST", paths[n % len(paths)], headers, body

        return request

    async def main() -> None:
        async with api.router.lifespan_context(api):
            await measure(api, "GET /healthz", count, lambda n: ("GET", "/healthz", {}, b""))
            await measure(api, "GET /v1/me", count, lambda n: ("GET", "/v1/me", auth, b""))
            plan = f"/v1/plans/{fixture.plans[0][0]}"
            await measure(api, "GET plan", count, lambda n: ("GET", plan, auth, b""))
            await measure(api, "POST progress", count, progress(key=True))
            await measure(api, "POST progress, no key", count, progress(key=False))
            api.router.routes.insert(0, bare_progress_route(PROGRESS))
            await measure(api, "POST progress, bare route", count, progress(key=True))

    try:
        asyncio.run(main())
    finally:
        sys.stderr.close()
        sys.stderr = quiet


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--requests", type=int, default=1000, help="per kind of request")
    args = parser.parse_args()
    print(machine())
    for backend in backends(args.backend):
        print(f"\n{backend} (CPU milliseconds per request; the app in process, no network):")
        with ledger_store(backend, args.postgres_url) as settings:
            run(settings, args.requests)


if __name__ == "__main__":
    main()
