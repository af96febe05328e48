"""What each command does in memory: load what it needs, vouch for the actor, run the method.

``run`` returns a ``Step`` for ``Counterpart.handle`` to save: the aggregates changed and the
versions of the aggregates read unchanged (checked again in the save's transaction).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from uuid import UUID

from ledger.commands import (
    Command,
    Context,
    Done,
    DraftPlan,
    IssueToken,
    PlanCommand,
    ReassignManager,
    RegisterActor,
    RegisterPartner,
    RevokeTokens,
)
from ledger.domain import (
    Actor,
    InvalidInput,
    NotFound,
    OutOfScope,
    Partner,
    Plan,
    VersionMismatch,
)
from ledger.tokens import hash_token, new_token

if TYPE_CHECKING:
    from ledger.application import Counterpart
    from ledger.domain.base import LedgerAggregate


@dataclass
class Step:
    """A command run in memory: what to save, what it read unchanged, what it returns."""

    done: Done
    changed: list[LedgerAggregate]
    checked: dict[UUID, int] = field(default_factory=dict)


def run(app: Counterpart, command: Command, ctx: Context, *, fresh: bool) -> Step:
    """Run a command on the cached aggregates (``fresh``: on aggregates loaded from the
    store), changing them in memory only."""
    if isinstance(command, PlanCommand):
        return _on_plan(app, command, ctx, fresh=fresh)
    if isinstance(command, DraftPlan):
        return _draft(app, command, ctx, fresh=fresh)
    return _admin(app, command, ctx, fresh=fresh)


def _step(done: Done, changed: list[Actor | Partner | Plan], checked: dict[UUID, int]) -> Step:
    return Step(done, list(changed), checked)


def _party(app: Counterpart, partner_id: UUID, ctx: Context, *, fresh: bool) -> Partner:
    partner = app.load(Partner, partner_id, fresh=fresh)
    if ctx.actor_id is None:
        msg = "a plan command needs an acting actor"
        raise InvalidInput(msg)
    return partner


def _on_plan(app: Counterpart, command: PlanCommand, ctx: Context, *, fresh: bool) -> Step:
    plan = app.load(Plan, command.plan_id, fresh=fresh)
    partner = _party(app, plan.partner_id, ctx, fresh=fresh)
    actor = app.load(Actor, ctx.actor_id, fresh=fresh)  # type: ignore[arg-type]
    try:
        by = partner.vouch(actor, at=app.now(plan), request_id=ctx.request_id)
    except OutOfScope:
        msg = f"plan {plan.id} not found"
        raise OutOfScope(msg) from None
    if ctx.expected_version is not None and ctx.expected_version != plan.version:
        raise VersionMismatch(ctx.expected_version, plan.version)
    result = command.run(plan, by, partner, lambda a, name: existing_actor(app, a, name))
    return _step(Done(plan, result), [plan], {partner.id: partner.version})


def _draft(app: Counterpart, command: DraftPlan, ctx: Context, *, fresh: bool) -> Step:
    partner = _party(app, command.partner_id, ctx, fresh=fresh)
    actor = app.load(Actor, ctx.actor_id, fresh=fresh)  # type: ignore[arg-type]
    by = partner.vouch(actor, at=app.now(), request_id=ctx.request_id)
    plan = Plan.draft(
        title=command.title,
        period_start=command.period_start,
        period_end=command.period_end,
        objectives=list(command.objectives),
        report_every_days=command.report_every_days,
        review_every_days=command.review_every_days,
        grace_days=command.grace_days,
        by=by,
    )
    return _step(Done(plan), [plan], {partner.id: partner.version})


def _admin(app: Counterpart, command: Command, ctx: Context, *, fresh: bool) -> Step:
    acting = app.acting(ctx.actor_id, ctx.request_id, fresh=fresh)
    if isinstance(command, RegisterActor):
        if command.partner_id is not None:
            try:
                app.load(Partner, command.partner_id, fresh=fresh)
            except NotFound:
                msg = f"no partner with id {command.partner_id}"
                raise InvalidInput(msg) from None
        actor = Actor.register(
            name=command.name,
            email=command.email,
            role=command.role,
            partner_id=command.partner_id,
            by=acting,
        )
        token = new_token()
        actor.issue_token(hash_token(token), by=acting)
        return _step(Done(actor, token), [actor], {})
    if isinstance(command, IssueToken):
        actor = app.load(Actor, command.actor_id, fresh=fresh)
        token = new_token()
        actor.issue_token(hash_token(token), by=acting)
        return _step(Done(actor, token), [actor], {})
    if isinstance(command, RevokeTokens):
        actor = app.load(Actor, command.actor_id, fresh=fresh)
        actor.revoke_tokens(by=acting)
        return _step(Done(actor), [actor], {})
    if isinstance(command, RegisterPartner):
        manager = existing_actor(app, command.manager_id, "manager_id")
        partner = Partner.register(name=command.name, manager=manager, by=acting)
        return _step(Done(partner), [partner], {})
    if isinstance(command, ReassignManager):
        partner = app.load(Partner, command.partner_id, fresh=fresh)
        manager = existing_actor(app, command.manager_id, "manager_id")
        partner.reassign_manager(manager, by=acting)
        return _step(Done(partner), [partner], {})
    msg = f"not a command: {command!r}"
    raise TypeError(msg)


def existing_actor(app: Counterpart, actor_id: UUID, field: str) -> Actor:
    """An actor named in a request body (only its immutable facts are used)."""
    try:
        return app.load(Actor, actor_id)
    except NotFound:
        msg = f"{field}: no actor with id {actor_id}"
        raise InvalidInput(msg) from None
