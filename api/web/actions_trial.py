"""A plan command tried on a copy of the plan: the domain's own methods decide whether the
signed-in actor may take it now, and what it would record."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from api.auth import Principal
from api.services import Services
from ledger import commands as c
from ledger.domain import (
    Actor,
    InvalidInput,
    LedgerError,
    Partner,
    Plan,
    Side,
)
from ledger.domain.values import Acting
from ledger.handlers import existing_actor


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
