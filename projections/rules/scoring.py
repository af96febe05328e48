"""The score rules of docs/scoring.md (rule version 1) as pure functions of plan facts and a date.

Exact arithmetic throughout (``fractions.Fraction``); rounding happens once, half-up, at the
end. Every component carries its counts and, per item, the ids of the events behind it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from fractions import Fraction
from typing import Any

from ledger.domain import Side
from ledger.domain.rules import attainment, counts_for_delivery, recorded_on
from projections.rules.facts import MetricFacts, PlanFacts, ReportFact, RequestFact, TermsFact

RULE_VERSION = 1
DELIVERY, REPORTING, REVIEWS, RESPONSIVENESS = "delivery", "reporting", "reviews", "responsiveness"
WEIGHTS: dict[str, Fraction] = {
    DELIVERY: Fraction(2, 5),
    REPORTING: Fraction(1, 5),
    REVIEWS: Fraction(1, 5),
    RESPONSIVENESS: Fraction(1, 5),
}
PROMPT_DAYS = 5
LATE_DAYS = 10
MICROSECONDS_PER_DAY = 86_400 * 1_000_000


class Pace(Enum):
    """How a metric is doing against its due date (shown on plans, not scored)."""

    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    OFF_TRACK = "off_track"
    MET = "met"
    MISSED = "missed"


@dataclass(frozen=True)
class Component:
    """One component of a side's score: its exact value (or None), counts and items."""

    name: str
    value: Fraction | None
    met: int
    total: int
    items: list[dict[str, Any]] = field(default_factory=list)

    @property
    def weight(self) -> Fraction:
        """The component's weight in the score."""
        return WEIGHTS[self.name]

    @property
    def rounded(self) -> Decimal | None:
        """The value rounded half-up to four decimals, as reported."""
        return None if self.value is None else round_half_up(self.value, 4)


@dataclass(frozen=True)
class SideScore:
    """A side's score as of a date, with every component."""

    side: Side
    exact: Fraction | None
    components: dict[str, Component]

    @property
    def score(self) -> Decimal | None:
        """0 to 100, rounded half-up to one decimal; None when no component is available."""
        return None if self.exact is None else round_half_up(self.exact, 1)


@dataclass(frozen=True)
class PlanScore:
    """Both sides' scores of one plan as of a date."""

    plan_id: Any
    as_of: date
    sides: dict[Side, SideScore]
    rule_version: int = RULE_VERSION


def round_half_up(value: Fraction, places: int) -> Decimal:
    """Round a non-negative exact value half-up to ``places`` decimals."""
    scale = 10**places
    return Decimal(math.floor(value * scale + Fraction(1, 2))).scaleb(-places)


def days_between(start: datetime, end: datetime) -> Fraction:
    """Exact days (fractional) between two recorded times."""
    return Fraction((end - start) // timedelta(microseconds=1), MICROSECONDS_PER_DAY)


def end_of_day(day: date) -> datetime:
    """The first instant after ``day`` (UTC)."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC)


def score(facts: PlanFacts, as_of: date) -> PlanScore:
    """Both sides' scores of a plan as of the end of day ``as_of`` (docs/scoring.md, rule 1)."""
    return PlanScore(
        plan_id=facts.plan_id,
        as_of=as_of,
        sides={side: side_score(facts, side, as_of) for side in Side},
    )


def side_score(facts: PlanFacts, side: Side, as_of: date) -> SideScore:
    """One side's score: the weighted mean of its available components, times 100."""
    activated = activation(facts, as_of)
    if activated is None:
        empty = {name: Component(name, None, 0, 0) for name in WEIGHTS}
        return SideScore(side, None, empty)
    components = {
        DELIVERY: delivery(facts, side, as_of),
        REPORTING: reporting(facts, side, as_of, activated),
        REVIEWS: reviews(facts, side, as_of, activated),
        RESPONSIVENESS: responsiveness(facts, side, as_of),
    }
    available = [c for c in components.values() if c.value is not None]
    if not available:
        return SideScore(side, None, components)
    weighted = sum((c.weight * c.value for c in available if c.value is not None), Fraction(0))
    exact = 100 * weighted / sum((c.weight for c in available), Fraction(0))
    return SideScore(side, exact, components)


def activation(facts: PlanFacts, as_of: date) -> date | None:
    """A: the recorded date of activation, if it happened by the end of ``as_of``."""
    if facts.activated_at is None or recorded_on(facts.activated_at) > as_of:
        return None
    return recorded_on(facts.activated_at)


def terms_as_of(metric: MetricFacts, as_of: date) -> TermsFact | None:
    """The metric's terms in force at the end of ``as_of`` (None before it was proposed)."""
    current = None
    for terms in metric.terms:
        if recorded_on(terms.recorded_at) > as_of:
            break
        current = terms
    return current


def live_metrics(facts: PlanFacts, side: Side, as_of: date) -> list[tuple[MetricFacts, TermsFact]]:
    """The side's metrics as of the date with their terms; retired metrics are left out."""
    live = []
    for metric in facts.metrics.values():
        terms = terms_as_of(metric, as_of)
        if terms is not None and metric.owner_in(terms) is side and not terms.retired:
            live.append((metric, terms))
    return live


def deciding_report(
    metric: MetricFacts, terms: TermsFact, grace_days: int, as_of: date
) -> ReportFact | None:
    """The latest report (by as_of, then recording order) that counts for delivery."""
    eligible = [
        r
        for r in metric.reports
        if recorded_on(r.recorded_at) <= as_of
        and counts_for_delivery(r.as_of, r.recorded_at, terms.due_date, grace_days)
    ]
    return max(eligible, key=lambda r: (r.as_of, r.event_id), default=None)


def delivery(facts: PlanFacts, side: Side, as_of: date) -> Component:
    """D: mean attainment of the side's metrics due by the date."""
    items: list[dict[str, Any]] = []
    values: list[Fraction] = []
    for metric, terms in live_metrics(facts, side, as_of):
        if terms.due_date > as_of:
            continue
        report = deciding_report(metric, terms, facts.grace_days, as_of)
        value = report.value if report else None
        achieved = attainment(metric.direction_in(terms), terms.target, value)
        values.append(achieved)
        items.append(
            {
                "metric_id": str(metric.metric_id),
                "name": metric.name_in(terms),
                "target": str(terms.target),
                "due_date": terms.due_date.isoformat(),
                "value": None if value is None else str(value),
                "as_of": None if report is None else report.as_of.isoformat(),
                "attainment": str(round_half_up(achieved, 4)),
                "event_ids": [terms.event_id] + ([report.event_id] if report else []),
            }
        )
    return _mean(DELIVERY, values, items)


def reporting(facts: PlanFacts, side: Side, as_of: date, activated: date) -> Component:
    """R: elapsed reporting windows with at least one report recorded inside them (each
    window's item names the first such report)."""
    every = facts.report_every_days
    items: list[dict[str, Any]] = []
    met = 0
    for metric, terms in live_metrics(facts, side, as_of):
        last_day = min(as_of, terms.due_date)
        reported = [(recorded_on(r.recorded_at), r.event_id) for r in metric.reports]
        for start, end in windows(activated, every, last_day):
            hits = [event_id for day, event_id in reported if start <= day <= end][:1]
            met += bool(hits)
            items.append(
                {
                    "metric_id": str(metric.metric_id),
                    "window_start": start.isoformat(),
                    "window_end": end.isoformat(),
                    "met": bool(hits),
                    "event_ids": hits,
                }
            )
    return _ratio(REPORTING, met, items)


def reviews(facts: PlanFacts, side: Side, as_of: date, activated: date) -> Component:
    """V: elapsed review windows with a review attended by the side (held inside the window)."""
    items: list[dict[str, Any]] = []
    met = 0
    last_day = min(as_of, facts.period_end)
    for start, end in windows(activated, facts.review_every_days, last_day):
        hits = [
            r.event_id
            for r in facts.reviews
            if start <= r.held_on <= end and recorded_on(r.recorded_at) <= as_of and side in r.sides
        ]
        met += bool(hits)
        items.append(
            {
                "window_start": start.isoformat(),
                "window_end": end.isoformat(),
                "met": bool(hits),
                "event_ids": hits,
            }
        )
    return _ratio(REVIEWS, met, items)


def responsiveness(facts: PlanFacts, side: Side, as_of: date) -> Component:
    """P: how promptly the side answered what needed its answer."""
    horizon = end_of_day(as_of)
    items: list[dict[str, Any]] = []
    credits: list[Fraction] = []
    for request in facts.requests:
        if request.side is not side or request.opened_at >= horizon:
            continue
        outcome = _request_outcome(request, horizon)
        if outcome is None:
            continue
        state, days, credit, closing_event = outcome
        credits.append(credit)
        items.append(
            {
                "kind": request.kind,
                "subject_id": str(request.subject_id),
                "opened_at": request.opened_at.isoformat(),
                "state": state,
                "days": str(round_half_up(days, 4)),
                "credit": str(credit),
                "event_ids": [request.opened_by]
                + ([closing_event] if closing_event is not None else []),
            }
        )
    return _mean(RESPONSIVENESS, credits, items)


def _request_outcome(
    request: RequestFact, horizon: datetime
) -> tuple[str, Fraction, Fraction, int | None] | None:
    """(state, days, credit, closing event) of a request as of ``horizon``; None: left out."""
    if request.answered_at is not None and request.answered_at < horizon:
        days = days_between(request.opened_at, request.answered_at)
        if days <= PROMPT_DAYS:
            credit = Fraction(1)
        elif days <= LATE_DAYS:
            credit = Fraction(1, 2)
        else:
            credit = Fraction(0)
        return "answered", days, credit, request.answered_by
    if request.superseded_at is not None and request.superseded_at < horizon:
        days = days_between(request.opened_at, request.superseded_at)
        state, closing = "superseded", request.superseded_by
    else:
        days = days_between(request.opened_at, horizon)
        state, closing = "unanswered", None
    if days < PROMPT_DAYS:
        return None
    return state, days, Fraction(0), closing


def window(start: date, every: int, k: int) -> tuple[date, date]:
    """The k-th window ``[start + k·every, start + (k+1)·every)`` as (first day, last day)."""
    return start + timedelta(days=k * every), start + timedelta(days=(k + 1) * every - 1)


def window_containing(start: date, every: int, day: date) -> tuple[date, date]:
    """The window that ``day`` (on or after ``start``) falls in: the current window."""
    return window(start, every, max(0, (day - start).days) // every)


def windows(start: date, every: int, last_day: date) -> list[tuple[date, date]]:
    """The windows [start + k·every, start + (k+1)·every) fully elapsed by ``last_day``."""
    result = []
    k = 0
    while (current := window(start, every, k))[1] <= last_day:
        result.append(current)
        k += 1
    return result


def _mean(name: str, values: list[Fraction], items: list[dict[str, Any]]) -> Component:
    if not values:
        return Component(name, None, 0, 0, items)
    met = sum(1 for v in values if v == 1)
    return Component(name, sum(values, Fraction(0)) / len(values), met, len(values), items)


def _ratio(name: str, met: int, items: list[dict[str, Any]]) -> Component:
    if not items:
        return Component(name, None, 0, 0, items)
    return Component(name, Fraction(met, len(items)), met, len(items), items)


def pace(metric: MetricFacts, facts: PlanFacts, as_of: date) -> Pace | None:
    """A metric's pace as of a date: null before activation and for retired metrics."""
    activated = activation(facts, as_of)
    terms = terms_as_of(metric, as_of)
    if activated is None or terms is None or terms.retired:
        return None
    if as_of > terms.due_date:
        report = deciding_report(metric, terms, facts.grace_days, as_of)
        direction = metric.direction_in(terms)
        achieved = attainment(direction, terms.target, report.value if report else None)
        return Pace.MET if achieved == 1 else Pace.MISSED
    expected = Fraction((as_of - activated).days + 1, (terms.due_date - activated).days + 1)
    expected = min(Fraction(1), max(Fraction(0), expected))
    recorded = [r for r in metric.reports if recorded_on(r.recorded_at) <= as_of]
    latest = max(recorded, key=lambda r: (r.as_of, r.event_id), default=None)
    achieved = attainment(
        metric.direction_in(terms), terms.target, latest.value if latest else None
    )
    if achieved >= expected:
        return Pace.ON_TRACK
    if achieved >= Fraction(3, 4) * expected:
        return Pace.AT_RISK
    return Pace.OFF_TRACK
