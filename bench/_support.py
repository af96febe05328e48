"""Shared set-up for the benchmarks: throwaway stores, a cast, an active plan, timing helpers."""

from __future__ import annotations

import os
import platform
import sqlite3
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from importlib import metadata
from urllib.parse import urlsplit

import psycopg
from psycopg import sql

from ledger.application import Counterpart
from ledger.clock import SimulatedClock
from ledger.domain import Direction, MetricKind, MetricSpec, Plan, Role, Side
from ledger.settings import Settings
from ledger.upgrade import upgrade

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


@dataclass
class ActivePlan:
    """An active plan and the vendor metric its manager reports on."""

    plan_id: uuid.UUID
    metric_id: uuid.UUID


def a_cast(app: Counterpart) -> Cast:
    """Register an admin, a manager, a partner and its contact through the application."""
    admin, _ = app.register_actor(name="Ada Admin", email="ada@vendor.example", role=Role.ADMIN)
    manager, _ = app.register_actor(
        name="Max Manager", email="max@vendor.example", role=Role.MANAGER, by=admin.id
    )
    partner = app.register_partner(name="Acme Networks", manager_id=manager.id, by=admin.id)
    contact, _ = app.register_actor(
        name="Pat Partner",
        email="pat@acme.example",
        role=Role.PARTNER,
        partner_id=partner.id,
        by=admin.id,
    )
    return Cast(admin=admin.id, manager=manager.id, contact=contact.id, partner=partner.id)


def an_active_plan(app: Counterpart, cast: Cast, clock: SimulatedClock) -> ActivePlan:
    """Draft, agree both metrics and commit both sides, all through the application."""
    plan = app.draft_plan(
        partner_id=cast.partner,
        title="FY2026 joint plan",
        period_start=PERIOD_START,
        period_end=PERIOD_END,
        objectives=["Grow qualified pipeline"],
        actor_id=cast.manager,
    )
    _, ours = app.propose_metric(plan.id, vendor_metric(), actor_id=cast.manager)
    _, theirs = app.propose_metric(plan.id, partner_metric(), actor_id=cast.contact)
    app.agree_metric(plan.id, ours, actor_id=cast.contact)
    app.agree_metric(plan.id, theirs, actor_id=cast.manager)
    app.commit(plan.id, actor_id=cast.manager)
    clock.advance(STEP)
    app.commit(plan.id, actor_id=cast.contact)
    return ActivePlan(plan_id=plan.id, metric_id=ours)


def report_once(
    app: Counterpart, cast: Cast, plan: ActivePlan, clock: SimulatedClock, n: int
) -> Plan:
    """One ``report_progress`` command by the manager, one minute after the previous one."""
    today = clock.advance(STEP).date()
    return app.report_progress(
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
