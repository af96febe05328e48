"""Actors and partners as the API and the command line show them (one shape for both)."""

from __future__ import annotations

from typing import Any

from ledger.domain import Actor, Partner


def actor_view(actor: Actor) -> dict[str, Any]:
    """An actor as the API shows it (without token)."""
    return {
        "id": str(actor.id),
        "name": actor.name,
        "email": actor.email,
        "role": actor.role.value,
        "side": None if actor.side is None else actor.side.value,
        "partner_id": None if actor.partner_id is None else str(actor.partner_id),
    }


def partner_view(partner: Partner) -> dict[str, Any]:
    """A partner as the API shows it."""
    return {"id": str(partner.id), "name": partner.name, "manager_id": str(partner.manager_id)}
