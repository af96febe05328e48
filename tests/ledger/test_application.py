"""Application-level rules that need storage: lookups, expected versions, tokens, clocks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest

from ledger.application import Counterpart
from ledger.clock import SimulatedClock
from ledger.domain import (
    OPERATOR,
    InvalidInput,
    NotAParty,
    NotFound,
    Role,
    VersionMismatch,
)
from ledger.settings import Settings
from ledger.tokens import hash_token
from tests.builders import PERIOD_END, PERIOD_START, a_world, an_active_plan_in
from tests.support import shortcuts


def stored_bytes(app: Counterpart) -> bytes:
    """Every stored event's serialised state, concatenated."""
    notes = app.recorder.select_notifications(start=1, limit=100_000)
    return b"".join(n.state for n in notes)


def test_unknown_ids_and_ids_of_other_aggregates_are_not_found(
    app: Counterpart, clock: SimulatedClock
) -> None:
    """A random id, or an actor's id used as a plan id, is NotFound."""
    w = a_world(app, clock)
    with pytest.raises(NotFound, match="plan"):
        app.get_plan(uuid4())
    with pytest.raises(NotFound, match="plan"):
        app.get_plan(w.manager)
    with pytest.raises(NotFound, match="partner"):
        shortcuts.draft_plan(
            app,
            partner_id=w.manager,
            title="T",
            period_start=PERIOD_START,
            period_end=PERIOD_END,
            actor_id=w.manager,
        )


def test_a_stale_expected_version_is_refused_and_stores_nothing(
    app: Counterpart, clock: SimulatedClock
) -> None:
    """If-Match semantics: the command runs only on the version the caller saw."""
    w = a_world(app, clock)
    plan_id, metrics = an_active_plan_in(w)
    version = app.get_plan(plan_id).version
    with pytest.raises(VersionMismatch) as raised:
        shortcuts.report_progress(
            app,
            plan_id,
            metrics.partner,
            value=Decimal(1),
            as_of=clock.now().date(),
            actor_id=w.contact,
            expected_version=version - 1,
        )
    assert (raised.value.expected, raised.value.actual) == (version - 1, version)
    assert app.get_plan(plan_id).version == version
    plan = shortcuts.report_progress(
        app,
        plan_id,
        metrics.partner,
        value=Decimal(1),
        as_of=clock.now().date(),
        actor_id=w.contact,
        expected_version=version,
    )
    assert plan.version == version + 1


def test_tokens_are_stored_only_as_hashes(app: Counterpart, clock: SimulatedClock) -> None:
    """Neither the first token nor a later one appears in the stored events; hashes do."""
    admin, first = shortcuts.register_actor(app, name="Ada", email="ada@v.example", role=Role.ADMIN)
    second = shortcuts.issue_token(app, admin.id, by=admin.id)
    raw = stored_bytes(app)
    assert first.encode() not in raw
    assert second.encode() not in raw
    assert hash_token(first).encode() in raw
    reloaded = app.get_actor(admin.id)
    assert reloaded.holds(hash_token(first))
    assert reloaded.holds(hash_token(second))
    shortcuts.revoke_tokens(app, admin.id, by=admin.id)
    assert not app.get_actor(admin.id).holds(hash_token(first))


def test_the_first_admin_is_registered_by_the_operator(
    app: Counterpart, clock: SimulatedClock
) -> None:
    """With no registering admin the event names the operator."""
    admin, _ = shortcuts.register_actor(app, name="Ada", email="ada@v.example", role=Role.ADMIN)
    (registered, _issued) = app.events.get(admin.id)
    assert registered.actor == OPERATOR


def test_a_partner_contact_names_an_existing_partner(
    app: Counterpart, clock: SimulatedClock
) -> None:
    """An unknown partner_id is invalid input, and nothing is stored."""
    admin, _ = shortcuts.register_actor(app, name="Ada", email="ada@v.example", role=Role.ADMIN)
    before = app.recorder.max_notification_id()
    with pytest.raises(InvalidInput, match="no partner"):
        shortcuts.register_actor(
            app,
            name="Pat",
            email="pat@p.example",
            role=Role.PARTNER,
            partner_id=uuid4(),
            by=admin.id,
        )
    with pytest.raises(InvalidInput, match="manager_id"):
        shortcuts.register_partner(app, name="Acme", manager_id=uuid4(), by=admin.id)
    assert app.recorder.max_notification_id() == before


def test_review_attendees_must_exist_and_be_parties_or_leaders(
    app: Counterpart, clock: SimulatedClock
) -> None:
    """Unknown attendees and another partnership's contacts are refused."""
    w = a_world(app, clock)
    plan_id, _ = an_active_plan_in(w)
    today = clock.now().date()
    with pytest.raises(InvalidInput, match="attendee_ids"):
        shortcuts.record_review(
            app, plan_id, held_on=today, attendee_ids=[uuid4()], actor_id=w.manager
        )
    with pytest.raises(InvalidInput, match="cannot attend"):
        shortcuts.record_review(
            app, plan_id, held_on=today, attendee_ids=[w.outsider], actor_id=w.manager
        )
    plan, review_id = shortcuts.record_review(
        app,
        plan_id,
        held_on=today,
        attendee_ids=[w.leader, w.contact, w.leader],
        actor_id=w.manager,
    )
    assert [a.id for a in plan.reviews[0].attendees] == [w.leader, w.contact]
    assert plan.reviews[0].id == review_id


def test_only_parties_act_through_the_application(app: Counterpart, clock: SimulatedClock) -> None:
    """Another partnership's contact and manager, and a leader, cannot commit to the plan."""
    w = a_world(app, clock)
    plan = shortcuts.draft_plan(
        app,
        partner_id=w.partner,
        title="T",
        period_start=PERIOD_START,
        period_end=PERIOD_END,
        actor_id=w.contact,
    )
    for stranger in (w.outsider, w.other_manager, w.leader, w.admin):
        with pytest.raises(NotAParty):
            shortcuts.commit(app, plan.id, actor_id=stranger)
    assert app.get_plan(plan.id).version == 1


def test_reassigning_a_partner_hands_its_plans_to_the_new_manager(
    app: Counterpart, clock: SimulatedClock
) -> None:
    """The previous manager can no longer act; the new one can."""
    w = a_world(app, clock)
    plan_id, metrics = an_active_plan_in(w)
    shortcuts.reassign_manager(app, w.partner, manager_id=w.other_manager, by=w.admin)
    today = clock.now().date()
    with pytest.raises(NotAParty):
        shortcuts.report_progress(
            app, plan_id, metrics.vendor, value=Decimal(1), as_of=today, actor_id=w.manager
        )
    plan = shortcuts.report_progress(
        app, plan_id, metrics.vendor, value=Decimal(1), as_of=today, actor_id=w.other_manager
    )
    latest = plan.metric(metrics.vendor).latest
    assert latest is not None
    assert latest.value == Decimal(1)


class BackwardsClock:
    """A clock that has been set back, as after an NTP correction."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        """Always the same, earlier moment."""
        return self.moment


def test_recorded_times_never_run_backwards_within_a_plan(
    settings: Settings, clock: SimulatedClock
) -> None:
    """If the clock is behind the plan's last event, the event is recorded at that event's time."""
    app = Counterpart(settings, clock)
    w = a_world(app, clock)
    plan_id, metrics = an_active_plan_in(w)
    clock.advance(timedelta(days=3))
    shortcuts.report_progress(
        app,
        plan_id,
        metrics.partner,
        value=Decimal(1),
        as_of=clock.now().date(),
        actor_id=w.contact,
    )
    last = app.get_plan(plan_id).modified_on
    behind = Counterpart(settings, BackwardsClock(last - timedelta(hours=5)))
    plan = shortcuts.report_progress(
        behind,
        plan_id,
        metrics.partner,
        value=Decimal(2),
        as_of=(last - timedelta(days=1)).date(),
        actor_id=w.contact,
    )
    assert plan.modified_on == last
    assert last.tzinfo is UTC or last.utcoffset() == timedelta(0)
    app.close()
    behind.close()
