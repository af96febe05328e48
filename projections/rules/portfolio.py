"""The portfolio view of docs/scoring.md, from each partnership's figures as of one day.

A partnership's figures as of a day (``PartnershipDay``) are all the portfolio, the manager
roll-up and the dashboard need of it; they are kept per day by the roll-up read model
(docs/projections.md), and the portfolio is summed from them in registration-list order, so
the floating-point sums (and the digit they round to) are those of a computation from facts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from ledger.domain import Side
from projections.rules.attention import attention, waiting_requests
from projections.rules.facts import PlanFacts
from projections.rules.rollups import (
    all_agreed,
    current_plan,
    is_active,
    mean_score,
    partnership_score,
    plan_pace,
    reviewed_within,
    share,
)
from projections.rules.scoring import Pace, live_metrics

PACES = (Pace.ON_TRACK, Pace.AT_RISK, Pace.OFF_TRACK)
FLAGS = ("active_plan", "metrics_on_both_sides", "all_metrics_agreed", "reviewed_recently")


@dataclass(frozen=True)
class PartnershipDay:
    """One partnership's figures as of a day: each side's score, the portfolio's flags, its
    active plans by pace, the requests waiting per side, its attention reasons and the plan
    in force (None before its first plan was drafted)."""

    vendor: Decimal | None = None
    partner: Decimal | None = None
    flags: frozenset[str] = frozenset()
    paces: tuple[int, int, int] = (0, 0, 0)
    waiting: tuple[int, int] = (0, 0)
    attention: list[dict[str, str]] = field(default_factory=list)
    current_plan_id: str | None = None

    def score(self, side: Side) -> Decimal | None:
        """The side's partnership score."""
        return self.vendor if side is Side.VENDOR else self.partner

    def waiting_on(self, side: Side) -> int:
        """Requests waiting for the side's answer."""
        return self.waiting[0] if side is Side.VENDOR else self.waiting[1]


def partnership_day(partner_id: UUID, plans: Sequence[PlanFacts], as_of: date) -> PartnershipDay:
    """A partnership's figures as of a day, from its plans' facts."""
    paces = dict.fromkeys(PACES, 0)
    for plan in plans:
        if is_active(plan, as_of) and (plan_state := plan_pace(plan, as_of)) is not None:
            paces[plan_state] += 1
    flags: set[str] = set()
    current = current_plan(plans, as_of)
    if current is not None:
        checks = {
            "active_plan": any(is_active(p, as_of) for p in plans),
            "metrics_on_both_sides": all(live_metrics(current, side, as_of) for side in Side),
            "all_metrics_agreed": all_agreed(current, as_of),
            "reviewed_recently": reviewed_within(plans, current.review_every_days, as_of),
        }
        flags = {name for name, held in checks.items() if held}
    return PartnershipDay(
        vendor=partnership_score(plans, Side.VENDOR, as_of).score,
        partner=partnership_score(plans, Side.PARTNER, as_of).score,
        flags=frozenset(flags),
        paces=(paces[Pace.ON_TRACK], paces[Pace.AT_RISK], paces[Pace.OFF_TRACK]),
        waiting=(
            waiting_requests(plans, Side.VENDOR, as_of),
            waiting_requests(plans, Side.PARTNER, as_of),
        ),
        attention=attention(str(partner_id), plans, as_of),
        current_plan_id=None if current is None else str(current.plan_id),
    )


NO_PLANS = PartnershipDay()


def portfolio_of(
    registered: Iterable[UUID], days: Mapping[UUID, PartnershipDay], as_of: date
) -> dict[str, Any]:
    """The leadership figures of docs/scoring.md, each a count and a share of partnerships,
    from the figures of the partnerships registered by the day (in this order; a partnership
    without figures has no plans)."""
    counts = dict.fromkeys(FLAGS, 0)
    paces = dict.fromkeys(PACES, 0)
    scores: dict[Side, list[Decimal | None]] = {side: [] for side in Side}
    total = 0
    for partner_id in registered:
        total += 1
        day = days.get(partner_id, NO_PLANS)
        scores[Side.VENDOR].append(day.vendor)
        scores[Side.PARTNER].append(day.partner)
        for pace_, count in zip(PACES, day.paces, strict=True):
            paces[pace_] += count
        for flag in day.flags:
            counts[flag] += 1
    return {
        "as_of": as_of.isoformat(),
        "partnerships": total,
        **{name: {"count": n, "share": share(n, total)} for name, n in counts.items()},
        "mean_score": {side.value: mean_score(scores[side]) for side in Side},
        "plans_by_pace": {pace_.value: n for pace_, n in paces.items()},
    }


def portfolio(partnerships: Mapping[UUID, Sequence[PlanFacts]], as_of: date) -> dict[str, Any]:
    """The leadership figures as of a day, computed from every partnership's plans' facts."""
    days = {p: partnership_day(p, plans, as_of) for p, plans in partnerships.items()}
    return portfolio_of(partnerships, days, as_of)


def manager_of(
    owned: Sequence[UUID], days: Mapping[UUID, PartnershipDay]
) -> tuple[Decimal | None, list[dict[str, Any]]]:
    """A manager's score (the mean of their partnerships' vendor-side scores), and the rows."""
    scores = [days.get(p, NO_PLANS).vendor for p in owned]
    rows = [{"partner_id": str(p), "score": s} for p, s in zip(owned, scores, strict=True)]
    return mean_score(scores), rows
