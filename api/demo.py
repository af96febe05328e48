"""The demo ledger: a vendor's channel over two quarters, simulated day by day on a fresh ledger.

Actors and partners are registered through the application's commands; the plans are played
out day by day with the Plan aggregate's own commands (every rule checked as in production)
on a simulated clock, and each day's events are saved through the application in a few
transactions, so that a thousand partnerships load in seconds.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from uuid import UUID

from ledger.application import SNAPSHOT_INTERVAL, Counterpart
from ledger.clock import SimulatedClock
from ledger.domain import (
    Acting,
    Actor,
    AdjustmentKind,
    Direction,
    MetricKind,
    MetricSpec,
    Partner,
    Plan,
    PlanStatus,
    Role,
    Side,
)
from projections.models.directory import Directory, actors
from projections.runtime.runner import Runner
from projections.runtime.store import ReadStore

DEMO_DOMAIN = "demo.counterpart.example"
DEMO_DAYS = 180
"""Simulated days: the demo starts this many days before today and ends yesterday."""

ADMIN_EMAIL = f"admin@{DEMO_DOMAIN}"
LEADER_EMAIL = f"leader@{DEMO_DOMAIN}"
AUDITOR_EMAIL = f"auditor@{DEMO_DOMAIN}"
MANAGER_EMAIL = f"manager-1@{DEMO_DOMAIN}"
CONTACT_EMAIL = f"contact-1-1@{DEMO_DOMAIN}"
"""The first contact of the first partnership, which the first manager owns."""
PRINTED = {LEADER_EMAIL: "leader", MANAGER_EMAIL: "manager", CONTACT_EMAIL: "partner"}
"""The demo actors whose tokens are printed, by email, with their role."""

PERIOD_DAYS = 90
PREVIOUS_START, CURRENT_START = 7, 100  # day numbers of the two quarters' first days
PREVIOUS_TALKS, CURRENT_TALKS = 1, 88  # when drafting begins (staggered over five days)
DUE_OFFSETS = {"mid": 45, "late": 65, "end": 85}  # days after the period starts
WORK_STARTS_AT = time(8)
MAX_TICKS_PER_DAY = 50_000  # seconds the clock moves on per command, at most, in a day
SAVE_CHUNK = 500  # plans saved per transaction

Process = Iterator[int]
"""A simulated process: it runs until it yields the day on which it wants to run again."""


@dataclass(frozen=True)
class Habits:
    """How one side of a partnership behaves."""

    answer_days: int  # days it takes to answer the other side's requests
    report_every: int  # days between progress reports
    report_lag: int  # days between a report's as_of date and its recording
    attainment: float  # share of each target the side reaches by the due date
    attends: bool  # whether the side turns up to reviews


@dataclass(frozen=True)
class Profile:
    """A partnership's behaviour over both quarters."""

    name: str
    vendor: Habits
    partner: Habits
    review_every: int
    adjustments: str | None = None  # "negotiated", "ignored" or "answered_late"
    stuck: bool = False  # the current quarter's plan never leaves draft
    leader_attends: bool = False


PROFILES: tuple[Profile, ...] = (
    Profile(
        "diligent",
        vendor=Habits(1, 10, 0, 1.05, attends=True),
        partner=Habits(1, 10, 0, 1.05, attends=True),
        review_every=27,
        leader_attends=True,
    ),
    Profile(
        "partner_reports_late",
        vendor=Habits(2, 10, 0, 1.0, attends=True),
        partner=Habits(3, 20, 9, 0.8, attends=True),
        review_every=28,
    ),
    Profile(
        "manager_skips_reviews",
        vendor=Habits(2, 14, 1, 0.9, attends=False),
        partner=Habits(1, 10, 0, 1.0, attends=True),
        review_every=30,
    ),
    Profile(
        "adjustments_negotiated",
        vendor=Habits(2, 12, 0, 0.95, attends=True),
        partner=Habits(2, 12, 0, 0.95, attends=True),
        review_every=28,
        adjustments="negotiated",
        leader_attends=True,
    ),
    Profile(
        "stuck_in_draft",
        vendor=Habits(3, 14, 1, 0.85, attends=True),
        partner=Habits(4, 14, 2, 0.8, attends=True),
        review_every=35,
        stuck=True,
    ),
    Profile(
        "partner_ignores_requests",
        vendor=Habits(1, 10, 0, 1.0, attends=True),
        partner=Habits(13, 16, 2, 0.6, attends=True),
        review_every=30,
        adjustments="ignored",
    ),
    Profile(
        "vendor_neglects",
        vendor=Habits(8, 30, 6, 0.45, attends=False),
        partner=Habits(1, 10, 0, 1.0, attends=True),
        review_every=40,
        adjustments="answered_late",
    ),
    Profile(
        "struggling_both_ways",
        vendor=Habits(6, 18, 2, 0.7, attends=True),
        partner=Habits(7, 18, 3, 0.65, attends=True),
        review_every=45,
    ),
)


@dataclass(frozen=True)
class MetricTemplate:
    """A metric a plan may carry; its target is picked per plan."""

    owner: Side
    kind: MetricKind
    name: str
    description: str
    unit: str
    direction: Direction
    targets: tuple[int, ...]
    due: str
    step: Decimal  # reported values are multiples of this


TEMPLATES = {
    "enablement": MetricTemplate(
        Side.VENDOR,
        MetricKind.ACTIVITY,
        "Enablement sessions",
        "Run hands-on enablement sessions for the partner's sellers",
        "sessions",
        Direction.AT_LEAST,
        (4, 5, 6, 8),
        "mid",
        Decimal(1),
    ),
    "campaigns": MetricTemplate(
        Side.VENDOR,
        MetricKind.ACTIVITY,
        "Joint marketing campaigns",
        "Fund and co-run demand generation campaigns with the partner",
        "campaigns",
        Direction.AT_LEAST,
        (2, 3, 4),
        "end",
        Decimal(1),
    ),
    "turnaround": MetricTemplate(
        Side.VENDOR,
        MetricKind.RESULT,
        "Deal registration turnaround",
        "Approve or decline the partner's deal registrations quickly (average)",
        "hours",
        Direction.AT_MOST,
        (24, 48, 72),
        "end",
        Decimal("0.1"),
    ),
    "certifications": MetricTemplate(
        Side.PARTNER,
        MetricKind.ACTIVITY,
        "Certified sales engineers",
        "Certify sales engineers on the vendor's current product line",
        "engineers",
        Direction.AT_LEAST,
        (3, 4, 5, 6),
        "late",
        Decimal(1),
    ),
    "opportunities": MetricTemplate(
        Side.PARTNER,
        MetricKind.RESULT,
        "Qualified opportunities",
        "Register qualified opportunities in the deal registration portal",
        "opportunities",
        Direction.AT_LEAST,
        (15, 20, 25, 30, 40),
        "end",
        Decimal(1),
    ),
    "pipeline": MetricTemplate(
        Side.PARTNER,
        MetricKind.RESULT,
        "Pipeline value",
        "Grow the qualified pipeline sourced by the partner",
        "USD",
        Direction.AT_LEAST,
        (250_000, 400_000, 600_000, 900_000),
        "end",
        Decimal(1000),
    ),
}

COMPANIES = (
    "Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Wayne", "Stark", "Tyrell",
    "Cyberdyne", "Wonka", "Soylent", "Aperture", "Oscorp", "Massive Dynamic", "Pied Piper",
    "Gekko", "Monarch", "Nakatomi", "Sirius", "Blue Sun", "Prestige", "Dunder", "Bluth",
)  # fmt: skip
TRADES = ("Networks", "Systems", "Cloud", "Data", "Consulting", "Security", "Integration")
FIRST_NAMES = (
    "Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jon", "Kemi",
    "Liam", "Mara", "Nils", "Omar", "Priya", "Quinn", "Rosa", "Sami", "Tara", "Umar", "Vera",
)  # fmt: skip
LAST_NAMES = (
    "Adams", "Baker", "Costa", "Dubois", "Evans", "Fischer", "Garcia", "Haddad", "Ito", "Jensen",
    "Kowalski", "Lopez", "Moreau", "Nowak", "Okafor", "Patel", "Rossi", "Silva", "Tanaka",
)  # fmt: skip


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
    """What the demo loaded: actors to log in as, ids, each partnership's profile, counts."""

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


@dataclass
class Partnership:
    """A partner organisation with its manager, contacts and profile."""

    index: int
    partner: Partner
    manager: Actor
    contacts: list[Actor]
    profile: Profile
    rng: random.Random

    def habits(self, side: Side) -> Habits:
        """One side's habits."""
        return self.profile.vendor if side is Side.VENDOR else self.profile.partner

    def speaker(self, side: Side) -> Actor:
        """Who acts for a side: the manager, or (mostly) the first contact."""
        if side is Side.VENDOR:
            return self.manager
        return self.contacts[0] if self.rng.random() < 0.75 else self.contacts[-1]


@dataclass
class PlanInMaking:
    """A plan being played out: its aggregate, period, metrics, activation day."""

    partnership: Partnership
    start: int
    current: bool
    plan: Plan | None = None
    metrics: dict[str, UUID] = field(default_factory=dict)
    activated: int | None = None
    attainment: dict[str, float] = field(default_factory=dict)

    @property
    def end(self) -> int:
        """The last day of the period (a day number)."""
        return self.start + PERIOD_DAYS - 1


class Simulation:
    """Runs the partnerships' processes day by day and saves each day's events together."""

    def __init__(
        self, app: Counterpart, clock: SimulatedClock, first_day: date, leader: Actor
    ) -> None:
        self.app = app
        self.clock = clock
        self.first_day = first_day
        self.leader = leader
        self.today = 0
        self._queue: list[tuple[int, int, Process]] = []
        self._sequence = 0
        self._ticks = 0
        self._dirty: dict[UUID, Plan] = {}

    def date_of(self, day: int) -> date:
        """The calendar date of a day number."""
        return self.first_day + timedelta(days=day)

    def day_of(self, moment: date) -> int:
        """The day number of a calendar date."""
        return (moment - self.first_day).days

    def spawn(self, day: int, process: Process) -> None:
        """Start a process on a day (it runs at once if that day has come)."""
        self._sequence += 1
        heapq.heappush(self._queue, (day, self._sequence, process))

    def run(self, days: int, on_progress: Callable[[int], None] | None) -> None:
        """Play the days, saving each day's events in a few transactions."""
        for day in range(days):
            self.today = day
            self._ticks = 0
            morning = datetime.combine(self.date_of(day), WORK_STARTS_AT, tzinfo=UTC)
            self.clock.set(max(morning, self.clock.now()))
            while self._queue and self._queue[0][0] <= day:
                _, _, process = heapq.heappop(self._queue)
                wake = next(process, None)
                if wake is not None and wake < days:
                    self.spawn(max(wake, day), process)
            self.flush()
            if on_progress is not None:
                on_progress(1)

    def _tick(self) -> datetime:
        """The recorded time of the next command: a second after the last one."""
        if self._ticks < MAX_TICKS_PER_DAY:
            self._ticks += 1
            self.clock.advance(timedelta(seconds=1))
        return self.clock.now()

    def acting(self, pim: PlanInMaking, actor: Actor) -> tuple[Plan, Acting]:
        """The plan and the actor vouched for by its partnership, acting now."""
        plan = pim.plan
        if plan is None:
            msg = "the plan is not drafted yet"
            raise RuntimeError(msg)
        if plan.version % SNAPSHOT_INTERVAL == 0 and plan.id in self._dirty:
            self._save([plan])  # so its snapshot is taken from memory, at that version
        self._dirty[plan.id] = plan
        return plan, pim.partnership.partner.vouch(actor, at=self._tick())

    def draft(self, pim: PlanInMaking, actor: Actor, title: str) -> Plan:
        """Draft the plan of a plan in the making."""
        by = pim.partnership.partner.vouch(actor, at=self._tick())
        plan = Plan.draft(
            title=title,
            period_start=self.date_of(pim.start),
            period_end=self.date_of(pim.end),
            objectives=["Grow qualified pipeline", "Certify sales engineers"],
            by=by,
        )
        pim.plan = plan
        self._dirty[plan.id] = plan
        return plan

    def _save(self, plans: list[Plan]) -> None:
        for plan in plans:
            self._dirty.pop(plan.id, None)
        self.app.save(*plans)

    def flush(self) -> None:
        """Save every plan changed since the last flush."""
        dirty = list(self._dirty.values())
        for start in range(0, len(dirty), SAVE_CHUNK):
            self._save(dirty[start : start + SAVE_CHUNK])


# -------------------------------------------------------------------- stories


def negotiate(sim: Simulation, pim: PlanInMaking) -> Process:
    """Draft, propose, agree and commit; the stuck profile's current plan never gets there."""
    p = pim.partnership
    profile = p.profile
    vendor_keys = ["enablement", "turnaround" if p.index % 2 else "campaigns"]
    partner_keys = ["certifications", "pipeline" if p.index % 3 == 2 else "opportunities"]
    begins = sim.date_of(pim.start)
    sim.draft(pim, p.manager, f"{p.partner.name}: Q{(begins.month - 1) // 3 + 1} {begins.year}")
    for key in [*vendor_keys, partner_keys[0]]:
        plan, by = sim.acting(pim, p.manager)
        pim.metrics[key] = plan.propose_metric(_spec(plan, key, p.rng), by=by)

    yield sim.today + profile.partner.answer_days
    stuck = profile.stuck and pim.current
    contact = p.speaker(Side.PARTNER)
    for key in vendor_keys:
        plan, by = sim.acting(pim, contact)
        plan.agree_metric(pim.metrics[key], by=by)
    plan, by = sim.acting(pim, contact)
    first = plan.metric(pim.metrics[partner_keys[0]])
    if stuck:  # a counter-proposal: fewer engineers
        plan.revise_metric(first.id, replace(first.spec, target=first.target - 1), by=by)
    else:
        plan.agree_metric(first.id, by=by)
    plan, by = sim.acting(pim, contact)
    pim.metrics[partner_keys[1]] = plan.propose_metric(_spec(plan, partner_keys[1], p.rng), by=by)

    yield sim.today + profile.vendor.answer_days
    plan, by = sim.acting(pim, p.manager)
    plan.agree_metric(pim.metrics[partner_keys[1]], by=by)
    plan, by = sim.acting(pim, p.manager)
    if stuck:  # the manager counters; the partner never answers, so the plan stays a draft
        plan.revise_metric(first.id, replace(first.spec, target=first.target + 1), by=by)
        return
    plan.commit(by=by)

    yield sim.today + profile.partner.answer_days
    plan, by = sim.acting(pim, p.speaker(Side.PARTNER))
    plan.commit(by=by)
    pim.activated = sim.today
    for key in pim.metrics:
        habits = p.habits(TEMPLATES[key].owner)
        pim.attainment[key] = habits.attainment * p.rng.uniform(0.9, 1.1)
    for side in Side:
        sim.spawn(max(sim.today + 1, pim.start + p.rng.randint(1, 4)), report(sim, pim, side))
    sim.spawn(sim.today + profile.review_every - p.rng.randint(0, 3), review(sim, pim))
    if profile.adjustments is not None:
        sim.spawn(sim.today + 15, adjust(sim, pim, profile.adjustments))
    if not pim.current:
        sim.spawn(pim.end + 1 + p.rng.randint(0, 3), close(sim, pim))


def _spec(plan: Plan, key: str, rng: random.Random) -> MetricSpec:
    template = TEMPLATES[key]
    return MetricSpec(
        owner_side=template.owner,
        kind=template.kind,
        name=template.name,
        description=template.description,
        unit=template.unit,
        direction=template.direction,
        target=Decimal(rng.choice(template.targets)),
        due_date=plan.period_start + timedelta(days=DUE_OFFSETS[template.due]),
        objective="Grow qualified pipeline" if template.kind is MetricKind.RESULT else None,
    )


def report(sim: Simulation, pim: PlanInMaking, side: Side) -> Process:
    """A side reports its metrics on its cadence, as late as its habits make it."""
    p = pim.partnership
    habits = p.habits(side)
    keys = [key for key in pim.metrics if TEMPLATES[key].owner is side]
    done: set[str] = set()
    while pim.plan is not None and pim.plan.status is PlanStatus.ACTIVE:
        for key in keys:
            metric = pim.plan.metric(pim.metrics[key])
            if key in done or metric.retired:
                continue
            due = sim.day_of(metric.due_date)
            as_of = max(sim.today - habits.report_lag, pim.start)
            if as_of >= due:
                as_of = due
                done.add(key)
            value = _progress(pim, key, metric.target, as_of, due)
            plan, by = sim.acting(pim, p.speaker(side))
            plan.report_progress(metric.id, value=value, as_of=sim.date_of(as_of), by=by)
        if len(done) == len(keys):
            return
        yield sim.today + habits.report_every + p.rng.randint(-1, 1)


def _progress(pim: PlanInMaking, key: str, target: Decimal, as_of: int, due: int) -> Decimal:
    """A reported value: cumulative towards the side's attainment (at_most: an average)."""
    template = TEMPLATES[key]
    attained = pim.attainment[key]
    if template.direction is Direction.AT_MOST:
        value = float(target) / attained * pim.partnership.rng.uniform(0.97, 1.03)
    else:
        begun = max(pim.start, pim.activated or pim.start)
        share = min(1.0, max(0.0, (as_of - begun + 1) / max(1, due - begun + 1)))
        value = float(target) * attained * share
    return (Decimal(value) / template.step).quantize(Decimal(1)) * template.step


def review(sim: Simulation, pim: PlanInMaking) -> Process:
    """Reviews on the profile's cadence, attended by the sides that turn up."""
    p = pim.partnership
    count = 0
    while pim.plan is not None and pim.plan.status is PlanStatus.ACTIVE:
        count += 1
        attendees: list[Actor] = []
        if p.profile.vendor.attends:
            attendees.append(p.manager)
            if p.profile.leader_attends and count % 2:
                attendees.append(sim.leader)
        if p.profile.partner.attends:
            attendees.extend(p.contacts)
        recorder = p.manager if p.profile.vendor.attends else p.contacts[0]
        held_on = sim.date_of(max(pim.start, sim.today - p.rng.randint(0, 1)))
        plan, by = sim.acting(pim, recorder)
        plan.record_review(
            held_on=held_on,
            attendees=p.partner.attendees(attendees),
            notes=f"Review {count}: pipeline, enablement and open actions",
            decisions="Keep the cadence; follow up on the metrics that lag",
            by=by,
        )
        yield sim.today + p.profile.review_every + p.rng.randint(-2, 2)


def adjust(sim: Simulation, pim: PlanInMaking, story: str) -> Process:
    """Adjustments: accepted, rejected and withdrawn; left unanswered; or answered late."""
    p = pim.partnership
    contact = p.speaker(Side.PARTNER)
    vendor_end = "campaigns" if "campaigns" in pim.metrics else "turnaround"
    partner_end = "pipeline" if "pipeline" in pim.metrics else "opportunities"
    if story == "ignored":  # the vendor offers more time; the partner never answers
        _propose(sim, pim, p.manager, partner_end, "More time for the pipeline to mature", days=3)
        return
    reason = "Two sellers left the partner's team"
    if story == "negotiated":
        reason = "Distributor consolidation slowed new logos"
    lowered = _propose(sim, pim, contact, partner_end, reason, factor="0.8")
    yield sim.today + p.profile.vendor.answer_days
    plan, by = sim.acting(pim, p.manager)
    plan.accept_adjustment(lowered, reason="Agreed at the review", by=by)
    if story != "negotiated":
        return
    later = _propose(sim, pim, p.manager, "enablement", "Trainers are booked up", days=14)
    yield sim.today + p.profile.partner.answer_days
    plan, by = sim.acting(pim, contact)
    plan.reject_adjustment(later, reason="Our sellers need the sessions before launch", by=by)
    yield sim.today + 5
    raised = _propose(sim, pim, p.manager, vendor_end, "Budget freed up", factor="1.5")
    yield sim.today + 2
    plan, by = sim.acting(pim, p.manager)
    plan.withdraw_adjustment(raised, reason="Budget moved to next quarter", by=by)


def _propose(
    sim: Simulation,
    pim: PlanInMaking,
    actor: Actor,
    key: str,
    reason: str,
    *,
    factor: str | None = None,
    days: int | None = None,
) -> UUID:
    """Propose a new target (the current one times ``factor``) or a due date ``days`` later."""
    plan, by = sim.acting(pim, actor)
    metric_id = pim.metrics[key]
    metric = plan.metric(metric_id)
    if factor is not None:
        step = TEMPLATES[key].step
        target = max(step, (metric.target * Decimal(factor) / step).quantize(Decimal(1)) * step)
        return plan.propose_adjustment(
            metric_id, kind=AdjustmentKind.CHANGE_TARGET, reason=reason, new_target=target, by=by
        )
    due_date = min(metric.due_date + timedelta(days=days or 1), plan.period_end)
    return plan.propose_adjustment(
        metric_id, kind=AdjustmentKind.CHANGE_DUE_DATE, reason=reason, new_due_date=due_date, by=by
    )


def close(sim: Simulation, pim: PlanInMaking) -> Process:
    """The manager closes last quarter's plan a few days after its period ends."""
    plan, by = sim.acting(pim, pim.partnership.manager)
    plan.close(summary="Quarter closed; lessons carried into the next plan", by=by)
    yield from ()


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

    def register(
        name: str, email: str, role: Role, partner_id: UUID | None = None
    ) -> tuple[Actor, str]:
        return app.register_actor(
            name=name, email=email, role=role, partner_id=partner_id, by=admin.id
        )

    admin, admin_token = app.register_actor(name="Ada Admin", email=ADMIN_EMAIL, role=Role.ADMIN)
    leader, leader_token = register("Lee Leader", LEADER_EMAIL, Role.LEADER)
    auditor, auditor_token = register("Aude Auditor", AUDITOR_EMAIL, Role.AUDITOR)
    registered = [
        register(_person(k), f"manager-{k + 1}@{DEMO_DOMAIN}", Role.MANAGER)
        for k in range(managers)
    ]
    manager_actors = [actor for actor, _ in registered]
    manager_token = registered[0][1]
    sim = Simulation(app, clock, first_day, leader)
    partnerships: list[Partnership] = []
    plans: list[PlanInMaking] = []
    contact_token = ""
    for i in range(partners):
        rng = random.Random(f"{seed}-{i}")  # noqa: S311 (demo data, not secrets)
        partner = app.register_partner(
            name=_company(i), manager_id=manager_actors[i % managers].id, by=admin.id
        )
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
    )


def fresh_tokens(app: Counterpart, store: ReadStore) -> list[DemoActor]:
    """New tokens for the demo's leader, manager and partner contact of a loaded demo.

    Tokens are stored only as hashes, so a later start cannot print the first ones; the demo
    actors are found in the directory read model by their emails. Empty: no demo actors.
    """
    runner = Runner(app, store, [Directory()])
    runner.setup()
    runner.catch_up()
    found: dict[str, DemoActor] = {}
    with store.transaction() as cursor:
        after: str | None = None
        while page := actors(cursor, after=after, limit=500):
            for row in page:
                role = PRINTED.get(row["email"])
                if role is not None and row["role"] == role:
                    found[role] = DemoActor(role, UUID(row["id"]), row["name"], row["email"], "")
            after = page[-1]["id"]
    return [
        DemoActor(a.role, a.id, a.name, a.email, app.issue_token(a.id))
        for role in PRINTED.values()
        if (a := found.get(role)) is not None
    ]
