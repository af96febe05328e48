"""Which plan commands the signed-in actor may take now, as forms: the domain's own methods,
tried on a copy of the plan, decide (side, role, status), and what they would record says
what a click will do."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from api.web.actions_drafting import drafting
from api.web.actions_fields import metric_fields, metric_values, reason_field, replace_spec, terms
from api.web.actions_trial import Trial, Tried
from api.web.forms import Field, Form, Option
from ledger import commands as c
from ledger.domain import (
    AdjustmentKind,
    Direction,
    MetricKind,
    MetricSpec,
    PlanStatus,
)
from projections.rules.text import decimal_text

__all__ = ["Trial", "Tried", "drafting", "plan_forms"]


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
