"""A side's accountability history: what it committed to, agreed, reported, attended, answered.

Entries that events record (commitments, agreements, reports, answers, attended reviews) point
at their event (reports once per metric, recorded day and kind: on time or late). Entries
that the passing of time decides (a review window missed, a request ignored, a metric missed)
are read off the score components for the date asked, and point at
the event that opened them when there is one; so the history is right as of any date.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Any

from ledger.domain import Side
from ledger.domain.rules import recorded_on
from projections.rules.facts import PlanFacts, ReportFact, StanceFact
from projections.rules.scoring import (
    DELIVERY,
    PROMPT_DAYS,
    RESPONSIVENESS,
    REVIEWS,
    SideScore,
    end_of_day,
    terms_as_of,
)
from projections.rules.text import decimal_text, moment

STANCES = {
    "proposed": ("agreed", "proposed {name} (and so agreed to it)"),
    "revised": ("agreed", "revised {name} (a counter-proposal it agrees to)"),
    "agreed": ("agreed", "agreed to {name}"),
    "committed": ("committed", "committed to the plan's terms"),
}


def _entry(at: datetime, kind: str, summary: str, position: int | None) -> dict[str, Any]:
    return {"recorded_at": moment(at), "kind": kind, "summary": summary, "event_position": position}


def side_history(facts: PlanFacts, side_score: SideScore, as_of: date) -> list[dict[str, Any]]:
    """The side's history as of the end of day ``as_of``, oldest first."""
    side = side_score.side
    horizon = end_of_day(as_of)
    entries = [
        _entry(
            stance.recorded_at,
            STANCES[stance.kind][0],
            STANCES[stance.kind][1].format(name=repr(_name_then(facts, stance))),
            stance.event_id,
        )
        for stance in facts.stances
        if stance.side is side and stance.recorded_at < horizon
    ]
    entries += _reports(facts, side, as_of)
    entries += _derived(side_score)
    entries.sort(key=lambda e: (e["recorded_at"], e["event_position"] or 0))
    return entries


def _name_then(facts: PlanFacts, stance: StanceFact) -> str:
    """The name of the metric a stance was taken on, as it was named at that moment."""
    metric = facts.metrics.get(str(stance.subject_id))
    return "?" if metric is None else metric.name_in(metric.terms_at(stance.recorded_at))


def _reports(facts: PlanFacts, side: Side, as_of: date) -> list[dict[str, Any]]:
    """Reported on time (recorded within grace_days of its as_of date) or late: one entry per
    metric (as it was on ``as_of``), recorded day and kind, naming the day's last such report
    and how many there were."""
    horizon = end_of_day(as_of)
    entries = []
    for metric in facts.metrics.values():
        terms = terms_as_of(metric, as_of)
        if terms is None or metric.owner_in(terms) is not side:
            continue
        counts = metric.counts()
        groups: dict[tuple[date, str], tuple[ReportFact, int]] = {}
        for report in metric.reports:
            if report.recorded_at >= horizon or not counts[report.event_id]:
                continue
            day = recorded_on(report.recorded_at)
            on_time = (day - report.as_of).days <= facts.grace_days
            kind = "reported_on_time" if on_time else "reported_late"
            _, count = groups.get((day, kind), (report, 0))
            groups[(day, kind)] = (report, count + counts[report.event_id])
        for (day, kind), (report, count) in groups.items():
            lag = (day - report.as_of).days
            summary = (
                f"reported {decimal_text(report.value)} on {metric.name_in(terms)!r} as of "
                f"{report.as_of.isoformat()}, {lag} day(s) later"
            )
            if count > 1:
                summary += f" (the last of {count} reports that day)"
            entries.append(_entry(report.recorded_at, kind, summary, report.event_id))
    return entries


def _derived(side_score: SideScore) -> list[dict[str, Any]]:
    """Reviews attended or missed, requests answered or ignored, metrics met or missed."""
    entries = []
    for item in side_score.components[REVIEWS].items:
        window = f"{item['window_start']} to {item['window_end']}"
        end = end_of_day(date.fromisoformat(item["window_end"])) - timedelta(microseconds=1)
        if item["met"]:
            entries.append(
                _entry(
                    end, "attended_review", f"attended a review in {window}", item["event_ids"][0]
                )
            )
        else:
            entries.append(_entry(end, "missed_review", f"no review attended in {window}", None))
    for item in side_score.components[RESPONSIVENESS].items:
        opened = datetime.fromisoformat(item["opened_at"])
        what = "agree to a metric" if item["kind"] == "agree_metric" else "answer an adjustment"
        if item["state"] == "answered":
            days = Fraction(item["days"])
            at = opened + timedelta(days=float(days))
            summary = f"answered a request to {what} after {float(days):.1f} day(s)"
            entries.append(_entry(at, "answered_request", summary, item["event_ids"][-1]))
        else:
            at = opened + timedelta(days=PROMPT_DAYS)
            summary = f"left a request to {what} unanswered for {PROMPT_DAYS} days or more"
            entries.append(_entry(at, "ignored_request", summary, item["event_ids"][0]))
    for item in side_score.components[DELIVERY].items:
        due = end_of_day(date.fromisoformat(item["due_date"])) - timedelta(microseconds=1)
        met = Fraction(item["attainment"]) == 1
        kind = "met_metric" if met else "missed_metric"
        summary = (
            f"{'met' if met else 'missed'} {item['name']!r}: {item['value'] or 'no report'} "
            f"against a target of {item['target']} due {item['due_date']}"
        )
        entries.append(_entry(due, kind, summary, item["event_ids"][-1]))
    return entries
