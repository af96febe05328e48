"""Acting from the browser: each plan form posts one command through the API's own pipeline
(``api.deps.Command``: the signed-in actor, the form's idempotency key, the version the form
was rendered on), then redirects to the plan (POST-redirect-GET)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from api.deps import Command, Result
from api.errors import domain_problem
from api.reads import today
from api.services import Services
from api.web import plan_views, views
from api.web.actions import Trial, drafting, plan_forms
from api.web.conflicts import changes_since
from api.web.forms import Field, Form, Option, Submitted, checked_csrf, parsed, text
from api.web.rendering import render
from api.web.viewer import Viewer
from ledger import commands as c
from ledger.commands import Command as LedgerCommand
from ledger.domain import LedgerError, VersionMismatch
from ledger.idempotency import KeyReused
from projections.models.directory import attendable

NOTICES = {
    "drafted": "Plan drafted. Propose its metrics next; both sides agree, then both commit.",
    "proposed": "Metric proposed. The other side can now agree to it or revise it.",
    "revised": "Metric revised. The other side must agree to it again.",
    "agreed": "Agreed.",
    "committed": "Committed.",
    "reported": "Progress reported.",
    "reviewed": "Review recorded.",
    "adjustment": "Adjustment proposed. The other side can accept or reject it.",
    "accepted": "Adjustment accepted: the new terms are in force from now.",
    "rejected": "Adjustment rejected: the terms stay as they were.",
    "withdrawn": "Adjustment withdrawn.",
    "closed": "Plan closed.",
}
"""What the plan page says after a form succeeded (``?done=``): fixed words, nothing echoed."""


# ----------------------------------------------------------------- the page


def attendee_options(services: Services, partner_id: UUID) -> tuple[Option, ...]:
    """Who may attend the partnership's reviews, as checkboxes."""
    with services.reading() as cursor:
        people = attendable(cursor, partner_id)
    sides = {"manager": "manager", "partner": "partner contact", "leader": "vendor leader"}
    return tuple(
        Option(p["id"], f"{p['name']} ({sides.get(p['role'], p['role'])})") for p in people
    )


def plan_actions(
    services: Services,
    viewer: Viewer,
    document: dict[str, Any],
    *,
    done: str | None = None,
    failed: Form | None = None,
) -> dict[str, Any]:
    """The plan page's forms for this viewer now, the notice of what just succeeded, and a
    refused form shown as typed in place of its fresh one."""
    plan = services.app.get_plan(UUID(document["id"]), int(document["version"]))
    trial = Trial(services, viewer.principal, plan)
    groups: list[dict[str, Any]] = []
    if trial.side is not None:
        groups = plan_forms(trial, today(services), attendee_options(services, plan.partner_id))
    refusal = None
    if failed is not None:
        placed = False
        for group in groups:
            for n, form in enumerate(group["forms"]):
                if form.id == failed.id:
                    group["forms"][n] = failed.with_version(form.version, form.key)
                    placed = True
        if not placed:
            refusal = failed.error or next((f.error for f in failed.fields if f.error), None)
    return {
        "actions": groups,
        "notice": NOTICES.get(done or ""),
        "refusal": refusal,
        "csrf": viewer.session.csrf,
    }


def plan_page(
    request: Request,
    services: Services,
    viewer: Viewer,
    plan_id: UUID,
    *,
    status_code: int = 200,
    done: str | None = None,
    failed: Form | None = None,
    history_before: int | None = None,
) -> HTMLResponse:
    """The plan page with its forms (a refused form kept as typed, with its errors)."""
    data = plan_views.plan_page(services, viewer.principal, plan_id, history_before=history_before)
    data.update(plan_actions(services, viewer, data["plan"], done=done, failed=failed))
    return render(request, "plan.html", viewer, status_code=status_code, **data)


# ------------------------------------------------------------------ posting


def current_form(services: Services, viewer: Viewer, plan_id: UUID, form_id: str) -> Form | None:
    """The form as the plan page would render it now (None: not available now)."""
    plan = services.app.get_plan(plan_id)
    trial = Trial(services, viewer.principal, plan)
    if trial.side is None:
        return None
    groups = plan_forms(trial, today(services), attendee_options(services, plan.partner_id))
    return next((f for g in groups for f in g["forms"] if f.id == form_id), None)


def plain_fields(model: type[BaseModel]) -> tuple[Field, ...]:
    """Fields named after a body's fields (a form that is not available now)."""
    return tuple(Field(n, n.replace("_", " ").capitalize()) for n in model.model_fields)


def act(  # noqa: PLR0917 (one call per route, read as a sentence)
    request: Request,
    services: Services,
    viewer: Viewer,
    sent: Submitted,
    plan_id: UUID,
    form_id: str,
    done: str,
    model: type[BaseModel] | None,
    build: Callable[[Any], LedgerCommand],
    lists: tuple[str, ...] = (),
) -> Response:
    """Validate a plan form, handle its command, and redirect to the plan; a refusal shows
    the plan page with the form as typed and the message next to its field."""
    checked_csrf(viewer, sent)
    form = current_form(services, viewer, plan_id, form_id)
    fields = form.fields if form is not None else plain_fields(model) if model else ()
    shown = (form or Form(form_id, "", "", "", fields)).as_typed(sent)
    body: BaseModel | None = None
    if model is not None:
        body_or_errors = parsed(model, sent, fields, lists)
        if isinstance(body_or_errors, list):
            failed = shown.invalid(body_or_errors)
            return plan_page(request, services, viewer, plan_id, status_code=422, failed=failed)
        body = body_or_errors
    location = f"/plans/{plan_id}?done={done}"
    return handled(request, services, viewer, sent, build(body), body, location, shown, plan_id)


def handled(  # noqa: PLR0917
    request: Request,
    services: Services,
    viewer: Viewer,
    sent: Submitted,
    command: LedgerCommand,
    body: BaseModel | None,
    location: str | Callable[[Any], str],
    shown: Form,
    plan_id: UUID | None,
) -> Response:
    """The command through the API's pipeline: 303 to ``location`` (also for a repeat of
    the form's key); a refusal's status comes from the one table in ``api.errors``."""
    version = text(sent, "version")
    envelope = Command(
        request,
        services,
        viewer.principal,
        text(sent, "key") or None,
        f'"{version}"' if version else None,
    )

    def answer(done: c.Done) -> Result:
        where = location if isinstance(location, str) else location(done)
        return Result({"location": where}, {"Location": where, "Cache-Control": "no-store"})

    try:
        return envelope.handle(command, 303, answer, body)
    except LedgerError as error:
        status = domain_problem(error).status_code
        if plan_id is None:
            raise
        if isinstance(error, VersionMismatch):
            return conflict_page(request, services, viewer, plan_id, shown, error)
        if isinstance(error, KeyReused):
            message = (
                "This form was sent already, with other values; nothing more was recorded. "
                "The forms below are the plan's current ones."
            )
            return plan_page(
                request,
                services,
                viewer,
                plan_id,
                status_code=status,
                failed=Form("sent-already", "", "", "", error=message),
            )
        failed = shown.refused(str(error))
        return plan_page(request, services, viewer, plan_id, status_code=status, failed=failed)


# ---------------------------------------------------------------- conflicts


def partner_page(  # noqa: PLR0917
    request: Request,
    services: Services,
    viewer: Viewer,
    partner_id: UUID,
    status_code: int = 200,
    failed: Form | None = None,
) -> HTMLResponse:
    """The partnership page with its draft form (a refused one as typed)."""
    data = views.partner_page(services, viewer.principal, partner_id)
    draft = drafting(services, viewer.principal, partner_id, today(services))
    if failed is not None and draft is not None:
        draft = failed.with_version(None, draft.key)
    return render(
        request,
        "partner.html",
        viewer,
        status_code=status_code,
        draft=draft,
        csrf=viewer.session.csrf,
        **data,
    )


def conflict_page(  # noqa: PLR0917
    request: Request,
    services: Services,
    viewer: Viewer,
    plan_id: UUID,
    shown: Form,
    error: VersionMismatch,
) -> HTMLResponse:
    """The plan changed since the form was rendered: what changed, and the form (as typed)
    on the current version, if it is still available."""
    plan = services.app.get_plan(plan_id)
    now = current_form(services, viewer, plan_id, shown.id)
    retry = None if now is None else shown.with_version(now.version, now.key)
    return render(
        request,
        "conflict.html",
        viewer,
        status_code=domain_problem(error).status_code,
        plan={"id": str(plan.id), "title": plan.title, "version": plan.version},
        seen=error.expected,
        changes=changes_since(services, plan, error.expected),
        retry=retry,
        csrf=viewer.session.csrf,
    )
