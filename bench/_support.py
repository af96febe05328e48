"""Shared set-up for the benchmarks: throwaway stores, a cast, an active plan, timing helpers."""

from __future__ import annotations

import os
import platform
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from importlib import metadata
from pathlib import Path
from urllib.parse import urlsplit

# Python puts a script's own directory first on sys.path, so from bench/projections.py
# `import projections` would find that script instead of the package. The repository root goes
# first (as with `python -m`); every benchmark imports this module before the packages.
REPOSITORY = str(Path(__file__).resolve().parent.parent)
if sys.path[:1] != [REPOSITORY]:
    sys.path.insert(0, REPOSITORY)

import psycopg
from eventsourcing.application import ProcessingEvent
from psycopg import sql

from ledger.application import Counterpart
from ledger.clock import SimulatedClock
from ledger.domain import (
    OPERATOR,
    Acting,
    Actor,
    Direction,
    MetricKind,
    MetricSpec,
    Partner,
    Plan,
    Role,
    Side,
)
from ledger.settings import Settings
from ledger.upgrade import upgrade
from tests.support import shortcuts

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
BACKENDS = ("sqlite", "postgres")
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
PERIOD_START = date(2026, 1, 5)
PERIOD_END = date(2026, 12, 31)  # a long period: thousands of one-minute steps stay inside it
DUE = date(2026, 12, 15)
STEP = timedelta(minutes=1)
"""How far the simulated clock moves per command, so ``as_of`` (today) is never in the future."""


def backends(choice: str) -> tuple[str, ...]:
    """The backends named by a ``--backend`` argument."""
    return BACKENDS if choice == "both" else (choice,)


@contextmanager
def ledger_store(backend: str, postgres_url: str) -> Iterator[Settings]:
    """Settings for a fresh, upgraded, empty ledger; the store is removed afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="counterpart-bench-") as tmp:
            settings = Settings(database_url=f"sqlite:///{tmp}/ledger.db")
            upgrade(settings)
            yield settings
        return
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    separator = "&" if urlsplit(postgres_url).query else "?"
    settings = Settings(database_url=f"{postgres_url}{separator}schema={schema}")
    try:
        upgrade(settings)
        yield settings
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def vendor_metric() -> MetricSpec:
    """The vendor side's metric: the one progress is reported on."""
    return MetricSpec(
        owner_side=Side.VENDOR,
        kind=MetricKind.ACTIVITY,
        name="Enablement sessions",
        description="Run hands-on enablement sessions for the partner's sellers",
        unit="sessions",
        direction=Direction.AT_LEAST,
        target=Decimal("40"),
        due_date=DUE,
        objective="Grow the partner's pipeline",
    )


def partner_metric() -> MetricSpec:
    """The partner side's metric."""
    return MetricSpec(
        owner_side=Side.PARTNER,
        kind=MetricKind.RESULT,
        name="Qualified opportunities",
        description="Register qualified opportunities in the deal registration portal",
        unit="opportunities",
        direction=Direction.AT_LEAST,
        target=Decimal("200"),
        due_date=DUE,
    )


@dataclass
class Cast:
    """The stored actors and partner a plan needs, by id."""

    admin: uuid.UUID
    manager: uuid.UUID
    contact: uuid.UUID
    partner: uuid.UUID
    manager_token: str = ""
    """The manager's bearer token (for the HTTP benchmarks)."""


@dataclass
class ActivePlan:
    """An active plan and the vendor metric its manager reports on."""

    plan_id: uuid.UUID
    metric_id: uuid.UUID


def a_cast(app: Counterpart) -> Cast:
    """Register an admin, a manager, a partner and its contact through the application."""
    admin, _ = shortcuts.register_actor(
        app, name="Ada Admin", email="ada@vendor.example", role=Role.ADMIN
    )
    manager, token = shortcuts.register_actor(
        app, name="Max Manager", email="max@vendor.example", role=Role.MANAGER, by=admin.id
    )
    partner = shortcuts.register_partner(
        app, name="Acme Networks", manager_id=manager.id, by=admin.id
    )
    contact, _ = shortcuts.register_actor(
        app,
        name="Pat Partner",
        email="pat@acme.example",
        role=Role.PARTNER,
        partner_id=partner.id,
        by=admin.id,
    )
    return Cast(admin.id, manager.id, contact.id, partner.id, token)


def an_active_plan(
    app: Counterpart,
    cast: Cast,
    clock: SimulatedClock | None,
    *,
    period: tuple[date, date] = (PERIOD_START, PERIOD_END),
    due: date | None = None,
) -> ActivePlan:
    """Draft, agree both metrics and commit both sides, all through the application.

    With a simulated clock, it moves a step between the two commitments; ``due`` moves both
    metrics' due dates (default: ``DUE``).
    """
    ours_spec, theirs_spec = vendor_metric(), partner_metric()
    if due is not None:
        ours_spec, theirs_spec = (
            replace(ours_spec, due_date=due),
            replace(theirs_spec, due_date=due),
        )
    plan = shortcuts.draft_plan(
        app,
        partner_id=cast.partner,
        title="FY2026 joint plan",
        period_start=period[0],
        period_end=period[1],
        objectives=["Grow qualified pipeline"],
        actor_id=cast.manager,
    )
    _, ours = shortcuts.propose_metric(app, plan.id, ours_spec, actor_id=cast.manager)
    _, theirs = shortcuts.propose_metric(app, plan.id, theirs_spec, actor_id=cast.contact)
    shortcuts.agree_metric(app, plan.id, ours, actor_id=cast.contact)
    shortcuts.agree_metric(app, plan.id, theirs, actor_id=cast.manager)
    shortcuts.commit(app, plan.id, actor_id=cast.manager)
    if clock is not None:
        clock.advance(STEP)
    shortcuts.commit(app, plan.id, actor_id=cast.contact)
    return ActivePlan(plan_id=plan.id, metric_id=ours)


def report_once(
    app: Counterpart, cast: Cast, plan: ActivePlan, clock: SimulatedClock, n: int
) -> Plan:
    """One ``report_progress`` command by the manager, one minute after the previous one."""
    today = clock.advance(STEP).date()
    return shortcuts.report_progress(
        app,
        plan.plan_id,
        plan.metric_id,
        value=Decimal(n % 40),
        as_of=today,
        actor_id=cast.manager,
    )


def grow_by_commands(
    app: Counterpart, cast: Cast, plan: ActivePlan, clock: SimulatedClock, version: int
) -> int:
    """Report progress through the application until the plan is at ``version``."""
    current = app.get_plan(plan.plan_id).version
    while current < version:
        current = report_once(app, cast, plan, clock, current).version
    return current


def grow_in_batches(
    app: Counterpart,
    cast: Cast,
    plan: ActivePlan,
    clock: SimulatedClock,
    version: int,
    *,
    batch: int = 100,
) -> int:
    """Append reports in memory, ``batch`` per save, until the plan is at ``version``.

    ``save()`` still snapshots every event version divisible by the interval in a batch.
    """
    manager = app.get_actor(cast.manager)
    partner = app.get_partner(cast.partner)
    current = app.get_plan(plan.plan_id).version
    while current < version:
        loaded = app.get_plan(plan.plan_id)
        for _ in range(min(batch, version - current)):
            at = clock.advance(STEP)
            loaded.report_progress(
                plan.metric_id,
                value=Decimal(loaded.version % 40),
                as_of=at.date(),
                by=partner.vouch(manager, at=at),
            )
        app.save(loaded)
        current = loaded.version
    return current


def percentile(samples: list[float], q: float) -> float:
    """The q-th percentile (0 to 100) of the samples, interpolating between neighbours."""
    ordered = sorted(samples)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def machine() -> str:
    """A one-line description of the machine, the interpreter and the library."""
    cpus = len(os.sched_getaffinity(0))
    return (
        f"{cpus} CPUs available, Python {platform.python_version()} on {platform.system()} "
        f"{platform.machine()}, eventsourcing {metadata.version('eventsourcing')}, "
        f"psycopg {metadata.version('psycopg')}, SQLite {sqlite3.sqlite_version}"
    )


# ------------------------------------------------------------ filling a ledger fast

PLAN_EVENTS = 500
"""Events of every plan ``fill_wave`` stores: 8 to draft, agree and activate it, 492 reports."""
SETUP_EVENTS = 8
WAVE_DAYS = 84
"""A wave's reports are spread over this many days after its plans are activated."""


@dataclass
class MemoryCast:
    """An admin, a manager, a partner and its contact, built in memory (stored by ``fill_wave``)."""

    admin: Actor
    manager: Actor
    contact: Actor
    partner: Partner
    stored: bool = False


def a_memory_cast(clock: SimulatedClock) -> MemoryCast:
    """Register the cast in memory, as the operator and then the admin would."""
    admin = Actor.register(
        name="Ada Admin",
        email="ada@vendor.example",
        role=Role.ADMIN,
        partner_id=None,
        by=Acting(actor=OPERATOR, at=clock.now()),
    )
    by_admin = Acting(actor=admin.ref, at=clock.now())
    manager = Actor.register(
        name="Max Manager",
        email="max@vendor.example",
        role=Role.MANAGER,
        partner_id=None,
        by=by_admin,
    )
    partner = Partner.register(name="Acme Networks", manager=manager, by=by_admin)
    contact = Actor.register(
        name="Pat Partner",
        email="pat@acme.example",
        role=Role.PARTNER,
        partner_id=partner.id,
        by=by_admin,
    )
    return MemoryCast(admin=admin, manager=manager, contact=contact, partner=partner)


@dataclass(frozen=True)
class FilledPlan:
    """A plan ``fill_wave`` stored, and the day to score it as of (its last report's day)."""

    plan_id: uuid.UUID
    as_of: date


class Filler(Counterpart):
    """The application without snapshots (same tables): for filling ledgers fast.

    Snapshots are not notifications: what the projections read is the same either way, and
    without them a save of several plan events does not rebuild plans from the store.
    """

    name = "counterpart"

    def _take_snapshots(self, processing_event: ProcessingEvent[uuid.UUID]) -> None:
        """Take none."""


def filler(settings: Settings, clock: SimulatedClock) -> Counterpart:
    """An application to fill a ledger with: no snapshots, no aggregate cache."""
    return Filler(settings.replaced(cache_size=0), clock)


def fill_wave(
    app: Counterpart,
    cast: MemoryCast,
    clock: SimulatedClock,
    plans: int,
    *,
    per_save: int = 12,
) -> list[FilledPlan]:
    """Store ``plans`` active plans of ``PLAN_EVENTS`` events each, interleaved, quickly.

    Every wave has the same shape relative to its start: plans drafted, agreed and activated
    on the wave's first day (one save of 8 events per plan; both metrics due a week before the
    last report, so a score as of that day has all four components), then 492 reports per
    plan, alternately on the vendor's and the partner's metric, ``per_save`` per plan and save
    (the last save of a plan may hold fewer), taking turns between the plans and spread over
    ``WAVE_DAYS`` days. Commands run on in-memory aggregates; the cast is stored with the first
    wave.
    """
    reports = PLAN_EVENTS - SETUP_EVENTS
    if not 1 <= per_save <= reports:
        msg = f"per_save must be 1 to {reports}"
        raise ValueError(msg)
    if not cast.stored:
        app.save(cast.admin, cast.manager, cast.partner, cast.contact)
        cast.stored = True
    clock.advance(timedelta(days=1))
    day0 = clock.now().date()
    due = day0 + timedelta(days=WAVE_DAYS - 7)  # due before the last report: all 4 components

    def vendor() -> Acting:
        return cast.partner.vouch(cast.manager, at=clock.now())

    def partner() -> Acting:
        return cast.partner.vouch(cast.contact, at=clock.now())

    live: list[tuple[Plan, uuid.UUID, uuid.UUID]] = []
    for n in range(plans):
        plan = Plan.draft(
            title=f"Joint plan {n}",
            period_start=day0,
            period_end=day0 + timedelta(days=WAVE_DAYS + 36),
            objectives=["Grow qualified pipeline"],
            by=vendor(),
        )
        ours = plan.propose_metric(replace(vendor_metric(), due_date=due), by=vendor())
        theirs = plan.propose_metric(replace(partner_metric(), due_date=due), by=partner())
        plan.agree_metric(ours, by=partner())
        plan.agree_metric(theirs, by=vendor())
        plan.commit(by=vendor())
        plan.commit(by=partner())
        app.save(plan)
        live.append((plan, ours, theirs))
    rounds = -(-reports // per_save)
    step = timedelta(days=WAVE_DAYS) / rounds
    for r in range(rounds):
        today = clock.advance(step).date()
        sides = (vendor(), partner())
        for plan, ours, theirs in live:
            for k in range(r * per_save, min(reports, (r + 1) * per_save)):
                metric = ours if k % 2 == 0 else theirs
                plan.report_progress(metric, value=Decimal(k % 40), as_of=today, by=sides[k % 2])
            app.save(plan)
    as_of = clock.now().date()
    return [FilledPlan(plan.id, as_of) for plan, _, _ in live]


@dataclass
class Fixture:
    """Active plans, each with its manager's token and its vendor metric."""

    plans: list[tuple[uuid.UUID, uuid.UUID]]
    manager: uuid.UUID
    token: str


def active_plans(settings: Settings, count: int) -> Fixture:
    """``count`` active plans of one manager and partner, with periods around today."""
    app = Counterpart(settings)
    try:
        cast = a_cast(app)
        today = datetime.now(UTC).date()
        period = (today - timedelta(days=10), today + timedelta(days=80))
        plans = [
            an_active_plan(app, cast, None, period=period, due=today + timedelta(days=70))
            for _ in range(count)
        ]
        return Fixture([(p.plan_id, p.metric_id) for p in plans], cast.manager, cast.manager_token)
    finally:
        app.close()


@dataclass
class Sample:
    """Latencies of one kind of request, in seconds, and the wall time they took."""

    label: str
    latencies: list[float] = field(default_factory=list)
    wall: float = 0.0
    failures: int = 0
    client_cpu: float = 0.0
    cpu_per_request: float = 0.0
    """In process: CPU milliseconds per command."""

    @property
    def per_second(self) -> float:
        """Requests per second of wall time."""
        return len(self.latencies) / self.wall if self.wall else 0.0

    def ms(self, q: float) -> float:
        """The q-th percentile latency in milliseconds."""
        return percentile(self.latencies, q) * 1000


def in_process(settings: Settings, fixture: Fixture, commands: int) -> Sample:
    """The same command, called in process, one after another."""
    app = Counterpart(settings)
    sample = Sample("in-process report_progress")
    try:
        today = datetime.now(UTC).date()
        started, used = time.perf_counter(), time.process_time()
        for n in range(commands):
            plan_id, metric_id = fixture.plans[n % len(fixture.plans)]
            began = time.perf_counter()
            shortcuts.report_progress(
                app,
                plan_id,
                metric_id,
                value=Decimal(n % 40),
                as_of=today,
                actor_id=fixture.manager,
            )
            sample.latencies.append(time.perf_counter() - began)
        sample.wall = time.perf_counter() - started
        sample.cpu_per_request = (time.process_time() - used) / commands * 1000
    finally:
        app.close()
    return sample
