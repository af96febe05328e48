"""Verification and append cost of the hash chain, on each backend, in one run.

Prints, per backend:
- the raw read rate of the ledger's events (the same pages of the same rows the verifier reads,
  without hashing) and the verify rate over them (hashes recomputed, links and signed
  checkpoints compared); goal: verify >= 50% of the raw read rate;
- the append rate with the chain on and off (the chained recorder against the library's own,
  same events, same transaction sizes, alternating rounds); goal: on >= 80% of off.

    .venv/bin/python bench/verify.py [--backend both] [--plans 200] [--rounds 5]
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections.abc import Callable
from dataclasses import replace

from _support import (
    DEFAULT_POSTGRES_URL,
    PLAN_EVENTS,
    START,
    a_memory_cast,
    backends,
    fill_wave,
    filler,
    ledger_store,
    machine,
)
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import Environment, EnvType

from ledger.application import Counterpart
from ledger.clock import SimulatedClock
from ledger.integrity import Keyring, Notary, Signer, chain_store, verify
from ledger.integrity.recorders import ChainStore
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


def raw_read(store: ChainStore, head: int) -> float:
    """Seconds to read every event in pages, as the verifier reads them, hashing nothing."""
    started = time.perf_counter()
    after = 0
    while after < head:
        events = store.select_raw_events(after, head, PAGE)
        if not events:
            break
        after = events[-1][0]
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
        verifies: list[float] = []
        for _ in range(rounds):  # alternate, so both see the same cache and machine state
            reads.append(raw_read(store, head))
            started = time.perf_counter()
            verdict = verify(store, keyring)
            verifies.append(time.perf_counter() - started)
            if not verdict.ok or verdict.checked != head:
                raise SystemExit(f"verification failed: {verdict.detail}")
        app.close()
        read, checked = head / min(reads), head / min(verifies)
        print(f"[{backend}] raw read   {rate(head, min(reads))}  (best of {rounds})")
        print(
            f"[{backend}] verify     {rate(head, min(verifies))}  "
            f"({verdict.checkpoints_checked} checkpoints)  ratio {checked / read:.2f} "
            "(goal >= 0.50)"
        )
        samples = sample_events(settings, 2000)
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
