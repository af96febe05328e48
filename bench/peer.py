"""Counterpart over HTTP against its peer: the eventsourcing library's own idiom behind FastAPI.

The peer is what a Python user would otherwise write: one aggregate (the ledger's own ``Plan``,
so the domain work is the same), the library's ``Application`` with its aggregate cache on and
its own recorder, and sync FastAPI routes that get, call and save (the command) or get and
render (the read). Both servers are the same uvicorn (one worker, no access log) on the same
backend; ``wrk`` (Debian's, not Python: the client's CPU stays small) drives them in
interleaved rounds, so a noisy neighbour slows both alike. Printed per backend:

- ``POST …/progress`` with a fresh ``Idempotency-Key`` per request, spread over many plans:
  Counterpart / peer (goal: at least 0.7);
- ``GET /v1/plans/{id}`` / the peer's read of the same plan;
- ``GET /healthz`` / the peer's ``/healthz`` (what the framework and middleware cost).

Counterpart keeps read models and the peer keeps none, so Counterpart is measured in both of
its layouts (``--layout``): ``embedded`` (the projections on a thread of the server process,
the zero-set-up default) and ``external`` (``COUNTERPART_PROJECTIONS=external`` and one
``counterpart projections run`` worker process beside the server, as docs/operations.md
deploys it); the worker runs on the same two cores, so the machine does the same work.

    .venv/bin/python bench/peer.py [--backend sqlite|postgres|both]
        [--layout embedded|external|both] [--rounds 3] [--seconds 5]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from _support import (
    DEFAULT_POSTGRES_URL,
    a_memory_cast,
    active_plans,
    backends,
    ledger_store,
    machine,
    partner_metric,
    vendor_metric,
)
from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, JSONTranscoder
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

from ledger.clock import SimulatedClock
from ledger.domain import Acting, Actor, LedgerError, Partner, Plan
from ledger.persistence import library_env
from ledger.settings import Settings
from ledger.transcodings import register_all

ROOT = Path(__file__).resolve().parent.parent
COMMAND_GOAL = 0.7
PLANS = 200
"""Active plans the commands are spread over (so that no plan grows much in a run)."""
CONNECTIONS = 4
PROGRESS = "/v1/plans/{plan_id}/metrics/{metric_id}/progress"
NO_TOKEN = "-"  # noqa: S105 (what wrk sends where no token is needed)


# -------------------------------------------------------------------- the peer


class Peer(Application[uuid.UUID]):
    """The library's idiom: an application whose repository gets and whose save stores."""

    name = "peer"
    snapshotting_intervals = {Plan: 25}  # noqa: RUF012 (the library's class API; as Counterpart)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        """The library's transcodings plus the ledger's (dates, enums, value objects)."""
        super().register_transcodings(transcoder)
        register_all(transcoder)


def peer_env(database_url: str) -> dict[str, str]:
    """The library's environment for a store: its own recorder, tables made, cache on."""
    env = library_env(Settings(database_url=database_url, create_tables=True))
    env.pop("APPLICATION_RECORDER_TOPIC", None)  # the library's own recorder, no hash chain
    env["AGGREGATE_CACHE_MAXSIZE"] = "10000"
    env["IS_SNAPSHOTTING_ENABLED"] = "y"
    return env


class ProgressBody(BaseModel):
    """A progress report."""

    value: Decimal
    as_of: str
    note: str | None = None


def create_app() -> FastAPI:
    """The peer's HTTP app (``uvicorn peer:create_app --factory``), on ``PEER_DATABASE_URL``."""
    app = Peer(env=peer_env(os.environ["PEER_DATABASE_URL"]))
    manager = app.repository.get(uuid.UUID(os.environ["PEER_MANAGER_ID"]))
    partner = app.repository.get(uuid.UUID(os.environ["PEER_PARTNER_ID"]))
    if not isinstance(manager, Actor) or not isinstance(partner, Partner):
        msg = "the peer's cast is not stored"
        raise RuntimeError(msg)
    api = FastAPI(title="peer")

    def plan_of(plan_id: uuid.UUID) -> Plan:
        try:
            plan = app.repository.get(plan_id)
        except AggregateNotFoundError:
            raise HTTPException(404, "plan not found") from None
        if not isinstance(plan, Plan):
            raise HTTPException(404, "plan not found")
        return plan

    @api.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @api.get("/v1/plans/{plan_id}")
    def read(plan_id: uuid.UUID) -> dict[str, Any]:
        return render(plan_of(plan_id))

    @api.post("/v1/plans/{plan_id}/metrics/{metric_id}/progress", status_code=201)
    def report(plan_id: uuid.UUID, metric_id: uuid.UUID, body: ProgressBody) -> dict[str, Any]:
        plan = plan_of(plan_id)
        by: Acting = partner.vouch(manager, at=datetime.now(UTC))
        try:
            plan.report_progress(
                metric_id,
                value=body.value,
                as_of=datetime.fromisoformat(body.as_of).date(),
                note=body.note,
                by=by,
            )
            app.save(plan)
        except LedgerError as error:
            raise HTTPException(409, str(error)) from None
        except IntegrityError:
            raise HTTPException(409, "someone else changed this plan first") from None
        return render(plan)

    return api


def render(plan: Plan) -> dict[str, Any]:
    """The plan as JSON, as a user of the library would write it."""
    return {
        "id": str(plan.id),
        "version": plan.version,
        "title": plan.title,
        "status": plan.status.value,
        "period_start": plan.period_start.isoformat(),
        "period_end": plan.period_end.isoformat(),
        "metrics": [
            {
                "id": str(metric.id),
                "name": metric.name,
                "owner_side": metric.owner_side.value,
                "target": str(metric.target),
                "due_date": metric.due_date.isoformat(),
                "reports": metric.reports_count,
                "latest": None if metric.latest is None else str(metric.latest.value),
            }
            for metric in plan.metrics.values()
        ],
    }


def peer_plans(database_url: str, count: int) -> tuple[list[tuple[uuid.UUID, uuid.UUID]], Any]:
    """``count`` active plans in the peer's store (as Counterpart's fixture), and the cast."""
    app = Peer(env=peer_env(database_url))
    today = datetime.now(UTC).date()
    clock = SimulatedClock(datetime.now(UTC) - timedelta(minutes=5))
    cast = a_memory_cast(clock)
    app.save(cast.admin, cast.manager, cast.partner, cast.contact)
    ours_spec = replace(vendor_metric(), due_date=today + timedelta(days=70))
    theirs_spec = replace(partner_metric(), due_date=today + timedelta(days=70))
    plans = []
    for n in range(count):
        vendor = cast.partner.vouch(cast.manager, at=clock.now())
        other = cast.partner.vouch(cast.contact, at=clock.now())
        plan = Plan.draft(
            title=f"Joint plan {n}",
            period_start=today - timedelta(days=10),
            period_end=today + timedelta(days=80),
            objectives=["Grow qualified pipeline"],
            by=vendor,
        )
        ours = plan.propose_metric(ours_spec, by=vendor)
        theirs = plan.propose_metric(theirs_spec, by=other)
        plan.agree_metric(ours, by=other)
        plan.agree_metric(theirs, by=vendor)
        plan.commit(by=vendor)
        plan.commit(by=other)
        app.save(plan)
        plans.append((plan.id, ours))
    app.close()
    return plans, cast


# ---------------------------------------------------------------- the servers


@contextmanager
def uvicorn(target: str, env: dict[str, str], app_dir: Path, ready: str) -> Iterator[str]:
    """One uvicorn process (one worker, no access log) serving ``target``; its base URL."""
    from tests.support.loopback import serving  # noqa: PLC0415 (the peer's process needs none)

    def command(port: int) -> list[str]:
        return [
            sys.executable,
            "-m",
            "uvicorn",
            target,
            "--factory",
            "--app-dir",
            str(app_dir),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--no-access-log",
            "--log-level",
            "warning",
        ]

    with serving(command, ready=ready, env=env, timeout=300, describe=lambda: target) as served:
        yield served.url


# ------------------------------------------------------------------ wrk


@dataclass
class Rates:
    """Requests per second of each round, per (server, request)."""

    rounds: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    failures: dict[tuple[str, str], int] = field(default_factory=dict)

    def add(self, server: str, kind: str, rate: float, failed: int) -> None:
        """Record one round."""
        self.rounds.setdefault((server, kind), []).append(rate)
        self.failures[(server, kind)] = self.failures.get((server, kind), 0) + failed

    def median(self, server: str, kind: str) -> float:
        """The median rate over the rounds."""
        return statistics.median(self.rounds[(server, kind)])


LUA_COMMANDS = """
local plans = {%(plans)s}
local counter = 0
local thread_id = 0
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end
function init(args)
  math.randomseed(os.time() + thread_id * 7919)
end
request = function()
  counter = counter + 1
  local plan = plans[(counter * 7 + thread_id * 13) %% #plans + 1]
  local key = string.format("%(run)s-%%d-%%d-%%d", thread_id, counter, math.random(1, 1000000000))
  local body = '{"value":"' .. (counter %% 40) .. '","as_of":"%(today)s"}'
  return wrk.format("POST", plan, {
    ["Authorization"] = "Bearer %(token)s",
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = key,
  }, body)
end
"""

LUA_READS = """
local plans = {%(plans)s}
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", plans[(counter * 7) %% #plans + 1], {
    ["Authorization"] = "Bearer %(token)s",
  })
end
"""

LUA_PLAIN = """
local headers = {["Authorization"] = "Bearer %(token)s"}
request = function() return wrk.format("GET", "%(path)s", headers) end
"""


def lua(template: str, **values: str) -> str:
    """A wrk script file; its path."""
    handle, path = tempfile.mkstemp(prefix="counterpart-wrk-", suffix=".lua")
    with os.fdopen(handle, "w") as file:
        file.write(template % values)
    return path


def wrk(base: str, script: str, seconds: int) -> tuple[float, int]:
    """Requests per second and failed (non-2xx or broken) requests of one wrk run."""
    result = subprocess.run(  # noqa: S603 (wrk from Debian's package)
        [
            shutil.which("wrk") or "wrk",
            "-t1",
            f"-c{CONNECTIONS}",
            f"-d{max(1, seconds)}s",
            "--timeout",
            "10s",
            "-s",
            script,
            base,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    rate = re.search(r"Requests/sec:\s+([\d.]+)", result.stdout)
    if rate is None:
        msg = f"wrk printed no rate:\n{result.stdout}{result.stderr}"
        raise RuntimeError(msg)
    failed = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", result.stdout)
    errors = re.search(r"Socket errors:.*?(\d+) timeout", result.stdout)
    return float(rate.group(1)), (int(failed.group(1)) if failed else 0) + (
        int(errors.group(1)) if errors else 0
    )


def quoted(paths: list[str]) -> str:
    """A Lua list of strings."""
    return ", ".join(f'"{p}"' for p in paths)


# ------------------------------------------------------------------ running


@contextmanager
def projection_worker(env: dict[str, str]) -> Iterator[None]:
    """A ``counterpart projections run`` process for the ``external`` layout."""
    worker = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "projections", "run"],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def run(settings: Settings, peer_url: str, rounds: int, seconds: int, layout: str) -> Rates:
    """Both servers on one backend, measured in interleaved rounds."""
    print(f"  setting up {PLANS} active plans on each side ...", flush=True)
    fixture = active_plans(settings, PLANS)
    peer_ids, cast = peer_plans(peer_url, PLANS)
    today = datetime.now(UTC).date().isoformat()
    run_id = uuid.uuid4().hex[:8]
    ours_paths = [PROGRESS.format(plan_id=p, metric_id=m) for p, m in fixture.plans]
    peer_paths = [PROGRESS.format(plan_id=p, metric_id=m) for p, m in peer_ids]
    scripts = {
        ("counterpart", "command"): lua(
            LUA_COMMANDS, plans=quoted(ours_paths), token=fixture.token, today=today, run=run_id
        ),
        ("peer", "command"): lua(
            LUA_COMMANDS, plans=quoted(peer_paths), token=NO_TOKEN, today=today, run=run_id
        ),
        ("counterpart", "read"): lua(
            LUA_READS,
            plans=quoted([f"/v1/plans/{p}" for p, _ in fixture.plans]),
            token=fixture.token,
        ),
        ("peer", "read"): lua(
            LUA_READS, plans=quoted([f"/v1/plans/{p}" for p, _ in peer_ids]), token=NO_TOKEN
        ),
        ("counterpart", "healthz"): lua(LUA_PLAIN, path="/healthz", token=NO_TOKEN),
        ("peer", "healthz"): lua(LUA_PLAIN, path="/healthz", token=NO_TOKEN),
    }
    rates = Rates()
    ours_env = {
        "COUNTERPART_DATABASE_URL": settings.database_url,
        "COUNTERPART_PROJECTIONS": layout,
    }
    peer_env_vars = {
        "PEER_DATABASE_URL": peer_url,
        "PEER_MANAGER_ID": str(cast.manager.id),
        "PEER_PARTNER_ID": str(cast.partner.id),
    }
    try:
        with (
            projection_worker(ours_env) if layout == "external" else contextlib.nullcontext(),
            uvicorn("api.app:create_app", ours_env, ROOT, "/readyz") as ours,
            uvicorn("peer:create_app", peer_env_vars, ROOT / "bench", "/healthz") as peer,
        ):
            bases = {"counterpart": ours, "peer": peer}
            for kind in ("command", "read", "healthz"):  # warm both: caches, connections
                for server, base in bases.items():
                    wrk(base, scripts[(server, kind)], 1)
            for n in range(rounds):
                order = ("counterpart", "peer") if n % 2 == 0 else ("peer", "counterpart")
                for kind in ("command", "read", "healthz"):
                    for server in order:
                        rate, failed = wrk(bases[server], scripts[(server, kind)], seconds)
                        rates.add(server, kind, rate, failed)
                print(f"  round {n + 1}/{rounds} done", flush=True)
    finally:
        for path in scripts.values():
            Path(path).unlink(missing_ok=True)
    return rates


def report(backend: str, layout: str, rates: Rates) -> bool:
    """Print the rates and the ratios; whether the command goal is met."""
    labels = {
        "command": "POST …/progress (fresh Idempotency-Key)",
        "read": "GET /v1/plans/{id}",
        "healthz": "GET /healthz",
    }
    print(
        f"\n{backend}, projections {layout}: median requests/s over the rounds "
        f"({CONNECTIONS} connections, wrk)"
    )
    print(f"  {'request':<42} {'counterpart':>12} {'peer':>10} {'ratio':>7}  failed")
    met = True
    for kind, label in labels.items():
        ours, theirs = rates.median("counterpart", kind), rates.median("peer", kind)
        ratio = ours / theirs if theirs else 0.0
        failed = rates.failures[("counterpart", kind)] + rates.failures[("peer", kind)]
        goal = ""
        if kind == "command":
            met = ratio >= COMMAND_GOAL
            goal = f"  goal >= {COMMAND_GOAL}: {'met' if met else 'NOT met'}"
        print(f"  {label:<42} {ours:>12.0f} {theirs:>10.0f} {ratio:>7.2f}  {failed}{goal}")
    return met


def main() -> None:
    """Run the comparison on the chosen backends."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--layout", choices=("embedded", "external", "both"), default="both")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5, help="per wrk run")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench/peer.py needs wrk (Debian: apt-get install wrk; `make bench` does it)")
    print(f"bench/peer.py on {machine()}")
    layouts = ("embedded", "external") if args.layout == "both" else (args.layout,)
    for backend in backends(args.backend):
        for layout in layouts:
            print(f"\n{backend}, projections {layout}:", flush=True)
            with (
                ledger_store(backend, args.postgres_url) as ours,
                ledger_store(backend, args.postgres_url) as theirs,
            ):
                rates = run(ours, theirs.database_url, args.rounds, args.seconds, layout)
            report(backend, layout, rates)


if __name__ == "__main__":
    main()
