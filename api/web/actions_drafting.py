"""The form that drafts a plan for a partnership."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID

from api.auth import Principal
from api.services import Services
from api.web.forms import Field, Form
from ledger.domain import (
    Actor,
    InvalidInput,
    LedgerError,
    Partner,
    Plan,
)


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
