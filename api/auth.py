"""Who is calling: bearer tokens to actors, and what each actor may see."""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from api.errors import Problem
from ledger.tokens import hash_token
from projections.models.directory import actor_by_token_hash, manages, partners
from projections.runtime.store import Cursor

READ_ALL = frozenset({"admin", "leader", "auditor"})


@dataclass(frozen=True)
class Principal:
    """The authenticated actor: id, role, side and (for partner contacts) their partner."""

    id: UUID
    name: str
    email: str
    role: str
    side: str | None
    partner_id: UUID | None

    @classmethod
    def of(cls, found: dict[str, Any]) -> Principal:
        """The principal of a directory row (``projections.directory.actor``)."""
        return cls(
            id=UUID(found["id"]),
            name=found["name"],
            email=found["email"],
            role=found["role"],
            side=found["side"],
            partner_id=None if found["partner_id"] is None else UUID(found["partner_id"]),
        )

    @property
    def reads_all(self) -> bool:
        """Leaders, auditors and admins read every partnership."""
        return self.role in READ_ALL

    def view(self) -> dict[str, str | None]:
        """The caller as ``GET /v1/me`` shows it."""
        return {
            "id": str(self.id),
            "name": self.name,
            "email": self.email,
            "role": self.role,
            "side": self.side,
            "partner_id": None if self.partner_id is None else str(self.partner_id),
        }


UNAUTHENTICATED = {"WWW-Authenticate": 'Bearer realm="counterpart"'}


def authenticate(cursor: Cursor, authorization: str | None) -> Principal:
    """The actor holding the bearer token; 401 when missing, unknown or revoked."""
    if not authorization:
        raise Problem(401, "send Authorization: Bearer <token>", headers=UNAUTHENTICATED)
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 200:
        raise Problem(
            401, "the Authorization header must be 'Bearer <token>'", headers=UNAUTHENTICATED
        )
    found = actor_by_token_hash(cursor, hash_token(token))
    if found is None:
        raise Problem(401, "the token is unknown or was revoked", headers=UNAUTHENTICATED)
    return Principal.of(found)


class KnownTokens:
    """Callers recently authenticated by this process, by a hash of their Authorization
    header, for ``seconds`` (docs/api.md "Tokens"): a request within that time needs no
    read of the directory. Only tokens found valid are kept. An admin command answered by
    this process (a revoke among them) forgets them all, so a revoke is honoured here as
    soon as it answers; a revoke answered by another process or the command line is
    honoured here within ``seconds``. ``seconds`` 0 keeps nothing."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._known: dict[bytes, tuple[Principal, float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(authorization: str) -> bytes:
        return hashlib.sha256(authorization.encode("utf-8", "replace")).digest()

    def get(self, authorization: str | None) -> Principal | None:
        """The caller of this header if authenticated within ``seconds``."""
        if not authorization or self.seconds <= 0:
            return None
        found = self._known.get(self._key(authorization))
        if found is None or found[1] <= time.monotonic():
            return None
        return found[0]

    def keep(self, authorization: str, principal: Principal) -> None:
        """Remember a caller just authenticated from the directory."""
        if self.seconds <= 0:
            return
        with self._lock:
            if len(self._known) > 10_000:
                self._known.clear()
            self._known[self._key(authorization)] = (principal, time.monotonic() + self.seconds)

    def forget(self) -> None:
        """Forget every caller (after an admin command: a revoke, a new token)."""
        with self._lock:
            self._known.clear()


def visible_partners(cursor: Cursor, principal: Principal) -> list[UUID] | None:
    """The partnerships the caller may see: None means all of them."""
    if principal.reads_all:
        return None
    if principal.role == "manager":
        owned = partners(cursor, manager_id=principal.id, limit=1_000_000)
        return [UUID(p["id"]) for p in owned]
    if principal.role == "partner" and principal.partner_id is not None:
        return [principal.partner_id]
    return []


def can_see(cursor: Cursor, principal: Principal, partner_id: UUID) -> bool:
    """Whether the caller may see this partnership (one indexed lookup at most)."""
    if principal.role == "manager" and not principal.reads_all:
        return manages(cursor, principal.id, partner_id)
    return sees(principal, partner_id, None)


def sees(principal: Principal, partner_id: UUID, manager_id: UUID | None) -> bool:
    """Whether the caller may see this partnership, whose manager is known (None: unknown,
    which only a manager's answer needs: ``can_see`` looks it up)."""
    if principal.reads_all:
        return True
    if principal.role == "manager":
        return manager_id is not None and manager_id == principal.id
    return principal.role == "partner" and principal.partner_id == partner_id


def require_role(principal: Principal, roles: frozenset[str], what: str) -> None:
    """403 unless the caller's role is one of ``roles``."""
    if principal.role not in roles:
        allowed = ", ".join(sorted(roles))
        raise Problem(403, f"{what} is for {allowed}; you are a {principal.role}")
