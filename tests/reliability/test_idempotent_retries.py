"""Idempotent retries: a client that resends every POST with its Idempotency-Key, after
timeouts or after its server died mid-way, ends with exactly one effect per command."""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

from api import schemas
from api.app import create_app
from api.config import ServerSettings
from api.services import Services
from ledger.application import Counterpart
from ledger.clock import SimulatedClock
from ledger.domain import ConcurrencyConflict, Role
from ledger.settings import Settings
from tests.api.world import World, a_world, an_active_plan, plan_body
from tests.reliability.conftest import (
    Cast,
    Journal,
    Server,
    a_cast,
    assert_applied_exactly_once,
    attempt,
    draft,
    progress,
    review,
    settle,
)
from tests.reliability.conftest import (
    an_active_plan as an_app_plan,
)
from tests.support import shortcuts

CLIENTS = 8
COMMANDS_PER_CLIENT = 20
TIMEOUTS = (0.002, 0.2)
"""A client gives up on an attempt after this many seconds, drawn uniformly (then resends)."""
PATIENT_AFTER = 8
"""Attempts after which a client stops timing out early, so that every command ends."""
SEED = 11


def a_client(base: str, cast: Cast, index: int, journal: Journal) -> None:
    """Send each command with a short random timeout; resend (same key) until answered."""
    rng = random.Random(SEED * 100 + index)
    with httpx.Client(base_url=base, timeout=30) as client:
        for _ in range(COMMANDS_PER_CLIENT):
            plan = rng.choice(cast.plans)
            roll = rng.random()
            if roll < 0.7:
                command = progress(plan, cast, vendor=rng.random() < 0.5)
            elif roll < 0.85:
                command = review(plan, cast)
            else:
                command = draft(cast)
            journal.add(command)
            tries = 0
            while True:
                tries += 1
                timeout = rng.uniform(*TIMEOUTS) if tries <= PATIENT_AFTER else 30.0
                if attempt(client, command, timeout):
                    break
                time.sleep(rng.uniform(0, 0.05))


@pytest.mark.timeout(180)
def test_a_client_resending_every_post_after_random_timeouts_causes_one_effect_each(
    settings: Settings, tmp_path: Path
) -> None:
    """8 clients give up on attempts after 2 to 200 ms and resend them with the same key
    (the server still runs the first): each command is stored exactly once."""
    cast = a_cast(settings, plans=2)
    server = Server(settings.database_url, tmp_path / "server.log").start()
    journal = Journal()
    try:
        threads = [
            threading.Thread(target=a_client, args=(server.base, cast, i, journal))
            for i in range(CLIENTS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(150)
        settle(server.base, journal.commands)
    finally:
        server.stop()
    attempts = sum(len(c.attempts) for c in journal.commands)
    timeouts = sum(1 for c in journal.commands for _, s in c.attempts if s == "ReadTimeout")
    in_progress = sum(1 for c in journal.commands for _, s in c.attempts if s == 409)
    print(
        f"{len(journal.commands)} commands, {attempts} attempts, {timeouts} timed out, "
        f"{in_progress} answered 'in progress'; {journal.statuses()}"
    )
    assert timeouts > 0, "no attempt timed out: the test proved nothing"
    assert set(journal.statuses()) <= {200, 201}
    assert not server.log_lines("unexpected_error")
    assert_applied_exactly_once(settings, journal.commands)


# ----------------------------------------------- a server that died between save and answer


@dataclass(frozen=True)
class Kind:
    """A command: its request, its body's schema, who sends it, and its status."""

    path: Callable[[World, dict[str, str]], str]
    body: Callable[[World, dict[str, str]], dict[str, Any] | None]
    schema: type[BaseModel] | None
    caller: str
    status: int


def _progress_path(world: World, ids: dict[str, str]) -> str:
    return f"/v1/plans/{ids['plan']}/metrics/{ids['metric']}/progress"


KINDS: dict[str, Kind] = {
    "progress": Kind(
        _progress_path,
        lambda w, ids: {"value": "7", "as_of": w.today(), "note": "reported once"},
        schemas.ProgressIn,
        "contact",
        201,
    ),
    "draft": Kind(
        lambda w, ids: "/v1/plans",
        lambda w, ids: plan_body(w.partner, title="Drafted once"),
        schemas.PlanIn,
        "manager",
        201,
    ),
    "register an actor": Kind(
        lambda w, ids: "/v1/actors",
        lambda w, ids: {"name": "Rita Retry", "email": "rita@example.com", "role": "leader"},
        schemas.ActorIn,
        "admin",
        201,
    ),
    "issue a token": Kind(
        lambda w, ids: f"/v1/actors/{w.leader.id}/tokens",
        lambda w, ids: None,
        None,
        "admin",
        201,
    ),
    "revoke tokens": Kind(
        lambda w, ids: f"/v1/actors/{w.auditor.id}/revoke",
        lambda w, ids: None,
        None,
        "admin",
        200,
    ),
    "register a partner": Kind(
        lambda w, ids: "/v1/partners",
        lambda w, ids: {"name": "Initech", "manager_id": w.manager.id},
        schemas.PartnerIn,
        "admin",
        201,
    ),
}


@pytest.fixture
def crash_world(settings: Settings, clock: SimulatedClock) -> Iterator[World]:
    """A world whose server process is in this test's hands (to make it die mid-request)."""
    app = create_app(settings, ServerSettings(poll_interval=0.05), clock)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield a_world(client, settings, clock)


class Died(Exception):
    """The server process died here."""


def died_after_the_save(world: World, kind: Kind, ids: dict[str, str], key: str) -> None:
    """What a server that died between the save and the answer leaves: the command sent with
    its key, handled by the server's own application (events and the key's record committed
    in one transaction), and no response ever sent."""
    services: Services = world.client.app.state.services  # type: ignore[attr-defined]
    original = services.app.handle

    def handle_then_die(command: Any, context: Any = None) -> Any:
        original(command, context)
        raise Died

    services.app.handle = handle_then_die  # type: ignore[method-assign]
    caller = world.callers()[kind.caller]
    try:
        with pytest.raises(Died):
            TestClient(world.client.app).post(  # type: ignore[arg-type]
                kind.path(world, ids),
                json=kind.body(world, ids),
                headers={**caller.auth, "Idempotency-Key": key},
            )
    finally:
        services.app.handle = original  # type: ignore[method-assign]


def plan_ids(world: World) -> dict[str, str]:
    """An active plan and its partner-side metric."""
    plan = an_active_plan(world)
    return {"plan": plan.id, "metric": plan.partner_metric}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", list(KINDS))
def test_a_command_stored_by_a_server_that_died_before_answering_is_not_applied_again(
    crash_world: World, name: str
) -> None:
    """The server stored the command's events (and, in the same transaction, its answer),
    then died before sending it: a retry with the key answers what the command answered
    (marked as a replay, tokens null) and stores nothing; later repeats replay that answer."""
    world, kind = crash_world, KINDS[name]
    ids = plan_ids(world)
    before = world.head()
    died_after_the_save(world, kind, ids, "retried-key")
    head = world.head()
    assert head > before, "the dead server stored nothing: the test proved nothing"
    caller = world.callers()[kind.caller]
    path, body = kind.path(world, ids), kind.body(world, ids)
    retried = caller.post(path, body, headers={"Idempotency-Key": "retried-key"})
    assert retried.status_code == kind.status, retried.text
    assert retried.headers["Idempotent-Replayed"] == "true"
    assert world.head() == head, "the retry applied the command a second time"
    answer = retried.json()
    if name == "progress":
        assert answer["version"] == world.plan(ids["plan"])["version"]
        reported = next(m for m in answer["metrics"] if m["id"] == ids["metric"])
        assert reported["latest_value"] == "7"
        assert retried.headers["ETag"] == f'"{answer["version"]}"'
    if name == "draft":
        assert answer["title"] == "Drafted once"
        assert answer["version"] == 1
    if "token" in answer:
        assert answer["token"] is None
    again = caller.post(path, body, headers={"Idempotency-Key": "retried-key"})
    assert (again.status_code, again.json()) == (retried.status_code, answer)
    assert world.head() == head


@pytest.mark.timeout(60)
def test_a_retry_runs_once_the_command_of_a_server_that_died_before_storing_it(
    crash_world: World,
) -> None:
    """The server died before its save committed (the transaction holding the events and the
    key's record rolled back): the retry runs the command once; its repeats replay it."""
    world, kind = crash_world, KINDS["progress"]
    ids = plan_ids(world)
    services: Services = world.client.app.state.services  # type: ignore[attr-defined]
    original = services.app.save

    def die_in_the_save(*objs: Any, **kwargs: Any) -> Any:
        raise Died

    services.app.save = die_in_the_save  # type: ignore[method-assign]
    path, body = kind.path(world, ids), kind.body(world, ids)
    try:
        with pytest.raises(Died):
            TestClient(world.client.app).post(  # type: ignore[arg-type]
                path,
                json=body,
                headers={**world.contact.auth, "Idempotency-Key": "never-stored"},
            )
    finally:
        services.app.save = original  # type: ignore[method-assign]
    head = world.head()
    retried = world.contact.post(path, body, headers={"Idempotency-Key": "never-stored"})
    assert retried.status_code == 201, retried.text
    assert "Idempotent-Replayed" not in retried.headers
    assert world.head() == head + 1
    last = services.app.recorder.select_events(UUID(ids["plan"]), desc=True, limit=1)[0]
    stored = json.loads(last.state)
    assert (last.topic.rpartition(".")[2], stored["note"]) == ("ProgressReported", "reported once")
    again = world.contact.post(path, body, headers={"Idempotency-Key": "never-stored"})
    assert again.headers["Idempotent-Replayed"] == "true"
    assert world.head() == head + 1


# ------------------------------------------------ a commit the connection did not confirm


@pytest.mark.timeout(60)
def test_a_write_retried_after_its_unconfirmed_commit_is_recorded_once(settings: Settings) -> None:
    """The database stored a save's events but the connection broke before it said so, and
    the library retried the insert: the save is taken as done (the plan holds the command
    once), while another request's write of the same version, even of the same command, is
    still a conflict."""
    app = Counterpart(settings)
    try:
        cast = a_bench_cast(app)
        plan = app.get_plan(cast["plan"])
        version = plan.version
        manager = app.get_actor(cast["manager"])
        now = datetime.now(UTC)
        partner = app.get_partner(plan.partner_id)
        by = partner.vouch(manager, at=now, request_id="the-request")
        plan.report_progress(cast["metric"], value=Decimal(3), as_of=now.date(), by=by)
        first_commit = [app.mapper.to_stored_event(e) for e in plan.pending_events]
        app.recorder.insert_events(first_commit)  # the commit whose answer the connection lost
        app.save(plan)  # the library's retry of the same insert
        stored = app.recorder.select_events(cast["plan"], gt=version)
        assert [e.originator_version for e in stored] == [version + 1]
        assert app.get_plan(cast["plan"]).version == version + 1
        rival = app.get_plan(cast["plan"], version=version)
        by = partner.vouch(manager, at=now, request_id="another-request")
        rival.report_progress(cast["metric"], value=Decimal(3), as_of=now.date(), by=by)
        with pytest.raises(ConcurrencyConflict):
            app.save(rival)
    finally:
        app.close()


def a_bench_cast(app: Counterpart) -> dict[str, UUID]:
    """A manager's active plan, through the application: its id and the vendor metric."""
    admin, _ = shortcuts.register_actor(
        app, name="Ada", email="ada@vendor.example", role=Role.ADMIN
    )
    manager, _ = shortcuts.register_actor(
        app, name="Max", email="max@vendor.example", role=Role.MANAGER, by=admin.id
    )
    partner = shortcuts.register_partner(app, name="Acme", manager_id=manager.id, by=admin.id)
    contact, _ = shortcuts.register_actor(
        app,
        name="Pat",
        email="pat@acme.example",
        role=Role.PARTNER,
        partner_id=partner.id,
        by=admin.id,
    )
    plan = an_app_plan(app, partner.id, manager.id, contact.id)
    return {"plan": UUID(plan.id), "metric": UUID(plan.vendor_metric), "manager": manager.id}
