"""Idempotency-Key: a repeat gets the first response and stores nothing; keys are per actor."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from ledger.clock import SimulatedClock
from ledger.settings import Settings
from tests.api.world import (
    Caller,
    World,
    a_draft_plan,
    a_running_world,
    a_server,
    an_active_plan,
    an_agreed_plan,
    created,
    ledger_head,
    plan_body,
    with_proposed_metrics,
)

REPLAYED = "Idempotent-Replayed"


@pytest.fixture
def world(shared_world: World) -> World:
    """One world per module and backend: every test uses keys and plans of its own."""
    return shared_world


def keyed(key: str) -> dict[str, str]:
    """The Idempotency-Key header."""
    return {"Idempotency-Key": key}


def assert_replay(first: httpx.Response, again: httpx.Response) -> None:
    """The repeat has the first response's status, body and ETag, marked as a replay."""
    assert again.status_code == first.status_code, again.text
    assert again.json() == first.json()
    assert again.headers.get("ETag") == first.headers.get("ETag")
    assert again.headers[REPLAYED] == "true"
    assert REPLAYED not in first.headers


def test_a_repeated_command_gets_the_first_response_and_stores_nothing(world: World) -> None:
    """Same key, same body: same status and body, Idempotent-Replayed, no new event."""
    plan = an_active_plan(world)
    url = f"{plan.url}/metrics/{plan.partner_metric}/progress"
    body = {"value": 5, "as_of": world.today(), "note": "first"}
    first = world.contact.post(url, body, headers=keyed("progress-1"))
    assert first.status_code == 201, first.text
    head, version = world.head(), world.version(plan)
    for _ in range(3):
        assert_replay(first, world.contact.post(url, body, headers=keyed("progress-1")))
    assert (world.head(), world.version(plan)) == (head, version)
    history = created(world.manager.get(f"{plan.url}/history"), 200)["items"]
    assert [e["type"] for e in history].count("ProgressReported") == 1


def test_a_repeated_draft_creates_one_plan(world: World) -> None:
    """A POST that creates, repeated with its key, answers the same 201 and the same id."""
    body = plan_body(world.partner, title="Drafted once")
    first = world.manager.post("/v1/plans", body, headers=keyed("draft-q1"))
    assert first.status_code == 201, first.text
    head = world.head()
    assert_replay(first, world.manager.post("/v1/plans", body, headers=keyed("draft-q1")))
    assert world.head() == head
    titles = [p["title"] for p in created(world.manager.get("/v1/plans"), 200)["items"]]
    assert titles.count("Drafted once") == 1


def test_a_replay_is_the_first_response_even_after_the_plan_moved_on(world: World) -> None:
    """The manager's commit, repeated after the contact's commit activated the plan, still
    answers what the first commit answered (a draft with one commitment)."""
    plan = an_agreed_plan(world)
    first = world.manager.post(f"{plan.url}/commit", headers=keyed("commit"))
    assert first.json()["status"] == "draft"
    created(world.contact.post(f"{plan.url}/commit"), 200)
    head = world.head()
    again = world.manager.post(f"{plan.url}/commit", headers=keyed("commit"))
    assert_replay(first, again)
    assert again.json()["status"] == "draft"
    assert world.plan(plan)["status"] == "active"
    assert world.head() == head


def test_the_same_key_with_another_body_is_refused_with_422(world: World) -> None:
    """A key names one request: a different body, or another endpoint, is a client error."""
    plan = an_active_plan(world)
    url = f"{plan.url}/metrics/{plan.partner_metric}/progress"
    created(world.contact.post(url, {"value": 5, "as_of": world.today()}, headers=keyed("k")), 201)
    head = world.head()
    others: list[tuple[str, Any]] = [
        (url, {"value": 6, "as_of": world.today()}),
        (url, {"value": 5, "as_of": world.today(), "note": "changed"}),
        (f"{plan.url}/metrics/{plan.vendor_metric}/progress", {"value": 5, "as_of": world.today()}),
        (f"{plan.url}/reviews", {"held_on": world.today(), "attendee_ids": [world.contact.id]}),
    ]
    for path, body in others:
        response = world.contact.post(path, body, headers=keyed("k"))
        assert response.status_code == 422, (path, body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"].endswith("idempotency-key-reused")
    assert world.head() == head


def test_the_same_body_as_a_number_or_a_string_is_the_same_request(world: World) -> None:
    """Requests are compared as validated: 5 and "5" are one value."""
    plan = an_active_plan(world)
    url = f"{plan.url}/metrics/{plan.partner_metric}/progress"
    first = world.contact.post(url, {"value": 5, "as_of": world.today()}, headers=keyed("n"))
    again = world.contact.post(url, {"value": "5", "as_of": world.today()}, headers=keyed("n"))
    assert_replay(first, again)


def test_keys_are_per_actor(world: World) -> None:
    """Two actors using the same key make two different requests, both applied."""
    plan = an_agreed_plan(world)
    vendor = world.manager.post(f"{plan.url}/commit", headers=keyed("commit-now"))
    partner = world.contact.post(f"{plan.url}/commit", headers=keyed("commit-now"))
    assert vendor.status_code == partner.status_code == 200
    assert REPLAYED not in partner.headers
    assert partner.json()["status"] == "active"


def test_a_failed_request_does_not_burn_its_key(world: World) -> None:
    """A commit refused (409) stores nothing, so the same key works once the plan is ready."""
    plan = with_proposed_metrics(world, a_draft_plan(world))
    refused = world.manager.post(f"{plan.url}/commit", headers=keyed("ready"))
    assert refused.status_code == 409, refused.text
    again = world.manager.post(f"{plan.url}/commit", headers=keyed("ready"))
    assert again.status_code == 409
    assert REPLAYED not in again.headers
    created(world.contact.post(f"{plan.url}/metrics/{plan.vendor_metric}/agree"), 200)
    created(world.manager.post(f"{plan.url}/metrics/{plan.partner_metric}/agree"), 200)
    applied = world.manager.post(f"{plan.url}/commit", headers=keyed("ready"))
    assert applied.status_code == 200, applied.text
    assert REPLAYED not in applied.headers
    assert applied.json()["commitments"]["vendor"]["actor_id"] == world.manager.id
    assert_replay(applied, world.manager.post(f"{plan.url}/commit", headers=keyed("ready")))


def test_a_request_refused_as_invalid_does_not_burn_its_key(world: World) -> None:
    """A 422 (invalid body) or a 403 (wrong side) leaves the key free."""
    plan = an_active_plan(world)
    url = f"{plan.url}/metrics/{plan.partner_metric}/progress"
    invalid = world.contact.post(url, {"value": "NaN", "as_of": world.today()}, headers=keyed("v"))
    assert invalid.status_code == 422
    wrong_side = world.manager.post(url, {"value": 1, "as_of": world.today()}, headers=keyed("w"))
    assert wrong_side.status_code == 403
    for key in ("v", "w"):
        response = world.contact.post(url, {"value": 1, "as_of": world.today()}, headers=keyed(key))
        assert response.status_code == 201, response.text


def test_keys_survive_a_server_restart(settings: Settings, clock: SimulatedClock) -> None:
    """The first response is kept in the database: a new server process replays it."""
    with a_running_world(settings, clock) as world:
        plan = an_active_plan(world)
        url = f"{plan.url}/metrics/{plan.vendor_metric}/progress"
        body = {"value": 2, "as_of": world.today()}
        first = world.manager.post(url, body, headers=keyed("before-restart"))
        assert first.status_code == 201, first.text
    head = ledger_head(settings)
    with a_server(settings, clock) as client:
        again = world.on(client).manager.post(url, body, headers=keyed("before-restart"))
        assert_replay(first, again)
    assert ledger_head(settings) == head


def test_a_replayed_registration_does_not_show_the_token_again(world: World) -> None:
    """Tokens are stored as hashes: a replay answers the same actor with token null."""
    body = {"name": "Rita Repeat", "email": "rita@example.com", "role": "manager"}
    first = world.admin.post("/v1/actors", body, headers=keyed("rita"))
    assert first.status_code == 201, first.text
    assert first.json()["token"]
    head = world.head()
    again = world.admin.post("/v1/actors", body, headers=keyed("rita"))
    assert again.status_code == 201
    assert again.headers[REPLAYED] == "true"
    assert again.json() == first.json() | {"token": None}
    assert world.head() == head
    token = world.admin.post(f"/v1/actors/{first.json()['id']}/tokens", headers=keyed("t"))
    replayed = world.admin.post(f"/v1/actors/{first.json()['id']}/tokens", headers=keyed("t"))
    assert token.json()["token"]
    assert (replayed.status_code, replayed.json()) == (201, {"token": None})
    caller = Caller(world.client, "Rita", first.json()["id"], token.json()["token"], "manager")
    assert caller.get("/v1/me").status_code == 200


def test_a_key_sent_twice_at_once_applies_the_command_once(world: World) -> None:
    """Concurrent repeats: one applies, the others replay it or are told to retry (409)."""
    plan = an_active_plan(world)
    url = f"{plan.url}/metrics/{plan.partner_metric}/progress"
    body = {"value": 9, "as_of": world.today()}
    head = world.head()

    def send(_: int) -> httpx.Response:
        return world.contact.post(url, body, headers=keyed("at-once"))

    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(send, range(6)))
    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {201, 409}, [r.text for r in responses]
    assert 201 in statuses
    bodies = {r.text for r in responses if r.status_code == 201}
    assert len(bodies) == 1
    for response in responses:
        if response.status_code == 409:
            assert response.json()["retry"] is True
            assert response.headers["Retry-After"]
    assert world.head() == head + 1
