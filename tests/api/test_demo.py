"""The demo ledger: its cast, two quarters of plans, every behaviour profile, working tokens."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from api.cli.demo import build_read_models, fresh_tokens
from ledger.application import Counterpart
from ledger.clock import SimulatedClock
from ledger.demo import DEMO_DAYS, PROFILES, DemoResult, demo_clock, load_demo
from ledger.demo.cast import DEMO_DOMAIN
from ledger.domain import Role
from ledger.settings import Settings
from ledger.tokens import hash_token
from projections.models.directory import actor_by_token_hash, actors, partners
from projections.models.plan_state import plan_documents
from projections.models.score_facts import ScoreFacts
from projections.rules.scoring import score
from projections.runtime.registry import all_projections
from projections.runtime.runner import Positioned, Runner
from projections.runtime.store import ReadStore, open_store
from tests.conftest import BACKENDS, a_fresh_ledger
from tests.support import shortcuts

SMALL = len(PROFILES)  # one partnership per profile


@dataclass
class Loaded:
    """A demo loaded into a fresh ledger, with its read models caught up."""

    app: Counterpart
    store: ReadStore
    result: DemoResult
    head: int


@pytest.fixture(scope="module", params=BACKENDS)
def loaded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Loaded]:
    """A small demo (one partnership per profile) on each backend, shared by this module."""
    with a_fresh_ledger(request.param, tmp_path_factory.mktemp("demo")) as settings:
        clock = demo_clock()
        app = Counterpart(settings, clock)
        store = open_store(settings)
        result = load_demo(app, clock, partners=SMALL)
        head = app.recorder.max_notification_id() or 0
        runner = Runner(app, store, all_projections(app))
        runner.setup()
        build_read_models(runner, result.recorded)  # as `counterpart demo` does: from memory
        yield Loaded(app, store, result, head)
        store.close()
        app.close()


def all_actors(store: ReadStore) -> list[dict[str, object]]:
    """Every actor of the directory read model."""
    with store.transaction() as cursor:
        return actors(cursor, limit=10_000)


def all_plans(store: ReadStore) -> list[dict[str, object]]:
    """Every plan document of the plan_state read model."""
    with store.transaction() as cursor:
        return plan_documents(cursor, limit=10_000)


def test_the_demo_registers_a_cast_with_managers_partners_and_their_contacts(
    loaded: Loaded,
) -> None:
    """An admin, a leader, an auditor, the managers, 1-2 contacts per partner; demo emails."""
    result = loaded.result
    everyone = all_actors(loaded.store)
    roles = [a["role"] for a in everyone]
    assert (roles.count("admin"), roles.count("leader"), roles.count("auditor")) == (1, 1, 1)
    assert roles.count("manager") == len(result.manager_ids) == 3
    assert len(everyone) == result.actors
    assert all(str(a["email"]).endswith(f"@{DEMO_DOMAIN}") for a in everyone)
    with loaded.store.transaction() as cursor:
        registered = partners(cursor, limit=10_000)
    assert {p["id"] for p in registered} == {str(p) for p in result.partner_ids}
    assert {p["manager_id"] for p in registered} == {str(m) for m in result.manager_ids}
    for partner_id in result.partner_ids:
        contacts = [a for a in everyone if a["partner_id"] == str(partner_id)]
        assert 1 <= len(contacts) <= 2
    assert result.events == loaded.head


def test_each_partnership_has_a_closed_last_quarter_and_a_current_plan_all_in_the_past(
    loaded: Loaded,
) -> None:
    """Closed + active per partnership; the stuck profile's current plan is still a draft."""
    result = loaded.result
    plans = all_plans(loaded.store)
    assert len(plans) == result.plans == 2 * result.partners
    for partner_id, profile in result.profiles.items():
        statuses = sorted(str(p["status"]) for p in plans if p["partner_id"] == str(partner_id))
        expected = ["closed", "draft"] if profile == "stuck_in_draft" else ["active", "closed"]
        assert statuses == expected, profile
    now = datetime.now(UTC)
    assert result.last_day < now.date()
    assert result.first_day == (now - timedelta(days=DEMO_DAYS)).date()
    last = loaded.app.recorder.select_notifications(start=result.events, limit=1)[0]
    recorded = loaded.app.mapper.transcoder.decode(last.state)["timestamp"]
    assert recorded < now


def test_every_profile_appears_and_the_scores_of_each_side_spread_widely(loaded: Loaded) -> None:
    """Diligent to neglectful: each side's plan scores span at least 30 points."""
    result = loaded.result
    assert set(result.profiles.values()) == {p.name for p in PROFILES}
    today = datetime.now(UTC).date()
    scores: dict[str, list[float]] = {"vendor": [], "partner": []}
    with loaded.store.transaction() as cursor:
        for plan_id in result.plan_ids:
            facts = ScoreFacts().load(cursor, plan_id)
            assert facts is not None
            for side, scored in score(facts, today).sides.items():
                if scored.score is not None:
                    scores[side.value].append(float(scored.score))
    for name, values in scores.items():
        assert max(values) - min(values) >= 30, (name, sorted(values))


READ_TABLES = [
    "cp_actors",
    "cp_partners",
    "cp_tokens",
    "cp_plan_state",
    "cp_score_facts",
    "cp_score_report_slots",
    "cp_plan_history",
]


def read_rows(store: ReadStore) -> dict[str, list[str]]:
    """Every row of the read models' tables, as sorted text."""
    rows = {}
    with store.reading() as cursor:
        for table in READ_TABLES:
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 (our own table names)
            rows[table] = sorted(
                repr(tuple(bytes(v) if isinstance(v, memoryview) else v for v in row))
                for row in cursor.fetchall()
            )
    return rows


def test_the_read_models_built_from_the_demo_in_memory_equal_a_rebuild_from_the_ledger(
    loaded: Loaded,
) -> None:
    """The demo hands its recorded events to the projections without reading them back:
    every read model's rows are exactly what replaying the stored ledger gives."""
    built = read_rows(loaded.store)
    assert all(built[table] for table in READ_TABLES)
    runner = Runner(loaded.app, loaded.store, all_projections(loaded.app))
    for name in runner.projections:
        runner.reset(name)
    runner.catch_up()
    assert read_rows(loaded.store) == built


def test_read_models_fed_from_memory_must_follow_on_from_their_positions(
    loaded: Loaded,
) -> None:
    """Events handed in that do not start just after a projection's position: refused."""
    runner = Runner(loaded.app, loaded.store, all_projections(loaded.app))
    with pytest.raises(ValueError, match="not at"):
        runner.apply(
            [Positioned(r.notification.id, r.domain_event) for r in loaded.result.recorded]
        )


def test_adjustments_were_accepted_rejected_withdrawn_and_left_unanswered(loaded: Loaded) -> None:
    """The adjustment stories leave every kind of outcome in the plans."""
    outcomes = {
        adjustment["status"]
        for plan in all_plans(loaded.store)
        for adjustment in plan["adjustments"]  # type: ignore[attr-defined]
    }
    assert outcomes == {"accepted", "rejected", "withdrawn", "proposed"}


def test_the_printed_tokens_authenticate_and_fresh_ones_are_issued_for_the_same_actors(
    loaded: Loaded,
) -> None:
    """Leader, manager, partner contact, admin, auditor; fresh tokens for the first three."""
    result = loaded.result
    with loaded.store.transaction() as cursor:
        for role, token in result.tokens.items():
            found = actor_by_token_hash(cursor, hash_token(token))
            assert found is not None, role
            assert found["role"] == role
    with loaded.store.transaction() as cursor:
        managed = {p["id"] for p in partners(cursor, manager_id=result.manager.id)}
    contact = next(a for a in all_actors(loaded.store) if a["id"] == str(result.partner.id))
    assert contact["partner_id"] in managed  # the printed contact is of the manager's partner
    fresh = fresh_tokens(loaded.app, loaded.store)
    assert [(a.role, a.id) for a in fresh] == [
        ("leader", result.leader.id),
        ("manager", result.manager.id),
        ("partner", result.partner.id),
    ]
    Runner(loaded.app, loaded.store, all_projections(loaded.app)).catch_up()
    with loaded.store.transaction() as cursor:
        for actor in fresh:
            assert actor.token not in result.tokens.values()
            found = actor_by_token_hash(cursor, hash_token(actor.token))
            assert found is not None
            assert found["id"] == str(actor.id)


def test_the_defaults_load_24_partners_over_3_managers_quickly_and_the_same_seed_repeats(
    tmp_path: Path,
) -> None:
    """partners=24, managers=3 (SQLite); a second load with the same seed tells the same story."""
    counts = []
    for name in ("first", "second"):
        settings = Settings(database_url=f"sqlite:///{tmp_path}/{name}.db")
        clock = demo_clock()
        app = Counterpart(settings, clock)
        result = load_demo(app, clock)
        app.close()
        assert (result.partners, len(result.manager_ids), result.plans) == (24, 3, 48)
        counts.append((result.actors, result.events, list(result.profiles.values())))
    assert counts[0] == counts[1]


def test_the_demo_loads_only_into_an_empty_ledger(app: Counterpart, clock: SimulatedClock) -> None:
    """Anything in the ledger: refused, and nothing more is stored."""
    shortcuts.register_actor(app, name="Ada Admin", email="ada@vendor.example", role=Role.ADMIN)
    head = app.recorder.max_notification_id()
    with pytest.raises(ValueError, match="empty ledger"):
        load_demo(app, clock, partners=1)
    assert app.recorder.max_notification_id() == head


def test_the_demo_clock_must_leave_room_for_its_days_before_today(settings: Settings) -> None:
    """A clock starting fewer than DEMO_DAYS days ago would record events in the future."""
    clock = SimulatedClock(datetime.now(UTC) - timedelta(days=DEMO_DAYS - 10))
    app = Counterpart(settings, clock)
    try:
        with pytest.raises(ValueError, match=f"at least {DEMO_DAYS} days before today"):
            load_demo(app, clock, partners=1)
        with pytest.raises(ValueError, match="simulated clock"):
            load_demo(app, demo_clock(), partners=1)
        assert not app.recorder.max_notification_id()
    finally:
        app.close()


def test_fresh_tokens_find_no_demo_actors_in_a_ledger_without_a_demo(
    app: Counterpart, settings: Settings
) -> None:
    """A ledger with data but no demo actors: no tokens, none issued."""
    shortcuts.register_actor(app, name="Lee Leader", email="lee@vendor.example", role=Role.LEADER)
    head = app.recorder.max_notification_id()
    store = open_store(settings)
    try:
        assert fresh_tokens(app, store) == []
    finally:
        store.close()
    assert app.recorder.max_notification_id() == head
