"""The directory read model: actors by token hash, partners by manager."""

from __future__ import annotations

from ledger.application import Counterpart
from ledger.clock import SimulatedClock
from ledger.tokens import hash_token
from projections.models.directory import Directory, actor_by_token_hash, actors, partners
from projections.runtime.runner import Runner
from projections.runtime.store import ReadStore
from tests.builders import a_world
from tests.support import shortcuts


def test_tokens_find_their_actor_until_revoked(
    app: Counterpart, clock: SimulatedClock, store: ReadStore
) -> None:
    """A token's hash finds its actor; after revocation none of the actor's tokens does."""
    w = a_world(app, clock)
    actor, first = shortcuts.register_actor(
        app,
        name="Tess Token",
        email="tess@example.com",
        role=app.get_actor(w.leader).role,
        by=w.admin,
    )
    second = shortcuts.issue_token(app, actor.id, by=w.admin)
    runner = Runner(app, store, [Directory()])
    runner.setup()
    runner.catch_up()
    with store.transaction() as cursor:
        found = actor_by_token_hash(cursor, hash_token(second))
        assert found is not None
        assert (found["id"], found["role"], found["side"]) == (str(actor.id), "leader", "vendor")
        assert actor_by_token_hash(cursor, hash_token("cp_not-a-token")) is None
    shortcuts.revoke_tokens(app, actor.id, by=w.admin)
    runner.catch_up()
    with store.transaction() as cursor:
        assert actor_by_token_hash(cursor, hash_token(first)) is None
        assert actor_by_token_hash(cursor, hash_token(second)) is None


def test_partners_follow_their_manager_and_actors_are_listed(
    app: Counterpart, clock: SimulatedClock, store: ReadStore
) -> None:
    """Partners by manager, after a reassignment; actors with side and partner."""
    w = a_world(app, clock)
    runner = Runner(app, store, [Directory()], batch_size=3)
    runner.setup()
    runner.catch_up()
    with store.transaction() as cursor:
        assert [p["id"] for p in partners(cursor, manager_id=w.manager)] == [str(w.partner)]
    shortcuts.reassign_manager(app, w.partner, manager_id=w.other_manager, by=w.admin)
    runner.catch_up()
    with store.transaction() as cursor:
        assert partners(cursor, manager_id=w.manager) == []
        mine = partners(cursor, manager_id=w.other_manager)
        everyone = actors(cursor, limit=100)
        first_two = actors(cursor, limit=2)
        rest = actors(cursor, after=first_two[-1]["id"], limit=100)
    assert len(mine) == 2
    assert first_two + rest == everyone
    contact = next(a for a in everyone if a["id"] == str(w.contact))
    assert (contact["side"], contact["partner_id"]) == ("partner", str(w.partner))
