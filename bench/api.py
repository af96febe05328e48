"""HTTP throughput and latency through a real uvicorn server, next to in-process commands.

Commands: ``report_progress`` on active plans, by concurrent clients each on a plan of its
own, through ``POST /v1/plans/{id}/metrics/{metric}/progress`` (auth, idempotency key,
command, read-your-writes wait, response from the read model) — against the same command
called in process, sequentially, in the same run on the same backend.

Queries: ``GET /v1/plans/{id}/accountability`` (and ``GET /v1/plans/{id}``) as the leader,
for random plans of the demo portfolio scaled to 2,000 plans (1,000 partners).

    .venv/bin/python bench/api.py [--backend sqlite|postgres|both] [--partners 1000]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import cputime
import httpx
from _support import (
    DEFAULT_POSTGRES_URL,
    Fixture,
    Sample,
    active_plans,
    backends,
    in_process,
    ledger_store,
    machine,
)

from ledger.application import Counterpart
from ledger.clock import SimulatedClock
from ledger.demo import load_demo
from ledger.settings import Settings
from projections.models.score_facts import ScoreFacts
from projections.rules.accountability import plan_accountability
from projections.runtime.store import open_store

ROOT = Path(__file__).resolve().parent.parent
COMMAND_GOAL = 0.5
QUERY_P99_GOAL_MS = 25.0


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class Server:
    """A running server: its base URL and the processes whose CPU it uses."""

    base: str
    api: int
    projector: int | None

    def cpu(self) -> cputime.Reading:
        """CPU seconds used so far by the server, its projection worker and PostgreSQL."""
        return cputime.read(self.api, self.projector)


@contextmanager
def server(
    settings: Settings, workers: int = 1, projections: str | None = None
) -> Iterator[Server]:
    """A real uvicorn process serving the app on loopback.

    With several workers, by default the deployment of docs/operations.md: the API processes
    leave the read models to one ``counterpart projections run`` worker
    (COUNTERPART_PROJECTIONS=external); ``projections="embedded"`` keeps them in every process.
    """
    port = free_port()
    mode = projections or ("external" if workers > 1 else "embedded")
    env = {
        **os.environ,
        "COUNTERPART_DATABASE_URL": settings.database_url,
        "COUNTERPART_PROJECTIONS": mode,
    }
    projector = None
    if mode == "external":
        projector = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "projections", "run", "--poll-interval", "0.1"],
            cwd=ROOT,
            env=env,
            stderr=subprocess.DEVNULL,
        )
    process = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
        [
            sys.executable,
            "-m",
            "uvicorn",
            "api.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                msg = "the server did not become ready"
                raise RuntimeError(msg)
            time.sleep(0.2)
        while httpx.get(f"{base}/readyz", timeout=5).json()["checks"]["projection_lag"]:
            time.sleep(0.5)  # measure a caught-up server, not one still catching up
        yield Server(base, process.pid, None if projector is None else projector.pid)
    finally:
        process.terminate()
        process.wait(30)
        if projector is not None:
            projector.terminate()
            projector.wait(30)


# ------------------------------------------------------------------ commands


class Client:
    """A minimal keep-alive HTTP/1.1 client (the standard library's): a cheap load generator,
    so that the client's own CPU takes as little as possible from the server on 2 cores."""

    def __init__(self, base: str) -> None:
        parts = urlsplit(base)
        self.connection = http.client.HTTPConnection(
            parts.hostname or "127.0.0.1", parts.port, timeout=30
        )

    def call(self, method: str, path: str, headers: dict[str, str], body: object = None) -> int:
        """Send one request, read the whole response; its status.

        A keep-alive connection the server closed while idle is reopened once (GETs only:
        a command is never sent twice).
        """
        data = None if body is None else json.dumps(body).encode()
        sent = {**headers, "Content-Type": "application/json"} if data else headers
        try:
            self.connection.request(method, path, body=data, headers=sent)
            response = self.connection.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError):
            if method != "GET":
                raise
            self.connection.close()
            self.connection.request(method, path, body=data, headers=sent)
            response = self.connection.getresponse()
        response.read()
        return response.status

    def close(self) -> None:
        """Close the connection."""
        self.connection.close()


def concurrently(
    base: str,
    clients: int,
    per_client: int,
    label: str,
    request: Callable[[Client, int, int], bool],
) -> Sample:
    """Run ``per_client`` requests on each of ``clients`` threads; collect latencies."""
    sample = Sample(label)
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)

    def client(index: int) -> None:
        http = Client(base)
        try:
            request(http, index, -1)  # warm the connection
            barrier.wait()
            mine, failed = [], 0
            for n in range(per_client):
                began = time.perf_counter()
                ok = request(http, index, n)
                mine.append(time.perf_counter() - began)
                failed += not ok
            with lock:
                sample.latencies.extend(mine)
                sample.failures += failed
        finally:
            http.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started, cpu = time.perf_counter(), time.process_time()
    for thread in threads:
        thread.join()
    sample.wall = time.perf_counter() - started
    sample.client_cpu = time.process_time() - cpu
    return sample


def over_http(base: str, fixture: Fixture, clients: int, per_client: int) -> Sample:
    """The command through the server, ``clients`` at a time, each on a plan of its own."""
    headers = {"Authorization": f"Bearer {fixture.token}"}
    today = datetime.now(UTC).date().isoformat()

    def request(http: Client, index: int, n: int) -> bool:
        plan_id, metric_id = fixture.plans[index % len(fixture.plans)]
        status = http.call(
            "POST",
            f"/v1/plans/{plan_id}/metrics/{metric_id}/progress",
            {**headers, "Idempotency-Key": uuid.uuid4().hex},
            {"value": str(abs(n) % 40), "as_of": today},
        )
        return status == 201

    return concurrently(base, clients, per_client, "HTTP report_progress", request)


# ------------------------------------------------------------------- queries


QUERIES = (("GET accountability", "/accountability"), ("GET plan", ""))


def queries(
    base: str,
    token: str,
    plan_ids: list[uuid.UUID],
    clients: int,
    per: int,
    *,
    kinds: tuple[tuple[str, str], ...] = QUERIES,
) -> list[Sample]:
    """Score and plan queries as the leader for random plans."""
    headers = {"Authorization": f"Bearer {token}"}
    samples = []
    for label, suffix in kinds:

        def request(http: Client, index: int, n: int, suffix: str = suffix) -> bool:
            plan_id = plan_ids[(index * 7919 + n * 104729) % len(plan_ids)]
            return http.call("GET", f"/v1/plans/{plan_id}{suffix}", headers) == 200

        samples.append(concurrently(base, clients, per, label, request))
    return samples


def ceiling(base: str, token: str, clients: int, per_client: int) -> list[Sample]:
    """What the stack answers with no work (/healthz) and with only a token lookup (/v1/me)."""
    headers = {"Authorization": f"Bearer {token}"}
    return [
        concurrently(
            base,
            clients,
            per_client,
            "GET /healthz",
            lambda h, i, n: h.call("GET", "/healthz", {}) == 200,
        ),
        concurrently(
            base,
            clients,
            per_client,
            "GET /v1/me",
            lambda h, i, n: h.call("GET", "/v1/me", headers) == 200,
        ),
    ]


def score_in_process(settings: Settings, plan_ids: list[uuid.UUID]) -> tuple[float, float]:
    """Milliseconds per plan to load its score facts, and to compute its Accountability."""
    store = open_store(settings)
    facts = ScoreFacts()
    today = datetime.now(UTC).date()
    try:
        with store.reading() as cursor:
            started = time.perf_counter()
            loaded = [facts.load(cursor, p) for p in plan_ids]
            load = (time.perf_counter() - started) / len(plan_ids) * 1000
        started = time.perf_counter()
        for found in loaded:
            if found is not None:
                plan_accountability(found, today)
        score = (time.perf_counter() - started) / len(plan_ids) * 1000
    finally:
        store.close()
    return load, score


def report(samples: list[Sample]) -> None:
    """Print one line per sample."""
    for s in samples:
        print(
            f"  {s.label:<28} {s.per_second:>9,.0f} /s   p50 {s.ms(50):7.2f} ms   "
            f"p99 {s.ms(99):7.2f} ms   ({len(s.latencies)} requests, {s.failures} failed"
            + (f"; load generator CPU {s.client_cpu / s.wall:.0%})" if s.client_cpu else ")")
        )


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--commands", type=int, default=2000, help="in-process and HTTP each")
    parser.add_argument("--partners", type=int, default=1000, help="demo partners (2 plans each)")
    parser.add_argument("--queries", type=int, default=250, help="per client and query kind")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument(
        "--projections",
        choices=["embedded", "external"],
        help="embedded: in every API process; external: one `projections run` worker "
        "(default: embedded for 1 worker, external for several)",
    )
    args = parser.parse_args()
    print(machine())
    for backend in backends(args.backend):
        print(f"\n{backend}:")
        with ledger_store(backend, args.postgres_url) as settings:
            fixture = active_plans(settings, args.clients)
            local = in_process(settings, fixture, args.commands)
            with server(settings, args.workers, args.projections) as running:
                before = running.cpu()
                http = over_http(running.base, fixture, args.clients, args.commands // args.clients)
                used = running.cpu() - before
                bounds = ceiling(
                    running.base, fixture.token, args.clients, args.commands // args.clients
                )
            report([local, http, *bounds])
            print(f"  in process: {local.cpu_per_request:.2f} ms CPU per command")
            print(f"  over HTTP: {used.per(len(http.latencies))}")
            ratio = http.per_second / local.per_second
            verdict = "meets" if ratio >= COMMAND_GOAL else "MISSES"
            print(f"  HTTP / in-process = {ratio:.2f} ({verdict} the goal of >= {COMMAND_GOAL})")
        with ledger_store(backend, args.postgres_url) as settings:
            app = Counterpart(settings, SimulatedClock(datetime.now(UTC) - timedelta(days=200)))
            began = time.perf_counter()
            demo = load_demo(app, app.clock, partners=args.partners)  # type: ignore[arg-type]
            app.close()
            print(
                f"  demo: {demo.plans} plans, {demo.events:,} events loaded in "
                f"{time.perf_counter() - began:.0f} s"
            )
            with server(settings, args.workers, args.projections) as running:
                before = running.cpu()
                samples = queries(running.base, demo.leader.token, demo.plan_ids, 4, args.queries)
                used = running.cpu() - before
                by_load = [
                    queries(
                        running.base,
                        demo.leader.token,
                        demo.plan_ids,
                        clients,
                        max(args.queries, 1000 // clients),
                        kinds=(QUERIES[0],),
                    )[0]
                    for clients in (1, 2)
                ]
            report(samples)
            print(f"  queries: {used.per(sum(len(s.latencies) for s in samples))}")
            print("  score query by load (concurrent clients; 4 is the run above):")
            for clients, sample in zip((1, 2, 4), [*by_load, samples[0]], strict=True):
                verdict = "meets" if sample.ms(99) <= QUERY_P99_GOAL_MS else "MISSES"
                plural = "s" if clients > 1 else " "
                print(
                    f"    {clients} client{plural}  {sample.per_second:5.0f} /s"
                    f"   p50 {sample.ms(50):6.2f} ms   p99 {sample.ms(99):6.2f} ms   ({verdict})"
                )
            load, score = score_in_process(settings, demo.plan_ids[:500])
            print(
                f"  in process: load a plan's score facts {load:.2f} ms, "
                f"its Accountability {score:.2f} ms"
            )
            p99 = samples[0].ms(99)
            verdict = "meets" if p99 <= QUERY_P99_GOAL_MS else "MISSES"
            print(
                f"  score query p99 {p99:.2f} ms ({verdict} the goal of <= {QUERY_P99_GOAL_MS} ms)"
            )


if __name__ == "__main__":
    main()
