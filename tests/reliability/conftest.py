"""The reliability suite's machinery: real servers, a private PostgreSQL, clients that keep a
journal of what they were told, and the checks that nothing acknowledged was lost or doubled."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import psycopg
import pytest

from ledger.application import Counterpart
from ledger.domain import Direction, MetricKind, MetricSpec, Role, Side
from ledger.settings import Settings
from projections.runtime.registry import all_projections
from projections.runtime.runner import TRACKING_TABLE, Runner
from projections.runtime.store import open_store
from tests.api.world import SIGNING_KEY
from tests.conftest import BACKENDS, a_fresh_ledger
from tests.projections.read_models import dump_read_models
from tests.support import shortcuts

ROOT = Path(__file__).resolve().parents[2]
SIGNING = {"COUNTERPART_SIGNING_KEY": SIGNING_KEY, "COUNTERPART_CHECKPOINT_EVERY_EVENTS": "50"}
"""Every server and worker of the suite signs checkpoints every 50 events; verify checks them."""
MARK = "rel-"
"""Every command of the suite carries a unique marker starting so in one of its texts."""
MARKED_FIELDS = ("note", "reason", "notes", "title", "summary", "decisions")


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def marker() -> str:
    """A fresh marker for one logical command."""
    return MARK + uuid.uuid4().hex


# ------------------------------------------------------------------ the cast


@dataclass(frozen=True)
class Party:
    """An actor with its token."""

    id: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        """The Authorization header."""
        return {"Authorization": f"Bearer {self.token}"}


@dataclass(frozen=True)
class ActivePlan:
    """An active plan and its two metrics."""

    id: str
    vendor_metric: str
    partner_metric: str


@dataclass
class Cast:
    """A partnership (manager, contact, active plans) and another one, registered in process."""

    admin: Party
    manager: Party
    contact: Party
    partner_id: str
    other_manager: Party
    outsider: Party
    other_partner_id: str
    plans: list[ActivePlan] = field(default_factory=list)


def today() -> date:
    """The servers' today (they use the real clock)."""
    return datetime.now(UTC).date()


def a_cast(settings: Settings, plans: int = 1) -> Cast:
    """Register everyone through the application (real clock), with ``plans`` active plans
    whose period runs from ten days ago to eighty days ahead."""
    app = Counterpart(settings)
    try:
        admin, admin_token = shortcuts.register_actor(
            app, name="Ada Admin", email="ada@vendor.example", role=Role.ADMIN
        )
        by = admin.id

        def actor(name: str, role: Role, partner_id: UUID | None = None) -> tuple[UUID, str]:
            email = name.lower().replace(" ", ".") + "@example.com"
            found, token = shortcuts.register_actor(
                app, name=name, email=email, role=role, partner_id=partner_id, by=by
            )
            return found.id, token

        manager = actor("Max Manager", Role.MANAGER)
        other_manager = actor("Olga Manager", Role.MANAGER)
        partner = shortcuts.register_partner(app, name="Acme", manager_id=manager[0], by=by)
        other = shortcuts.register_partner(app, name="Globex", manager_id=other_manager[0], by=by)
        contact = actor("Pat Partner", Role.PARTNER, partner.id)
        outsider = actor("Otto Outsider", Role.PARTNER, other.id)
        cast = Cast(
            admin=Party(str(admin.id), admin_token),
            manager=Party(str(manager[0]), manager[1]),
            contact=Party(str(contact[0]), contact[1]),
            partner_id=str(partner.id),
            other_manager=Party(str(other_manager[0]), other_manager[1]),
            outsider=Party(str(outsider[0]), outsider[1]),
            other_partner_id=str(other.id),
        )
        for n in range(plans):
            cast.plans.append(an_active_plan(app, partner.id, manager[0], contact[0], n))
        return cast
    finally:
        app.close()


def metric_spec(side: Side, due: date) -> MetricSpec:
    """A SMART metric owned by ``side``."""
    return MetricSpec(
        owner_side=side,
        kind=MetricKind.ACTIVITY if side is Side.VENDOR else MetricKind.RESULT,
        name="Enablement sessions" if side is Side.VENDOR else "Qualified opportunities",
        description="Counted at the end of each week",
        unit="sessions" if side is Side.VENDOR else "opportunities",
        direction=Direction.AT_LEAST,
        target=Decimal(40),
        due_date=due,
    )


def an_active_plan(
    app: Counterpart, partner_id: UUID, manager_id: UUID, contact_id: UUID, n: int = 0
) -> ActivePlan:
    """Draft, agree and commit a plan by both sides, in process."""
    start, end = today() - timedelta(days=10), today() + timedelta(days=80)
    due = today() + timedelta(days=70)
    plan = shortcuts.draft_plan(
        app,
        partner_id=partner_id,
        title=f"Joint plan {n}",
        period_start=start,
        period_end=end,
        actor_id=manager_id,
    )
    _, ours = shortcuts.propose_metric(
        app, plan.id, metric_spec(Side.VENDOR, due), actor_id=manager_id
    )
    _, theirs = shortcuts.propose_metric(
        app, plan.id, metric_spec(Side.PARTNER, due), actor_id=contact_id
    )
    shortcuts.agree_metric(app, plan.id, ours, actor_id=contact_id)
    shortcuts.agree_metric(app, plan.id, theirs, actor_id=manager_id)
    shortcuts.commit(app, plan.id, actor_id=manager_id)
    shortcuts.commit(app, plan.id, actor_id=contact_id)
    return ActivePlan(str(plan.id), str(ours), str(theirs))


# ------------------------------------------------------------------ servers


class Server:
    """``counterpart serve`` as a real process (uvicorn) on loopback, which a test may kill."""

    def __init__(
        self,
        database_url: str,
        log: Path,
        *,
        port: int | None = None,
        env: dict[str, str] | None = None,
        args: tuple[str, ...] = (),
    ) -> None:
        self.database_url = database_url
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.env = {**os.environ, **SIGNING, **(env or {})}
        self.args = args
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self, *, ready: bool = True, timeout: float = 60) -> Server:
        """Start the process (appending to its log) and wait until /readyz answers 200."""
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "api.cli",
                    "--database-url",
                    self.database_url,
                    "serve",
                    "--port",
                    str(self.port),
                    "--log-level",
                    "warning",
                    *self.args,
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.starts += 1
        if ready:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 60) -> None:
        """Wait until /readyz answers 200 (the process must stay up meanwhile)."""
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.base}/readyz", timeout=2).status_code == 200:
                    return
            assert self.process is not None
            assert self.process.poll() is None, f"the server exited:\n{self.log_tail()}"
            assert time.monotonic() < deadline, f"the server is not ready:\n{self.log_tail()}"
            time.sleep(0.05)

    def wait_caught_up(self, timeout: float = 60) -> None:
        """Wait until /readyz reports the read models at the ledger's head."""
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(httpx.HTTPError, KeyError, ValueError):
                body = httpx.get(f"{self.base}/readyz", timeout=5).json()
                if body["checks"]["projection_lag"] == 0:
                    return
            assert time.monotonic() < deadline, "the projections did not catch up"
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, in the middle of whatever it was doing."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(30)

    def stop(self) -> None:
        """SIGTERM, then wait (SIGKILL after 30 s)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.kill()

    def log_tail(self, lines: int = 30) -> str:
        """The end of the server's log."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def log_lines(self, event: str) -> list[dict[str, Any]]:
        """The server's structured log lines of one event (``request``, ``unexpected_error``)."""
        found = []
        for line in self.log.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                with contextlib.suppress(ValueError):
                    entry = json.loads(line)
                    if entry.get("event") == event:
                        found.append(entry)
        return found


class Worker:
    """``counterpart projections run`` as a real process."""

    def __init__(self, database_url: str, log: Path) -> None:
        self.database_url = database_url
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Worker:
        """Start following the ledger."""
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "api.cli",
                    "--database-url",
                    self.database_url,
                    "projections",
                    "run",
                    "--poll-interval",
                    "0.2",
                ],
                cwd=ROOT,
                env={**os.environ, **SIGNING},  # the worker signs the checkpoints
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    def stop(self) -> None:
        """SIGTERM (it stops after its current batch)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(30)


# ------------------------------------------------------------------ commands


@dataclass
class Command:
    """One logical command: sent, and resent after a failure, with one Idempotency-Key."""

    method: str
    path: str
    body: dict[str, Any] | None
    token: str
    mark: str
    key: str = field(default_factory=lambda: uuid.uuid4().hex)
    attempts: list[tuple[str, int | str]] = field(default_factory=list)
    """(X-Request-ID, status or the transport error's name) of every attempt."""
    status: int | None = None
    """The definitive answer: 2xx (applied) or 4xx (refused); None while in doubt."""
    response: Any = None
    last: httpx.Response | None = None
    """The last attempt's response (None when it got none)."""

    @property
    def acknowledged(self) -> bool:
        """Answered with a 2xx: the command must be in the ledger, exactly once."""
        return self.status is not None and 200 <= self.status < 300

    @property
    def refused(self) -> bool:
        """Answered with a 4xx (other than "in progress"): nothing of it may be stored."""
        return self.status is not None and 400 <= self.status < 500


def progress(plan: ActivePlan, cast: Cast, *, vendor: bool) -> Command:
    """A progress report by the metric's owner side."""
    mark = marker()
    metric, party = (
        (plan.vendor_metric, cast.manager) if vendor else (plan.partner_metric, cast.contact)
    )
    value = str(uuid.UUID(mark[len(MARK) :]).int % 97)
    body = {"value": value, "as_of": today().isoformat(), "note": mark}
    return Command(
        "POST", f"/v1/plans/{plan.id}/metrics/{metric}/progress", body, party.token, mark
    )


def review(plan: ActivePlan, cast: Cast) -> Command:
    """A review recorded by the manager, attended by both parties."""
    mark = marker()
    body = {
        "held_on": today().isoformat(),
        "attendee_ids": [cast.manager.id, cast.contact.id],
        "notes": mark,
    }
    return Command("POST", f"/v1/plans/{plan.id}/reviews", body, cast.manager.token, mark)


def draft(cast: Cast, *, by_contact: bool = False) -> Command:
    """A new plan for the partnership."""
    mark = marker()
    body = {
        "partner_id": cast.partner_id,
        "title": mark,
        "period_start": (today() - timedelta(days=5)).isoformat(),
        "period_end": (today() + timedelta(days=60)).isoformat(),
    }
    token = cast.contact.token if by_contact else cast.manager.token
    return Command("POST", "/v1/plans", body, token, mark)


def adjustment(plan: ActivePlan, cast: Cast, *, vendor: bool) -> Command:
    """A side proposes a new target for its own metric."""
    mark = marker()
    metric, party = (
        (plan.vendor_metric, cast.manager) if vendor else (plan.partner_metric, cast.contact)
    )
    target = str(10 + uuid.UUID(mark[len(MARK) :]).int % 1000)
    body = {"metric_id": metric, "kind": "change_target", "new_target": target, "reason": mark}
    return Command("POST", f"/v1/plans/{plan.id}/adjustments", body, party.token, mark)


def answer(plan_id: str, adjustment_id: str, verb: str, party: Party) -> Command:
    """Accept, reject (the other side) or withdraw (the proposer) an adjustment."""
    mark = marker()
    path = f"/v1/plans/{plan_id}/adjustments/{adjustment_id}/{verb}"
    return Command("POST", path, {"reason": mark}, party.token, mark)


IN_PROGRESS = "urn:counterpart:problem:idempotency-key-in-progress"


def attempt(client: httpx.Client, command: Command, timeout: float | None = None) -> bool:
    """Send the command once; True when the answer is definitive (2xx or 4xx).

    503, 409 "in progress" and transport errors (refused, reset, timed out) leave it in doubt:
    the caller sends it again, with the same Idempotency-Key. A 5xx other than 503 is kept as
    definitive, so that the test sees it.
    """
    request_id = "att-" + uuid.uuid4().hex
    headers = {
        "Authorization": f"Bearer {command.token}",
        "Idempotency-Key": command.key,
        "X-Request-ID": request_id,
    }
    try:
        response = client.request(
            command.method,
            command.path,
            json=command.body,
            headers=headers,
            timeout=timeout or client.timeout,
        )
    except httpx.TransportError as error:
        command.attempts.append((request_id, type(error).__name__))
        command.last = None
        return False
    command.last = response
    status = response.status_code
    command.attempts.append((request_id, status))
    if status == 503:
        return False
    problem = response.headers.get("content-type", "").startswith("application/problem+json")
    if status == 409 and problem and response.json().get("type") == IN_PROGRESS:
        return False
    command.status = status
    command.response = response.json() if response.content else None
    return True


def settle(base: str, commands: list[Command], *, deadline: float = 60, pause: float = 0.2) -> None:
    """Send every command still in doubt again, with its key, until each has an answer."""
    until = time.monotonic() + deadline
    with httpx.Client(base_url=base, timeout=30) as client:
        while pending := [c for c in commands if c.status is None]:
            assert time.monotonic() < until, f"{len(pending)} commands never got an answer"
            for command in pending:
                attempt(client, command)
            if any(c.status is None for c in commands):
                time.sleep(pause)


class Journal:
    """Every logical command the clients sent, from several threads."""

    def __init__(self) -> None:
        self.commands: list[Command] = []
        self._lock = threading.Lock()

    def add(self, command: Command) -> Command:
        """Keep a command."""
        with self._lock:
            self.commands.append(command)
        return command

    def statuses(self) -> dict[int | None, int]:
        """How many commands ended with each status."""
        counts: dict[int | None, int] = {}
        for command in self.commands:
            counts[command.status] = counts.get(command.status, 0) + 1
        return counts


# ------------------------------------------------------------------ checks


def marked_events(settings: Settings) -> dict[str, list[tuple[str, int, str]]]:
    """Every event carrying a marker: marker -> [(aggregate id, version, request id)]."""
    app = Counterpart(settings)
    found: dict[str, list[tuple[str, int, str]]] = {}
    try:
        position = 0
        while batch := app.recorder.select_notifications(start=position + 1, limit=1000):
            for notification in batch:
                if MARK.encode() not in notification.state:
                    continue
                fields = json.loads(notification.state)
                for name in MARKED_FIELDS:
                    value = fields.get(name)
                    if isinstance(value, str) and value.startswith(MARK):
                        found.setdefault(value, []).append(
                            (
                                str(notification.originator_id),
                                notification.originator_version,
                                str(fields.get("request_id")),
                            )
                        )
            position = batch[-1].id
    finally:
        app.close()
    return found


def assert_applied_exactly_once(settings: Settings, commands: list[Command]) -> None:
    """Every acknowledged command is in the ledger exactly once; a refused one not at all;
    and nothing in the ledger carries a marker that no command was sent with."""
    found = marked_events(settings)
    wrong = []
    for command in commands:
        events = found.get(command.mark, [])
        if command.acknowledged and len(events) != 1:
            wrong.append(f"{command.status} {command.path} stored {len(events)} times: {events}")
        if command.refused and events:
            wrong.append(f"refused ({command.status}) {command.path} stored: {events}")
        if command.status is None:
            wrong.append(f"{command.path} never got an answer: {command.attempts}")
    unknown = set(found) - {c.mark for c in commands}
    assert not unknown, f"events of commands never sent: {sorted(unknown)[:5]}"
    assert not wrong, f"{len(wrong)} of {len(commands)} commands:\n" + "\n".join(wrong[:20])


def assert_ledger_verifies(database_url: str) -> None:
    """The ledger is whole: ``counterpart verify`` finds the hash chain and every signed
    checkpoint intact, every aggregate's versions run 1..n without a gap, and
    ``counterpart export`` writes every event in global order."""
    verified = subprocess.run(
        [sys.executable, "-m", "api.cli", "--database-url", database_url, "verify", "--json"],
        cwd=ROOT,
        capture_output=True,
        timeout=300,
        check=False,
        env={**os.environ, **SIGNING},
    )
    verdict = json.loads(verified.stdout or b"{}")
    assert verified.returncode == 0, f"counterpart verify: {verdict or verified.stderr.decode()}"
    assert verdict["ok"] is True
    settings = Settings(database_url=database_url)
    app = Counterpart(settings)
    versions: dict[UUID, list[int]] = {}
    positions: list[int] = []
    try:
        position = 0
        while batch := app.recorder.select_notifications(start=position + 1, limit=1000):
            for notification in batch:
                versions.setdefault(notification.originator_id, []).append(
                    notification.originator_version
                )
                positions.append(notification.id)
            position = batch[-1].id
    finally:
        app.close()
    gaps = {
        str(aggregate): found
        for aggregate, found in versions.items()
        if found != list(range(1, len(found) + 1))
    }
    assert not gaps, f"aggregates whose versions are not 1..n: {gaps}"
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "events.jsonl"
        export = ["export", "--output", str(target)]
        done = subprocess.run(
            [sys.executable, "-m", "api.cli", "--database-url", database_url, *export],
            cwd=ROOT,
            capture_output=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr.decode()
        lines = [json.loads(line) for line in target.read_text().splitlines()]
    exported = [e for e in lines if "originator_id" in e]  # events (not other records)
    assert [e["position"] for e in exported] == positions
    assert verdict["checked"] == len(positions)
    assert all(e["request_id"] is None or isinstance(e["request_id"], str) for e in exported)


def assert_projections_equal_a_clean_rebuild(settings: Settings) -> None:
    """The read models as the running service left them (caught up, no writer running) are
    row for row what a rebuild from the first event makes; no row missing or doubled."""
    served = dump_read_models(settings)
    app = Counterpart(settings)
    store = open_store(settings)
    try:
        runner = Runner(app, store, all_projections(app))
        head = app.recorder.max_notification_id() or 0
        positions = dict(served[TRACKING_TABLE])
        expected = dict.fromkeys(runner.projections, head)
        assert positions == expected, "the read models had not caught up with the ledger"
        for name in runner.projections:
            runner.rebuild(name)
    finally:
        store.close()
        app.close()
    rebuilt = dump_read_models(settings)
    for table in served:
        assert served[table] == rebuilt[table], f"{table} differs from a clean rebuild"


@pytest.fixture(scope="module", params=BACKENDS)
def module_ledger(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    """A fresh, upgraded ledger shared by the tests of one module, on each backend."""
    with a_fresh_ledger(request.param, tmp_path_factory.mktemp("ledger")) as settings:
        yield settings


# ------------------------------------------------------------- private PostgreSQL


def _postgres_bin() -> Path | None:
    """The newest PostgreSQL server binaries installed, if any."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: p.parts[-3])
    candidates = [p.parent for p in found]
    on_path = shutil.which("pg_ctl")
    if not candidates and on_path:
        candidates = [Path(on_path).parent]
    return candidates[-1] if candidates else None


class PrivateCluster:
    """A PostgreSQL cluster of the test's own, on a free port, that the test may stop
    (``pg_ctl stop -m immediate``: every backend killed, no checkpoint) and start again."""

    def __init__(self, bin_dir: Path, root: Path) -> None:
        self.bin = bin_dir
        self.root = root
        self.data = root / "data"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._as_postgres = os.geteuid() == 0  # initdb and postgres refuse to run as root

    def _run(self, *args: str, timeout: float = 120) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, timeout=timeout, check=False)
        assert done.returncode == 0, (command, done.stdout.decode(), done.stderr.decode())

    def init(self) -> None:
        """initdb (trust authentication, as on the shared test server)."""
        if self._as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync")

    def start(self) -> None:
        """Start (after a crash: with recovery) and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "server.log"),
            "-w",
            "-t",
            "60",
            "start",
        )

    def crash(self) -> None:
        """Stop at once, as a crash would: ``pg_ctl stop -m immediate``."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def reachable(self) -> bool:
        """Whether it accepts connections."""
        try:
            with psycopg.connect(self.url, connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False


@pytest.fixture
def private_postgres() -> Iterator[PrivateCluster]:
    """A real PostgreSQL cluster of this test's own (never the shared one on 5432)."""
    bin_dir = _postgres_bin()
    runuser = shutil.which("runuser")
    if bin_dir is None or (os.geteuid() == 0 and runuser is None):
        message = "PostgreSQL server binaries (initdb, pg_ctl) are needed for a private cluster"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    root = Path(tempfile.mkdtemp(prefix="counterpart-pg-"))
    cluster = PrivateCluster(bin_dir, root)
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        with contextlib.suppress(AssertionError, subprocess.SubprocessError):
            cluster.crash()
        shutil.rmtree(root, ignore_errors=True)
