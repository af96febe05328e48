"""The demo's simulation: partnerships' processes played day by day, saved a day at a time
(what was saved is kept, in ledger order, for the read models)."""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import UUID

from eventsourcing.persistence import Recording

from ledger.application import SNAPSHOT_INTERVAL, Counterpart
from ledger.clock import SimulatedClock
from ledger.demo.cast import (
    DUE_OFFSETS,
    MAX_TICKS_PER_DAY,
    PERIOD_DAYS,
    SAVE_CHUNK,
    TEMPLATES,
    WORK_STARTS_AT,
    Habits,
    Process,
    Profile,
)
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
    Side,
)


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
        self,
        app: Counterpart,
        clock: SimulatedClock,
        first_day: date,
        leader: Actor,
        recorded: list[Recording[UUID]],
    ) -> None:
        self.app = app
        self.recorded = recorded
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
        self.recorded.extend(self.app.save(*plans))

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
