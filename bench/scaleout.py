"""Scale-out: commands per second through 1 and through 3 API processes on one PostgreSQL.

Each configuration gets a fresh schema, ``--processes`` separate ``counterpart serve``
processes on their own ports (projections external) and one ``counterpart projections run``
worker, as docs/operations.md deploys them. Concurrent clients spread a mixed load over the
processes round robin (as a load balancer would): progress reports and reviews on plans of
their own, and reads of the plan they just changed from the next process. At the end the
run is checked: the ledger holds exactly the events of the acknowledged commands, every
plan's versions run 1..n, and the worker has caught up.

    .venv/bin/python bench/scaleout.py [--processes 1,3] [--balance request,plan]
                                       [--clients 12] [--commands 3000]
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from _support import DEFAULT_POSTGRES_URL, ledger_store, machine, percentile

from ledger.application import Counterpart
from ledger.settings import Settings


def _bench_api() -> Any:
    """bench/api.py, whose name the ``api`` package shadows: its server-side helpers."""
    spec = importlib.util.spec_from_file_location("bench_api", Path(__file__).with_name("api.py"))
    if spec is None or spec.loader is None:  # pragma: no cover
        msg = "bench/api.py is missing"
        raise ImportError(msg)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


BENCH_API = _bench_api()
ROOT = BENCH_API.ROOT
Client = BENCH_API.Client
Fixture = BENCH_API.Fixture
active_plans = BENCH_API.active_plans
free_port = BENCH_API.free_port

READ_SHARE = 4
"""One read (of the plan just changed, from the next process) after every this many commands."""
REVIEW_SHARE = 10
"""One review among every this many commands; the others are progress reports."""


@dataclass
class Run:
    """What one configuration did."""

    processes: int
    balance: str = "request"
    """``request``: round robin per request; ``plan``: a plan's requests go to one process
    (a load balancer hashing the plan id in the path)."""
    commands: int = 0
    reads: int = 0
    failures: int = 0
    wall: float = 0.0
    latencies: list[float] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        """Acknowledged commands per second of wall time."""
        return self.commands / self.wall if self.wall else 0.0


def _wait_ready(base: str, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            msg = f"the server at {base} did not become ready"
            raise RuntimeError(msg)
        time.sleep(0.1)


@contextmanager
def deployment(settings: Settings, processes: int) -> Iterator[list[str]]:
    """``processes`` API processes (each its own port) and one projection worker."""
    env = {**os.environ, "COUNTERPART_PROJECTIONS": "external"}
    cli = [sys.executable, "-m", "api.cli", "--database-url", settings.database_url]
    worker = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
        [*cli, "projections", "run", "--poll-interval", "0.1"],
        cwd=ROOT,
        env=env,
        stderr=subprocess.DEVNULL,
    )
    servers: list[tuple[str, subprocess.Popen[bytes]]] = []
    try:
        for _ in range(processes):
            port = free_port()
            server = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
                [*cli, "serve", "--port", str(port), "--log-level", "warning"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            servers.append((f"http://127.0.0.1:{port}", server))
        for base, server in servers:
            _wait_ready(base, server)
        yield [base for base, _ in servers]
    finally:
        for _, server in servers:
            server.terminate()
        for _, server in servers:
            server.wait(30)
        worker.terminate()
        worker.wait(30)


def drive(bases: list[str], fixture: Any, clients: int, commands: int, run: Run) -> None:
    """``commands`` commands from ``clients`` threads, each on its own plan, round robin."""
    headers = {"Authorization": f"Bearer {fixture.token}"}
    today = datetime.now(UTC).date().isoformat()
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)
    per_client = commands // clients

    def client(index: int) -> None:
        connections = [Client(base) for base in bases]
        spread = itertools.cycle(range(len(bases)))
        next(itertools.islice(spread, index % len(bases), None), None)  # stagger the clients
        plan_id, metric_id = fixture.plans[index % len(fixture.plans)]
        mine = Run(run.processes, run.balance)
        try:
            barrier.wait()
            for n in range(per_client):
                http = connections[next(spread) if run.balance == "request" else index % len(bases)]
                keyed = {**headers, "Idempotency-Key": uuid.uuid4().hex}
                began = time.perf_counter()
                if n % REVIEW_SHARE == REVIEW_SHARE - 1:
                    path, body = (
                        f"/v1/plans/{plan_id}/reviews",
                        {
                            "held_on": today,
                            "attendee_ids": [str(fixture.manager)],
                            "notes": f"review {n}",
                        },
                    )
                else:
                    path = f"/v1/plans/{plan_id}/metrics/{metric_id}/progress"
                    body = {"value": str(n % 40), "as_of": today}
                status = http.call("POST", path, keyed, body)
                mine.latencies.append(time.perf_counter() - began)
                if status == 201:
                    mine.commands += 1
                else:
                    mine.failures += 1
                if n % READ_SHARE == READ_SHARE - 1:
                    reader = connections[next(spread)]
                    mine.reads += reader.call("GET", f"/v1/plans/{plan_id}", headers) == 200
        finally:
            for connection in connections:
                connection.close()
        with lock:
            run.commands += mine.commands
            run.reads += mine.reads
            run.failures += mine.failures
            run.latencies.extend(mine.latencies)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    run.wall = time.perf_counter() - started


def check(settings: Settings, before: int, run: Run, base: str) -> str:
    """The ledger holds exactly the acknowledged commands' events, every plan's versions run
    1..n, and the worker has caught up with the ledger."""
    deadline = time.monotonic() + 60
    while httpx.get(f"{base}/readyz", timeout=10).json()["checks"]["projection_lag"]:
        if time.monotonic() > deadline:
            return "FAILED: the projection worker did not catch up"
        time.sleep(0.2)
    app = Counterpart(settings)
    try:
        events = 0
        versions: dict[uuid.UUID, list[int]] = {}
        position = 0
        while batch := app.recorder.select_notifications(start=position + 1, limit=1000):
            for notification in batch:
                events += 1
                versions.setdefault(notification.originator_id, []).append(
                    notification.originator_version
                )
            position = batch[-1].id
    finally:
        app.close()
    if events - before != run.commands:
        return f"FAILED: {events - before} events for {run.commands} acknowledged commands"
    if any(found != list(range(1, len(found) + 1)) for found in versions.values()):
        return "FAILED: an aggregate's versions have a gap"
    return f"consistent: {run.commands} commands, {run.commands} events, read models caught up"


def measure(postgres_url: str, processes: int, balance: str, clients: int, commands: int) -> Run:
    """One configuration on a fresh schema."""
    run = Run(processes, balance)
    with ledger_store("postgres", postgres_url) as settings:
        fixture = active_plans(settings, clients)
        app = Counterpart(settings)
        before = app.recorder.max_notification_id() or 0
        app.close()
        with deployment(settings, processes) as bases:
            drive(bases, fixture, clients, commands, run)
            verdict = check(settings, before, run, bases[0])
    p50, p99 = (percentile(run.latencies, q) * 1000 for q in (50, 99))
    spread = "" if processes == 1 else f", by {balance}"
    print(
        f"  {processes} API process{'es' if processes > 1 else ''} + 1 worker{spread}: "
        f"{run.per_second:7.0f} commands/s   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms   "
        f"({run.commands} commands, {run.reads} reads, {run.failures} failed; {verdict})"
    )
    return run


def main() -> None:
    """Measure each configuration in turn, in the same run, and print the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--processes", default="1,3", help="API processes per configuration")
    parser.add_argument("--clients", type=int, default=12)
    parser.add_argument("--commands", type=int, default=3000, help="per configuration")
    parser.add_argument(
        "--balance",
        default="request,plan",
        help="how several processes share the load: request (round robin per request), "
        "plan (a plan's requests to one process); each is a configuration of its own",
    )
    args = parser.parse_args()
    print(machine())
    print(
        f"postgres, {args.clients} clients, {args.commands} commands per configuration "
        f"(1 in {REVIEW_SHARE} a review, the rest progress reports; a read after every "
        f"{READ_SHARE}):"
    )
    runs = []
    for processes in (int(n) for n in args.processes.split(",")):
        for balance in args.balance.split(",") if processes > 1 else ["request"]:
            runs.append(measure(args.postgres_url, processes, balance, args.clients, args.commands))
    first = runs[0]
    for other in runs[1:]:
        print(
            f"  {other.processes} (by {other.balance}) vs {first.processes} API processes: "
            f"{other.per_second / first.per_second:.2f}x commands/s"
        )


if __name__ == "__main__":
    main()
