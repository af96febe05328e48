"""Scale-out as docs/operations.md describes it: three API processes and one projection worker
on one PostgreSQL, behind a client-side round robin; at the end the ledger and the read models
are consistent, and every process read its clients' writes made on the others."""

from __future__ import annotations

import itertools
import random
import threading
import time
from pathlib import Path

import httpx
import pytest

from ledger.settings import Settings
from ledger.upgrade import upgrade
from tests.reliability.conftest import (
    Cast,
    Command,
    Journal,
    Server,
    Worker,
    a_cast,
    adjustment,
    assert_applied_exactly_once,
    assert_ledger_verifies,
    assert_projections_equal_a_clean_rebuild,
    attempt,
    draft,
    progress,
    review,
    settle,
)

API_PROCESSES = 3
CLIENTS = 6
PLANS = 4
LOAD_SECONDS = 6.0
SEED = 3


class Balancer:
    """A client-side round robin over the API processes, as a load balancer would spread."""

    def __init__(self, servers: list[Server]) -> None:
        self._bases = itertools.cycle([s.base for s in servers])
        self._lock = threading.Lock()

    def next(self) -> str:
        """The next process's base URL."""
        with self._lock:
            return next(self._bases)


def a_client(
    balancer: Balancer,
    cast: Cast,
    index: int,
    journal: Journal,
    *,
    stale: list[str],
    stop: threading.Event,
) -> None:
    """Commands (progress, reviews, adjustments, new plans) to one process, then a read of
    the plan at another: it must show at least the version the command answered."""
    rng = random.Random(SEED * 100 + index)
    clients: dict[str, httpx.Client] = {}

    def client(base: str) -> httpx.Client:
        if base not in clients:
            clients[base] = httpx.Client(base_url=base, timeout=30)
        return clients[base]

    try:
        while not stop.is_set():
            plan = rng.choice(cast.plans)
            roll = rng.random()
            command: Command
            if roll < 0.6:
                command = progress(plan, cast, vendor=rng.random() < 0.5)
            elif roll < 0.75:
                command = review(plan, cast)
            elif roll < 0.9:
                command = adjustment(plan, cast, vendor=rng.random() < 0.5)
            else:
                command = draft(cast)
            journal.add(command)
            while not attempt(client(balancer.next()), command):
                time.sleep(0.05)
            if command.acknowledged and "version" in (command.response or {}):
                plan_id, version = command.response["id"], command.response["version"]
                headers = {"Authorization": f"Bearer {cast.manager.token}"}
                read = client(balancer.next()).get(f"/v1/plans/{plan_id}", headers=headers)
                if read.status_code != 200 or read.json()["version"] < version:
                    stale.append(f"{plan_id}: wrote version {version}, read {read.text[:80]}")
    finally:
        for each in clients.values():
            each.close()


@pytest.mark.timeout(180)
def test_three_api_processes_and_a_worker_on_one_postgresql_stay_consistent_under_load(
    postgres_url: str, tmp_path: Path
) -> None:
    """3 `counterpart serve` processes (projections external) and 1 `counterpart projections
    run` worker on one PostgreSQL; 6 clients spread commands over the processes round robin
    and read each write back from another process. Every read sees the write before it,
    every 2xx is in the ledger exactly once, every refusal stored nothing, the ledger
    verifies, and the worker's read models equal a clean rebuild."""
    settings = Settings(database_url=postgres_url)
    upgrade(settings)  # the explicit `counterpart db upgrade` step
    cast = a_cast(settings, plans=PLANS)
    env = {"COUNTERPART_PROJECTIONS": "external"}
    servers = [
        Server(postgres_url, tmp_path / f"api-{n}.log", env=env) for n in range(API_PROCESSES)
    ]
    worker = Worker(postgres_url, tmp_path / "worker.log").start()
    journal = Journal()
    stale: list[str] = []
    stop = threading.Event()
    try:
        for server in servers:
            server.start(ready=False)
        for server in servers:
            server.wait_ready()
        balancer = Balancer(servers)
        threads = [
            threading.Thread(
                target=a_client,
                args=(balancer, cast, i, journal),
                kwargs={"stale": stale, "stop": stop},
            )
            for i in range(CLIENTS)
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        time.sleep(LOAD_SECONDS)
        stop.set()
        for thread in threads:
            thread.join(60)
        elapsed = time.monotonic() - started
        settle(servers[0].base, journal.commands)
        servers[1].wait_caught_up()
    finally:
        stop.set()
        for server in servers:
            server.stop()
        worker.stop()
    served = {s.base: len(s.log_lines("request")) for s in servers}
    print(
        f"{len(journal.commands)} commands in {elapsed:.1f} s "
        f"({len(journal.commands) / elapsed:.0f}/s with reads) over {API_PROCESSES} processes "
        f"{sorted(served.values())}: {journal.statuses()}"
    )
    assert all(count > 0 for count in served.values()), served
    assert set(journal.statuses()) <= {200, 201, 409, 422}, journal.statuses()
    assert not stale, stale[:5]
    for server in servers:
        assert not server.log_lines("unexpected_error"), server.log_tail()
    assert_applied_exactly_once(settings, journal.commands)
    assert_ledger_verifies(settings.database_url)
    assert_projections_equal_a_clean_rebuild(settings)
