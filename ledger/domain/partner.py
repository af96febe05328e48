"""The Partner aggregate: a partner organisation owned by one channel manager."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from ledger.domain.actor import Actor, clean_name, require_admin
from ledger.domain.base import LedgerAggregate
from ledger.domain.errors import InvalidInput, NotAParty, OutOfScope, RuleViolation
from ledger.domain.values import Acting, ActorRef, Role

READERS = frozenset({Role.LEADER, Role.AUDITOR, Role.ADMIN})
"""Roles that see every partnership (read only)."""


def require_manager(manager: Actor) -> None:
    """Refuse unless the actor is a channel manager."""
    if manager.role is not Role.MANAGER:
        msg = f"{manager.name!r} is a {manager.role.value}, not a manager"
        raise InvalidInput(msg)


class Partner(LedgerAggregate):
    """A partner organisation; its manager and its contacts are the parties to its plans."""

    if TYPE_CHECKING:  # declared for the type checker; annotations here would be init fields
        name: str
        manager_id: UUID

    class Registered(LedgerAggregate.Created):
        """A partner organisation was registered with its owning manager."""

        name: str
        manager_id: UUID

        def apply(self, partner: Partner) -> None:
            partner.name = self.name
            partner.manager_id = self.manager_id

    class ManagerReassigned(LedgerAggregate.Event):
        """The partnership was handed to another channel manager."""

        manager_id: UUID
        previous_manager_id: UUID

        def apply(self, partner: Partner) -> None:
            partner.manager_id = self.manager_id

    @classmethod
    def register(cls, *, name: str, manager: Actor, by: Acting) -> Partner:
        """Register a partner organisation owned by the given manager."""
        require_admin(by, "register partners")
        require_manager(manager)
        return cls._start(cls.Registered, by, name=clean_name(name, "name"), manager_id=manager.id)

    def reassign_manager(self, manager: Actor, *, by: Acting) -> None:
        """Hand the partnership to another channel manager."""
        require_admin(by, "reassign managers")
        require_manager(manager)
        if manager.id == self.manager_id:
            msg = f"{manager.name!r} already manages this partner"
            raise RuleViolation(msg)
        self._trigger(
            self.ManagerReassigned,
            by,
            manager_id=manager.id,
            previous_manager_id=self.manager_id,
        )

    def is_party(self, actor: Actor) -> bool:
        """Whether the actor is this partnership's manager or one of its contacts."""
        if actor.role is Role.MANAGER:
            return actor.id == self.manager_id
        return actor.role is Role.PARTNER and actor.partner_id == self.id

    def can_see(self, actor: Actor) -> bool:
        """Parties see their partnership; leaders, auditors and admins see every one."""
        return self.is_party(actor) or actor.role in READERS

    def vouch(self, actor: Actor, *, at: datetime, request_id: str | None = None) -> Acting:
        """Let a party act on this partnership's plans; anyone else is refused.

        Someone who may not even see the partnership learns nothing about it (OutOfScope,
        a NotFound); a reader who may see it is told they are not party (NotAParty).
        """
        if not self.can_see(actor):
            msg = f"partner {self.id} not found"
            raise OutOfScope(msg)
        if not self.is_party(actor):
            msg = f"{actor.name!r} is not party to the partnership with {self.name!r}"
            raise NotAParty(msg)
        return Acting(actor=actor.ref, at=at, request_id=request_id, partner_id=self.id)

    def attendees(self, actors: Iterable[Actor]) -> list[ActorRef]:
        """Check review attendees: parties to this partnership or vendor leaders."""
        refs: list[ActorRef] = []
        for actor in actors:
            if not (self.is_party(actor) or actor.role is Role.LEADER):
                msg = (
                    f"{actor.name!r} cannot attend: attendees are the partnership's manager, "
                    "its partner contacts or vendor leaders"
                )
                raise InvalidInput(msg)
            if actor.ref not in refs:
                refs.append(actor.ref)
        if not refs:
            msg = "a review needs at least one attendee"
            raise InvalidInput(msg)
        return refs
