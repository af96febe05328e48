"""Real parts for the nudges' tests: an HTTP receiver on loopback, a server that nudges."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from fastapi.testclient import TestClient

from api.app import create_app
from ledger.clock import SimulatedClock
from ledger.settings import Settings
from projections.runtime.notifications import NotifySettings
from tests.api.world import SERVER, SIGNING_KEY

NOTIFY = NotifySettings(
    webhooks_allow_private=True, webhooks_retry_first=60.0, webhooks_retry_cap=3600.0
)
"""Loopback receivers allowed; retries a minute apart at first (tests move the clock)."""


@dataclass
class Received:
    """One request the receiver got."""

    headers: dict[str, str]
    body: bytes
    answered: int


@dataclass
class Receiver:
    """An HTTP server on loopback that records every POST and answers as told."""

    answer: Callable[[Received], int] = lambda _: 200
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        """Where it listens."""
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/hook"

    def start(self) -> Receiver:
        """Listen on a free loopback port, on a thread."""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # the standard library's handler name
                length = int(self.headers.get("content-length") or 0)
                got = Received({k.lower(): v for k, v in self.headers.items()}, b"", 0)
                got.body = self.rfile.read(length)
                if len(got.body) < length:  # the sender died mid-request: nothing was received
                    self.close_connection = True
                    return
                status = receiver.answer(got)
                got.answered = status
                with receiver.lock:
                    receiver.received.append(got)
                self.send_response(status)
                if status in {301, 302, 307, 308}:
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Wait until ``count`` requests arrived; all of them so far."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.02)
        with self.lock:
            return list(self.received)


@contextmanager
def a_receiver(answer: Callable[[Received], int] | None = None) -> Iterator[Receiver]:
    """A running receiver, stopped afterwards."""
    receiver = Receiver() if answer is None else Receiver(answer=answer)
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()


def a_nudging_server(
    settings: Settings, clock: SimulatedClock, notify: NotifySettings = NOTIFY
) -> TestClient:
    """A client of the app (enter it to run the lifespan) delivering webhooks and reminders."""
    if settings.signing_key is None and settings.signing_key_file is None:
        settings = settings.replaced(signing_key=SIGNING_KEY)
    app = create_app(settings, SERVER, clock, notify)
    return TestClient(app, raise_server_exceptions=False)
