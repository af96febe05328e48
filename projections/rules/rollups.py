"""Roll-ups of docs/scoring.md: partnership, manager and partner scores, and the portfolio view.

Roll-ups are floating point over the plans' displayed scores (one decimal), rounded half-up
to one decimal; shares are fractions of all partnerships, rounded to four decimals.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

from ledger.domain import Side
from ledger.domain.rules import recorded_on
from projections.rules.facts import AGREE_METRIC, PlanFacts
from projections.rules.scoring import (
    Pace,
    activation,
    end_of_day,
    live_metrics,
    pace,
    side_score,
)

HALF_LIFE_DAYS = 90
PACE_ORDER = {Pace.OFF_TRACK: 0, Pace.MISSED: 0, Pace.AT_RISK: 1, Pace.ON_TRACK: 2, Pace.MET: 2}


def one_decimal(value: float) -> Decimal:
    """A float rounded half-up to one decimal (via its shortest decimal representation)."""
    return Decimal(repr(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def share(count: int, total: int) -> Decimal | None:
    """count / total rounded half-up to four decimals; None when there is nothing to share."""
    if total == 0:
        return None
    return (Decimal(count) / Decimal(total)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def age_weight(period_end: date, as_of: date) -> float:
    """An old plan counts half as much per 90 days after its period ended."""
    return float(0.5 ** (max(0, (as_of - period_end).days) / HALF_LIFE_DAYS))


@dataclass(frozen=True)
class PartnershipScore:
    """A partnership's score for one side, with the plans that made it."""

    score: Decimal | None
    plans: list[dict[str, Any]]


def partnership_score(plans: Iterable[PlanFacts], side: Side, as_of: date) -> PartnershipScore:
    """Weighted mean of the side's non-null plan scores, each weighted by its age."""
    rows, weighted, weights = [], 0.0, 0.0
    for facts in plans:
        plan_score = side_score(facts, side, as_of).score
        weight = age_weight(facts.period_end, as_of)
        rows.append(
            {
                "plan_id": str(facts.plan_id),
                "score": None if plan_score is None else float(plan_score),
                "weight": round(weight, 6),
            }
        )
        if plan_score is not None:
            weighted += weight * float(plan_score)
            weights += weight
    score = one_decimal(weighted / weights) if weights else None
    return PartnershipScore(score, rows)


def mean_score(scores: Iterable[Decimal | None]) -> Decimal | None:
    """The mean of the non-null scores, rounded half-up to one decimal."""
    present = [float(s) for s in scores if s is not None]
    return one_decimal(sum(present) / len(present)) if present else None


def manager_score(
    partnerships: Mapping[UUID, Sequence[PlanFacts]], as_of: date
) -> tuple[Decimal | None, list[dict[str, Any]]]:
    """The mean of the vendor-side partnership scores of the partnerships a manager owns."""
    scores = {
        p: partnership_score(plans, Side.VENDOR, as_of).score for p, plans in partnerships.items()
    }
    rows = [{"partner_id": str(p), "score": score} for p, score in scores.items()]
    return mean_score(scores.values()), rows


def current_plan(plans: Sequence[PlanFacts], as_of: date) -> PlanFacts | None:
    """The partnership's plan in force: the latest-starting open plan, else the latest one."""
    drafted = [p for p in plans if p.drafted_at is not None and recorded_on(p.drafted_at) <= as_of]
    if not drafted:
        return None

    def key(p: PlanFacts) -> tuple[date, str]:
        return (p.period_start or p.period_end, str(p.plan_id))

    open_plans = [p for p in drafted if p.closed_at is None or recorded_on(p.closed_at) > as_of]
    return max(open_plans or drafted, key=key)


def is_active(plan: PlanFacts, as_of: date) -> bool:
    """Activated (both sides committed) and not closed, as of the date."""
    closed = plan.closed_at is not None and recorded_on(plan.closed_at) <= as_of
    return activation(plan, as_of) is not None and not closed


def all_agreed(plan: PlanFacts, as_of: date) -> bool:
    """The plan has metrics and none awaits a side's agreement as of the date."""
    horizon = end_of_day(as_of)
    proposed = [m for m in plan.metrics.values() if m.proposed_at < horizon]
    awaiting = [
        r
        for r in plan.requests
        if r.kind == AGREE_METRIC
        and r.opened_at < horizon
        and not (r.answered_at is not None and r.answered_at < horizon)
        and not (r.superseded_at is not None and r.superseded_at < horizon)
    ]
    return bool(proposed) and not awaiting


def plan_pace(plan: PlanFacts, as_of: date) -> Pace | None:
    """The worst pace among the plan's live metrics (met counts as on track, missed as off)."""
    paces = [
        p
        for side in Side
        for metric, _ in live_metrics(plan, side, as_of)
        if (p := pace(metric, plan, as_of)) is not None
    ]
    if not paces:
        return None
    worst = min(paces, key=PACE_ORDER.__getitem__)
    return {0: Pace.OFF_TRACK, 1: Pace.AT_RISK, 2: Pace.ON_TRACK}[PACE_ORDER[worst]]


def reviewed_within(plans: Sequence[PlanFacts], days: int, as_of: date) -> bool:
    """A review held in the last ``days`` days (recorded by the date) on any of the plans."""
    since = as_of - timedelta(days=days - 1)
    return any(
        since <= review.held_on <= as_of and recorded_on(review.recorded_at) <= as_of
        for plan in plans
        for review in plan.reviews
    )
