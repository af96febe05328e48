"""A caller found valid is known for a moment without a read, and forgotten on an admin command."""

from __future__ import annotations

import time
from uuid import uuid4

from api.auth import KnownTokens, Principal
from tests.api.world import World, a_caller


def a_principal() -> Principal:
    return Principal(uuid4(), "Mo", "mo@example.com", "manager", "vendor", None)


def test_a_known_caller_is_known_only_for_its_seconds() -> None:
    known = KnownTokens(0.05)
    principal = a_principal()
    known.keep("Bearer cp_a", principal)
    assert known.get("Bearer cp_a") == principal
    assert known.get("Bearer cp_b") is None
    time.sleep(0.06)
    assert known.get("Bearer cp_a") is None


def test_an_admin_command_forgets_every_known_caller() -> None:
    known = KnownTokens(60)
    known.keep("Bearer cp_a", a_principal())
    known.forget()
    assert known.get("Bearer cp_a") is None


def test_zero_seconds_keeps_nobody() -> None:
    known = KnownTokens(0)
    known.keep("Bearer cp_a", a_principal())
    assert known.get("Bearer cp_a") is None


def test_a_token_used_a_moment_ago_fails_as_soon_as_its_revoke_answers(world: World) -> None:
    """The server knew the token (it was just used); the revoke it answered forgets it."""
    caller = a_caller(world.admin, "Kim Known", "manager")
    assert caller.get("/v1/me").status_code == 200
    revoked = world.admin.post(f"/v1/actors/{caller.id}/revoke")
    assert revoked.status_code == 200, revoked.text
    assert caller.get("/v1/me").status_code == 401
