"""Property tests of the score rules (docs/scoring.md): causality, invariants and monotony.

Each example lives a whole plan in memory through the domain, from a random script: a draft
negotiated with random delays, both commitments, then months of reports, reviews and
adjustments, maybe a close. The events it recorded are numbered 1..N in recording order,
as the ledger's global positions are, and fed to the score facts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ledger.clock import SimulatedClock
from ledger.domain import AdjustmentKind, Direction, LedgerError, MetricSpec, Plan, Side
from projections.rules.facts import MetricFacts, PlanFacts, ReportFact, ReportSlot
from projections.rules.history import side_history
from projections.rules.scoring import (
    REPORTING,
    RESPONSIVENESS,
    REVIEWS,
    WEIGHTS,
    Component,
    PlanScore,
    pace,
    round_half_up,
    score,
)
from tests.builders import PERIOD_START, a_cast, a_plan, partner_terms, vendor_terms
from tests.conftest import START

pytestmark = pytest.mark.timeout(600)  # green in seconds; shrinking a failure takes minutes

MINUTE = timedelta(minutes=1)
MINUTES_PER_DAY = 24 * 60
Positioned = list[tuple[int, Any]]
"""A plan's events with their positions 1..N."""

# ------------------------------------------------------------------ strategies

MARKS = st.sampled_from([d * MINUTES_PER_DAY + e for d in (5, 10) for e in (-1, 0, 1)])
"""Delays right at the 5- and 10-day marks of responsiveness."""


def _weighted(*choices: tuple[int, st.SearchStrategy[int]]) -> st.SearchStrategy[int]:
    """One of the strategies, each drawn as often as its weight says."""
    pool = [strategy for weight, strategy in choices for _ in range(weight)]
    return st.integers(0, len(pool) - 1).flatmap(lambda n: pool[n])


DELAYS = _weighted(
    (7, st.integers(0, MINUTES_PER_DAY)),
    (1, st.integers(0, 3 * MINUTES_PER_DAY)),
    (1, MARKS),
    (1, st.integers(0, 12 * MINUTES_PER_DAY)),
)
"""Minutes before a draft step: mostly within a day, sometimes days, up to 12."""
GAPS = _weighted(
    (8, st.integers(0, 2 * MINUTES_PER_DAY)),
    (1, st.integers(0, 6 * MINUTES_PER_DAY)),
    (1, MARKS),
)
"""Minutes before a step of the active plan: about two days on average."""
TARGETS = st.one_of(
    st.sampled_from([Decimal(1), Decimal(4), Decimal(20)]),
    st.decimals(min_value=Decimal("0.5"), max_value=Decimal(500), places=1),
)
VALUES = st.one_of(
    st.sampled_from([Decimal(0), Decimal(-3), Decimal(1), Decimal(4), Decimal(20)]),
    st.decimals(min_value=Decimal(-50), max_value=Decimal(600), places=2),
)
RARELY = st.integers(0, 9).map(lambda n: n == 0)
ATTENDEES = st.lists(
    st.sampled_from(["manager", "contact", "second_contact", "leader"]),
    min_size=1,
    max_size=3,
    unique=True,
)
REPORTS = st.one_of(
    st.tuples(
        st.just("report"),
        st.tuples(
            st.integers(0, 5),
            VALUES,
            st.one_of(st.integers(0, 3), st.integers(0, 30)),
            RARELY,
        ),
    ),
    st.tuples(
        st.just("report"),
        st.tuples(st.integers(0, 5), VALUES, st.integers(0, 2), st.just(False)),
    ),
)
ACTIONS = st.one_of(
    REPORTS,
    REPORTS,
    REPORTS,
    st.tuples(
        st.just("review"),
        st.tuples(
            st.sampled_from(Side), st.one_of(st.integers(0, 2), st.integers(0, 8)), ATTENDEES
        ),
    ),
    st.tuples(
        st.just("adjust"),
        st.tuples(
            st.integers(0, 5),
            st.sampled_from(Side),
            st.sampled_from(AdjustmentKind),
            TARGETS,
            st.integers(1, 40),
        ),
    ),
    st.tuples(
        st.just("answer"),
        st.tuples(st.integers(0, 3), st.sampled_from(["accept", "reject", "withdraw"])),
    ),
    st.tuples(st.just("answer"), st.tuples(st.integers(0, 3), st.just("accept"))),
    st.tuples(st.just("wait"), st.just(())),
)


@dataclass(frozen=True)
class Step:
    """One command of a scripted plan life, attempted ``wait`` minutes after the previous one."""

    wait: int
    action: str
    args: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Script:
    """A plan life: its cadences, its draft negotiation, its active months, maybe its close."""

    period_days: int
    report_every_days: int
    review_every_days: int
    grace_days: int
    draft: tuple[Step, ...]
    active: tuple[Step, ...]
    close: tuple[int, Side] | None  # days after the period end, and the closing side

    @property
    def period_end(self) -> date:
        """The last day of the plan's period."""
        return PERIOD_START + timedelta(days=self.period_days)


def due_days(period_days: int) -> st.SearchStrategy[int]:
    """Days from the period's start to a due date: any, though mostly in its second half."""
    return st.one_of(st.integers(period_days // 2, period_days), st.integers(1, period_days))


@st.composite
def metric_specs(draw: st.DrawFn, owner: Side | None, period_days: int) -> MetricSpec:
    """SMART terms of a metric due inside the period, owned by ``owner`` (any side if None)."""
    side = owner if owner is not None else draw(st.sampled_from(Side))
    terms = vendor_terms if side is Side.VENDOR else partner_terms
    return terms(
        owner_side=side,
        direction=draw(st.sampled_from(Direction)),
        target=draw(TARGETS),
        due_date=PERIOD_START + timedelta(days=draw(due_days(period_days))),
    )


@st.composite
def negotiations(draw: st.DrawFn, period_days: int) -> list[Step]:
    """Metrics proposed, revised and agreed, the metrics' steps interleaved at random."""
    keyed: list[tuple[int, int, Step]] = []
    count = draw(st.integers(2, 4))
    for index in range(count):
        owner = [Side.VENDOR, Side.PARTNER][index] if index < 2 else None
        key = draw(st.integers(0, 20))
        spec = draw(metric_specs(owner, period_days))
        proposer = draw(st.sampled_from(Side))
        keyed.append((key, len(keyed), Step(draw(DELAYS), "propose", (index, proposer, spec))))
        for _ in range(draw(st.integers(0, 2))):
            key += draw(st.integers(1, 10))
            spec = draw(metric_specs(owner, period_days))
            reviser = draw(st.sampled_from(Side))
            keyed.append((key, len(keyed), Step(draw(DELAYS), "revise", (index, reviser, spec))))
        key += draw(st.integers(1, 10))
        keyed.append((key, len(keyed), Step(draw(DELAYS), "agree", (index,))))
    return [step for _, _, step in sorted(keyed, key=lambda k: (k[0], k[1]))]


@st.composite
def scripts(draw: st.DrawFn, *, activate: bool = True) -> Script:
    """A random plan life; with ``activate`` false, the second commitment never comes."""
    period_days = draw(st.integers(45, 120))
    draft = draw(negotiations(period_days))
    first = draw(st.sampled_from(Side))
    draft.append(Step(draw(DELAYS), "commit", (first,)))
    if draw(RARELY):  # the other side changes a metric after the first commitment
        index = draw(st.integers(0, 1))
        spec = draw(metric_specs([Side.VENDOR, Side.PARTNER][index], period_days))
        draft.append(Step(draw(DELAYS), "revise", (index, first.other, spec)))
        draft.append(Step(draw(DELAYS), "agree", (index,)))
        draft.append(Step(draw(DELAYS), "commit", (first,)))
    if activate:
        draft.append(Step(draw(DELAYS), "commit", (first.other,)))
    steps = draw(st.integers(0, 80))  # shrinks better than a list's own length
    active = [
        Step(draw(GAPS), action, args)
        for action, args in draw(st.lists(ACTIONS, min_size=steps, max_size=steps))
    ]
    close = draw(st.one_of(st.none(), st.tuples(st.integers(1, 20), st.sampled_from(Side))))
    return Script(
        period_days=period_days,
        report_every_days=draw(st.integers(1, 30)),
        review_every_days=draw(st.integers(1, 60)),
        grace_days=draw(st.integers(0, 7)),
        draft=tuple(draft),
        active=tuple(active),
        close=close,
    )


# ------------------------------------------------------------------ the life


@dataclass(frozen=True)
class Extra:
    """One more progress report, slipped into a life at a recorded time."""

    at: datetime
    metric: int
    value: Decimal
    days_back: int  # as_of is this many days before the recorded date


class Life:
    """A plan lived through a script in memory: its commands attempted, its events kept.

    Refused commands (``LedgerError``) are counted and skipped. An ``extra`` report is
    slipped in when the clock first reaches its time (before the step due then).
    """

    def __init__(self, script: Script, extra: Extra | None = None) -> None:
        self.clock = SimulatedClock(START)
        self.cast = a_cast(self.clock)
        self.extra = extra
        self.extra_event: Any = None
        self.metric_ids: dict[int, UUID] = {}
        self.adjustment_ids: list[UUID] = []
        self.accepted = self.refused = 0
        self.plan = a_plan(
            self.cast,
            period_end=script.period_end,
            report_every_days=script.report_every_days,
            review_every_days=script.review_every_days,
            grace_days=script.grace_days,
        )
        self.events: list[Any] = list(self.plan.collect_events())
        for step in script.draft + script.active:
            self.move_to(self.clock.now() + step.wait * MINUTE)
            getattr(self, step.action)(*step.args)
        if script.close is not None:
            days, side = script.close
            moment = datetime.combine(
                script.period_end + timedelta(days=days), time(10), tzinfo=UTC
            )
            self.move_to(max(moment, self.clock.now()))
            self.attempt(self.plan.close, summary="Done", by=self.cast.side(side))
        if self.extra is not None:
            self.move_to(max(self.extra.at, self.clock.now()))

    @property
    def positioned(self) -> Positioned:
        """The events with their positions 1..N, in recording order."""
        return list(enumerate(self.events, start=1))

    @property
    def today(self) -> date:
        """The simulated (UTC) date."""
        return self.clock.now().date()

    def move_to(self, moment: datetime) -> None:
        """Let time pass up to ``moment``, slipping the extra report in on the way."""
        if self.extra is not None and self.extra.at <= moment:
            extra, self.extra = self.extra, None
            self.clock.set(extra.at)
            metric_id = self.metric_ids[extra.metric]
            owner = self.plan.metric(metric_id).owner_side
            recorded = len(self.events)
            self.attempt(
                self.plan.report_progress,
                metric_id,
                value=extra.value,
                as_of=self.today - timedelta(days=extra.days_back),
                by=self.cast.side(owner),
            )
            if len(self.events) > recorded:
                (self.extra_event,) = self.events[recorded:]
        self.clock.set(moment)

    def attempt(self, command: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a command; keep its events, or count its refusal and move on."""
        try:
            result = command(*args, **kwargs)
        except LedgerError:
            self.refused += 1
            return None
        self.accepted += 1
        self.events.extend(self.plan.collect_events())
        return result

    def metric_id(self, pick: int, *, changeable: bool = False) -> UUID:
        """A live metric (one whose terms may still change) by position; any if none is."""
        ids = list(self.metric_ids.values())
        live = [
            metric_id
            for metric_id in ids
            if not (metric := self.plan.metric(metric_id)).retired
            and not (changeable and metric.due_date <= self.today)
        ]
        return (live or ids)[pick % len(live or ids)]

    # ------------------------------------------------------------- actions

    def propose(self, index: int, side: Side, spec: MetricSpec) -> None:
        """A side proposes a metric (the index-th of the script)."""
        metric_id = self.attempt(self.plan.propose_metric, spec, by=self.cast.side(side))
        assert metric_id is not None, "a scripted proposal is always valid"
        self.metric_ids[index] = metric_id

    def revise(self, index: int, side: Side, spec: MetricSpec) -> None:
        """A side revises a metric (refused when nothing changes)."""
        self.attempt(self.plan.revise_metric, self.metric_ids[index], spec, by=self.cast.side(side))

    def agree(self, index: int) -> None:
        """The side that has not agreed to the metric's current terms agrees."""
        metric = self.plan.metric(self.metric_ids[index])
        by = self.cast.side(metric.proposed_by.other)
        self.attempt(self.plan.agree_metric, metric.id, by=by)

    def commit(self, side: Side) -> None:
        """A side commits to the current terms."""
        self.attempt(self.plan.commit, by=self.cast.side(side))

    def report(self, pick: int, value: Decimal, days_back: int, wrong_side: bool) -> None:
        """The owner side (rarely the other one) reports a value as of some days back."""
        metric_id = self.metric_id(pick)
        owner = self.plan.metric(metric_id).owner_side
        self.attempt(
            self.plan.report_progress,
            metric_id,
            value=value,
            as_of=self.today - timedelta(days=days_back),
            by=self.cast.side(owner.other if wrong_side else owner),
        )

    def review(self, side: Side, days_back: int, names: list[str]) -> None:
        """A side records a review held some days back, with some of the cast attending."""
        attendees = self.cast.partner.attendees([getattr(self.cast, name) for name in names])
        self.attempt(
            self.plan.record_review,
            held_on=self.today - timedelta(days=days_back),
            attendees=attendees,
            by=self.cast.side(side),
        )

    def adjust(
        self, pick: int, side: Side, kind: AdjustmentKind, target: Decimal, due_in: int
    ) -> None:
        """A side proposes to change a metric's target or due date, or to retire it."""
        adjustment_id = self.attempt(
            self.plan.propose_adjustment,
            self.metric_id(pick, changeable=True),
            kind=kind,
            reason="Market shifted",
            new_target=target if kind is AdjustmentKind.CHANGE_TARGET else None,
            new_due_date=(
                self.today + timedelta(days=due_in)
                if kind is AdjustmentKind.CHANGE_DUE_DATE
                else None
            ),
            by=self.cast.side(side),
        )
        if adjustment_id is not None:
            self.adjustment_ids.append(adjustment_id)

    def answer(self, pick: int, how: str) -> None:
        """The other side accepts or rejects an open adjustment, or its proposer withdraws it."""
        open_ids = [a for a in self.adjustment_ids if self.plan.adjustment(a).is_open]
        if not open_ids:
            return
        adjustment_id = open_ids[pick % len(open_ids)]
        proposer = self.plan.adjustment(adjustment_id).proposed_by_side
        by = self.cast.side(proposer if how == "withdraw" else proposer.other)
        self.attempt(getattr(self.plan, f"{how}_adjustment"), adjustment_id, by=by)

    def wait(self) -> None:
        """Nothing happens but time passing."""


# ---------------------------------------------------------------- the checks


def facts_of(events: Positioned) -> PlanFacts | None:
    """The score facts of a plan's events (None without any event)."""
    if not events:
        return None
    (_, drafted), *rest = events
    assert isinstance(drafted, Plan.Drafted)
    facts = PlanFacts.start(drafted)
    for position, recorded in rest:
        facts.apply(recorded, position)
    return facts


def recorded_by(events: Positioned, day: date) -> Positioned:
    """The events recorded on or before ``day``."""
    return [(p, e) for p, e in events if e.timestamp.date() <= day]


def all_none(plan_score: PlanScore) -> bool:
    """No score and no component value on either side."""
    return all(
        s.exact is None and s.score is None and all(c.value is None for c in s.components.values())
        for s in plan_score.sides.values()
    )


def activation_day(events: Positioned) -> date | None:
    """The recorded date of the plan's activation, if it was activated."""
    days = [e.timestamp.date() for _, e in events if isinstance(e, Plan.Activated)]
    assert len(days) <= 1
    return days[0] if days else None


DAY_OFFSETS = st.lists(st.integers(-3, 220), min_size=5, max_size=12)
"""Days from the draft's day: before it, through the period, well after a late close."""


def days_to_check(offsets: list[int], events: Positioned, facts: PlanFacts) -> list[date]:
    """The drawn days, plus the telling ones: the draft, activation, due dates, period end."""
    first = events[0][1].timestamp.date()
    days = {first + timedelta(days=n) for n in offsets}
    days |= {first - timedelta(days=1), first, facts.period_end, facts.period_end + timedelta(1)}
    activated = activation_day(events)
    if activated is not None:
        days |= {activated - timedelta(days=1), activated}
    grace, half = timedelta(days=facts.grace_days), timedelta(days=facts.grace_days // 2)
    for metric in facts.metrics.values():
        for terms in metric.terms:
            days |= {terms.due_date, terms.due_date + half, terms.due_date + grace}
    return sorted(days)


def differences(one: PlanScore, other: PlanScore) -> list[str]:
    """Where two scores differ: side scores, component values and counts, items (briefly)."""
    found = []
    for side in Side:
        mine, theirs = one.sides[side], other.sides[side]
        if mine.exact != theirs.exact:
            found.append(f"{side.value} score {mine.exact} != {theirs.exact}")
        for name, component in mine.components.items():
            their = theirs.components[name]
            counts = (component.value, component.met, component.total)
            their_counts = (their.value, their.met, their.total)
            if counts != their_counts:
                found.append(f"{side.value} {name} (value, met, total) {counts} != {their_counts}")
            extra = [i for i in component.items if i not in their.items]
            missing = [i for i in their.items if i not in component.items]
            if extra or missing:
                found.append(f"{side.value} {name} items {extra[:2]} instead of {missing[:2]}")
    return found


def attainment_of(direction: Direction, target: str, value: str | None) -> Fraction:
    """How far a value attains its target, as docs/scoring.md's D defines it (no report: 0)."""
    if value is None:
        return Fraction(0)
    v, t = Fraction(Decimal(value)), Fraction(Decimal(target))
    if direction is Direction.AT_LEAST:
        return min(Fraction(1), max(Fraction(0), v / t))
    return Fraction(1) if v <= t else t / v


def check_component_counts(component: Component, directions: dict[str, Direction]) -> None:
    """Counts, value and items of one component agree with each other and with the rules."""
    value, met, total, items = component.value, component.met, component.total, component.items
    assert 0 <= met <= total
    assert (value is None) == (total == 0)
    assert len(items) == total
    if value is None:
        return
    assert 0 <= value <= 1
    if component.name in {REPORTING, REVIEWS}:
        assert value == Fraction(met, total)
        assert met == sum(1 for item in items if item["met"])
        return
    if component.name == RESPONSIVENESS:
        shares = [Fraction(item["credit"]) for item in items]
        assert all(share in {0, Fraction(1, 2), 1} for share in shares)
    else:
        shares = [
            attainment_of(directions[item["metric_id"]], item["target"], item["value"])
            for item in items
        ]
        assert [item["attainment"] for item in items] == [
            str(round_half_up(share, 4)) for share in shares
        ]
    assert value == sum(shares, Fraction(0)) / total


def check_invariants(
    plan_score: PlanScore,
    day: date,
    recorded_on: dict[int, date],
    activated: date | None,
    directions: dict[str, Direction],
) -> None:
    """What holds of every score: bounds, counts, the weighted mean, traceable items."""
    if activated is None or day < activated:
        assert all_none(plan_score), f"a score on {day}, before activation ({activated})"
    for side_score in plan_score.sides.values():
        components = side_score.components
        assert set(components) == set(WEIGHTS)
        for component in components.values():
            check_component_counts(component, directions)
            for item in component.items:
                for event_id in item["event_ids"]:
                    assert event_id in recorded_on, f"item {item} names an unknown event"
                    assert recorded_on[event_id] <= day, f"item {item} names a later event"
        available = [c for c in components.values() if c.value is not None]
        if not available:
            assert side_score.exact is None
            assert side_score.score is None
            continue
        weighted = sum(
            (WEIGHTS[c.name] * c.value for c in available if c.value is not None), Fraction(0)
        )
        expected = 100 * weighted / sum(WEIGHTS[c.name] for c in available)
        assert side_score.exact == expected
        assert 0 <= expected <= 100
        assert side_score.score is not None
        assert 0 <= side_score.score <= 100
        assert abs(Fraction(side_score.score) - expected) <= Fraction(1, 20)
        assert side_score.score == side_score.score.quantize(Decimal("0.1"))


# ------------------------------------------------------------------- the tests

PROPERTY_SETTINGS = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(script=scripts(), offsets=DAY_OFFSETS)
def test_the_score_as_of_a_date_depends_only_on_events_recorded_by_then(
    script: Script, offsets: list[int]
) -> None:
    """The score as of T from all events equals the one from the events recorded by T, and so
    does each side's history (its words too: a metric renamed later keeps its name of then)."""
    life = Life(script)
    events = life.positioned
    share = 100 * life.accepted // (life.accepted + life.refused)
    event(f"accepted commands: {share // 10 * 10}%+")
    facts_all = facts_of(events)
    assert facts_all is not None
    for day in days_to_check(offsets, events, facts_all):
        from_all = score(facts_all, day)
        facts_then = facts_of(recorded_by(events, day))
        if facts_then is None:
            assert all_none(from_all)
            continue
        then = score(facts_then, day)
        diffs = differences(from_all, then)
        assert not diffs, f"as of {day}, all events vs those recorded by then: {diffs}"
        for side in Side:
            assert side_history(facts_all, from_all.sides[side], day) == side_history(
                facts_then, then.sides[side], day
            ), f"{side.value} history as of {day}"


@PROPERTY_SETTINGS
@given(script=scripts(), offsets=DAY_OFFSETS)
def test_every_score_keeps_the_invariants_of_the_rules(script: Script, offsets: list[int]) -> None:
    """Bounded components, consistent counts, the weighted mean, traceable items, null early."""
    life = Life(script)
    events = life.positioned
    recorded_on = {position: e.timestamp.date() for position, e in events}
    activated = activation_day(events)
    event("activated" if activated else "never activated")
    facts = facts_of(events)
    assert facts is not None
    directions = {str(m.metric_id): m.direction for m in facts.metrics.values()}
    for day in days_to_check(offsets, events, facts):
        check_invariants(score(facts, day), day, recorded_on, activated, directions)


def metric_facts(facts: PlanFacts, metric_id: UUID) -> MetricFacts:
    """The facts of one metric, by its id."""
    (metric,) = [m for m in facts.metrics.values() if m.metric_id == metric_id]
    return metric


def empty_windows(life: Life, facts: PlanFacts, script: Script) -> list[tuple[int, date, date]]:
    """(metric, window start, window end) of reporting windows no report was recorded in.

    Only for metrics never retired, and only windows starting before every due date the
    metric ever had, so that a report recorded on the window's first day is on time.
    """
    activated = facts.activated_at
    assert activated is not None
    found = []
    every = timedelta(days=script.report_every_days)
    for index, metric_id in life.metric_ids.items():
        metric = metric_facts(facts, metric_id)
        if any(t.retired for t in metric.terms):
            continue
        due = min(t.due_date for t in metric.terms)
        start = activated.date()
        while start < due:
            end = start + every - timedelta(days=1)
            if not any(start <= r.recorded_at.date() <= end for r in metric.reports):
                found.append((index, start, end))
            start += every
    return found


EXTRA_CHOICES = st.tuples(
    st.integers(0, 10_000),
    st.integers(0, 10_000),
    st.integers(0, 10_000),
    VALUES,
    st.integers(0, 10),
)
"""Which empty window, which day and minute in it, the value, and how many days back."""


def extra_report(
    life: Life, facts: PlanFacts, script: Script, choice: tuple[int, int, int, Decimal, int]
) -> Extra | None:
    """One more report recorded in an empty window, on a day before the metric is due."""
    windows = empty_windows(life, facts, script)
    if not windows:
        return None
    which, day_pick, minute_pick, value, days_back = choice
    index, start, end = windows[which % len(windows)]
    metric = metric_facts(facts, life.metric_ids[index])
    last = min(end, min(t.due_date for t in metric.terms) - timedelta(days=1))
    day = start + timedelta(days=day_pick % ((last - start).days + 1))
    assert facts.activated_at is not None
    earliest = max(datetime.combine(day, time(0), tzinfo=UTC), facts.activated_at + MINUTE)
    minutes = (datetime.combine(day, time(23, 59), tzinfo=UTC) - earliest) // MINUTE
    if minutes < 0:
        return None
    at = earliest + minute_pick % (minutes + 1) * MINUTE
    days_back = min(days_back, (day - PERIOD_START).days)
    return Extra(at=at, metric=index, value=value, days_back=days_back)


@PROPERTY_SETTINGS
@given(script=scripts(), choice=EXTRA_CHOICES, offsets=DAY_OFFSETS)
def test_one_more_on_time_report_never_lowers_the_reporting_component(
    script: Script, choice: tuple[int, int, int, Decimal, int], offsets: list[int]
) -> None:
    """A report recorded in an empty window before the due date only ever raises R."""
    base = Life(script)
    facts = facts_of(base.positioned)
    assert facts is not None
    if facts.activated_at is None:
        event("never activated")
        return
    extra = extra_report(base, facts, script, choice)
    if extra is None:
        event("no empty window")
        return
    more = Life(script, extra)
    assert more.extra_event is not None, "the extra report was refused"
    others = [e for e in more.events if e is not more.extra_event]
    assert [(type(e), e.timestamp) for e in others] == [
        (type(e), e.timestamp) for e in base.events
    ], "slipping a report in changed the rest of the life"
    metric_id = more.metric_ids[extra.metric]
    more_facts = facts_of(more.positioned)
    assert more_facts is not None
    side = metric_facts(more_facts, metric_id).owner_side
    terms = metric_facts(more_facts, metric_id).terms
    every = script.report_every_days
    activated = more_facts.activated_at
    assert activated is not None
    window_end = activated.date() + timedelta(
        days=((extra.at.date() - activated.date()).days // every + 1) * every - 1
    )
    for day in days_to_check(offsets, more.positioned, more_facts):
        before = score(facts, day).sides
        after = score(more_facts, day).sides
        was, now = before[side].components[REPORTING], after[side].components[REPORTING]
        assert now.total == was.total
        assert now.met - was.met in {0, 1}
        if was.value is not None:
            assert now.value is not None
            assert now.value >= was.value
        if day >= window_end and window_end <= min(t.due_date for t in terms):
            assert now.met == was.met + 1, f"as of {day}, the window ending {window_end}"
        untouched = before[side.other].components[REPORTING]
        changed = after[side.other].components[REPORTING]
        assert (changed.met, changed.total) == (untouched.met, untouched.total)


@PROPERTY_SETTINGS
@given(script=scripts(activate=False), offsets=DAY_OFFSETS)
def test_a_plan_never_activated_has_no_score(script: Script, offsets: list[int]) -> None:
    """Without activation, every score and every component is null on every date."""
    life = Life(script)
    events = life.positioned
    assert activation_day(events) is None
    facts = facts_of(events)
    assert facts is not None
    for day in days_to_check(offsets, events, facts):
        assert all_none(score(facts, day)), f"a score on {day} for a plan never activated"


def every_report_kept(events: Positioned) -> PlanFacts | None:
    """The plan's facts with every progress report kept, none folded into a slot: the full
    recomputation that compact facts must agree with."""
    facts = facts_of(events)
    if facts is None:
        return None
    for metric in facts.metrics.values():
        metric.slots = {
            str(position): ReportSlot(ReportFact(e.value, e.as_of, e.timestamp, position), count=1)
            for position, e in events
            if isinstance(e, Plan.ProgressReported) and e.metric_id == metric.metric_id
        }
    return facts


@st.composite
def bursty_scripts(draw: st.DrawFn) -> Script:
    """A random plan life where a report is often followed, the same day, by more reports on
    the same metric: as of the same date, as of an earlier one, or of a later one."""
    script = draw(scripts())
    active: list[Step] = []
    for step in script.active:
        active.append(step)
        if step.action != "report" or draw(st.integers(0, 2)) == 0:
            continue
        pick, _, days_back, wrong_side = step.args
        for _ in range(draw(st.integers(1, 4))):
            back = max(0, days_back + draw(st.sampled_from([0, 0, 1, -1])))
            args = (pick, draw(VALUES), back, wrong_side)
            active.append(Step(draw(st.integers(0, 90)), "report", args))
    return replace(script, active=tuple(active))


@PROPERTY_SETTINGS
@given(script=bursty_scripts(), offsets=DAY_OFFSETS)
def test_compact_facts_give_what_every_report_gives(script: Script, offsets: list[int]) -> None:
    """Scores, components with their items, paces and histories from the compact facts equal
    those from every report, as of any date (past ones too, from all events and from those
    recorded by then), late-recorded reports included."""
    life = Life(script)
    events = life.positioned
    for day in days_to_check(offsets, events, facts_of(events) or PlanFacts.start(events[0][1])):
        for known in (events, recorded_by(events, day)):
            compact, full = facts_of(known), every_report_kept(known)
            if compact is None or full is None:
                continue
            kept = sum(len(m.reports) for m in compact.metrics.values())
            reports = sum(len(m.reports) for m in full.metrics.values())
            event("some reports folded" if kept < reports else "nothing to fold")
            mine, theirs = score(compact, day), score(full, day)
            assert not differences(mine, theirs), f"as of {day}: {differences(mine, theirs)}"
            for key, metric in compact.metrics.items():
                assert pace(metric, compact, day) == pace(full.metrics[key], full, day), day
            for side in Side:
                assert side_history(compact, mine.sides[side], day) == side_history(
                    full, theirs.sides[side], day
                ), (day, side)
