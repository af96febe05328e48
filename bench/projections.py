"""Projection catch-up throughput against the raw read rate, and score latency by ledger size."""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import time
from dataclasses import dataclass, field

import psycopg
from _support import (
    DEFAULT_POSTGRES_URL,
    PLAN_EVENTS,
    SETUP_EVENTS,
    START,
    FilledPlan,
    a_memory_cast,
    backends,
    fill_wave,
    filler,
    ledger_store,
    machine,
    percentile,
)

from ledger.application import Counterpart
from ledger.clock import SimulatedClock
from ledger.settings import Settings
from projections.models.score_facts import ScoreFacts
from projections.rules.scoring import score
from projections.runtime.registry import all_projections
from projections.runtime.runner import DEFAULT_BATCH, Projection, Runner
from projections.runtime.store import ReadStore, open_store

FIRST = 20_000
"""The small ledger: score latency is measured here first, then at ``--events``."""
THROUGHPUT_GOAL = 10_000
"""Catch-up of all projections, events per second."""
SHARE_GOAL = 0.25
"""Catch-up of all projections as a share of the raw read-and-decode rate."""
LATENCY_GOAL = 1.5
"""Score latency at ``--events`` over latency at ``FIRST`` (p50 and p99)."""
WARMUP = 50
"""Untimed score computations before each sample."""


@dataclass
class Pass:
    """One timed pass over the ledger: raw reading, or a catch-up from position 0."""

    label: str
    events: int
    seconds: float

    @property
    def rate(self) -> float:
        """Events per second."""
        return self.events / self.seconds


@dataclass
class Latency:
    """Score computations of one sample, in seconds: whole, and its two parts."""

    label: str
    events: int
    plans: int
    total: list[float] = field(default_factory=list)
    load: list[float] = field(default_factory=list)
    scoring: list[float] = field(default_factory=list)
    reports: set[int] = field(default_factory=set)

    def ms(self, samples: list[float], q: float) -> float:
        """The q-th percentile of some durations, in milliseconds."""
        return percentile(samples, q) * 1000


# ------------------------------------------------------------------- catch-up


@dataclass
class Ledger:
    """The ledger under test: the application the runner reads, its read store, batch size."""

    app: Counterpart
    store: ReadStore
    batch: int

    def runner(self, projections: list[Projection]) -> Runner:
        """A runner of these projections, its tables and tracking rows set up."""
        runner = Runner(self.app, self.store, projections, batch_size=self.batch)
        runner.setup()
        return runner


def raw_pass(ledger: Ledger, label: str) -> Pass:
    """Read every notification in batches of the runner's size and decode each one."""
    recorder, mapper = ledger.app.recorder, ledger.app.mapper
    started = time.perf_counter()
    events, start = 0, 1
    while notifications := recorder.select_notifications(start, limit=ledger.batch):
        for notification in notifications:
            mapper.to_domain_event(notification)
        events += len(notifications)
        start = notifications[-1].id + 1
    return Pass(label, events, time.perf_counter() - started)


def rebuild(ledger: Ledger, projections: list[Projection], label: str) -> Pass:
    """Drop the projections' rows, set them back to 0, and time one catch-up to the head."""
    runner = ledger.runner(projections)
    for name in runner.projections:
        runner.reset(name)
    started = time.perf_counter()
    events = runner.catch_up()
    return Pass(label, events, time.perf_counter() - started)


def throughput(ledger: Ledger) -> list[Pass]:
    """Raw passes before, between and after the catch-ups, so drift shows and averages out."""
    passes = [raw_pass(ledger, "raw read + decode (1)")]
    every = all_projections(ledger.app)
    passes.append(rebuild(ledger, every, f"catch-up, all {len(every)} projections together"))
    passes.append(raw_pass(ledger, "raw read + decode (2)"))
    for projection in all_projections(ledger.app):
        passes.append(rebuild(ledger, [projection], f"catch-up, {projection.name} alone"))
    passes.append(raw_pass(ledger, "raw read + decode (3)"))
    return passes


def profile_catch_up(ledger: Ledger, top: int) -> str:
    """cProfile of one catch-up of all projections from 0: the top functions by own time and
    by cumulative time, and who constructs and prints UUIDs."""
    profiler = cProfile.Profile()
    profiler.enable()
    rebuild(ledger, all_projections(ledger.app), "profiled")
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_callers(r"uuid.py:\d+\((__init__|__str__)\)")
    return out.getvalue()


# -------------------------------------------------------------- score latency


def catch_up(ledger: Ledger) -> None:
    """Bring every projection to the ledger's head (untimed)."""
    ledger.runner(all_projections(ledger.app)).catch_up()


def score_latency(
    store: ReadStore,
    populations: dict[str, list[FilledPlan]],
    events: int,
    samples: int,
    rng: random.Random,
) -> list[Latency]:
    """Time ``samples`` scores per population, one plan drawn at random each time.

    One score: a transaction in which ``ScoreFacts.load`` selects and decodes the plan's
    facts, then ``score(facts, as_of)`` (after the commit; it needs no database). Populations
    take turns, so drift hits them alike.
    """
    model = ScoreFacts()
    results = {label: Latency(label, events, len(plans)) for label, plans in populations.items()}
    for n in range(WARMUP + samples):
        for label, plans in populations.items():
            plan = rng.choice(plans)
            t0 = time.perf_counter()
            with store.transaction() as cursor:
                facts = model.load(cursor, plan.plan_id)
            t1 = time.perf_counter()
            if facts is None:
                msg = f"plan {plan.plan_id} has no score facts"
                raise LookupError(msg)
            result = score(facts, plan.as_of)
            t2 = time.perf_counter()
            if n < WARMUP:
                continue
            latency = results[label]
            latency.total.append(t2 - t0)
            latency.load.append(t1 - t0)
            latency.scoring.append(t2 - t1)
            latency.reports.add(sum(len(m.reports) for m in facts.metrics.values()))
            if not result.sides:
                msg = "a score without sides"
                raise ValueError(msg)
    return list(results.values())


# -------------------------------------------------------------------- running


@dataclass
class Results:
    """Everything one backend measured."""

    backend: str
    server: str
    batch: int
    fill_seconds: float = 0.0
    passes: list[Pass] = field(default_factory=list)
    latencies: list[Latency] = field(default_factory=list)
    profile: str = ""


def measure(
    backend: str,
    settings: Settings,
    *,
    events: int,
    per_save: int,
    batch: int,
    samples: int,
    seed: int,
    profile: int,
) -> Results:
    """Fill to FIRST, catch up, time scores; fill to ``events``, time catch-ups and scores."""
    results = Results(backend, server_version(settings), batch)
    clock = SimulatedClock(START)
    writer = filler(settings, clock)
    app = Counterpart(settings, clock)
    store = open_store(settings)
    ledger = Ledger(app, store, batch)
    rng = random.Random(seed)
    try:
        cast = a_memory_cast(clock)
        wave = -(-FIRST // PLAN_EVENTS)
        total = -(-events // PLAN_EVENTS)
        started = time.perf_counter()
        first = fill_wave(writer, cast, clock, wave, per_save=per_save)
        results.fill_seconds += time.perf_counter() - started
        catch_up(ledger)
        head = app.recorder.max_notification_id() or 0
        results.latencies += score_latency(store, {"all plans": first}, head, samples, rng)

        started = time.perf_counter()
        everyone = list(first)
        while len(everyone) < total:
            more = min(wave, total - len(everyone))
            everyone += fill_wave(writer, cast, clock, more, per_save=per_save)
        results.fill_seconds += time.perf_counter() - started

        results.passes = throughput(ledger)  # leaves every projection at the head
        head = app.recorder.max_notification_id() or 0
        populations = {"all plans": everyone, f"the {len(first)} plans of the first wave": first}
        results.latencies += score_latency(store, populations, head, samples, rng)
        if profile:
            results.profile = profile_catch_up(ledger, profile)
        return results
    finally:
        store.close()
        app.close()
        writer.close()


def server_version(settings: Settings) -> str:
    """The database server measured."""
    if not settings.is_postgres:
        return "SQLite file in a temporary directory"
    url = settings.database_url.split("?", 1)[0]
    with psycopg.connect(url) as connection:
        row = connection.execute("SHOW server_version").fetchone()
    return f"PostgreSQL server {row[0] if row else '?'}, schema bench_<random>"


def print_results(results: Results) -> None:
    """The throughput table, the latency table and their verdicts."""
    passes = results.passes
    raw = [p for p in passes if p.label.startswith("raw")]
    raw_rate = sum(p.events for p in raw) / sum(p.seconds for p in raw)
    head = passes[0].events
    print(
        f"\n{results.backend}: {results.server}; {head} events "
        f"({head // PLAN_EVENTS} plans of {PLAN_EVENTS} events), filled in "
        f"{results.fill_seconds:.0f} s"
    )
    print(f"  catch-up from position 0, batches of {results.batch}")
    print(f"  {'pass':<46} {'events':>7} {'s':>7} {'events/s':>9} {'us/event':>8} {'/raw':>5}")
    for p in passes:
        share = "" if p in raw else f"{p.rate / raw_rate:>5.2f}"
        line = (
            f"  {p.label:<46} {p.events:>7} {p.seconds:>7.2f} {p.rate:>9.0f} "
            f"{1e6 / p.rate:>8.1f} {share}"
        )
        print(line.rstrip())
    label = "raw read + decode, the three passes pooled"
    print(f"  {label:<46} {'':>7} {'':>7} {raw_rate:>9.0f} {1e6 / raw_rate:>8.1f}")
    everything = passes[1]
    verdict = "met" if everything.rate >= THROUGHPUT_GOAL else "NOT met"
    print(
        f"  catch-up of all = {everything.rate:.0f} events/s"
        f"   (goal >= {THROUGHPUT_GOAL}: {verdict})"
    )
    fraction = everything.rate / raw_rate
    verdict = "met" if fraction >= SHARE_GOAL else "NOT met"
    print(f"  catch-up of all / raw = {fraction:.3f}   (goal >= {SHARE_GOAL}: {verdict})")

    print(
        "  score latency: transaction + ScoreFacts.load (select, decode), then score(facts, "
        "as_of), ms"
    )
    print(
        f"  {'ledger':>7} {'sample':<36} {'plans':>5} {'reports':>7} {'n':>4} {'p50':>6} "
        f"{'p99':>6} {'load p50':>8} {'score p50':>9}"
    )
    for lat in results.latencies:
        low, high = min(lat.reports), max(lat.reports)
        reports = str(low) if low == high else f"{low}-{high}"
        print(
            f"  {lat.events:>7} {lat.label:<36} {lat.plans:>5} {reports:>7} {len(lat.total):>4} "
            f"{lat.ms(lat.total, 50):>6.2f} {lat.ms(lat.total, 99):>6.2f} "
            f"{lat.ms(lat.load, 50):>8.2f} {lat.ms(lat.scoring, 50):>9.2f}"
        )
    small = results.latencies[0]
    for big in results.latencies[1:]:
        for q in (50, 99):
            ratio = big.ms(big.total, q) / small.ms(small.total, q)
            verdict = "met" if ratio <= LATENCY_GOAL else "NOT met"
            print(
                f"  p{q} ratio {big.events}/{small.events}, {big.label}: {ratio:.2f}"
                f"   (goal <= {LATENCY_GOAL}: {verdict})"
            )
    if results.profile:
        print(f"  cProfile of one more catch-up of all projections from 0:\n{results.profile}")


def main() -> None:
    """Parse the arguments, run every backend, print the tables."""
    parser = argparse.ArgumentParser(
        description=(
            "Projection catch-up throughput from position 0 (all projections together, then "
            "each alone), against the raw rate of reading and decoding the same events "
            f"(goals: >= {THROUGHPUT_GOAL} events/s and >= {SHARE_GOAL:.0%} of raw); and the "
            f"latency of one plan's score from stored facts at {FIRST} events and at --events "
            f"(goal: p50 and p99 grow by at most {LATENCY_GOAL}x). Every plan has "
            f"{PLAN_EVENTS} events and is scored as of its last report's day, so plans are "
            "alike at both sizes."
        )
    )
    parser.add_argument(
        "--backend",
        choices=["sqlite", "postgres", "both"],
        default="both",
        help="which store to measure (default: both); SQLite is a file in a temporary directory",
    )
    parser.add_argument(
        "--events",
        type=int,
        default=200_000,
        help=(
            f"events in the large ledger (default: 200000; at least {2 * FIRST}), rounded up "
            f"to whole plans of {PLAN_EVENTS} events"
        ),
    )
    parser.add_argument(
        "--per-save",
        type=int,
        default=12,
        help=(
            "reports per plan and save while filling (default: 12); plans take turns, "
            f"{FIRST // PLAN_EVENTS} at a time, so a batch of {DEFAULT_BATCH} events touches "
            f"about min({FIRST // PLAN_EVENTS}, {DEFAULT_BATCH}/N) plans"
        ),
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=DEFAULT_BATCH,
        help=(
            f"the runner's batch size, and the raw reads' (default: {DEFAULT_BATCH}, the "
            "runner's default)"
        ),
    )
    parser.add_argument(
        "--samples",
        type=int,
        default=500,
        help=f"timed scores per sample (default: 500), after {WARMUP} untimed ones",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed (default: 1)")
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help=(
            "afterwards, profile one more catch-up of all projections with cProfile and print "
            "the top N functions by own and by cumulative time (default: 0, no profile)"
        ),
    )
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_URL,
        help=(
            "PostgreSQL database to use; a schema bench_<random> is created in it and "
            f"dropped afterwards (default: {DEFAULT_POSTGRES_URL})"
        ),
    )
    args = parser.parse_args()
    reports = PLAN_EVENTS - SETUP_EVENTS
    if (
        args.events < 2 * FIRST
        or args.samples < 1
        or args.profile < 0
        or args.batch_size < 1
        or not 1 <= args.per_save <= reports
    ):
        parser.error(
            f"need --events >= {2 * FIRST}, --samples >= 1, --profile >= 0, --batch-size >= 1 and "
            f"1 <= --per-save <= {reports}"
        )

    print("Counterpart projection catch-up and score latency (bench/projections.py)")
    print(f"{machine()}, load average {os.getloadavg()[0]:.2f} at start")
    print(
        f"plans of {PLAN_EVENTS} events ({SETUP_EVENTS} to activate, {reports} reports), "
        f"stored in waves of {FIRST // PLAN_EVENTS} plans taking turns, {args.per_save} "
        f"reports per plan and save; {args.samples} timed scores per sample, random plans"
    )
    for backend in backends(args.backend):
        with ledger_store(backend, args.postgres_url) as settings:
            results = measure(
                backend,
                settings,
                events=args.events,
                per_save=args.per_save,
                batch=args.batch_size,
                samples=args.samples,
                seed=args.seed,
                profile=args.profile,
            )
        print_results(results)


if __name__ == "__main__":
    main()
