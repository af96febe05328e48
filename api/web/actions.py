"""Which plan commands the signed-in actor may take now, as forms: the domain's own methods,
tried on a copy of the plan, decide (side, role, status), and what they would record says
what a click will do."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from api.auth import Principal
from api.services import Services
from api.web.forms import Field, Form, Option
from ledger import commands as c
from ledger.domain import (
    Actor,
    AdjustmentKind,
    Direction,
    InvalidInput,
    LedgerError,
    MetricKind,
    MetricSpec,
    Partner,
    Plan,
    PlanStatus,
    Side,
)
from ledger.domain.values import Acting
from ledger.handlers import existing_actor
from projections.rules.text import decimal_text


@dataclass
class Tried:
    """A command tried on a copy: allowed (only the values typed could refuse it), the
    refusal, and the names of the events it would record."""

    allowed: bool
    refusal: LedgerError | None = None
    events: list[str] = field(default_factory=list)
    copy: Plan | None = None


class Trial:
    """The plan as rendered (its version) and the actor vouched for by its partnership."""

    def __init__(self, services: Services, principal: Principal, plan: Plan) -> None:
        app = services.app
        self.app = app
        self.plan = plan
        self.by: Acting | None = None
        self.partner: Partner | None = None
        if principal.side is None:
            return
        try:
            self.partner = app.load(Partner, plan.partner_id)
            actor = app.load(Actor, principal.id)
            self.by = self.partner.vouch(actor, at=app.now(plan))
        except LedgerError:
            self.by = None

    @property
    def side(self) -> Side | None:
        """The acting side (None: this viewer takes no action on the plan)."""
        return None if self.by is None else self.by.side

    def attempt(self, command: c.PlanCommand) -> Tried:
        """Run the command's aggregate method on a copy; nothing is stored."""
        if self.by is None or self.partner is None:
            return Tried(allowed=False)
        trial = copy.deepcopy(self.plan)
        try:
            command.run(trial, self.by, self.partner, lambda a, n: existing_actor(self.app, a, n))
        except LedgerError as refusal:
            return Tried(isinstance(refusal, InvalidInput), refusal, copy=trial)
        return Tried(True, None, [type(e).__name__ for e in trial.collect_events()], trial)


# ------------------------------------------------------------------- fields


def metric_fields(plan: Plan, values: dict[str, str]) -> tuple[Field, ...]:
    """The terms of a metric, SMART: who owns it, what it counts, how much, by when."""
    return (
        Field(
            "owner_side",
            "Owned by",
            "select",
            values.get("owner_side", ""),
            True,
            "The side that does the work and reports on it.",
            (Option("vendor", "The vendor side"), Option("partner", "The partner side")),
        ),
        Field(
            "kind",
            "Kind",
            "select",
            values.get("kind", "activity"),
            True,
            None,
            (Option("activity", "Activity (something done)"), Option("result", "Result")),
        ),
        Field("name", "Name", "text", values.get("name", ""), True),
        Field("description", "Description", "textarea", values.get("description", ""), True),
        Field("unit", "Unit", "text", values.get("unit", ""), True, "What is counted."),
        Field(
            "direction",
            "Direction",
            "select",
            values.get("direction", "at_least"),
            True,
            None,
            (Option("at_least", "At least the target"), Option("at_most", "At most the target")),
        ),
        Field("target", "Target", "amount", values.get("target", ""), True),
        Field(
            "due_date",
            "Due date",
            "date",
            values.get("due_date", plan.period_end.isoformat()),
            True,
            f"Inside the plan period, {plan.period_start} to {plan.period_end}.",
        ),
        Field("objective", "Objective", "text", values.get("objective", ""), False, None),
    )


def metric_values(plan: Plan, metric_id: UUID) -> dict[str, str]:
    """A metric's terms as form values."""
    m = plan.metric(metric_id)
    return {
        "owner_side": m.owner_side.value,
        "kind": m.kind.value,
        "name": m.name,
        "description": m.description,
        "unit": m.unit,
        "direction": m.direction.value,
        "target": decimal_text(m.target) or "",
        "due_date": m.due_date.isoformat(),
        "objective": m.objective or "",
    }


def reason_field(label: str = "Reason", required: bool = False) -> Field:
    """Why (optional unless required)."""
    return Field("reason", label, "textarea", "", required, None)


# -------------------------------------------------------------------- forms


def terms(plan: Plan, metric_id: UUID) -> str:
    """A metric's terms in words: "≥ 20 opportunities by 2026-03-31"."""
    m = plan.metric(metric_id)
    sign = "≥" if m.direction is Direction.AT_LEAST else "≤"
    return f"{sign} {decimal_text(m.target)} {m.unit} by {m.due_date}"


def plan_forms(trial: Trial, today: date, attendees: tuple[Option, ...]) -> list[dict[str, Any]]:
    """The forms the actor may use now, grouped under headings, in the order of a plan's life."""
    if trial.side is None:
        return []
    plan, _side = trial.plan, trial.side
    base = f"/plans/{plan.id}"
    version = plan.version
    groups: list[dict[str, Any]] = []

    def group(title: str, forms: list[Form | None]) -> None:
        kept = [f for f in forms if f is not None]
        if kept:
            groups.append({"title": title, "forms": kept})

    if plan.status is PlanStatus.DRAFT:
        group("Agree the terms", [*_metric_forms(trial, base, version), _propose(trial, base)])
        group("Commit", [_commit(trial, base)])
    if plan.status is PlanStatus.ACTIVE:
        group("Report progress", _progress_forms(trial, base, today))
        group("Reviews", [_review(trial, base, today, attendees)])
        group("Adjustments", [*_answer_forms(trial, base), _adjust(trial, base)])
    closing = trial.attempt(c.ClosePlan(plan.id))
    if closing.allowed:
        grades = closing.copy.grades if closing.copy is not None else {}
        graded = ", ".join(
            f"{plan.metrics[k].name} {g.value}" for k, g in grades.items() if k in plan.metrics
        )
        consequence = (
            f"Closing grades each metric as it stands: {graded}. "
            if graded
            else "Nothing is graded. "
        ) + "The plan then accepts nothing more, from either side."
        group(
            "Close",
            [
                Form(
                    "close",
                    f"{base}/close",
                    "Close plan",
                    "Close the plan",
                    (Field("summary", "Summary", "textarea", "", False, None),),
                    consequence,
                    version,
                )
            ],
        )
    for g in groups:
        g["forms"] = [_versioned(f, version) for f in g["forms"]]
    return groups


def _versioned(form: Form, version: int) -> Form:
    return form if form.version is not None else replace(form, version=version)


def _metric_forms(trial: Trial, base: str, version: int) -> list[Form]:
    plan, side = trial.plan, trial.side
    assert side is not None  # noqa: S101 - plan_forms returns early without a side
    forms: list[Form] = []
    for m in plan.metrics.values():
        agree = trial.attempt(c.AgreeMetric(plan.id, m.id))
        if agree.allowed:
            forms.append(
                Form(
                    f"agree-{m.id}",
                    f"{base}/metrics/{m.id}/agree",
                    "Agree",
                    f"Agree to “{m.name}”",
                    consequence=f"Your side ({side.value}) agrees to “{m.name}”: "
                    f"{terms(plan, m.id)}, owned by the {m.owner_side.value} side.",
                )
            )
        probe = replace_spec(m.spec, target=m.target + 1)
        if trial.attempt(c.ReviseMetric(plan.id, m.id, probe)).allowed:
            cleared = (
                f"Revising clears the {side.other.value} side's agreement to “{m.name}” and both "
                "sides' commitments; the other side must agree again."
            )
            forms.append(
                Form(
                    f"revise-{m.id}",
                    f"{base}/metrics/{m.id}/revise",
                    "Revise",
                    f"Revise “{m.name}”",
                    metric_fields(plan, metric_values(plan, m.id)),
                    cleared,
                )
            )
    return forms


def replace_spec(spec: MetricSpec, **changes: Any) -> MetricSpec:
    """The spec with some terms changed."""
    return replace(spec, **changes)


def _propose(trial: Trial, base: str) -> Form | None:
    plan, side = trial.plan, trial.side
    assert side is not None  # noqa: S101
    probe = MetricSpec(
        owner_side=side,
        kind=MetricKind.ACTIVITY,
        name="probe",
        description="probe",
        unit="probe",
        direction=Direction.AT_LEAST,
        target=Decimal(1),
        due_date=plan.period_end,
    )
    if not trial.attempt(c.ProposeMetric(plan.id, probe)).allowed:
        return None
    consequence = (
        f"Proposing counts as your side's agreement; the {side.other.value} side must agree too."
    )
    if any(plan.commitments.values()):
        consequence += " It clears both sides' commitments: the terms change."
    return Form(
        "propose",
        f"{base}/metrics",
        "Propose metric",
        "Propose a metric",
        metric_fields(plan, {"owner_side": side.value}),
        consequence,
    )


def _commit(trial: Trial, base: str) -> Form | None:
    plan, side = trial.plan, trial.side
    assert side is not None  # noqa: S101
    tried = trial.attempt(c.Commit(plan.id))
    if not tried.allowed:
        return None
    live = [m for m in plan.metrics.values() if not m.retired]
    what = (
        f"You commit the {side.value} side to the plan's terms version {plan.terms_version}: "
        + "; ".join(f"{m.name} {terms(plan, m.id)}" for m in live)
        + "."
    )
    if "Activated" in tried.events:
        what += (
            f" The {side.other.value} side has committed to these terms already: your commitment "
            "activates the plan, and reporting and scoring begin."
        )
    else:
        what += f" The plan becomes active when the {side.other.value} side commits too."
    return Form("commit", f"{base}/commit", "Commit", "Commit to the terms", (), what)


def _progress_forms(trial: Trial, base: str, today: date) -> list[Form | None]:
    plan = trial.plan
    forms: list[Form | None] = []
    for m in plan.metrics.values():
        probe = c.ReportProgress(plan.id, m.id, Decimal(0), today)
        if not trial.attempt(probe).allowed:
            continue
        latest = (
            f" Latest: {decimal_text(m.latest.value)} as of {m.latest.as_of}." if m.latest else ""
        )
        forms.append(
            Form(
                f"progress-{m.id}",
                f"{base}/metrics/{m.id}/progress",
                "Report progress",
                f"Report progress on “{m.name}”",
                (
                    Field(
                        "value",
                        "Value",
                        "amount",
                        "",
                        True,
                        f"In {m.unit}; the target is {terms(plan, m.id)}.{latest}",
                    ),
                    Field("as_of", "As of", "date", today.isoformat(), True, "Not in the future."),
                    Field("note", "Note", "textarea", "", False, None),
                    Field(
                        "evidence_url",
                        "Evidence link",
                        "url",
                        "",
                        False,
                        "An http:// or https:// link to the evidence.",
                    ),
                ),
            )
        )
    return forms


def _review(trial: Trial, base: str, today: date, attendees: tuple[Option, ...]) -> Form | None:
    plan = trial.plan
    assert trial.by is not None  # noqa: S101
    if not trial.attempt(c.RecordReview(plan.id, today, (trial.by.actor.id,))).allowed:
        return None
    return Form(
        "review",
        f"{base}/reviews",
        "Record review",
        "Record a review",
        (
            Field(
                "held_on",
                "Held on",
                "date",
                today.isoformat(),
                True,
                f"Within {plan.grace_days} days of the meeting.",
            ),
            Field(
                "attendee_ids", "Attendees", "checkboxes", (), True, None, attendees, ("attendee",)
            ),
            Field("notes", "Notes", "textarea", "", False, None),
            Field("decisions", "Decisions", "textarea", "", False, None),
        ),
    )


def _adjust(trial: Trial, base: str) -> Form | None:
    plan, side = trial.plan, trial.side
    assert side is not None  # noqa: S101
    metrics = [
        m
        for m in plan.metrics.values()
        if trial.attempt(c.ProposeAdjustment(plan.id, m.id, AdjustmentKind.RETIRE, "probe")).allowed
    ]
    if not metrics:
        return None
    return Form(
        "adjust",
        f"{base}/adjustments",
        "Propose adjustment",
        "Propose an adjustment",
        (
            Field(
                "metric_id",
                "Metric",
                "select",
                str(metrics[0].id),
                True,
                None,
                tuple(Option(str(m.id), f"{m.name} ({terms(plan, m.id)})") for m in metrics),
            ),
            Field(
                "kind",
                "Change",
                "radio",
                "change_target",
                True,
                None,
                (
                    Option("change_target", "Change the target"),
                    Option("change_due_date", "Change the due date"),
                    Option("retire", "Retire the metric"),
                ),
            ),
            Field(
                "new_target",
                "New target",
                "amount",
                "",
                False,
                "For a change of target.",
                (),
                ("target",),
            ),
            Field(
                "new_due_date",
                "New due date",
                "date",
                "",
                False,
                "For a change of due date.",
                (),
                ("due on", "due date"),
            ),
            reason_field("Reason", required=True),
        ),
        f"The {side.other.value} side must accept it; until then the terms stay as they are.",
    )


def _answer_forms(trial: Trial, base: str) -> list[Form | None]:
    plan = trial.plan
    forms: list[Form | None] = []
    for a in plan.adjustments.values():
        if not a.is_open:
            continue
        m = plan.metric(a.metric_id)
        if a.kind is AdjustmentKind.RETIRE:
            change = f"retire “{m.name}”"
        elif a.kind is AdjustmentKind.CHANGE_TARGET:
            new = decimal_text(a.new_target)
            change = f"change the target of “{m.name}” from {decimal_text(m.target)} to {new}"
        else:
            change = f"change the due date of “{m.name}” from {m.due_date} to {a.new_due_date}"
        where = f"{base}/adjustments/{a.id}"
        accept = trial.attempt(c.AcceptAdjustment(plan.id, a.id))
        reject = trial.attempt(c.RejectAdjustment(plan.id, a.id))
        if accept.allowed or reject.allowed:
            verbs = [
                (v, f"{where}/{v.lower()}")
                for v, t in (("Accept", accept), ("Reject", reject))
                if t.allowed
            ]
            first, *others = verbs
            forms.append(
                Form(
                    f"answer-{a.id}",
                    first[1],
                    first[0],
                    f"The {a.proposed_by_side.value} side proposes to {change}",
                    (reason_field(),),
                    f"Reason given: {a.reason} — accepting changes the terms from now on; "
                    "rejecting leaves them as they are.",
                    more=tuple(others),
                    open=True,  # a decision awaits this side: shown unfolded
                )
            )
        if trial.attempt(c.WithdrawAdjustment(plan.id, a.id)).allowed:
            forms.append(
                Form(
                    f"withdraw-{a.id}",
                    f"{where}/withdraw",
                    "Withdraw",
                    f"Your side proposed to {change}",
                    (reason_field(),),
                    f"The {a.proposed_by_side.other.value} side has not answered yet; "
                    "withdrawing leaves the terms as they are.",
                )
            )
    return forms


def drafting(
    services: Services, principal: Principal, partner_id: UUID, today: date
) -> Form | None:
    """The form that drafts a plan for a partnership, if the viewer is party to it."""
    if principal.side is None:
        return None
    app = services.app
    try:
        partner = app.load(Partner, partner_id)
        by = partner.vouch(app.load(Actor, principal.id), at=app.now())
        Plan.draft(title="probe", period_start=today, period_end=today + timedelta(89), by=by)
    except LedgerError as refusal:
        if not isinstance(refusal, InvalidInput):
            return None
    end = today + timedelta(89)
    return Form(
        "draft",
        f"/partners/{partner_id}/plans",
        "Draft plan",
        "Draft a plan",
        (
            Field("title", "Title", "text", "", True),
            Field("period_start", "Period start", "date", today.isoformat(), True),
            Field(
                "period_end",
                "Period end",
                "date",
                end.isoformat(),
                True,
                "After the start; at most a year later (90 days is usual).",
            ),
            Field(
                "objectives",
                "Objectives",
                "textarea",
                "",
                False,
                "One per line.",
                (),
                ("objective",),
            ),
            Field("report_every_days", "Report every (days)", "number", "14", True),
            Field("review_every_days", "Review every (days)", "number", "30", True),
            Field(
                "grace_days",
                "Grace (days)",
                "number",
                "3",
                True,
                "How late a report or review may be recorded and still count.",
            ),
        ),
        "You draft it for both sides: each then proposes and agrees metrics before both commit.",
    )
