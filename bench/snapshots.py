"""Plan snapshot interval: cold load time by plan size, and write-side cost, per interval."""

from __future__ import annotations

import argparse
import time
from contextlib import ExitStack
from dataclasses import dataclass, field

from _support import (
    DEFAULT_POSTGRES_URL,
    START,
    ActivePlan,
    Cast,
    a_cast,
    an_active_plan,
    backends,
    grow_in_batches,
    ledger_store,
    machine,
    percentile,
    report_once,
)

from ledger.application import SNAPSHOT_INTERVAL, Counterpart
from ledger.clock import SimulatedClock
from ledger.domain import Plan

WINDOW = 200
"""Loads are sampled over this many consecutive versions around each size: a multiple of
every interval measured, so each interval's distance to its last snapshot is spread evenly."""
POOL_SIZE = 2
"""Twelve applications are open at once per backend; one thread needs one connection each."""


def application_class(interval: int | None) -> type[Counterpart]:
    """Counterpart snapshotting plans every ``interval`` events (None: never); same tables."""
    intervals = {} if interval is None else {Plan: interval}
    label = "NoSnapshots" if interval is None else f"Every{interval}"
    return type(
        f"Counterpart{label}",
        (Counterpart,),
        {"name": Counterpart.name, "snapshotting_intervals": intervals},
    )


@dataclass
class Subject:
    """One interval under test: its own fresh store, a writer, a cold reader and a plan."""

    interval: int | None
    writer: Counterpart
    reader: Counterpart
    cast: Cast
    plan: ActivePlan
    clock: SimulatedClock
    loads: dict[int, list[float]] = field(default_factory=dict)
    write_seconds: dict[bool, float] = field(default_factory=lambda: {True: 0.0, False: 0.0})
    write_count: dict[bool, int] = field(default_factory=lambda: {True: 0, False: 0})
    snapshots: int = 0
    snapshot_bytes: int = 0
    events: int = 0
    event_bytes: int = 0

    @property
    def name(self) -> str:
        """The interval as printed."""
        return "none" if self.interval is None else str(self.interval)

    def rate(self, cached: bool) -> float:
        """report_progress commands per second with the cache on (True) or off."""
        count = self.write_count[cached]
        return count / self.write_seconds[cached] if count else 0.0

    def grow_to(self, version: int) -> None:
        """Bring the plan to ``version`` with batched saves (untimed)."""
        grow_in_batches(self.writer, self.cast, self.plan, self.clock, version)

    def cold_load(self, version: int, size: int) -> None:
        """Grow the plan to ``version``, then time one cold load of it (filed under ``size``)."""
        self.grow_to(version)
        started = time.perf_counter()
        loaded = self.reader.get_plan(self.plan.plan_id)
        elapsed = time.perf_counter() - started
        if loaded.version != version:  # a sanity check: the load saw the latest event
            msg = f"loaded version {loaded.version}, expected {version}"
            raise RuntimeError(msg)
        self.loads.setdefault(size, []).append(elapsed)

    def write_chunk(self, *, cached: bool) -> None:
        """Time ``WINDOW`` consecutive report_progress commands through the writer or reader."""
        app = self.writer if cached else self.reader
        report_once(app, self.cast, self.plan, self.clock, 0)  # untimed: warms the app
        started = time.perf_counter()
        for n in range(WINDOW):
            report_once(app, self.cast, self.plan, self.clock, n)
        self.write_seconds[cached] += time.perf_counter() - started
        self.write_count[cached] += WINDOW

    def count_stored(self) -> None:
        """How many plan events and snapshots the store holds, and their stored size."""
        events = self.writer.events.recorder.select_events(self.plan.plan_id)
        self.events = len(events)
        self.event_bytes = sum(len(e.state) for e in events)
        if self.writer.snapshots is not None:
            stored = self.writer.snapshots.recorder.select_events(self.plan.plan_id)
            self.snapshots = len(stored)
            self.snapshot_bytes = sum(len(s.state) for s in stored)


def open_subject(
    stack: ExitStack, backend: str, postgres_url: str, interval: int | None
) -> Subject:
    """A fresh store for one interval, with its applications and an active plan."""
    settings = stack.enter_context(ledger_store(backend, postgres_url))
    settings = settings.replaced(postgres_pool_size=POOL_SIZE)
    kind = application_class(interval)
    clock = SimulatedClock(START)
    writer = kind(settings, clock)
    stack.callback(writer.close)
    reader = kind(settings.replaced(cache_size=0), clock)
    stack.callback(reader.close)
    cast = a_cast(writer)
    return Subject(interval, writer, reader, cast, an_active_plan(writer, cast, clock), clock)


def measure(
    backend: str,
    postgres_url: str,
    intervals: list[int | None],
    sizes: list[int],
    *,
    samples: int,
    writes: int,
    cold_writes: int,
) -> list[Subject]:
    """Every interval side by side, taking turns, so drift in the machine hits all alike."""
    with ExitStack() as stack:
        subjects = [open_subject(stack, backend, postgres_url, i) for i in intervals]
        middle = sizes[len(sizes) // 2]
        for size in sizes:
            first = size - WINDOW // 2
            for subject in subjects:
                subject.grow_to(first)
                subject.reader.get_plan(subject.plan.plan_id)  # untimed: warms the reader
            for i in range(samples):
                for subject in subjects:
                    subject.cold_load(first + i * WINDOW // samples, size)
            if size == middle:
                for cached, count in ((True, writes), (False, cold_writes)):
                    for _ in range(count // WINDOW):
                        for subject in subjects:
                            subject.write_chunk(cached=cached)
        for subject in subjects:
            subject.count_stored()
        return subjects


def print_results(
    backend: str, sizes: list[int], subjects: list[Subject], samples: int, writes: int
) -> None:
    """The interval x size table of one backend."""
    middle = sizes[len(sizes) // 2]
    print(
        f"\n{backend}: cold load of the latest plan (cache_size=0), ms, over {samples} versions "
        f"spread across [size-{WINDOW // 2}, size+{WINDOW // 2}); report_progress commands/s "
        f"from ~{middle + WINDOW // 2} to ~{middle + WINDOW // 2 + writes} events"
    )
    heads = "".join(f"{f'p50 @{s}':>10}" for s in sizes)
    print(
        f"  {'interval':<9}{heads}{f'p95 @{sizes[-1]}':>11}"
        f"{'cmds/s cache on':>16}{'cache off':>10}{'snapshots':>10}{'KB':>7}"
    )
    for subject in subjects:
        loads = "".join(f"{percentile(subject.loads[s], 50) * 1000:>10.2f}" for s in sizes)
        tail = percentile(subject.loads[sizes[-1]], 95) * 1000
        print(
            f"  {subject.name:<9}{loads}{tail:>11.2f}"
            f"{subject.rate(cached=True):>16.0f}{subject.rate(cached=False):>10.0f}"
            f"{subject.snapshots:>10}{subject.snapshot_bytes / 1024:>7.0f}"
        )
    last = subjects[-1]
    print(
        f"  (KB: stored snapshot state; the plan's own {last.events} events hold "
        f"{last.event_bytes / 1024:.0f} KB of state in every store)"
    )


def interval_list(text: str) -> list[int | None]:
    """Parse ``none,10,25`` into [None, 10, 25]."""
    return [None if part.strip() == "none" else int(part) for part in text.split(",")]


def size_list(text: str) -> list[int]:
    """Parse ``200,1000`` into [200, 1000]."""
    return sorted(int(part) for part in text.split(","))


def main() -> None:
    """Parse the arguments, measure every backend and interval, print the tables."""
    parser = argparse.ArgumentParser(
        description=(
            "Measure the plan snapshot interval: for each interval, the cold load time of a "
            "plan (fresh Counterpart with cache_size=0, get_plan) at several plan sizes, and "
            "the write-side throughput of report_progress with the cache on and off. Each "
            "interval gets a fresh store. The ledger currently snapshots plans every "
            f"{SNAPSHOT_INTERVAL} events."
        )
    )
    parser.add_argument(
        "--backend",
        choices=["sqlite", "postgres", "both"],
        default="both",
        help="which store to measure (default: both); SQLite is a file in a temporary directory",
    )
    parser.add_argument(
        "--intervals",
        type=interval_list,
        default=[None, 10, 25, 50, 100, 200],
        help="comma-separated snapshot intervals, 'none' for no snapshots "
        "(default: none,10,25,50,100,200)",
    )
    parser.add_argument(
        "--sizes",
        type=size_list,
        default=[200, 1000, 5000],
        help="comma-separated plan sizes in events, each at least 110 (default: 200,1000,5000)",
    )
    parser.add_argument(
        "--samples",
        type=int,
        default=50,
        help=f"cold loads per size, at versions spread over {WINDOW} events (default: 50)",
    )
    parser.add_argument(
        "--writes",
        type=int,
        default=600,
        help=(
            "report_progress commands timed per interval with the cache on, at the middle "
            f"size, in turns of {WINDOW} so every interval is amortised evenly (default: 600)"
        ),
    )
    parser.add_argument(
        "--cold-writes",
        type=int,
        default=200,
        help=(
            "the same with the cache off (Settings(cache_size=0)): every command loads the "
            f"plan cold; in turns of {WINDOW} (default: 200)"
        ),
    )
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_URL,
        help=(
            "PostgreSQL database to use; a schema bench_<random> is created in it per "
            f"interval and dropped afterwards (default: {DEFAULT_POSTGRES_URL})"
        ),
    )
    args = parser.parse_args()
    if min(args.sizes) < WINDOW // 2 + 10 or not 1 <= args.samples <= WINDOW:
        parser.error(f"sizes must be >= {WINDOW // 2 + 10} and 1 <= --samples <= {WINDOW}")
    if args.writes % WINDOW or args.cold_writes % WINDOW:
        parser.error(f"--writes and --cold-writes must be multiples of {WINDOW}")

    print("Counterpart plan snapshot interval (bench/snapshots.py)")
    print(machine())
    print(
        f"plans grown with batched saves of 100 in-memory reports; every interval has its own "
        f"fresh store, all open side by side (PostgreSQL pool size {POOL_SIZE}); current "
        f"interval in ledger/application.py: {SNAPSHOT_INTERVAL}"
    )
    for backend in backends(args.backend):
        subjects = measure(
            backend,
            args.postgres_url,
            args.intervals,
            args.sizes,
            samples=args.samples,
            writes=args.writes,
            cold_writes=args.cold_writes,
        )
        print_results(backend, args.sizes, subjects, args.samples, args.writes + args.cold_writes)


if __name__ == "__main__":
    main()
