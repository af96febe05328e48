"""PostgreSQL stops (as in a crash) under load and starts again: meanwhile the API answers
503 problems promptly and is not ready; afterwards it recovers without a restart, and nothing
acknowledged is lost. And a request held up past the deadline answers 503 at the deadline."""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from psycopg import sql

from api.app import create_app
from api.config import ServerSettings
from ledger.clock import SimulatedClock
from ledger.persistence import connect_postgres, postgres_parts
from ledger.settings import Settings
from ledger.upgrade import upgrade
from tests.api.world import a_world, an_active_plan, ledger_head
from tests.reliability.conftest import (
    Cast,
    Command,
    Journal,
    PrivateCluster,
    Server,
    a_cast,
    assert_applied_exactly_once,
    assert_ledger_verifies,
    assert_projections_equal_a_clean_rebuild,
    attempt,
    draft,
    progress,
    review,
    settle,
)
from tests.support.loopback import in_process

CLIENTS = 4
LOAD_BEFORE = 1.5
"""Seconds of load before the database stops."""
OUTAGE = 8.0
"""Seconds the database stays down."""
LOAD_AFTER = 2.0
"""Seconds of load once the server is ready again."""
CONNECT_TIMEOUT = 2
"""COUNTERPART_POSTGRES_CONNECT_TIMEOUT of the server: how long it waits for a connection."""
REQUEST_TIMEOUT = 4.0
"""COUNTERPART_REQUEST_TIMEOUT of the server: the deadline of every answer."""
ANSWER_WITHIN = REQUEST_TIMEOUT + 0.5
"""No request may take longer than this (the deadline, and a moment to send the answer)."""
RECOVERY = 30.0
"""Seconds within which the server must be ready again once the database is back."""
SEED = 5


@dataclass(frozen=True)
class Seen:
    """One answer: when the request started and ended, to what, with which status."""

    started: float
    ended: float
    what: str
    status: int | str
    problem: bool
    retry_after: bool


class Load:
    """Clients sending commands (resent with their key while in doubt) and reads."""

    def __init__(self, base: str, cast: Cast) -> None:
        self.base = base
        self.cast = cast
        self.journal = Journal()
        self.seen: list[Seen] = []
        self.stop = threading.Event()
        self._lock = threading.Lock()

    def note(self, started: float, what: str, response: httpx.Response | None) -> None:
        """Keep one answer (None: the client gave up)."""
        status: int | str = "no answer" if response is None else response.status_code
        problem = response is not None and response.headers.get("content-type", "") == (
            "application/problem+json"
        )
        retry_after = response is not None and "retry-after" in response.headers
        with self._lock:
            self.seen.append(Seen(started, time.monotonic(), what, status, problem, retry_after))

    def client(self, index: int) -> None:
        """Commands and reads until stopped."""
        rng = random.Random(SEED * 100 + index)
        pending: Command | None = None
        plan = self.cast.plans[index % len(self.cast.plans)]
        read = f"/v1/plans/{plan.id}"
        auth = {"Authorization": f"Bearer {self.cast.manager.token}"}
        with httpx.Client(base_url=self.base, timeout=ANSWER_WITHIN + 5) as client:
            while not self.stop.is_set():
                started = time.monotonic()
                if rng.random() < 0.25:
                    try:
                        response: httpx.Response | None = client.get(read, headers=auth)
                    except httpx.TransportError:
                        response = None
                    self.note(started, "read", response)
                    continue
                roll = rng.random()
                command = pending or self.journal.add(
                    progress(plan, self.cast, vendor=roll < 0.4)
                    if roll < 0.8
                    else review(plan, self.cast)
                    if roll < 0.9
                    else draft(self.cast)
                )
                done = attempt(client, command)
                self.note(started, "command", command.last)
                pending = None if done else command
                if not done:
                    time.sleep(0.05)


def readiness(base: str, log: list[tuple[float, float, int | str]], stop: threading.Event) -> None:
    """Poll /readyz every 0.2 s: (started, ended, status)."""
    with httpx.Client(base_url=base, timeout=ANSWER_WITHIN + 5) as client:
        while not stop.is_set():
            started = time.monotonic()
            try:
                status: int | str = client.get("/readyz").status_code
            except httpx.TransportError as error:
                status = type(error).__name__
            log.append((started, time.monotonic(), status))
            stop.wait(0.2)


@pytest.mark.timeout(180)
def test_while_the_database_is_down_the_api_answers_503_promptly_and_recovers_after(
    private_postgres: PrivateCluster, tmp_path: Path
) -> None:
    """Stop the server's PostgreSQL (immediate: every backend killed) under a load of commands
    and reads, keep it down, start it again. Meanwhile: only 503 problem+json with Retry-After
    (never a 500), every answer within the bound, /readyz 503. Afterwards: ready again and
    commands applied, without restarting the server. In the end every acknowledged command is
    in the ledger exactly once, the ledger verifies and the read models equal a rebuild."""
    cluster = private_postgres
    settings = Settings(database_url=f"{cluster.url}?schema=outage")
    upgrade(settings)
    cast = a_cast(settings, plans=2)
    env = {
        "COUNTERPART_POSTGRES_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT),
        "COUNTERPART_REQUEST_TIMEOUT": str(REQUEST_TIMEOUT),
    }
    server = Server(settings.database_url, tmp_path / "server.log", env=env).start()
    load = Load(server.base, cast)
    ready_log: list[tuple[float, float, int | str]] = []
    threads = [threading.Thread(target=load.client, args=(i,)) for i in range(CLIENTS)]
    threads.append(threading.Thread(target=readiness, args=(server.base, ready_log, load.stop)))
    try:
        for thread in threads:
            thread.start()
        time.sleep(LOAD_BEFORE)
        cluster.crash()
        down = time.monotonic()
        time.sleep(OUTAGE)
        restarting = time.monotonic()
        cluster.start()
        up = time.monotonic()
        deadline = up + RECOVERY
        while not any(s == 200 and t > up for t, _, s in ready_log):
            assert time.monotonic() < deadline, f"not ready again:\n{server.log_tail()}"
            time.sleep(0.1)
        ready = time.monotonic()
        time.sleep(LOAD_AFTER)
        load.stop.set()
        for thread in threads:
            thread.join(60)
        settle(server.base, load.journal.commands)
        server.wait_caught_up()
    finally:
        load.stop.set()
        server.stop()
    grace = 0.5  # the stop takes a moment; requests begun before it may still succeed
    during = [s for s in load.seen if s.started > down + grace and s.ended < restarting]
    after = [s for s in load.seen if s.started > ready]
    slowest = max(s.ended - s.started for s in load.seen)
    not_ready = [s for t, e, s in ready_log if down + grace < t and e < restarting]
    statuses: dict[int | str, int] = {}
    for seen in load.seen:
        statuses[seen.status] = statuses.get(seen.status, 0) + 1
    print(
        f"outage {up - down:.1f} s, ready {ready - up:.1f} s after the restart; "
        f"{len(load.seen)} answers {statuses}; during the outage {len(during)}; "
        f"slowest {slowest:.2f} s ({len(server.log_lines('request_timeout'))} cut off at the "
        f"deadline); commands {load.journal.statuses()}"
    )
    assert server.starts == 1, "the server was restarted"
    assert during, "no request was made while the database was down"
    assert all(s.status == 503 for s in during), sorted({s.status for s in during}, key=str)
    assert all(s.problem and s.retry_after for s in load.seen if s.status == 503)
    server_errors = [s for s in load.seen if isinstance(s.status, int) and s.status >= 500]
    assert all(s.status == 503 for s in server_errors), server_errors
    assert "no answer" not in statuses, "a request hung past the client's timeout"
    assert slowest <= ANSWER_WITHIN, f"an answer took {slowest:.1f} s"
    assert not_ready, "readiness was never asked while the database was down"
    assert all(s == 503 for s in not_ready), not_ready
    assert any(s.what == "command" and s.status in {200, 201} for s in after)
    assert not server.log_lines("unexpected_error"), server.log_lines("unexpected_error")[:1]
    assert_applied_exactly_once(settings, load.journal.commands)
    assert_ledger_verifies(settings.database_url)
    assert_projections_equal_a_clean_rebuild(settings)
    with connect_postgres(settings) as connection:  # the cluster is private, but tidy up
        connection.execute(sql.SQL("DROP SCHEMA outage CASCADE"))


DEADLINE = 1.0
"""The request deadline of the blocked-write test."""
HELD = 2.5
"""Seconds the test holds the ledger's write lock."""


@contextmanager
def write_lock_held(settings: Settings, seconds: float) -> Iterator[None]:
    """Hold the ledger's write lock from another connection for ``seconds`` (in a thread), as
    a long transaction of another writer would: appends wait for it."""
    taken = threading.Event()

    def hold() -> None:
        if settings.is_postgres:
            schema = postgres_parts(settings.database_url)["schema"] or "public"
            with connect_postgres(settings) as connection, connection.transaction():
                connection.execute(
                    sql.SQL("LOCK TABLE {}.counterpart_events IN EXCLUSIVE MODE").format(
                        sql.Identifier(schema)
                    )
                )
                taken.set()
                time.sleep(seconds)
        else:
            path = settings.database_url.removeprefix("sqlite:///")
            connection = sqlite3.connect(path, isolation_level=None)
            try:
                connection.execute("BEGIN IMMEDIATE")
                taken.set()
                time.sleep(seconds)
                connection.execute("ROLLBACK")
            finally:
                connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert taken.wait(10), "the write lock was not taken"
    try:
        yield
    finally:
        holder.join(30)


@pytest.mark.timeout(60)
def test_a_request_blocked_past_the_deadline_answers_503_and_its_retry_gets_the_outcome(
    settings: Settings, clock: SimulatedClock
) -> None:
    """A command that cannot finish within COUNTERPART_REQUEST_TIMEOUT (another writer holds
    the ledger's write lock) answers 503 problem+json at the deadline; its work goes on, and
    a retry with the same key gets the command's answer (its own or a replay, whichever
    attempt got the key first): applied once."""
    server = ServerSettings(poll_interval=0.05, request_timeout=DEADLINE)
    app = create_app(settings, server, clock)
    with in_process(app) as base, httpx.Client(base_url=base, timeout=30) as client:
        world = a_world(client, settings, clock)  # type: ignore[arg-type]
        plan = an_active_plan(world)
        url = f"{plan.url}/metrics/{plan.partner_metric}/progress"
        body = {"value": 5, "as_of": world.today(), "note": "held up"}
        headers = {"Idempotency-Key": "held-up"}
        head = ledger_head(settings)
        with write_lock_held(settings, HELD):
            started = time.monotonic()
            cut = world.contact.post(url, body, headers=headers)
            elapsed = time.monotonic() - started
        assert cut.status_code == 503, cut.text
        assert cut.headers["content-type"] == "application/problem+json"
        assert cut.headers["Retry-After"] == "1"
        assert DEADLINE <= elapsed < DEADLINE + 0.5
        deadline = time.monotonic() + 20
        while (again := world.contact.post(url, body, headers=headers)).status_code in {409, 503}:
            assert time.monotonic() < deadline, again.text
            time.sleep(0.1)
        assert again.status_code == 201, again.text
        reported = next(m for m in again.json()["metrics"] if m["id"] == plan.partner_metric)
        assert reported["latest_value"] == "5"
        assert ledger_head(settings) == head + 1  # one of the two attempts applied it, not both


@pytest.mark.timeout(180)
def test_a_stopping_server_waits_for_a_request_still_working_after_its_deadline(
    settings: Settings, clock: SimulatedClock
) -> None:
    """Stopping the server while a request answered 503 at its deadline still waits for the
    ledger's write lock: the server waits for that work (instead of closing the connections
    under it, which can crash the process), and the command it completes is stored once."""
    server = ServerSettings(poll_interval=0.05, request_timeout=DEADLINE)
    with ExitStack() as serving:
        base = serving.enter_context(in_process(create_app(settings, server, clock)))
        client = serving.enter_context(httpx.Client(base_url=base, timeout=30))
        world = a_world(client, settings, clock)  # type: ignore[arg-type]
        plan = an_active_plan(world)
        url = f"{plan.url}/metrics/{plan.partner_metric}/progress"
        body = {"value": 7, "as_of": world.today(), "note": "late"}
        head = ledger_head(settings)
        with write_lock_held(settings, HELD):
            started = time.monotonic()
            cut = world.contact.post(url, body, headers={"Idempotency-Key": "late"})
            serving.close()  # stop the server while the request waits for the lock
            stopped = time.monotonic() - started
    assert cut.status_code == 503, cut.text
    assert stopped >= HELD - 0.3, f"the server stopped after {stopped:.2f} s, before the work"
    assert ledger_head(settings) == head + 1
