"""Loading the demo: register the cast, play DEMO_DAYS days, say what was loaded."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from eventsourcing.persistence import Recording

from ledger import handlers
from ledger.application import Counterpart
from ledger.clock import SimulatedClock
from ledger.commands import Command, Context, RegisterActor, RegisterPartner
from ledger.demo.cast import (
    ADMIN_EMAIL,
    AUDITOR_EMAIL,
    COMPANIES,
    CURRENT_START,
    CURRENT_TALKS,
    DEMO_DAYS,
    DEMO_DOMAIN,
    FIRST_NAMES,
    LAST_NAMES,
    LEADER_EMAIL,
    PREVIOUS_START,
    PREVIOUS_TALKS,
    PROFILES,
    SAVE_CHUNK,
    TRADES,
    WORK_STARTS_AT,
)
from ledger.demo.simulation import Partnership, PlanInMaking, Simulation, negotiate
from ledger.domain import Actor, Partner, Role


@dataclass(frozen=True)
class DemoActor:
    """A demo actor and a token to log in with."""

    role: str
    id: UUID
    name: str
    email: str
    token: str


@dataclass(frozen=True)
class DemoResult:
    """What the demo loaded: actors to log in as, ids, each partnership's profile, counts,
    and every event it recorded, in ledger order (to build the read models from memory)."""

    admin: DemoActor
    leader: DemoActor
    auditor: DemoActor
    manager: DemoActor
    partner: DemoActor
    first_day: date
    last_day: date
    manager_ids: list[UUID]
    partner_ids: list[UUID]
    plan_ids: list[UUID]
    profiles: dict[UUID, str]
    actors: int
    events: int
    recorded: list[Recording[UUID]] = field(default_factory=list, repr=False)

    @property
    def partners(self) -> int:
        """Partner organisations loaded."""
        return len(self.partner_ids)

    @property
    def plans(self) -> int:
        """Plans loaded."""
        return len(self.plan_ids)

    @property
    def printed(self) -> list[DemoActor]:
        """The actors whose tokens are printed: leader, manager, partner contact."""
        return [self.leader, self.manager, self.partner]

    @property
    def tokens(self) -> dict[str, str]:
        """Every token the demo hands out, by role."""
        everyone = (self.admin, self.leader, self.auditor, self.manager, self.partner)
        return {actor.role: actor.token for actor in everyone}


# ------------------------------------------------------------------- loading


def demo_clock(now: datetime | None = None) -> SimulatedClock:
    """A simulated clock at 08:00 UTC, DEMO_DAYS days before ``now``: where the demo starts."""
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    return SimulatedClock(
        datetime.combine(today - timedelta(days=DEMO_DAYS), WORK_STARTS_AT, tzinfo=UTC)
    )


def _person(n: int) -> str:
    return f"{FIRST_NAMES[n % len(FIRST_NAMES)]} {LAST_NAMES[(n * 7) % len(LAST_NAMES)]}"


def _company(n: int) -> str:
    name = f"{COMPANIES[n % len(COMPANIES)]} {TRADES[(n // len(COMPANIES)) % len(TRADES)]}"
    rounds = n // (len(COMPANIES) * len(TRADES))
    return f"{name} {rounds + 1}" if rounds else name


def load_demo(
    app: Counterpart,
    clock: SimulatedClock,
    *,
    partners: int = 24,
    managers: int = 3,
    seed: int = 7,
    on_progress: Callable[[int], None] | None = None,
) -> DemoResult:
    """Fill an empty ledger with the demo: DEMO_DAYS days of two quarters' plans.

    ``app`` must run on ``clock``, which starts at least DEMO_DAYS days before today (see
    :func:`demo_clock`); the last simulated day is yesterday at the latest.
    ``on_progress`` is told each simulated day as it is done (DEMO_DAYS in all).
    """
    if partners < 1 or managers < 1:
        msg = "the demo needs at least one partner and one manager"
        raise ValueError(msg)
    if app.clock is not clock:
        msg = "the demo's application must run on the demo's simulated clock"
        raise ValueError(msg)
    if app.recorder.max_notification_id():
        msg = "the demo loads only into an empty ledger"
        raise ValueError(msg)
    first_day = clock.now().date()
    last_day = first_day + timedelta(days=DEMO_DAYS - 1)
    if last_day >= datetime.now(UTC).date():
        msg = f"the demo's clock must start at least {DEMO_DAYS} days before today"
        raise ValueError(msg)

    recorded: list[Recording[UUID]] = []
    registering = _Registrations(app, recorded)
    admin, admin_token = registering.actor(RegisterActor("Ada Admin", ADMIN_EMAIL, Role.ADMIN))
    registering.save()

    def register(
        name: str, email: str, role: Role, partner_id: UUID | None = None
    ) -> tuple[Actor, str]:
        return registering.actor(RegisterActor(name, email, role, partner_id), by=admin.id)

    leader, leader_token = register("Lee Leader", LEADER_EMAIL, Role.LEADER)
    auditor, auditor_token = register("Aude Auditor", AUDITOR_EMAIL, Role.AUDITOR)
    registered = [
        register(_person(k), f"manager-{k + 1}@{DEMO_DOMAIN}", Role.MANAGER)
        for k in range(managers)
    ]
    registering.save()
    manager_actors = [actor for actor, _ in registered]
    manager_token = registered[0][1]
    organisations = [
        registering.partner(
            RegisterPartner(_company(i), manager_actors[i % managers].id), by=admin.id
        )
        for i in range(partners)
    ]
    registering.save()
    sim = Simulation(app, clock, first_day, leader, recorded)
    partnerships: list[Partnership] = []
    plans: list[PlanInMaking] = []
    contact_token = ""
    for i, partner in enumerate(organisations):
        rng = random.Random(f"{seed}-{i}")  # noqa: S311 (demo data, not secrets)
        contacts = []
        for k in range(1 if i and rng.random() < 0.5 else 2):
            name, email = _person(managers + 2 * i + k), f"contact-{i + 1}-{k + 1}@{DEMO_DOMAIN}"
            contact, token = register(name, email, Role.PARTNER, partner.id)
            contacts.append(contact)
            contact_token = contact_token or token
        partnership = Partnership(
            i, partner, manager_actors[i % managers], contacts, PROFILES[i % len(PROFILES)], rng
        )
        partnerships.append(partnership)
        for start, talks, current in (
            (PREVIOUS_START, PREVIOUS_TALKS, False),
            (CURRENT_START, CURRENT_TALKS, True),
        ):
            pim = PlanInMaking(partnership, start, current)
            sim.spawn(talks + i % 5, negotiate(sim, pim))
            plans.append(pim)
    registering.save()
    sim.run(DEMO_DAYS, on_progress)
    sim.flush()

    def demo_actor(role: str, actor: Actor, token: str) -> DemoActor:
        return DemoActor(role, actor.id, actor.name, actor.email, token)

    return DemoResult(
        admin=demo_actor("admin", admin, admin_token),
        leader=demo_actor("leader", leader, leader_token),
        auditor=demo_actor("auditor", auditor, auditor_token),
        manager=demo_actor("manager", manager_actors[0], manager_token),
        partner=demo_actor("partner", partnerships[0].contacts[0], contact_token),
        first_day=first_day,
        last_day=last_day,
        manager_ids=[m.id for m in manager_actors],
        partner_ids=[p.partner.id for p in partnerships],
        plan_ids=[pim.plan.id for pim in plans if pim.plan is not None],
        profiles={p.partner.id: p.profile.name for p in partnerships},
        actors=3 + managers + sum(len(p.contacts) for p in partnerships),
        events=app.recorder.max_notification_id() or 0,
        recorded=recorded,
    )


class _Registrations:
    """Admin commands run by the application's own handlers in memory, saved in chunks.

    The cast is registered exactly as ``Counterpart.handle`` would (same checks, same events),
    but many aggregates per transaction: the commands that follow read the saved ones back
    from the application's cache.
    """

    def __init__(self, app: Counterpart, recorded: list[Recording[UUID]]) -> None:
        self.app = app
        self.recorded = recorded
        self.pending: list[Actor | Partner] = []

    def _run(self, command: Command, by: UUID | None) -> handlers.Step:
        step = handlers.run(self.app, command, Context(by), fresh=False)
        self.pending.extend(step.changed)  # type: ignore[arg-type]
        return step

    def actor(self, command: RegisterActor, by: UUID | None = None) -> tuple[Actor, str]:
        """Register an actor (saved at the next ``save``); the actor and its first token."""
        done = self._run(command, by).done
        return done.aggregate, done.result

    def partner(self, command: RegisterPartner, by: UUID) -> Partner:
        """Register a partner organisation (saved at the next ``save``)."""
        partner: Partner = self._run(command, by).done.aggregate
        return partner

    def save(self) -> None:
        """Save what was registered since the last save."""
        for start in range(0, len(self.pending), SAVE_CHUNK):
            self.recorded.extend(self.app.save(*self.pending[start : start + SAVE_CHUNK]))
        self.pending = []
