"""Command throughput: report_progress on a 200-event plan against a bare one-event save."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from _support import (
    DEFAULT_POSTGRES_URL,
    START,
    STEP,
    ActivePlan,
    Cast,
    a_cast,
    an_active_plan,
    backends,
    grow_by_commands,
    ledger_store,
    machine,
    percentile,
    report_once,
)
from eventsourcing.utils import Environment, EnvType

from ledger.application import SNAPSHOT_INTERVAL, Counterpart
from ledger.clock import SimulatedClock
from ledger.domain import OPERATOR, Acting, Actor, Partner, Plan, Role
from ledger.settings import Settings

PLAN_EVENTS = 200
GOAL = 0.5


@dataclass
class Timings:
    """Per-operation durations of one variant, in seconds."""

    label: str
    samples: list[float] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        """Operations per second over the timed operations."""
        return len(self.samples) / sum(self.samples)

    def ms(self, q: float) -> float:
        """The q-th percentile duration in milliseconds."""
        return percentile(self.samples, q) * 1000


def timed(timings: Timings, operation: Callable[[], object]) -> None:
    """Run the operation once and record how long it took."""
    started = time.perf_counter()
    operation()
    timings.samples.append(time.perf_counter() - started)


def new_actors(clock: SimulatedClock, count: int, prefix: str) -> list[Actor]:
    """One-event Actor aggregates built in memory by the operator, ready to save."""
    by = Acting(actor=OPERATOR, at=clock.now())
    return [
        Actor.register(
            name=f"Bench {prefix} {i}",
            email=f"bench.{prefix}.{i}@vendor.example",
            role=Role.LEADER,
            partner_id=None,
            by=by,
        )
        for i in range(count)
    ]


class NoPrePing(Counterpart):
    """What-if: PostgreSQL pool connections are not pinged on every checkout."""

    name = "counterpart"

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        """The ledger's environment plus POSTGRES_PRE_PING=n."""
        environment = super().construct_env(name, env)
        environment["POSTGRES_PRE_PING"] = "n"
        return environment


@dataclass
class Variant:
    """One timed operation: a command on a plan (with its save baseline) or a bare save."""

    tag: str
    label: str
    app: Counterpart
    plan: ActivePlan | None = None
    baseline: str = "(b)"
    start_version: int = 0
    timings: Timings = field(init=False)

    def __post_init__(self) -> None:
        self.timings = Timings(f"{self.tag:<11} {self.label}")


def plan_at(app: Counterpart, cast: Cast, clock: SimulatedClock, version: int) -> ActivePlan:
    """A fresh active plan brought to ``version`` events through the application."""
    plan = an_active_plan(app, cast, clock)
    grow_by_commands(app, cast, plan, clock, version)
    return plan


def breakdown(
    app: Counterpart, cast: Cast, plan: ActivePlan, clock: SimulatedClock, iterations: int
) -> list[Timings]:
    """The steps of ``report_progress`` timed one by one (the same calls, in the same order)."""
    names = (
        "the cached plan (no query, no copy)",
        "the cached partner (version checked in the save)",
        "the cached actor",
        "vouch + domain command",
        "save: the event, its link, the partner's version check",
        f"save: snapshot (every {SNAPSHOT_INTERVAL}th, from memory, amortised)",
    )
    steps = [Timings(name) for name in names]
    snapshotting: list[float] = []
    take_snapshots = app._take_snapshots  # instrumentation only

    def timed_snapshots(*args: Any, **kwargs: Any) -> None:
        started = time.perf_counter()
        take_snapshots(*args, **kwargs)
        snapshotting.append(time.perf_counter() - started)

    setattr(app, "_take_snapshots", timed_snapshots)  # noqa: B010 (mypy: no method assign)
    try:
        # Instrumentation mirrors ledger/handlers.py and Counterpart.handle (bench only).
        for n in range(iterations):
            t0 = time.perf_counter()
            loaded = app.load(Plan, plan.plan_id)
            t1 = time.perf_counter()
            partner = app.load(Partner, loaded.partner_id)
            t2 = time.perf_counter()
            actor = app.load(Actor, cast.manager)
            t3 = time.perf_counter()
            at = clock.advance(STEP)
            by = partner.vouch(actor, at=max(at, loaded.modified_on))
            loaded.report_progress(plan.metric_id, value=Decimal(n % 40), as_of=at.date(), by=by)
            t4 = time.perf_counter()
            app.save(loaded, checked={partner.id: partner.version})
            t5 = time.perf_counter()
            snapshot = snapshotting.pop()
            durations = [t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4 - snapshot, snapshot]
            for step, duration in zip(steps, durations, strict=True):
                step.samples.append(duration)
    finally:
        delattr(app, "_take_snapshots")
    return steps


def measure(
    backend: str,
    settings: Settings,
    *,
    iterations: int,
    warmup: int,
    rounds: int,
    what_if: bool,
) -> tuple[list[Variant], list[Timings]]:
    """Every variant interleaved in rounds on one store, then the breakdown of (a)."""
    clock = SimulatedClock(START)
    app = Counterpart(settings, clock)
    uncached = Counterpart(settings.replaced(cache_size=0), clock)
    apps: list[Counterpart] = [app, uncached]
    try:
        cast = a_cast(app)
        start = PLAN_EVENTS - warmup  # the warm-up brings each plan to PLAN_EVENTS
        plan_a = plan_at(app, cast, clock, start)
        variants = [
            Variant("(a)", "report_progress, cache on", app, plan_a),
            Variant(
                "(a')",
                "report_progress, cache off",
                uncached,
                plan_at(app, cast, clock, start),
            ),
            Variant("(b)", "bare save of a new 1-event Actor", app),
        ]
        if what_if and backend == "postgres":
            no_ping = NoPrePing(settings, clock)
            apps.append(no_ping)
            variants += [
                Variant(
                    "(a-noping)",
                    "(a), no pool pre-ping",
                    no_ping,
                    plan_at(app, cast, clock, start),
                    baseline="(b-noping)",
                ),
                Variant("(b-noping)", "(b), no pool pre-ping", no_ping),
            ]
        to_save = iter(new_actors(clock, (warmup + iterations) * len(variants), backend))

        # Warm-up: connections, prepared statements, caches, code paths.
        for variant in variants:
            for n in range(warmup):
                _operation(variant, cast, clock, n, to_save)()
            if variant.plan is not None:
                variant.start_version = app.get_plan(variant.plan.plan_id).version

        per_round = [iterations // rounds + (r < iterations % rounds) for r in range(rounds)]
        for chunk in per_round:
            for variant in variants:
                for n in range(chunk):
                    timed(variant.timings, _operation(variant, cast, clock, n, to_save))

        steps = breakdown(app, cast, plan_a, clock, iterations // 2)
        return variants, steps
    finally:
        for each in apps:
            each.close()


def _operation(
    variant: Variant, cast: Cast, clock: SimulatedClock, n: int, to_save: Iterator[Actor]
) -> Callable[[], object]:
    """The variant's next operation, ready to call."""
    plan = variant.plan
    if plan is None:
        actor = next(to_save)
        return lambda: variant.app.save(actor)
    return lambda: report_once(variant.app, cast, plan, clock, n)


def print_results(backend: str, variants: list[Variant], steps: list[Timings]) -> None:
    """The throughput table of one backend, its ratios and the breakdown of (a)."""
    count = len(variants[0].timings.samples)
    first = variants[0].start_version
    print(
        f"\n{backend}: {count} timed operations per variant; each plan had {first} events "
        f"when timing began, {first + count} at the end"
    )
    print(f"  {'variant':<56} {'ops/s':>7} {'p50 ms':>7} {'p95 ms':>7}")
    for variant in variants:
        timing = variant.timings
        print(
            f"  {timing.label:<56} {timing.per_second:>7.0f} "
            f"{timing.ms(50):>7.3f} {timing.ms(95):>7.3f}"
        )
    rate = {variant.tag: variant.timings.per_second for variant in variants}
    for variant in variants:
        if variant.plan is not None:
            ratio = rate[variant.tag] / rate[variant.baseline]
            verdict = "met" if ratio >= GOAL else "NOT met"
            print(
                f"  ratio {variant.tag}/{variant.baseline} = {ratio:.3f}"
                f"   (goal >= {GOAL}: {verdict})"
            )
    count = len(steps[0].samples)
    total = sum(sum(step.samples) for step in steps)
    print(f"  where the time of (a) goes ({count} commands, step by step):")
    print(f"  {'step':<56} {'mean ms':>7} {'share':>7}")
    for step in steps:
        share = f"{sum(step.samples) / total:>7.0%}"
        print(f"  {step.label:<56} {sum(step.samples) / count * 1000:>7.3f} {share}")
    print(f"  {'total of the steps':<56} {total / count * 1000:>7.3f}")


def main() -> None:
    """Parse the arguments, run every backend, print the tables."""
    parser = argparse.ArgumentParser(
        description=(
            "Commands per second of (a) Counterpart.report_progress on an active plan that "
            f"already has {PLAN_EVENTS} events (kept plan, fresh partner, then save), "
            "(a') the same with the aggregate cache off (Settings(cache_size=0)), and "
            "(b) a bare app.save() of a new one-event Actor; plus the ratio a/b "
            f"(product goal: >= {GOAL}) and where the time of (a) goes."
        )
    )
    parser.add_argument(
        "--backend",
        choices=["sqlite", "postgres", "both"],
        default="both",
        help="which store to measure (default: both); SQLite is a file in a temporary directory",
    )
    parser.add_argument(
        "--iterations",
        type=int,
        default=2000,
        help="timed operations per variant (default: 2000)",
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=100,
        help=(
            "untimed operations per variant before timing (default: 100); plans are built "
            f"to {PLAN_EVENTS} minus this, so the warm-up brings them to {PLAN_EVENTS}"
        ),
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=5,
        help="the variants take turns in this many rounds, so drift hits all alike (default: 5)",
    )
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_URL,
        help=(
            "PostgreSQL database to use; a schema bench_<random> is created in it and "
            f"dropped afterwards (default: {DEFAULT_POSTGRES_URL})"
        ),
    )
    parser.add_argument(
        "--what-if",
        action="store_true",
        help=(
            "on PostgreSQL also time "
            "without the connection pre-ping (experiments, not settings the ledger offers)"
        ),
    )
    args = parser.parse_args()
    if args.iterations < args.rounds or args.rounds < 1 or args.warmup < 0:
        parser.error("need --rounds >= 1, --iterations >= --rounds and --warmup >= 0")

    print("Counterpart command throughput (bench/commands.py)")
    print(machine())
    print(
        f"{args.iterations} timed operations per variant in {args.rounds} interleaved rounds, "
        f"after {args.warmup} warm-up operations; simulated clock +1 min per command"
    )
    for backend in backends(args.backend):
        with ledger_store(backend, args.postgres_url) as settings:
            variants, steps = measure(
                backend,
                settings,
                iterations=args.iterations,
                warmup=args.warmup,
                rounds=args.rounds,
                what_if=args.what_if,
            )
        print_results(backend, variants, steps)


if __name__ == "__main__":
    main()
