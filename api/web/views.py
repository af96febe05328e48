"""What each page shows, read with the same queries, rules and scope checks as the JSON API."""

from __future__ import annotations

import time as clock
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from api.auth import Principal, visible_partners
from api.integrity import NoCheckpoint
from api.reads import FACTS, today
from api.routes.directory import visible_partner
from api.routes.scores import series_point
from api.services import Services
from api.web.access import require_page
from api.web.explain import COMPONENT_TITLES
from ledger.domain import NotFound, Side
from ledger.integrity.signing import public_pem
from projections.models.directory import actor, partners
from projections.models.inbox import side_inbox
from projections.models.plan_state import plan_documents
from projections.models.plan_view import JSON
from projections.models.rollup_reads import RollupDays, registered_by
from projections.rules.attention import attention, waiting_requests
from projections.rules.facts import AGREE_METRIC, PlanFacts
from projections.rules.portfolio import NO_PLANS, PartnershipDay, manager_of
from projections.rules.rollups import (
    current_plan as current_of,
)
from projections.rules.rollups import (
    is_active,
    mean_score,
    partnership_score,
)
from projections.rules.series import series_days

TREND_BUDGET_SECONDS = 4.0
"""Seconds a trend request spends computing weeks not kept yet (it asks again for the rest)."""
PAGE_TREND_SECONDS = 0.3
"""Seconds the portfolio page itself spends on them (a small portfolio's trend comes at once)."""
SIDES = [side.value for side in Side]


# ------------------------------------------------------------- partnerships


@dataclass
class Partnership:
    """One partnership's line: its scores per side and what needs attention."""

    id: str
    name: str
    manager_id: str
    manager: str
    scores: dict[str, Decimal | None]
    active: bool
    attention: list[dict[str, str]] = field(default_factory=list)
    waiting: dict[str, int] = field(default_factory=dict)


def load_partnerships(
    services: Services, visible: list[UUID] | None
) -> tuple[list[JSON], dict[UUID, list[PlanFacts]], dict[str, str]]:
    """The partners in scope, their plans' score facts, and the managers' names."""
    services.catch_up()  # include what was written a moment ago
    with services.reading() as cursor:
        rows = partners(cursor, partner_ids=visible, limit=1_000_000)
        facts = {UUID(p["id"]): FACTS.of_partner(cursor, UUID(p["id"])) for p in rows}
        names = names_of(cursor, {p["manager_id"] for p in rows})
    return rows, facts, names


def partnership_lines(
    rows: list[JSON],
    facts: Mapping[UUID, Sequence[PlanFacts]],
    managers: Mapping[str, str],
    as_of: date,
) -> list[Partnership]:
    """Every partnership's scores (the roll-up rules) and attention reasons."""
    lines = []
    for row in rows:
        plans = facts[UUID(row["id"])]
        lines.append(
            Partnership(
                id=row["id"],
                name=row["name"],
                manager_id=row["manager_id"],
                manager=managers.get(row["manager_id"], row["manager_id"]),
                scores={s.value: partnership_score(plans, s, as_of).score for s in Side},
                active=any(is_active(p, as_of) for p in plans),
                attention=attention(row["id"], plans, as_of),
                waiting={s.value: waiting_requests(plans, s, as_of) for s in Side},
            )
        )
    return lines


def distribution(scores: Sequence[Decimal | None]) -> list[int]:
    """How many scores fall in each tenth of 0 to 100 (100 counts in the top tenth)."""
    bins = [0] * 10
    for value in scores:
        if value is not None:
            bins[min(9, int(value // 10))] += 1
    return bins


# ----------------------------------------------------------------- portfolio


def rollups(services: Services) -> RollupDays:
    """The roll-ups as of a date, kept per date (as ``GET /v1/portfolio`` reads them)."""
    return RollupDays(services.store, FACTS)


def day_lines(
    rows: list[JSON], days: Mapping[UUID, PartnershipDay], managers: Mapping[str, str]
) -> list[Partnership]:
    """Every partnership's line from its figures as of a day (kept by the roll-up model)."""
    lines = []
    for row in rows:
        day = days.get(UUID(row["id"]))
        if day is None:  # no plans: no scores, no active plan
            day = replace(NO_PLANS, attention=attention(row["id"], [], date.min))
        lines.append(
            Partnership(
                id=row["id"],
                name=row["name"],
                manager_id=row["manager_id"],
                manager=managers.get(row["manager_id"], row["manager_id"]),
                scores={s.value: day.score(s) for s in Side},
                active="active_plan" in day.flags,
                attention=day.attention,
                waiting={s.value: day.waiting_on(s) for s in Side},
            )
        )
    return lines


ATTENTION_PAGE = 200
"""Partnerships that need attention shown per page of the portfolio."""


def portfolio_page(
    services: Services, principal: Principal, as_of: date | None, start: int = 0
) -> JSON:
    """The leaders' dashboard: coverage against its target, the figures, managers, attention
    (``start``: the first of the attention list's page shown)."""
    require_page(principal, "portfolio")
    day = as_of or today(services)
    figures = portfolio_figures(services, day)
    kept = rollups(services)
    view = kept.leaders(day, lambda days: leaders_view(services, day, days))
    trend, complete = portfolio_trend(kept, day, figures, budget_seconds=PAGE_TREND_SECONDS)
    coverage = figures["active_plan"]
    target = figures["coverage_target"]
    attention = view["attention"]
    start = min(max(0, start), max(0, len(attention) - 1))
    return {
        "as_of": day,
        "figures": figures,
        "coverage": coverage,
        "target": target,
        "below_target": coverage["share"] is not None and coverage["share"] < target,
        "managers": view["managers"],
        "attention": attention[start : start + ATTENTION_PAGE],
        "attention_count": len(attention),
        "attention_from": start,
        "attention_page": ATTENTION_PAGE,
        "distribution": view["distribution"],
        "trend": trend,
        "trend_complete": complete,
    }


def leaders_view(services: Services, day: date, days: Mapping[UUID, PartnershipDay]) -> JSON:
    """The portfolio page's managers table, score spread and attention list as of a day,
    from every partnership's figures (kept per date by the roll-ups: ``RollupDays.leaders``)."""
    with services.reading() as cursor:
        rows = partners(cursor, limit=1_000_000)
        shown = set(registered_by(cursor, day))
        managers = names_of(cursor, {p["manager_id"] for p in rows})
    lines = day_lines([r for r in rows if UUID(r["id"]) in shown], days, managers)
    by_manager: dict[str, list[Partnership]] = {}
    for line in lines:
        by_manager.setdefault(line.manager_id, []).append(line)
    manager_rows = []
    for manager_id, owned in sorted(by_manager.items(), key=lambda kv: managers[kv[0]]):
        manager_rows.append(
            {
                "id": manager_id,
                "name": managers[manager_id],
                "score": mean_score(line.scores["vendor"] for line in owned),
                "partnerships": len(owned),
                "covered": sum(line.active for line in owned),
                "reviews_overdue": sum(
                    any(r["reason"] == "review overdue" for r in line.attention) for line in owned
                ),
                "requests_waiting": sum(line.waiting["vendor"] for line in owned),
            }
        )
    shown_fields = ("id", "name", "manager_id", "manager", "scores", "attention")
    return {
        "managers": manager_rows,
        "attention": [
            {name: getattr(line, name) for name in shown_fields} for line in lines if line.attention
        ],
        "distribution": {s: distribution([line.scores[s] for line in lines]) for s in SIDES},
    }


def portfolio_figures(services: Services, day: date) -> JSON:
    """The leadership figures as of a day, as ``GET /v1/portfolio`` gives them."""
    services.catch_up()  # include what was written a moment ago
    figures = rollups(services).portfolio(day)
    figures["coverage_target"] = services.server.coverage_target
    return figures


def portfolio_trend(
    kept: RollupDays, day: date, day_figures: JSON, *, budget_seconds: float
) -> tuple[list[JSON], bool]:
    """The figures every 7 days over the last 26 weeks (the series route's dates and rules),
    and whether every week is there: weeks not kept yet are computed (and kept), oldest
    first, for at most ``budget_seconds`` (the page asks for the rest, so no request runs
    long)."""
    deadline = clock.monotonic() + budget_seconds
    points: list[JSON] = []
    for when in series_days(None, day, 7)[:-1]:
        if clock.monotonic() >= deadline and not kept.has_portfolio(when):
            return points, False
        points.append(series_point(kept.portfolio(when)))
    return [*points, series_point(day_figures)], True


def portfolio_trend_part(services: Services, principal: Principal, as_of: date | None) -> JSON:
    """The portfolio's trend alone (the page loads it after itself when it takes long)."""
    require_page(principal, "portfolio")
    day = as_of or today(services)
    figures = portfolio_figures(services, day)
    trend, complete = portfolio_trend(
        rollups(services), day, figures, budget_seconds=TREND_BUDGET_SECONDS
    )
    return {
        "as_of": day,
        "trend": trend,
        "trend_complete": complete,
        "target": figures["coverage_target"],
    }


# ---------------------------------------------------------------- home pages


def home_page(services: Services, principal: Principal) -> JSON:
    """A manager's or partner contact's home: their inbox (the items and rules of
    ``GET /v1/me/inbox``) and their partnerships with each side's score."""
    day = today(services)
    with services.reading() as cursor:
        visible = visible_partners(cursor, principal)
    rows, facts, managers = load_partnerships(services, visible)
    side = Side(principal.side) if principal.side else Side.VENDOR
    lines = partnership_lines(rows, facts, managers, day)
    names = {line.id: line.name for line in lines}
    with services.reading() as cursor:
        found = side_inbox(cursor, visible or [], side, day)
    waiting = []
    for item in found:
        view = item.view()
        view["partner"] = names.get(view["partner_id"], "")
        view["component"] = COMPONENT_TITLES.get(item.component or "", "")
        waiting.append(view)
    return {"as_of": day, "side": side.value, "inbox": waiting, "partnerships": lines}


def request_subject(plan: PlanFacts, kind: str, subject_id: str) -> str:
    if kind == AGREE_METRIC:
        metric = plan.metrics.get(subject_id)
    else:
        adjustment = plan.adjustments.get(subject_id)
        metric = None if adjustment is None else plan.metrics.get(str(adjustment.metric_id))
    return repr(metric.name) if metric else "a metric"


# --------------------------------------------------------- partner, manager


def partner_page(services: Services, principal: Principal, partner_id: UUID) -> JSON:
    """A partnership: each side's score and the plans behind it."""
    partner = visible_partner(services, principal, partner_id)
    day = today(services)
    services.catch_up()
    with services.reading() as cursor:
        plans = FACTS.of_partner(cursor, partner_id)
        documents = plan_documents(cursor, partner_ids=[partner_id], limit=1_000)
        manager = actor(cursor, UUID(partner["manager_id"]))
    sides = {s.value: partnership_score(plans, s, day) for s in Side}
    rows = {s: {row["plan_id"]: row for row in sides[s].plans} for s in SIDES}
    plan_rows = []
    for document in sorted(documents, key=lambda d: d["period_start"], reverse=True):
        scores = {s: rows[s].get(document["id"], {}).get("score") for s in SIDES}
        plan_rows.append(
            {
                "id": document["id"],
                "title": document["title"],
                "status": document["status"],
                "period": f"{document['period_start']} to {document['period_end']}",
                "scores": scores,
                "weight": rows["vendor"].get(document["id"], {}).get("weight"),
            }
        )
    current = current_of(plans, day)
    return {
        "as_of": day,
        "partner": partner,
        "manager": manager,
        "scores": {s: sides[s].score for s in SIDES},
        "plans": plan_rows,
        "attention": attention(str(partner_id), plans, day),
        "current_plan_id": None if current is None else str(current.plan_id),
    }


def manager_page(services: Services, principal: Principal, manager_id: UUID) -> JSON:
    """A channel manager: their score and the partnerships (with plans) behind it."""
    if principal.role == "manager" and principal.id != manager_id:
        raise NotFound(f"manager {manager_id} not found")
    if principal.role != "manager":
        require_page(principal, "manager")
    day = today(services)
    with services.reading() as cursor:
        found = actor(cursor, manager_id)
    if found is None or found["role"] != "manager":
        raise NotFound(f"manager {manager_id} not found")
    services.catch_up()
    with services.reading() as cursor:
        rows = partners(cursor, manager_id=manager_id, limit=1_000_000)
        managers = names_of(cursor, {p["manager_id"] for p in rows})
    owned = [UUID(p["id"]) for p in rows]
    days = rollups(services).partnerships(day, owned)
    score, _ = manager_of(owned, days)
    lines = day_lines(rows, days, managers)
    current = {str(p): days.get(p, NO_PLANS).current_plan_id for p in owned}
    return {
        "as_of": day,
        "manager": found,
        "manager_score": score,
        "partnerships": lines,
        "current": current,
    }


def names_of(cursor: Any, ids: set[str]) -> dict[str, str]:
    names = {}
    for actor_id in ids:
        found = actor(cursor, UUID(actor_id))
        names[actor_id] = found["name"] if found else actor_id
    return names


# --------------------------------------------------------------------- audit


def audit_page(services: Services, principal: Principal) -> JSON:
    """The ledger's integrity: the verification, the latest signed checkpoint, the key."""
    require_page(principal, "audit")
    verdict = services.integrity.verify().as_dict()
    try:
        checkpoint: JSON | None = services.integrity.covering().as_dict()
    except NoCheckpoint as error:
        checkpoint, why = None, str(error)
    else:
        why = ""
    signer = services.integrity.signer
    key = None
    if signer is not None:
        key = {"key_id": signer.key_id, "pem": public_pem(signer.public_key)}
    return {"verdict": verdict, "checkpoint": checkpoint, "no_checkpoint": why, "key": key}
