"""Request ids, the one log line per request, Prometheus metrics, the body size limit and the
request deadline."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
import time
import uuid
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import PROBLEM_JSON, TYPE_PREFIX

REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
LOGGER = "counterpart.api"


def configure_logging(level: str = "info") -> None:
    """structlog once per entry point: JSON lines, or readable lines on a terminal."""
    renderer: Any = (
        structlog.dev.ConsoleRenderer()
        if sys.stderr.isatty()
        else structlog.processors.JSONRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
        ),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )


class Metrics:
    """The server's Prometheus metrics, in a registry of its own (one per app)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "counterpart_http_requests_total",
            "HTTP requests by method, route and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "counterpart_http_request_duration_seconds",
            "HTTP request duration by method and route.",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.events = Counter(
            "counterpart_events_appended_total",
            "Events appended to the ledger by this process.",
            registry=self.registry,
        )
        self.lag = Gauge(
            "counterpart_projection_lag_events",
            "Events recorded but not yet processed, by projection.",
            ["projection"],
            registry=self.registry,
        )
        self.position = Gauge(
            "counterpart_projection_position",
            "The last event processed, by projection.",
            ["projection"],
            registry=self.registry,
        )
        self.head = Gauge(
            "counterpart_ledger_head_position",
            "The global position of the ledger's last event.",
            registry=self.registry,
        )


def _timed_out(seconds: float) -> bytes:
    return json.dumps(
        {
            "type": TYPE_PREFIX + "unavailable",
            "title": "Service unavailable",
            "status": 503,
            "detail": f"no answer within {seconds:g} s (the database may be unreachable or "
            "busy); retry shortly with the same Idempotency-Key, so that a command is applied "
            "at most once",
        }
    ).encode()


def request_timeout(scope: Scope) -> float | None:
    """The running server's request deadline (None before its lifespan has started)."""
    app = scope.get("app")
    services = getattr(getattr(app, "state", None), "services", None)
    server = getattr(services, "server", None)
    seconds = getattr(server, "request_timeout", None)
    return float(seconds) if isinstance(seconds, int | float) else None


def _too_large(limit: int) -> bytes:
    return json.dumps(
        {
            "type": TYPE_PREFIX + "too-large",
            "title": "Request body too large",
            "status": 413,
            "detail": f"the request body must be at most {limit} bytes",
        }
    ).encode()


class TooLarge(HTTPException):
    """The body went over the limit while being read (answered 413 by the error handlers)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body must be at most {limit} bytes")


class LateRequests:
    """Requests answered 503 at their deadline whose work still runs (on a worker thread).

    The server must not close its database connections under them: the lifespan waits for
    them (``drain``) before stopping the services.
    """

    def __init__(self) -> None:
        self.tasks: set[asyncio.Future[None]] = set()

    def add(self, task: asyncio.Future[None]) -> None:
        """Follow a request that went on after its answer."""
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def drain(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for them to end; whether they all did."""
        if self.tasks:
            await asyncio.wait(set(self.tasks), timeout=timeout)
        return not self.tasks


class RequestLog:
    """ASGI middleware: request id, body limit, one log line and metrics per request."""

    def __init__(
        self,
        app: ASGIApp,
        metrics: Metrics,
        max_body_bytes: int,
        late: LateRequests | None = None,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        self.late = late or LateRequests()
        self.log = structlog.get_logger(LOGGER)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        given = headers.get("x-request-id", "")
        request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        limit = self.max_body_bytes

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (b"x-request-id", request_id.encode("latin-1")),
                ]
            await send(message)

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise TooLarge(limit)
            return message

        try:
            length = headers.get("content-length", "")
            if length and (not (length.isascii() and length.isdigit()) or int(length) > limit):
                await self._reject(send_with_id)
            else:
                await self._within_deadline(scope, limited_receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "")
            self.metrics.requests.labels(method, template, str(status)).inc()
            self.metrics.latency.labels(method, template).observe(elapsed)
            actor = scope.get("state", {}).get("actor_id")
            self.log.info(
                "request",
                request_id=request_id,
                actor_id=actor,
                method=method,
                route=template,
                path=scope.get("path"),
                status=status,
                duration_ms=round(elapsed * 1000, 3),
            )

    async def _within_deadline(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app; if it has not begun to answer by the deadline, answer 503 for it.

        The request's work goes on (a thread cannot be stopped) and its answer is dropped; a
        command it completes is kept for the Idempotency-Key, so a retry gets its answer. The
        deadline is a timer on the event loop, so a request answered in time costs no task.
        """
        seconds = request_timeout(scope)
        if seconds is None:
            await self.app(scope, receive, send)
            return
        started = False
        abandoned = False

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if abandoned:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        def at_deadline() -> None:
            nonlocal abandoned
            if started:
                return
            abandoned = True
            self.log.warning("request_timeout", seconds=seconds, path=scope.get("path"))
            answer = asyncio.ensure_future(self._timed_out(send, seconds))
            self.late.add(answer)
            if work is not None:
                self.late.add(work)

        work = asyncio.current_task()
        timer = asyncio.get_running_loop().call_later(seconds, at_deadline)
        try:
            await self.app(scope, receive, guarded_send)
        except Exception as error:
            if not abandoned:
                raise
            self.log.warning("late_request_failed", error=f"{type(error).__name__}: {error}")
        finally:
            timer.cancel()

    async def _timed_out(self, send: Send, seconds: float) -> None:
        body = _timed_out(seconds)
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [
                    (b"content-type", PROBLEM_JSON.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", b"1"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def _reject(self, send: Send) -> None:
        body = _too_large(self.max_body_bytes)
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", PROBLEM_JSON.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
