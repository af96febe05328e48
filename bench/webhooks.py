"""Webhook deliveries: how fast a backlog drains to a local receiver, and the delivery lag
under a steady load of commands (goal: lag <= 2 s at 100 commands/s on PostgreSQL).

1. Throughput: N events are recorded with nothing delivering, then one in-process sender
   (the worker's, concurrency 8) drains them; the baseline is the same HTTP client POSTing
   the same bodies to the same receiver with 8 threads and nothing else (no database).
2. Lag: a `counterpart projections run` worker follows the ledger while this process records
   `report_progress` commands at a steady rate; lag = arrival at the receiver minus the
   event's recorded time, per event.

    .venv/bin/python bench/webhooks.py [--backend postgres|sqlite|both] [--events 2000]
        [--rate 100] [--seconds 20]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.observability import configure_logging
from bench._support import (
    active_plans,
    backends,
    ledger_store,
    machine,
    percentile,
)
from ledger.application import Counterpart
from ledger.settings import Settings
from projections.models import webhook_outbox as outbox
from projections.runtime.registry import all_projections
from projections.runtime.runner import Runner
from projections.runtime.store import open_store
from projections.runtime.webhook_sender import WebhookSender
from tests.support import shortcuts

ROOT = Path(__file__).resolve().parents[1]
PLANS = 20
"""Plans the commands go to (messages of one plan are sent one after the other)."""
POSTGRES = os.environ.get(
    "COUNTERPART_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


class Receiver:
    """A loopback HTTP server answering 204 at once, noting when each position arrived."""

    def __init__(self) -> None:
        self.arrivals: dict[int, float] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # the standard library's handler name
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                at = time.time()
                try:
                    position = int(json.loads(body)["data"]["position"])
                except (ValueError, KeyError):
                    position = -1
                with receiver.lock:
                    receiver.arrivals.setdefault(position, at)
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        """Where it listens."""
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def stop(self) -> None:
        """Stop listening."""
        self.server.shutdown()
        self.server.server_close()


def subscribe(settings: Settings, url: str) -> None:
    """Set the tables up and subscribe the receiver to every event from the ledger's head."""
    app = Counterpart(settings)
    store = open_store(settings)
    try:
        Runner(app, store, all_projections(app)).setup()
        head = app.recorder.max_notification_id() or 0
        outbox.create_endpoint(store, url, ["*"], None, now=datetime.now(UTC), head=head)
    finally:
        store.close()
        app.close()


def throughput(settings: Settings, events: int) -> None:
    """Drain a backlog of ``events`` messages with one sender, against bare HTTP POSTs."""
    receiver = Receiver()
    subscribe(settings, receiver.url)
    app = Counterpart(settings)
    store = open_store(settings)
    try:
        fixture = active_plans(settings, PLANS)
        today = datetime.now(UTC).date()
        for n in range(events):
            plan_id, metric_id = fixture.plans[n % PLANS]
            shortcuts.report_progress(
                app,
                plan_id,
                metric_id,
                value=Decimal(n % 40),
                as_of=today,
                actor_id=fixture.manager,
            )
        runner = Runner(app, store, all_projections(app))
        runner.catch_up()
        with store.reading() as cursor:
            bodies = [
                str(row[0])
                for row in _rows(cursor, "SELECT body FROM cp_webhook_messages ORDER BY position")
            ]
        sender = WebhookSender(store, lambda: datetime.now(UTC), allow_private=True)
        started = time.perf_counter()
        sent = sender.drain(rounds=1_000_000)
        elapsed = time.perf_counter() - started
        sender.close()
        print(
            f"  sender:   {sent} messages in {elapsed:.2f} s = {sent / elapsed:,.0f} deliveries/s"
        )
        with httpx.Client(timeout=10) as client, ThreadPoolExecutor(8) as pool:
            started = time.perf_counter()
            list(pool.map(lambda body: client.post(receiver.url, content=body), bodies))
            bare = time.perf_counter() - started
        print(
            f"  baseline: {len(bodies)} bare POSTs in {bare:.2f} s = "
            f"{len(bodies) / bare:,.0f}/s; the sender reaches {bare / elapsed:.0%} of it"
        )
    finally:
        store.close()
        app.close()
        receiver.stop()


def _rows(cursor: Any, statement: str) -> list[Any]:
    cursor.execute(statement)
    return list(cursor.fetchall())


def lag(settings: Settings, rate: float, seconds: float) -> float:
    """Steady commands with a worker delivering; prints the lag's percentiles, returns p95."""
    receiver = Receiver()
    subscribe(settings, receiver.url)
    fixture = active_plans(settings, 20)
    env = {
        **os.environ,
        "COUNTERPART_DATABASE_URL": settings.database_url,
        "COUNTERPART_WEBHOOKS_ALLOW_PRIVATE": "true",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "projections", "run", "--poll-interval", "0.2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    app = Counterpart(settings)
    recorded: dict[int, float] = {}
    try:
        time.sleep(2.0)  # the worker starts and catches up with the fixture
        today = datetime.now(UTC).date()
        interval = 1.0 / rate
        count = int(rate * seconds)
        started = time.perf_counter()
        for n in range(count):
            plan_id, metric_id = fixture.plans[n % len(fixture.plans)]
            shortcuts.report_progress(
                app,
                plan_id,
                metric_id,
                value=Decimal(n % 40),
                as_of=today,
                actor_id=fixture.manager,
            )
            recorded[app.last_saved_position()] = time.time()
            pause = started + (n + 1) * interval - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
        achieved = count / (time.perf_counter() - started)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with receiver.lock:
                if all(p in receiver.arrivals for p in recorded):
                    break
            time.sleep(0.1)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        app.close()
        receiver.stop()
    lags = [receiver.arrivals[p] - at for p, at in recorded.items() if p in receiver.arrivals]
    missing = len(recorded) - len(lags)
    p95 = percentile(lags, 95)
    print(
        f"  {achieved:,.0f} commands/s for {seconds:g} s: delivery lag p50 "
        f"{percentile(lags, 50):.3f} s, p95 {p95:.3f} s, max {max(lags):.3f} s"
        + (f", {missing} not delivered" if missing else "")
    )
    print(f"  goal: p95 lag <= 2 s -> {'met' if p95 <= 2 and not missing else 'NOT met'}")
    return p95


def main() -> None:
    """Run both measurements on the chosen backends."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="postgres", choices=["sqlite", "postgres", "both"])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    configure_logging("warning")  # one line per attempt would drown the figures
    print(f"webhooks benchmark on {machine()}")
    for backend in backends(args.backend):
        print(f"{backend}: throughput ({args.events} events backlog)")
        with ledger_store(backend, POSTGRES) as settings:
            throughput(settings, args.events)
        print(f"{backend}: delivery lag")
        with ledger_store(backend, POSTGRES) as settings:
            lag(settings, args.rate, args.seconds)


if __name__ == "__main__":
    main()
