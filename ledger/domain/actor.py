"""The Actor aggregate: a person who uses Counterpart, with their role and token hashes."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from uuid import UUID

from ledger.domain.base import LedgerAggregate
from ledger.domain.errors import InvalidInput, NotAllowedForRole, RuleViolation
from ledger.domain.values import Acting, ActorRef, Role, Side

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_NAME = 200


def require_admin(by: Acting, what: str) -> None:
    """Refuse unless the acting actor is an administrator."""
    if by.actor.role is not Role.ADMIN:
        msg = f"only an admin may {what}"
        raise NotAllowedForRole(msg)


def clean_name(value: str, what: str) -> str:
    """A trimmed, non-empty name of bounded length."""
    name = value.strip()
    if not name:
        msg = f"{what} must not be empty"
        raise InvalidInput(msg)
    if len(name) > MAX_NAME:
        msg = f"{what} must be at most {MAX_NAME} characters"
        raise InvalidInput(msg)
    return name


class Actor(LedgerAggregate):
    """A person acting in Counterpart; tokens are kept only as hashes."""

    if TYPE_CHECKING:  # declared for the type checker; annotations here would be init fields
        name: str
        email: str
        role: Role
        side: Side | None
        partner_id: UUID | None
        token_hashes: list[str]

    class Registered(LedgerAggregate.Created):
        """An actor was registered."""

        name: str
        email: str
        role: Role
        side: Side | None
        partner_id: UUID | None

        def apply(self, actor: Actor) -> None:
            actor.name = self.name
            actor.email = self.email
            actor.role = self.role
            actor.side = self.side
            actor.partner_id = self.partner_id
            actor.token_hashes = []

    class TokenIssued(LedgerAggregate.Event):
        """A token was issued to the actor; only its hash is recorded."""

        token_hash: str

        def apply(self, actor: Actor) -> None:
            actor.token_hashes.append(self.token_hash)

    class TokensRevoked(LedgerAggregate.Event):
        """Every token the actor held was revoked."""

        token_hashes: list[str]

        def apply(self, actor: Actor) -> None:
            actor.token_hashes = [h for h in actor.token_hashes if h not in self.token_hashes]

    @classmethod
    def register(
        cls,
        *,
        name: str,
        email: str,
        role: Role,
        partner_id: UUID | None,
        by: Acting,
    ) -> Actor:
        """Register an actor; a partner contact must name its partner, nobody else may."""
        require_admin(by, "register actors")
        name = clean_name(name, "name")
        email = email.strip()
        if len(email) > MAX_NAME or not EMAIL.match(email):
            msg = f"{email!r} is not an email address"
            raise InvalidInput(msg)
        if role is Role.PARTNER and partner_id is None:
            msg = "a partner contact must belong to a partner (partner_id is required)"
            raise InvalidInput(msg)
        if role is not Role.PARTNER and partner_id is not None:
            msg = "only partner contacts belong to a partner (omit partner_id)"
            raise InvalidInput(msg)
        return cls._start(
            cls.Registered,
            by,
            name=name,
            email=email,
            role=role,
            side=role.side,
            partner_id=partner_id,
        )

    @property
    def ref(self) -> ActorRef:
        """How this actor is recorded on the events it causes."""
        return ActorRef(id=self.id, side=self.side, role=self.role)

    def issue_token(self, token_hash: str, *, by: Acting) -> None:
        """Record the hash of a newly issued token (never the token itself)."""
        require_admin(by, "issue tokens")
        if token_hash in self.token_hashes:
            msg = "this token hash is already issued"
            raise RuleViolation(msg)
        self._trigger(self.TokenIssued, by, token_hash=token_hash)

    def revoke_tokens(self, *, by: Acting) -> None:
        """Revoke every token of this actor."""
        require_admin(by, "revoke tokens")
        self._trigger(self.TokensRevoked, by, token_hashes=list(self.token_hashes))

    def holds(self, token_hash: str) -> bool:
        """Whether the token with this hash is issued and not revoked."""
        return token_hash in self.token_hashes
