"""What is waiting on whom: a plan's inbox items per side, from the score's facts and rules.

Every item names the score component it protects and the day by which acting keeps that
component at full credit, using the same facts and the same rule functions as the score
(reporting and review windows, the five-day answer rule, the deciding report), so the inbox
and the score never disagree about what is late. See docs/notifications.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID

from ledger.domain import Side
from ledger.domain.rules import recorded_on
from projections.rules.facts import AGREE_METRIC, ANSWER_ADJUSTMENT, PlanFacts, RequestFact
from projections.rules.scoring import (
    DELIVERY,
    PROMPT_DAYS,
    REPORTING,
    RESPONSIVENESS,
    REVIEWS,
    activation,
    deciding_report,
    end_of_day,
    live_metrics,
    terms_as_of,
    window_containing,
)
from projections.rules.text import moment

COMMIT, REPORT_PROGRESS, RECORD_REVIEW, CLOSE_PLAN = (
    "commit",
    "report_progress",
    "record_review",
    "close_plan",
)
KINDS = (AGREE_METRIC, ANSWER_ADJUSTMENT, COMMIT, REPORT_PROGRESS, RECORD_REVIEW, CLOSE_PLAN)


@dataclass(frozen=True)
class InboxItem:
    """One thing a side of a plan should do, by when, and what it protects in the score."""

    kind: str
    side: Side
    plan_id: UUID
    partner_id: UUID
    title: str
    waiting_since: datetime
    act_by: date | None
    component: str | None
    detail: str
    method: str
    path: str
    metric_id: UUID | None = None
    adjustment_id: UUID | None = None
    window_start: date | None = None

    @property
    def key(self) -> str:
        """What identifies the item across days: kind, plan, subject and (for windows) window."""
        subject = self.adjustment_id or self.metric_id or ""
        window = "" if self.window_start is None else self.window_start.isoformat()
        return f"{self.kind}:{self.plan_id}:{subject}:{window}:{self.side.value}"

    def view(self) -> dict[str, Any]:
        """The item as ``GET /v1/me/inbox`` shows it."""
        return {
            "kind": self.kind,
            "key": self.key,
            "side": self.side.value,
            "plan_id": str(self.plan_id),
            "partner_id": str(self.partner_id),
            "metric_id": None if self.metric_id is None else str(self.metric_id),
            "adjustment_id": None if self.adjustment_id is None else str(self.adjustment_id),
            "title": self.title,
            "waiting_since": moment(self.waiting_since),
            "act_by": None if self.act_by is None else self.act_by.isoformat(),
            "at_stake": {"component": self.component, "detail": self.detail},
            "action": {"method": self.method, "path": self.path},
        }


def in_order(items: list[InboxItem]) -> list[InboxItem]:
    """Items by ``act_by`` (none last), then by how long they have waited."""
    return sorted(
        items,
        key=lambda i: (i.act_by is None, i.act_by or date.max, i.waiting_since, i.key),
    )


def answer_by(request: RequestFact) -> date:
    """The ``act_by`` of a request: its recorded date plus the five days of full credit.

    Answering on an earlier day is always within five days; the exact limit is the request's
    recorded time plus five days (responsiveness counts exact durations).
    """
    return recorded_on(request.opened_at) + timedelta(days=PROMPT_DAYS)


def midnight(day: date) -> datetime:
    """The first instant of a day (UTC)."""
    return datetime.combine(day, time(0), tzinfo=UTC)


def plan_inbox(facts: PlanFacts, title: str, as_of: date) -> list[InboxItem]:
    """Every open item of a plan for both sides as of the end of day ``as_of``."""
    horizon = end_of_day(as_of)
    if facts.drafted_at is not None and facts.drafted_at >= horizon:
        return []
    if facts.closed_at is not None and facts.closed_at < horizon:
        return []
    base = f"/v1/plans/{facts.plan_id}"
    items = _requests(facts, title, horizon, base)
    activated = activation(facts, as_of)
    if activated is None:
        items += _commitments(facts, title, horizon, base)
    else:
        items += _reports(facts, title, as_of, activated, base)
        items += _reviews(facts, title, as_of, activated, base)
    if as_of > facts.period_end:
        for side in Side:
            items.append(
                InboxItem(
                    kind=CLOSE_PLAN,
                    side=side,
                    plan_id=facts.plan_id,
                    partner_id=facts.partner_id,
                    title=f"Close {title!r}: its period ended on {facts.period_end}",
                    waiting_since=midnight(facts.period_end + timedelta(days=1)),
                    act_by=None,
                    component=None,
                    detail="closing grades each metric met or missed and ends the plan's "
                    "open requests; the score itself does not change",
                    method="POST",
                    path=f"{base}/close",
                )
            )
    return items


def _is_open(request: RequestFact, horizon: datetime) -> bool:
    if request.opened_at >= horizon:
        return False
    if request.answered_at is not None and request.answered_at < horizon:
        return False
    return request.superseded_at is None or request.superseded_at >= horizon


def _requests(facts: PlanFacts, title: str, horizon: datetime, base: str) -> list[InboxItem]:
    """Metrics to agree to and adjustments to answer, each within five days."""
    items = []
    for request in facts.requests:
        if not _is_open(request, horizon):
            continue
        detail = (
            f"responsiveness: answered within {PROMPT_DAYS} days of {moment(request.opened_at)} "
            "counts in full, within 10 days half, later nothing"
        )
        common: dict[str, Any] = {
            "side": request.side,
            "plan_id": facts.plan_id,
            "partner_id": facts.partner_id,
            "waiting_since": request.opened_at,
            "act_by": answer_by(request),
            "component": RESPONSIVENESS,
            "detail": detail,
            "method": "POST",
        }
        if request.kind == AGREE_METRIC:
            metric = facts.metrics[str(request.subject_id)]
            items.append(
                InboxItem(
                    kind=AGREE_METRIC,
                    title=f"Agree to the metric {metric.name!r} of {title!r}",
                    path=f"{base}/metrics/{request.subject_id}/agree",
                    metric_id=request.subject_id,
                    **common,
                )
            )
        elif request.kind == ANSWER_ADJUSTMENT:
            adjustment = facts.adjustments[str(request.subject_id)]
            metric = facts.metrics[str(adjustment.metric_id)]
            change = adjustment.kind.value.replace("_", " ")
            acceptable = _acceptable(facts, adjustment.metric_id, adjustment.new_due_date, horizon)
            answer = "accept" if acceptable else "reject"
            items.append(
                InboxItem(
                    kind=ANSWER_ADJUSTMENT,
                    title=f"Accept or reject the proposed {change} of {metric.name!r} in {title!r}",
                    path=f"{base}/adjustments/{request.subject_id}/{answer}",
                    metric_id=adjustment.metric_id,
                    adjustment_id=request.subject_id,
                    **common,
                )
            )
    return items


def _acceptable(
    facts: PlanFacts, metric_id: UUID, new_due_date: date | None, horizon: datetime
) -> bool:
    """Whether the plan still lets an adjustment of the metric be accepted (not yet due)."""
    today = (horizon - timedelta(microseconds=1)).date()
    terms = terms_as_of(facts.metrics[str(metric_id)], today)
    if terms is None or today >= terms.due_date:
        return False
    return new_due_date is None or new_due_date > today


def _commitments(facts: PlanFacts, title: str, horizon: datetime, base: str) -> list[InboxItem]:
    """A side that has not committed to terms both sides agreed in full."""
    if any(_is_open(r, horizon) and r.kind == AGREE_METRIC for r in facts.requests):
        return []
    today = (horizon - timedelta(microseconds=1)).date()
    owners = {m.owner_side for m in facts.metrics.values() if terms_as_of(m, today) is not None}
    if owners != set(Side):
        return []
    stances = [s for s in facts.stances if s.recorded_at < horizon]
    changes = [s for s in stances if s.kind in {"proposed", "revised"}]
    if not changes:
        return []
    changed = max(s.event_id for s in changes)
    agreed = max(s.recorded_at for s in stances if s.kind != "committed")
    items = []
    for side in Side:
        if any(s.side is side and s.kind == "committed" and s.event_id > changed for s in stances):
            continue
        items.append(
            InboxItem(
                kind=COMMIT,
                side=side,
                plan_id=facts.plan_id,
                partner_id=facts.partner_id,
                title=f"Commit to {title!r}: both sides agreed every metric",
                waiting_since=agreed,
                act_by=None,
                component=None,
                detail="the plan becomes active, and each side is scored, once both sides "
                "commit to the agreed terms",
                method="POST",
                path=f"{base}/commit",
            )
        )
    return items


def _reports(
    facts: PlanFacts, title: str, as_of: date, activated: date, base: str
) -> list[InboxItem]:
    """Metrics whose current reporting window has no report yet, or whose delivery has none."""
    items = []
    for side in Side:
        for metric, terms in live_metrics(facts, side, as_of):
            if as_of > terms.due_date + timedelta(days=facts.grace_days):
                continue
            recorded = [r for r in metric.reports if recorded_on(r.recorded_at) <= as_of]
            start, end = window_containing(activated, facts.report_every_days, as_of)
            common: dict[str, Any] = {
                "kind": REPORT_PROGRESS,
                "side": side,
                "plan_id": facts.plan_id,
                "partner_id": facts.partner_id,
                "method": "POST",
                "path": f"{base}/metrics/{metric.metric_id}/progress",
                "metric_id": metric.metric_id,
            }
            if as_of <= terms.due_date and end <= terms.due_date:
                if any(start <= recorded_on(r.recorded_at) for r in recorded):
                    continue
                items.append(
                    InboxItem(
                        title=f"Report progress on {metric.name!r} of {title!r} "
                        f"for the window {start} to {end}",
                        waiting_since=midnight(start),
                        act_by=end,
                        component=REPORTING,
                        detail=f"reporting: the window {start} to {end} counts as met only "
                        "with a report recorded inside it",
                        window_start=start,
                        **common,
                    )
                )
            elif deciding_report(metric, terms, facts.grace_days, as_of) is None:
                last = terms.due_date + timedelta(days=facts.grace_days)
                since = start if as_of <= terms.due_date else terms.due_date + timedelta(days=1)
                items.append(
                    InboxItem(
                        title=f"Report the value of {metric.name!r} of {title!r} "
                        f"as of its due date {terms.due_date}",
                        waiting_since=midnight(since),
                        act_by=last,
                        component=DELIVERY,
                        detail=f"delivery: only a report as of {terms.due_date} or earlier, "
                        f"recorded by {last}, counts; without one the metric scores 0",
                        window_start=terms.due_date,
                        **common,
                    )
                )
    return items


def _reviews(
    facts: PlanFacts, title: str, as_of: date, activated: date, base: str
) -> list[InboxItem]:
    """A side that has attended no review held in the current review window."""
    start, end = window_containing(activated, facts.review_every_days, as_of)
    if end > facts.period_end:
        return []  # a window that ends after the period never counts
    items = []
    for side in Side:
        attended = any(
            start <= r.held_on <= end and recorded_on(r.recorded_at) <= as_of and side in r.sides
            for r in facts.reviews
        )
        if attended:
            continue
        items.append(
            InboxItem(
                kind=RECORD_REVIEW,
                side=side,
                plan_id=facts.plan_id,
                partner_id=facts.partner_id,
                title=f"Hold and record a review of {title!r} between {start} and {end}",
                waiting_since=midnight(start),
                act_by=end,
                component=REVIEWS,
                detail=f"reviews: the window {start} to {end} counts as met for your side only "
                "if a review held inside it lists one of your side's people as attending",
                method="POST",
                path=f"{base}/reviews",
                window_start=start,
            )
        )
    return items
