"""The pace of a plan's metrics today, read off the Plan aggregate just saved by a command.

A command's response is rendered from the aggregate it changed (nothing to wait for), so its
metrics' pace comes from the aggregate too: its current terms, activation and the reports it
remembers (the latest, and the one that decides delivery), handed to the same rule as the
read models use (``projections.rules.scoring.pace``).
"""

from __future__ import annotations

from datetime import date

from ledger.domain import Plan
from ledger.domain.state import Metric, Report
from projections.rules.facts import MetricFacts, PlanFacts, ReportFact, TermsFact
from projections.rules.scoring import pace


def _reports(metric: Metric) -> list[ReportFact]:
    remembered: list[Report] = [r for r in (metric.deciding, metric.latest) if r is not None]
    return [
        ReportFact(r.value, r.as_of, r.recorded_at, order) for order, r in enumerate(remembered)
    ]


def _metric_facts(metric: Metric) -> MetricFacts:
    since = metric.terms_history[-1].effective_at  # a metric always has terms
    facts = MetricFacts(
        metric_id=metric.id,
        name=metric.name,
        owner_side=metric.owner_side,
        direction=metric.direction,
        proposed_at=since,
    )
    for report in _reports(metric):
        facts.add_report(report)
    facts.terms.append(TermsFact(since, metric.target, metric.due_date, metric.retired, 0))
    return facts


def paces(plan: Plan, today: date) -> dict[str, str | None]:
    """Each metric's pace (by id text) as of ``today``."""
    if plan.activated_at is None:
        return dict.fromkeys(plan.metrics)
    facts = PlanFacts(
        plan_id=plan.id,
        partner_id=plan.partner_id,
        period_end=plan.period_end,
        report_every_days=plan.report_every_days,
        review_every_days=plan.review_every_days,
        grace_days=plan.grace_days,
        activated_at=plan.activated_at,
    )
    result: dict[str, str | None] = {}
    for key, metric in plan.metrics.items():
        found = pace(_metric_facts(metric), facts, today)
        result[key] = None if found is None else found.value
    return result
