"""The Actor and Partner aggregates' rules (no storage)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ledger.clock import SimulatedClock
from ledger.domain import (
    OPERATOR,
    Acting,
    Actor,
    InvalidInput,
    NotAllowedForRole,
    NotAParty,
    NotFound,
    OutOfScope,
    Partner,
    Role,
    RuleViolation,
    Side,
)
from ledger.tokens import hash_token, new_token
from tests.builders import Cast, a_cast
from tests.conftest import START
from tests.domain.helpers import event_types, refused


@pytest.fixture
def cast() -> Cast:
    """The actors and partnerships of every scenario, on a simulated clock."""
    return a_cast(SimulatedClock(START))


def admin(cast: Cast) -> Acting:
    """The admin, acting now."""
    return Acting(actor=cast.admin.ref, at=cast.clock.now())


def test_only_admins_register_actors_and_partners(cast: Cast) -> None:
    """Managers, leaders, partner contacts and auditors cannot register anyone."""
    for actor in (cast.manager, cast.leader, cast.contact, cast.auditor):
        by = Acting(actor=actor.ref, at=cast.clock.now())
        with pytest.raises(NotAllowedForRole):
            Actor.register(
                name="New", email="new@example.com", role=Role.LEADER, partner_id=None, by=by
            )
        with pytest.raises(NotAllowedForRole):
            Partner.register(name="Initech", manager=cast.manager, by=by)


def test_the_operator_registers_the_first_admin(cast: Cast) -> None:
    """The command line acts as the operator, an admin outside the ledger's actors."""
    first = Actor.register(
        name="Root",
        email="root@vendor.example",
        role=Role.ADMIN,
        partner_id=None,
        by=Acting(actor=OPERATOR, at=cast.clock.now()),
    )
    (registered,) = first.collect_events()
    assert isinstance(registered, Actor.Registered)
    assert registered.actor == OPERATOR


@pytest.mark.parametrize(
    ("role", "side"),
    [
        (Role.ADMIN, Side.VENDOR),
        (Role.LEADER, Side.VENDOR),
        (Role.MANAGER, Side.VENDOR),
        (Role.PARTNER, Side.PARTNER),
        (Role.AUDITOR, None),
    ],
)
def test_an_actors_side_follows_from_its_role(cast: Cast, role: Role, side: Side | None) -> None:
    """Partner contacts are the partner side; auditors have no side; everyone else is vendor."""
    partner_id = cast.partner.id if role is Role.PARTNER else None
    actor = Actor.register(
        name="Someone",
        email="someone@example.com",
        role=role,
        partner_id=partner_id,
        by=admin(cast),
    )
    assert actor.side is side
    assert actor.ref.side is side


def test_a_partner_contact_must_belong_to_a_partner_and_nobody_else_may(cast: Cast) -> None:
    """partner_id is required for role partner and refused for every other role."""
    with pytest.raises(InvalidInput, match="partner_id"):
        Actor.register(
            name="Pat", email="pat@example.com", role=Role.PARTNER, partner_id=None, by=admin(cast)
        )
    with pytest.raises(InvalidInput, match="partner_id"):
        Actor.register(
            name="Max",
            email="max@example.com",
            role=Role.MANAGER,
            partner_id=cast.partner.id,
            by=admin(cast),
        )


@pytest.mark.parametrize(
    ("name", "email"), [(" ", "a@b.io"), ("Al", "not-an-email"), ("Al", "a@b"), ("Al", "")]
)
def test_an_actor_needs_a_name_and_an_email_address(cast: Cast, name: str, email: str) -> None:
    """Blank names and malformed email addresses are refused."""
    with pytest.raises(InvalidInput):
        Actor.register(name=name, email=email, role=Role.LEADER, partner_id=None, by=admin(cast))


def test_tokens_are_recorded_only_as_hashes(cast: Cast) -> None:
    """The event holds the token's hash; the token itself appears nowhere."""
    token = new_token()
    cast.manager.collect_events()
    cast.manager.issue_token(hash_token(token), by=admin(cast))
    (issued,) = cast.manager.collect_events()
    assert isinstance(issued, Actor.TokenIssued)
    assert issued.token_hash == hash_token(token)
    assert token not in repr(issued.__dict__)
    assert cast.manager.holds(hash_token(token))


def test_tokens_carry_at_least_256_random_bits() -> None:
    """Fresh tokens differ and encode 32 random bytes."""
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100
    assert all(len(t.removeprefix("cp_")) >= 43 for t in tokens)


def test_revoking_tokens_revokes_every_token_of_the_actor(cast: Cast) -> None:
    """After revocation no earlier token is held; a later token is."""
    first, second = hash_token(new_token()), hash_token(new_token())
    cast.manager.issue_token(first, by=admin(cast))
    cast.manager.issue_token(second, by=admin(cast))
    cast.manager.revoke_tokens(by=admin(cast))
    assert not cast.manager.holds(first)
    assert not cast.manager.holds(second)
    third = hash_token(new_token())
    cast.manager.issue_token(third, by=admin(cast))
    assert cast.manager.holds(third)


def test_only_admins_issue_and_revoke_tokens(cast: Cast) -> None:
    """A manager cannot mint or revoke tokens, not even their own."""
    by = Acting(actor=cast.manager.ref, at=cast.clock.now())
    cast.manager.collect_events()
    refused(
        cast.manager,
        NotAllowedForRole,
        lambda: cast.manager.issue_token(hash_token(new_token()), by=by),
    )
    refused(cast.manager, NotAllowedForRole, lambda: cast.manager.revoke_tokens(by=by))


def test_a_partner_is_owned_by_a_manager(cast: Cast) -> None:
    """Only an actor with the manager role can own a partnership."""
    for not_manager in (cast.leader, cast.contact, cast.admin):
        with pytest.raises(InvalidInput, match="not a manager"):
            Partner.register(name="Initech", manager=not_manager, by=admin(cast))
    with pytest.raises(InvalidInput):
        Partner.register(name=" ", manager=cast.manager, by=admin(cast))


def test_reassigning_the_manager_changes_who_may_act_for_the_vendor(cast: Cast) -> None:
    """After reassignment the new manager is a party and the previous one is not."""
    cast.partner.collect_events()
    cast.partner.reassign_manager(cast.other_manager, by=admin(cast))
    assert event_types(cast.partner) == ["ManagerReassigned"]
    with pytest.raises(NotAParty):
        cast.partner.vouch(cast.manager, at=cast.clock.now())
    assert cast.partner.vouch(cast.other_manager, at=cast.clock.now()).partner_id == (
        cast.partner.id
    )
    refused(
        cast.partner,
        RuleViolation,
        lambda: cast.partner.reassign_manager(cast.other_manager, by=admin(cast)),
    )


def test_recorded_times_must_be_utc(cast: Cast) -> None:
    """Acting refuses naive or non-UTC times, so recorded dates are UTC dates."""
    with pytest.raises(ValueError, match="UTC"):
        Acting(actor=cast.admin.ref, at=datetime(2026, 1, 5, 9))  # noqa: DTZ001
    with pytest.raises(ValueError, match="UTC"):
        Acting(
            actor=cast.admin.ref, at=datetime(2026, 1, 5, 9, tzinfo=timezone(timedelta(hours=2)))
        )


def test_a_partnership_does_not_exist_for_those_who_may_not_see_it(cast: Cast) -> None:
    """Other managers and other partners' contacts get OutOfScope (a NotFound, no name)."""
    for stranger in (cast.other_manager, cast.outsider):
        with pytest.raises(OutOfScope) as refused_:
            cast.partner.vouch(stranger, at=cast.clock.now())
        assert isinstance(refused_.value, NotFound)
        assert cast.partner.name not in str(refused_.value)


def test_readers_may_see_a_partnership_but_not_act_for_it(cast: Cast) -> None:
    """Leaders, auditors and admins are told they are not party (NotAParty, not NotFound)."""
    for reader in (cast.leader, cast.auditor, cast.admin):
        assert cast.partner.can_see(reader)
        with pytest.raises(NotAParty) as refused_:
            cast.partner.vouch(reader, at=cast.clock.now())
        assert not isinstance(refused_.value, NotFound)
