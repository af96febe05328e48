"""What a plan checks before it records anything: who acts, in which state, on what.

The Plan aggregate (``ledger.domain.plan``) inherits these; each raises a LedgerError whose
message says what was refused and why, and none changes the plan.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING
from uuid import UUID

from ledger.domain import rules
from ledger.domain.errors import (
    InvalidInput,
    NotAllowedForRole,
    NotAParty,
    NotFound,
    RuleViolation,
    WrongSide,
)
from ledger.domain.state import Adjustment, Metric
from ledger.domain.values import Acting, AdjustmentKind, PlanStatus, Side


class PlanChecks:
    """The checks of the plan's commands (mixed into Plan)."""

    if TYPE_CHECKING:  # the plan state the checks read
        partner_id: UUID
        period_start: date
        period_end: date
        status: PlanStatus
        metrics: dict[str, Metric]
        adjustments: dict[str, Adjustment]

        def adjustment(self, adjustment_id: UUID) -> Adjustment: ...

    def _party(self, by: Acting) -> Side:
        """The acting side, after checking the actor is party to this plan and it is open."""
        if by.partner_id != self.partner_id:
            msg = "only the partnership's manager and its partner contacts act on its plans"
            raise NotAParty(msg)
        side = sided(by)
        if self.status is PlanStatus.CLOSED:
            msg = "the plan is closed and accepts nothing more"
            raise RuleViolation(msg)
        return side

    def _require_draft(self, what: str) -> None:
        if self.status is not PlanStatus.DRAFT:
            msg = f"{what} only while the plan is a draft; propose an adjustment instead"
            raise RuleViolation(msg)

    def _require_active(self, what: str) -> None:
        if self.status is not PlanStatus.ACTIVE:
            msg = f"{what} only on active plans; this plan is {self.status.value}"
            raise RuleViolation(msg)

    def _metric(self, metric_id: UUID) -> Metric:
        try:
            return self.metrics[str(metric_id)]
        except KeyError:
            msg = f"metric {metric_id} not found on this plan"
            raise NotFound(msg) from None

    def _live_metric(self, metric_id: UUID) -> Metric:
        metric = self._metric(metric_id)
        if metric.retired:
            msg = f"{metric.name!r} is retired"
            raise RuleViolation(msg)
        return metric

    def _require_not_due(self, metric: Metric, by: Acting) -> None:
        if by.today >= metric.due_date:
            msg = f"{metric.name!r} is due on {metric.due_date}; its terms can no longer change"
            raise RuleViolation(msg)

    def _open_adjustment(self, adjustment_id: UUID) -> Adjustment:
        adjustment = self.adjustment(adjustment_id)
        if not adjustment.is_open:
            msg = f"the adjustment is already {adjustment.status.value}"
            raise RuleViolation(msg)
        return adjustment

    def _answerable(self, adjustment_id: UUID, by: Acting) -> Adjustment:
        side = self._party(by)
        self._require_active("adjustments are answered")
        adjustment = self._open_adjustment(adjustment_id)
        if side is adjustment.proposed_by_side:
            msg = "an adjustment is accepted or rejected by the other side, not its proposer"
            raise WrongSide(msg)
        return adjustment

    def _check_adjustment(
        self,
        metric: Metric,
        kind: AdjustmentKind,
        new_target: Decimal | None,
        new_due_date: date | None,
        by: Acting,
    ) -> None:
        wants_target = kind is AdjustmentKind.CHANGE_TARGET
        wants_date = kind is AdjustmentKind.CHANGE_DUE_DATE
        if (new_target is not None) is not wants_target:
            verb = "requires" if wants_target else "takes no"
            msg = f"{kind.value} {verb} new_target"
            raise InvalidInput(msg)
        if (new_due_date is not None) is not wants_date:
            verb = "requires" if wants_date else "takes no"
            msg = f"{kind.value} {verb} new_due_date"
            raise InvalidInput(msg)
        if new_target is not None:
            rules.positive_amount(new_target, "new_target")
            if new_target == metric.target:
                msg = f"the target of {metric.name!r} is already {metric.target}"
                raise InvalidInput(msg)
        if new_due_date is not None:
            rules.within_period(new_due_date, self.period_start, self.period_end, "new_due_date")
            if new_due_date <= by.today:
                msg = f"new_due_date ({new_due_date}) must be after today ({by.today})"
                raise InvalidInput(msg)
            if new_due_date == metric.due_date:
                msg = f"{metric.name!r} is already due on {metric.due_date}"
                raise InvalidInput(msg)


def sided(by: Acting) -> Side:
    """The acting side; a role without one may not act on plans."""
    side = by.side
    if side is None:
        msg = f"a {by.actor.role.value} has no side and cannot act on plans"
        raise NotAllowedForRole(msg)
    return side


def not_in_future(day: date, by: Acting, what: str) -> None:
    """A date of a report or review is today or earlier."""
    if day > by.today:
        msg = f"{what} ({day}) must not be in the future (today is {by.today})"
        raise InvalidInput(msg)
