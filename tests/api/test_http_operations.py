"""Operations: liveness, readiness, Prometheus metrics, request ids, one log line per request,
and what a client hears when it loses a race."""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from decimal import Decimal
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

import httpx
import pytest
import structlog
from prometheus_client.parser import text_string_to_metric_families

from ledger.application import Counterpart
from ledger.clock import SimulatedClock
from ledger.settings import Settings
from ledger.upgrade import upgrade
from tests.api.world import (
    World,
    a_draft_plan,
    a_running_world,
    an_active_plan,
    created,
    with_proposed_metrics,
)
from tests.conftest import START
from tests.support import shortcuts


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """The samples of one metric in Prometheus text, by their sorted labels."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


# ------------------------------------------------------------ health, readiness


def test_liveness_answers_without_a_token(world: World) -> None:
    """GET /healthz: 200 while the process is up, no Authorization needed."""
    response = world.client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_readiness_is_ok_when_the_database_answers_and_the_projections_keep_up(
    world: World,
) -> None:
    """GET /readyz: 200, database ok, projections running, lag reported."""
    an_active_plan(world)
    world.manager.get("/v1/plans")  # caught up
    response = world.client.get("/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["projections"] == "running"
    assert body["checks"]["projection_lag"] == 0


def test_readiness_is_503_when_the_projections_have_stopped(world: World) -> None:
    """With its projections stopped the server is not ready: 503, plain JSON (not a problem)."""
    world.client.app.state.services.embedded.stop()  # type: ignore[attr-defined]
    response = world.client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["status"] == "not ready"
    assert body["checks"]["projections"] == "stopped"
    assert world.client.get("/healthz").status_code == 200


class Relay:
    """A TCP relay to PostgreSQL that a test can cut: the database becomes unreachable.

    Nothing is faked: the server talks to the real database through a real socket, which
    then stops answering (open connections reset, new ones refused).
    """

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, server]
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                target.sendall(data)
        for end in (source, target):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def restore(self) -> None:
        """Accept connections again, on the same port (the database is back)."""
        self.listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self) -> None:
        """Refuse new connections and reset the open ones."""
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        with self._lock:
            for end in self._sockets:
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
                end.close()


@pytest.fixture
def relayed_settings(postgres_url: str) -> Iterator[tuple[Settings, Relay]]:
    """A PostgreSQL ledger reached through a relay the test can cut."""
    upgrade(Settings(database_url=postgres_url))
    parts = urlsplit(postgres_url)
    relay = Relay(parts.hostname or "127.0.0.1", parts.port or 5432)
    netloc = (
        f"{parts.username}@127.0.0.1:{relay.port}" if parts.username else f"127.0.0.1:{relay.port}"
    )
    url = urlunsplit(parts._replace(netloc=netloc))
    yield Settings(database_url=url, postgres_connect_timeout=1), relay
    relay.cut()


def test_readiness_is_503_when_the_database_is_unreachable(
    relayed_settings: tuple[Settings, Relay],
) -> None:
    """PostgreSQL stops answering: /readyz 503 naming the database (promptly), a command 503
    problem with Retry-After (never a 500), and /healthz still 200."""
    settings, relay = relayed_settings
    clock = SimulatedClock(START)
    with a_running_world(settings, clock) as world:
        assert world.client.get("/readyz").status_code == 200
        relay.cut()
        started = time.monotonic()
        response = world.client.get("/readyz")
        assert time.monotonic() - started < 5, "readiness must answer within the connect timeout"
        assert response.status_code == 503, response.text
        assert response.headers["content-type"] == "application/json"
        assert response.json()["status"] == "not ready"
        assert response.json()["checks"]["database"].startswith("unreachable")
        command = world.manager.post("/v1/plans", {"title": "x"} | _plan(world))
        assert command.status_code == 503, command.text
        assert command.headers["content-type"] == "application/problem+json"
        assert command.headers["Retry-After"]
        assert world.client.get("/healthz").status_code == 200


def test_after_an_outage_the_server_recovers_without_a_restart(
    relayed_settings: tuple[Settings, Relay],
) -> None:
    """PostgreSQL goes away and comes back: readiness returns, commands and reads work, and
    the embedded projections catch up (they retried, they did not die)."""
    settings, relay = relayed_settings
    clock = SimulatedClock(START)
    with a_running_world(settings, clock) as world:
        relay.cut()
        assert world.client.get("/readyz").status_code == 503
        time.sleep(1.5)  # long enough for the projection thread to have hit the outage
        relay.restore()
        deadline = time.monotonic() + 30
        while world.client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, "the server did not recover"
            time.sleep(0.2)
        drafted = world.manager.post("/v1/plans", {"title": "After the outage"} | _plan(world))
        assert drafted.status_code == 201, drafted.text
        listed = world.manager.get("/v1/plans")
        assert drafted.json()["id"] in {p["id"] for p in listed.json()["items"]}
        assert world.client.app.state.services.projections_running


def _plan(world: World) -> dict[str, object]:
    return {"partner_id": world.partner, "period_start": "2026-01-05", "period_end": "2026-04-04"}


# ----------------------------------------------------------------- metrics


def test_metrics_count_requests_by_route_and_events_appended(world: World) -> None:
    """/metrics: Prometheus text with requests by route template, events appended by this
    process (rising with each command), and each projection's lag."""
    plan = an_active_plan(world)
    before = world.client.get("/metrics")
    assert before.status_code == 200
    assert before.headers["content-type"].startswith("text/plain")
    appended = samples(before.text, "counterpart_events_appended_total")[()]
    for _ in range(3):
        created(world.manager.get(plan.url), 200)
    world.client.get(f"/v1/plans/{plan.id}/nothing")
    body = {"value": 1, "as_of": world.today()}
    created(world.manager.post(f"{plan.url}/metrics/{plan.vendor_metric}/progress", body))
    after = world.client.get("/metrics").text
    assert samples(after, "counterpart_events_appended_total")[()] == appended + 1
    requests = samples(after, "counterpart_http_requests_total")
    by_route = (("method", "GET"), ("route", "/v1/plans/{plan_id}"), ("status", "200"))
    assert requests[by_route] >= 3
    assert requests[(("method", "GET"), ("route", "unmatched"), ("status", "404"))] == 1
    progress = "/v1/plans/{plan_id}/metrics/{metric_id}/progress"
    assert requests[(("method", "POST"), ("route", progress), ("status", "201"))] == 1
    assert not any(plan.id in dict(labels)["route"] for labels in requests)
    lag = samples(after, "counterpart_projection_lag_events")
    assert {dict(labels)["projection"] for labels in lag} >= {"plan_state", "plan_history"}
    assert all(value >= 0 for value in lag.values())
    assert samples(after, "counterpart_http_request_duration_seconds_count")


def test_metrics_need_no_token(world: World) -> None:
    """Prometheus scrapes without credentials."""
    assert world.client.get("/metrics").status_code == 200


# ---------------------------------------------------------- request ids and logs


def test_a_given_request_id_is_echoed_and_a_missing_one_is_generated(world: World) -> None:
    """X-Request-ID comes back as sent; without one the server makes a fresh one each time."""
    given = world.manager.get("/v1/me", headers={"X-Request-ID": "trace-42.a:b_c"})
    assert given.headers["X-Request-ID"] == "trace-42.a:b_c"
    first = world.manager.get("/v1/me").headers["X-Request-ID"]
    second = world.client.get("/v1/me").headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second
    problem = world.client.get("/v1/nowhere", headers={"X-Request-ID": "lost-1"})
    assert problem.headers["X-Request-ID"] == "lost-1"


def test_each_request_logs_exactly_one_line(world: World) -> None:
    """One structlog line per request: request_id, actor_id, method, route, status, duration."""
    plan = an_active_plan(world)
    with structlog.testing.capture_logs() as logs:
        ok = world.manager.get(plan.url, headers={"X-Request-ID": "read-1"})
        anonymous = world.client.get("/v1/plans", headers={"X-Request-ID": "anon-1"})
        command = world.contact.post(
            f"{plan.url}/metrics/{plan.partner_metric}/progress",
            {"value": 3, "as_of": world.today()},
            headers={"X-Request-ID": "write-1"},
        )
        invalid = world.contact.post(f"{plan.url}/reviews", {}, headers={"X-Request-ID": "bad-1"})
        world.client.get("/healthz", headers={"X-Request-ID": "health-1"})
    assert (ok.status_code, anonymous.status_code, command.status_code) == (200, 401, 201)
    assert invalid.status_code == 422
    lines = [entry for entry in logs if entry["event"] == "request"]
    assert [line["request_id"] for line in lines] == [
        "read-1",
        "anon-1",
        "write-1",
        "bad-1",
        "health-1",
    ]
    for line in lines:
        assert {"request_id", "actor_id", "method", "route", "status", "duration_ms"} <= set(line)
        assert isinstance(line["duration_ms"], float | int)
        assert line["duration_ms"] >= 0
    read, anon, write, bad, health = lines
    assert (read["actor_id"], read["method"], read["route"], read["status"]) == (
        world.manager.id,
        "GET",
        "/v1/plans/{plan_id}",
        200,
    )
    assert (anon["actor_id"], anon["status"]) == (None, 401)
    assert (write["actor_id"], write["method"], write["status"]) == (world.contact.id, "POST", 201)
    assert write["route"] == "/v1/plans/{plan_id}/metrics/{metric_id}/progress"
    assert (bad["status"], health["route"], health["actor_id"]) == (422, "/healthz", None)
    assert all(plan.id not in str(line["route"]) for line in lines)


# ------------------------------------------------------------------- races


class RacingClock(SimulatedClock):
    """A simulated clock that runs a rival's write when a command asks it the time.

    A command reads the plan, asks the clock when it acts, then saves; a rival armed here
    writes to the same plan in between, so the command's save loses the race for real.
    """

    def __init__(self, start: datetime) -> None:
        super().__init__(start)
        self.rivals: list[Callable[[], None]] = []

    def now(self) -> datetime:
        """The time, after letting an armed rival write first."""
        if self.rivals:
            self.rivals.pop(0)()
        return super().now()


def test_a_command_that_keeps_losing_a_race_is_told_to_re_read_and_retry(
    settings: Settings,
) -> None:
    """Another writer changes the plan between each read and save of a command: 409 with a
    problem saying to re-read and send again (retry: true); nothing of it is stored."""
    clock = RacingClock(START)
    with a_running_world(settings, clock) as world:
        plan = an_active_plan(world)
        rival = Counterpart(settings, SimulatedClock(START))
        try:

            def rival_reports() -> None:
                shortcuts.report_progress(
                    rival,
                    UUID(plan.id),
                    UUID(plan.partner_metric),
                    value=Decimal(1),
                    as_of=START.date(),
                    actor_id=UUID(world.contact.id),
                )

            version = world.version(plan)
            body = {"value": 2, "as_of": world.today()}
            url = f"{plan.url}/metrics/{plan.vendor_metric}/progress"
            clock.rivals = [rival_reports, rival_reports]
            response = world.manager.post(url, body)
            rivals_left = len(clock.rivals)
            clock.rivals = []
        finally:
            rival.close()
        assert rivals_left == 0
        assert response.status_code == 409, response.text
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["type"].endswith("concurrent-change")
        assert problem["retry"] is True
        assert "re-read" in problem["detail"].lower()
        after = world.plan(plan)
        assert after["version"] == version + 2  # the rival's two reports, not ours
        vendor = next(m for m in after["metrics"] if m["id"] == plan.vendor_metric)
        assert vendor["latest_value"] is None
        retried = world.manager.post(url, body)
        assert retried.status_code == 201, retried.text


def test_of_two_commands_sent_on_the_same_version_one_applies_and_the_other_is_refused(
    world: World,
) -> None:
    """Both sides agree at once with If-Match of the version they read: one wins; the other
    gets 412 (or 409) with a problem body; exactly one event is stored."""
    plan = with_proposed_metrics(world, a_draft_plan(world))
    version = world.version(plan)
    head = world.head()
    calls = [
        (world.contact, f"{plan.url}/metrics/{plan.vendor_metric}/agree"),
        (world.manager, f"{plan.url}/metrics/{plan.partner_metric}/agree"),
    ] * 3
    barrier = threading.Barrier(len(calls))

    def send(index: int) -> httpx.Response:
        caller, url = calls[index]
        barrier.wait()
        return caller.post(url, headers={"If-Match": f'"{version}"'})

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        responses = list(pool.map(send, range(len(calls))))
    statuses = [r.status_code for r in responses]
    assert statuses.count(200) == 1, [r.text for r in responses]
    for response in responses:
        if response.status_code != 200:
            assert response.status_code in {409, 412}, response.text
            assert response.headers["content-type"] == "application/problem+json"
    assert world.head() == head + 1
    assert world.version(plan) == version + 1
