"""Builders that keep scenarios short: a cast of actors, metric terms, plans in each state."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

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
from tests.support import shortcuts

PERIOD_START = date(2026, 1, 5)
PERIOD_END = date(2026, 4, 4)
DUE = date(2026, 3, 31)


def vendor_terms(**changes: Any) -> MetricSpec:
    """A SMART metric owned by the vendor side."""
    spec = MetricSpec(
        owner_side=Side.VENDOR,
        kind=MetricKind.ACTIVITY,
        name="Enablement sessions",
        description="Run hands-on enablement sessions for the partner's sellers",
        unit="sessions",
        direction=Direction.AT_LEAST,
        target=Decimal("4"),
        due_date=DUE,
        objective="Grow the partner's pipeline",
    )
    return replace(spec, **changes)


def partner_terms(**changes: Any) -> MetricSpec:
    """A SMART metric owned by the partner side."""
    spec = MetricSpec(
        owner_side=Side.PARTNER,
        kind=MetricKind.RESULT,
        name="Qualified opportunities",
        description="Register qualified opportunities in the deal registration portal",
        unit="opportunities",
        direction=Direction.AT_LEAST,
        target=Decimal("20"),
        due_date=DUE,
    )
    return replace(spec, **changes)


@dataclass
class Cast:
    """Everyone a plan scenario needs, in memory (no storage)."""

    clock: SimulatedClock
    admin: Actor
    manager: Actor
    contact: Actor
    second_contact: Actor
    leader: Actor
    auditor: Actor
    partner: Partner
    other_manager: Actor
    other_partner: Partner
    outsider: Actor  # a contact of the other partner

    def vendor(self, request_id: str | None = None) -> Acting:
        """The partnership's manager, acting now."""
        return self.partner.vouch(self.manager, at=self.clock.now(), request_id=request_id)

    def partner_side(self, request_id: str | None = None) -> Acting:
        """The partner's contact, acting now."""
        return self.partner.vouch(self.contact, at=self.clock.now(), request_id=request_id)

    def side(self, side: Side) -> Acting:
        """The given side, acting now."""
        return self.vendor() if side is Side.VENDOR else self.partner_side()

    def days(self, n: float) -> None:
        """Let time pass."""
        self.clock.advance(timedelta(days=n))

    def on(self, day: date, hour: int = 9) -> None:
        """Move the clock to a day (at 09:00 UTC by default)."""
        moment = self.clock.now().replace(
            year=day.year, month=day.month, day=day.day, hour=hour, minute=0, second=0
        )
        self.clock.set(moment)


def a_cast(clock: SimulatedClock) -> Cast:
    """Register the cast in memory, as the operator and then the admin would."""
    operator = Acting(actor=OPERATOR, at=clock.now())
    admin = Actor.register(
        name="Ada Admin", email="ada@vendor.example", role=Role.ADMIN, partner_id=None, by=operator
    )
    by_admin = Acting(actor=admin.ref, at=clock.now())

    def actor(name: str, role: Role, partner: Partner | None = None) -> Actor:
        email = name.lower().replace(" ", ".") + "@example.com"
        return Actor.register(
            name=name,
            email=email,
            role=role,
            partner_id=partner.id if partner else None,
            by=by_admin,
        )

    manager = actor("Max Manager", Role.MANAGER)
    other_manager = actor("Olga Manager", Role.MANAGER)
    partner = Partner.register(name="Acme Networks", manager=manager, by=by_admin)
    other_partner = Partner.register(name="Globex", manager=other_manager, by=by_admin)
    return Cast(
        clock=clock,
        admin=admin,
        manager=manager,
        contact=actor("Pat Partner", Role.PARTNER, partner),
        second_contact=actor("Quinn Partner", Role.PARTNER, partner),
        leader=actor("Lee Leader", Role.LEADER),
        auditor=actor("Aude Auditor", Role.AUDITOR),
        partner=partner,
        other_manager=other_manager,
        other_partner=other_partner,
        outsider=actor("Otto Outsider", Role.PARTNER, other_partner),
    )


def a_plan(cast: Cast, **changes: Any) -> Plan:
    """A draft plan drafted by the manager, no metrics yet."""
    fields: dict[str, Any] = {
        "title": "Q1 2026 joint plan",
        "period_start": PERIOD_START,
        "period_end": PERIOD_END,
        "objectives": ["Grow qualified pipeline"],
    }
    fields.update(changes)
    return Plan.draft(by=cast.vendor(), **fields)


@dataclass
class Metrics:
    """The ids of a plan's two standard metrics."""

    vendor: UUID
    partner: UUID


def an_agreed_plan(cast: Cast) -> tuple[Plan, Metrics]:
    """A draft plan with one metric per side, both agreed by both sides, no commitments."""
    plan = a_plan(cast)
    vendor_metric = plan.propose_metric(vendor_terms(), by=cast.vendor())
    partner_metric = plan.propose_metric(partner_terms(), by=cast.partner_side())
    plan.agree_metric(vendor_metric, by=cast.partner_side())
    plan.agree_metric(partner_metric, by=cast.vendor())
    return plan, Metrics(vendor=vendor_metric, partner=partner_metric)


def an_active_plan(cast: Cast) -> tuple[Plan, Metrics]:
    """A plan both sides committed to, hence active, with no events pending."""
    plan, metrics = an_agreed_plan(cast)
    plan.commit(by=cast.vendor())
    plan.commit(by=cast.partner_side())
    plan.collect_events()
    return plan, metrics


@dataclass
class World:
    """The same cast registered through the application (stored), by id."""

    app: Counterpart
    clock: SimulatedClock
    admin: UUID
    manager: UUID
    contact: UUID
    leader: UUID
    partner: UUID
    other_manager: UUID
    outsider: UUID

    def days(self, n: float) -> None:
        """Let time pass."""
        self.clock.advance(timedelta(days=n))


def a_world(app: Counterpart, clock: SimulatedClock) -> World:
    """Register an admin, two managers, two partners with a contact each, and a leader."""
    admin, _ = shortcuts.register_actor(
        app, name="Ada Admin", email="ada@vendor.example", role=Role.ADMIN
    )

    def actor(name: str, role: Role, partner: UUID | None = None) -> UUID:
        email = name.lower().replace(" ", ".") + "@example.com"
        registered, _ = shortcuts.register_actor(
            app, name=name, email=email, role=role, partner_id=partner, by=admin.id
        )
        return registered.id

    manager = actor("Max Manager", Role.MANAGER)
    other_manager = actor("Olga Manager", Role.MANAGER)
    partner = shortcuts.register_partner(
        app, name="Acme Networks", manager_id=manager, by=admin.id
    ).id
    other = shortcuts.register_partner(app, name="Globex", manager_id=other_manager, by=admin.id).id
    return World(
        app=app,
        clock=clock,
        admin=admin.id,
        manager=manager,
        contact=actor("Pat Partner", Role.PARTNER, partner),
        leader=actor("Lee Leader", Role.LEADER),
        partner=partner,
        other_manager=other_manager,
        outsider=actor("Otto Outsider", Role.PARTNER, other),
    )


def an_active_plan_in(world: World) -> tuple[UUID, Metrics]:
    """A stored plan of the world's partnership, agreed and committed by both sides."""
    app = world.app
    plan = shortcuts.draft_plan(
        app,
        partner_id=world.partner,
        title="Q1 2026 joint plan",
        period_start=PERIOD_START,
        period_end=PERIOD_END,
        actor_id=world.manager,
    )
    _, vendor_metric = shortcuts.propose_metric(
        app, plan.id, vendor_terms(), actor_id=world.manager
    )
    _, partner_metric = shortcuts.propose_metric(
        app, plan.id, partner_terms(), actor_id=world.contact
    )
    shortcuts.agree_metric(app, plan.id, vendor_metric, actor_id=world.contact)
    shortcuts.agree_metric(app, plan.id, partner_metric, actor_id=world.manager)
    shortcuts.commit(app, plan.id, actor_id=world.manager)
    shortcuts.commit(app, plan.id, actor_id=world.contact)
    return plan.id, Metrics(vendor=vendor_metric, partner=partner_metric)


def fill_ledger(app: Counterpart, clock: SimulatedClock, plans: int, reports: int) -> list[UUID]:
    """Store ``plans`` active plans with ``reports`` progress reports each, quickly.

    Commands run on in-memory aggregates (a cast that is not stored) and are saved 100 events
    at a time, interleaving plans so that their events mix in the ledger's global order.
    """
    cast = a_cast(clock)
    live = [an_agreed_plan(cast) for _ in range(plans)]
    for plan, _ in live:
        plan.commit(by=cast.vendor())
        plan.commit(by=cast.partner_side())
        app.save(plan)
    step = timedelta(days=80) / max(1, reports)
    done = 0
    while done < reports:
        clock.advance(step)
        today = clock.now().date()
        chunk = min(100, reports - done)
        for plan, metrics in live:
            side = cast.partner_side()
            for n in range(chunk):
                plan.report_progress(metrics.partner, value=Decimal(done + n), as_of=today, by=side)
            app.save(plan)
        done += chunk
    return [plan.id for plan, _ in live]
