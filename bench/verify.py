"""Verification and append cost of the hash chain, on each backend, in one run.

Prints, per backend:
- the raw read rate of the ledger's events: reading them, in order and in the verifier's
  page size, through the event store (the library's ``select_notifications``) and doing
  nothing else — the goal's baseline (docs/integrity.md says why) — and, for reference, plain
  SQL over the same rows (no event store, no objects); then the verify rate (every hash
  recomputed, links and signed checkpoints compared); goal: verify >= 50% of the raw read;
- the append rate with the chain on and off: ``report_progress`` commands in process (what
  a server does), and raw appends of stored events at 1 and 10 events per transaction (the
  chained recorder against the library's own, same events, alternating rounds); goal: on >=
  80% of off.

    .venv/bin/python bench/verify.py [--backend both] [--plans 200] [--rounds 5]

"verify" checks in this process; "verify xN" in one worker process per core
(``counterpart verify --workers``).
"""

from __future__ import annotations

import argparse
import sqlite3
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import psycopg
from _support import (
    DEFAULT_POSTGRES_URL,
    PLAN_EVENTS,
    START,
    a_cast,
    a_memory_cast,
    an_active_plan,
    backends,
    fill_wave,
    filler,
    ledger_store,
    machine,
    report_once,
)
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import Environment, EnvType

from ledger.application import Counterpart
from ledger.clock import SimulatedClock
from ledger.integrity import Keyring, Notary, Signer, chain_store, verify
from ledger.integrity.parallel import default_workers, processes
from ledger.persistence import postgres_parts
from ledger.settings import Settings

PAGE = 2000
LIBRARY_RECORDERS = {
    "sqlite": "eventsourcing.sqlite:SQLiteApplicationRecorder",
    "postgres": "eventsourcing.postgres:PostgresApplicationRecorder",
}


def unchained(backend: str) -> type[Counterpart]:
    """The application on the library's own recorder: the chain off (same event table)."""

    class Unchained(Counterpart):
        name = "counterpart"

        def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
            values = dict(env or {})
            values["APPLICATION_RECORDER_TOPIC"] = LIBRARY_RECORDERS[backend]
            return super().construct_env(name, values)

    return Unchained


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:>10,.0f}/s"


def raw_read(settings: Settings, head: int) -> float:
    """Seconds to read every event row in pages of the verifier's size, with nothing else:
    plain SQL on a connection of its own, rows as plain tuples, no hashing, no links."""
    if settings.is_postgres:
        parts = postgres_parts(settings.database_url)
        statement = (  # the schema name was checked by postgres_parts: letters, digits, _
            f"SELECT notification_id, originator_id::text, originator_version, topic, state "  # noqa: S608
            f"FROM {parts['schema']}.counterpart_events WHERE notification_id > %s "
            "AND notification_id <= %s ORDER BY notification_id LIMIT %s"
        )
        connection: Any = psycopg.connect(settings.database_url.split("?")[0], autocommit=True)
        cursor = connection.cursor(binary=True)
    else:
        statement = (
            "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events "
            "WHERE rowid > ? AND rowid <= ? ORDER BY rowid LIMIT ?"
        )
        connection = sqlite3.connect(settings.database_url.removeprefix("sqlite:///"))
        cursor = connection.cursor()
    started = time.perf_counter()
    after = 0
    while after < head:
        cursor.execute(statement, (after, head, PAGE))
        rows = cursor.fetchall()
        if not rows:
            break
        after = rows[-1][0]
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def library_read(app: Counterpart, head: int) -> float:
    """Seconds to read every event through the library's ``select_notifications``."""
    started = time.perf_counter()
    after = 0
    while after < head:
        notes = app.recorder.select_notifications(start=after + 1, limit=PAGE)
        if not notes:
            break
        after = notes[-1].id
    return time.perf_counter() - started


def fill(settings: Settings, plans: int, signer: Signer) -> int:
    """A ledger of ``plans`` plans of 500 events each, checkpointed every 1,000 events."""
    clock = SimulatedClock(START)
    app = filler(settings, clock)
    notary = Notary(chain_store(app.recorder), signer, every_events=1000)
    cast = a_memory_cast(clock)
    for _ in range(0, plans, 20):
        fill_wave(app, cast, clock, 20)
        notary.tick()
    notary.issue()
    head = int(app.recorder.max_notification_id() or 0)
    app.close()
    if settings.is_postgres:  # a ledger in service has statistics; a table filled a moment
        # ago has none, and the planner then sorts a whole range for every page
        with psycopg.connect(settings.database_url.split("?")[0], autocommit=True) as conn:
            conn.execute(
                f"ANALYZE {postgres_parts(settings.database_url)['schema']}.counterpart_events"
            )
            conn.execute(f"ANALYZE {postgres_parts(settings.database_url)['schema']}.cp_chain")
    return head


def sample_events(settings: Settings, count: int) -> list[StoredEvent]:
    """Real stored events to append again (under new ids)."""
    app = Counterpart(settings)
    notes = app.recorder.select_notifications(start=1, limit=count)
    app.close()
    return [StoredEvent(n.originator_id, n.originator_version, n.topic, n.state) for n in notes]


def append_rounds(
    backend: str, postgres_url: str, samples: list[StoredEvent], per_save: int, rounds: int
) -> tuple[float, float]:
    """Events/s with the chain on and off, alternating rounds on two fresh ledgers."""
    totals = {"on": 0.0, "off": 0.0}
    count = 0
    with ledger_store(backend, postgres_url) as on, ledger_store(backend, postgres_url) as off:
        apps = {"on": Counterpart(on), "off": unchained(backend)(off)}
        batches = [samples[i : i + per_save] for i in range(0, len(samples), per_save)]
        for _ in range(rounds):
            for label, app in apps.items():
                started = time.perf_counter()
                for batch in batches:
                    originator = uuid.uuid4()
                    app.recorder.insert_events(
                        [
                            replace(e, originator_id=originator, originator_version=v)
                            for v, e in enumerate(batch, 1)
                        ]
                    )
                totals[label] += time.perf_counter() - started
            count += len(samples)
        for app in apps.values():
            app.close()
    return count / totals["on"], count / totals["off"]


def command_rounds(
    backend: str, postgres_url: str, commands: int, rounds: int
) -> tuple[float, float]:
    """``report_progress`` commands/s in process with the chain on and off (alternating)."""
    totals = {"on": 0.0, "off": 0.0}
    with ledger_store(backend, postgres_url) as on, ledger_store(backend, postgres_url) as off:
        runs = {}
        for label, settings, kind in (("on", on, Counterpart), ("off", off, unchained(backend))):
            clock = SimulatedClock(START)
            app = kind(settings, clock)
            cast = a_cast(app)
            runs[label] = (app, cast, an_active_plan(app, cast, clock), clock)
        n = 0
        for _ in range(rounds):
            for label, (app, cast, plan, clock) in runs.items():
                started = time.perf_counter()
                for k in range(commands):
                    report_once(app, cast, plan, clock, n + k)
                totals[label] += time.perf_counter() - started
            n += commands
        for app, *_ in runs.values():
            app.close()
    return commands * rounds / totals["on"], commands * rounds / totals["off"]


def run(backend: str, postgres_url: str, plans: int, rounds: int) -> None:
    signer = Signer.generate()
    with ledger_store(backend, postgres_url) as settings:
        started = time.perf_counter()
        head = fill(settings, plans, signer)
        print(f"[{backend}] filled {head:,} events in {time.perf_counter() - started:.1f} s")
        app = Counterpart(settings)
        store = chain_store(app.recorder)
        keyring = Keyring([signer.public_key])
        reads: list[float] = []
        library: list[float] = []
        verifies: list[float] = []
        parallel: list[float] = []
        workers = default_workers()
        runner = processes(settings, workers)
        for _ in range(rounds):  # alternate, so all of them see the same cache and machine
            reads.append(raw_read(settings, head))
            library.append(library_read(app, head))
            for times, options in ((verifies, {}), (parallel, {"runner": runner})):
                started = time.perf_counter()
                verdict = verify(store, keyring, **options)  # type: ignore[arg-type]
                times.append(time.perf_counter() - started)
                if not verdict.ok or verdict.checked != head:
                    raise SystemExit(f"verification failed: {verdict.detail}")
        app.close()
        plain, store_read = head / min(reads), head / min(library)
        print(
            f"[{backend}] raw read      {rate(head, min(library))}  (the event store's "
            f"select_notifications, best of {rounds})"
        )
        print(f"[{backend}] plain SQL     {rate(head, min(reads))}  (reference: rows, no store)")
        for label, times in (("verify", verifies), (f"verify x{workers}", parallel)):
            checked = head / min(times)
            print(
                f"[{backend}] {label:<13} {rate(head, min(times))}  "
                f"({verdict.checkpoints_checked} checkpoints)  ratio to raw read "
                f"{checked / store_read:.2f} (goal >= 0.50); to plain SQL {checked / plain:.2f}"
            )
        samples = sample_events(settings, 2000)
    on, off = command_rounds(backend, postgres_url, 300, rounds)
    print(
        f"[{backend}] report_progress commands in process: chain off {off:>8,.0f}/s, "
        f"on {on:>8,.0f}/s, ratio {on / off:.2f} (goal >= 0.80)"
    )
    for per_save in (1, 10):
        on, off = append_rounds(backend, postgres_url, samples[: 400 * per_save], per_save, rounds)
        print(
            f"[{backend}] append {per_save:>2} event(s)/transaction: chain off {off:>8,.0f}/s, "
            f"on {on:>8,.0f}/s, ratio {on / off:.2f} (goal >= 0.80)"
        )


def main(argv: list[str] | None = None, out: Callable[[str], None] = print) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--plans", type=int, default=200, help=f"{PLAN_EVENTS} events each")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    out(machine())
    for backend in backends(args.backend):
        run(backend, args.postgres_url, args.plans, args.rounds)


if __name__ == "__main__":
    main()
