"""Webhooks through the real app, delivered to real HTTP receivers on loopback."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from projections.rules.webhooks import EndpointRefused
from projections.runtime.webhook_sender import check_endpoint
from tests.api.world import World, a_draft_plan, created
from tests.nudges.receivers import Received, a_receiver


def subscribe(world: World, url: str, event_types: list[str] | None = None) -> dict[str, Any]:
    """An endpoint registered by the admin."""
    body = {"url": url, "event_types": event_types or ["*"], "description": "test receiver"}
    return created(world.admin.post("/v1/webhooks", body))  # type: ignore[no-any-return]


def deliveries(world: World, endpoint: dict[str, Any], **params: str) -> list[dict[str, Any]]:
    """The endpoint's deliveries as the API lists them."""
    found = created(
        world.admin.get(f"/v1/webhooks/{endpoint['id']}/deliveries", params=params), 200
    )
    return found["items"]  # type: ignore[no-any-return]


def verified(secret: str, got: Received) -> dict[str, Any]:
    """The payload, after the Standard Webhooks reference library checked its signature."""
    return Webhook(secret).verify(got.body, got.headers)  # type: ignore[no-any-return]


def test_only_admins_manage_webhooks(nudging_world: World) -> None:
    world = nudging_world
    body = {"url": "http://127.0.0.1:9/x", "event_types": ["*"]}
    assert world.manager.post("/v1/webhooks", body).status_code == 403
    assert world.leader.get("/v1/webhooks").status_code == 403
    assert world.client.get("/v1/webhooks").status_code == 401


def test_a_new_endpoint_shows_its_secret_only_once(nudging_world: World) -> None:
    world = nudging_world
    endpoint = subscribe(world, "http://127.0.0.1:9/never")
    assert endpoint["secret"].startswith("whsec_")
    assert len(base64.b64decode(endpoint["secret"].removeprefix("whsec_"))) == 32
    assert endpoint["status"] == "active"
    shown = created(world.admin.get(f"/v1/webhooks/{endpoint['id']}"), 200)
    assert "secret" not in shown
    listed = created(world.admin.get("/v1/webhooks"), 200)["items"]
    assert endpoint["id"] in {e["id"] for e in listed}
    assert all("secret" not in e for e in listed)
    created(world.admin.post(f"/v1/webhooks/{endpoint['id']}/disable"), 200)


def test_bad_subscriptions_are_refused_and_store_nothing(nudging_world: World) -> None:
    world = nudging_world
    before = len(created(world.admin.get("/v1/webhooks", params={"limit": 500}), 200)["items"])
    for body in (
        {"url": "ftp://127.0.0.1/x", "event_types": ["*"]},
        {"url": "http://127.0.0.1:9/x", "event_types": ["plan.exploded"]},
        {"url": "http://127.0.0.1:9/x", "event_types": []},
        {"url": "http://user:pw@127.0.0.1:9/x", "event_types": ["*"]},
        {"url": "http://127.0.0.1:9/x"},
    ):
        response = world.admin.post("/v1/webhooks", body)
        assert response.status_code == 422, body
        assert response.headers["content-type"].startswith("application/problem+json")
    after = len(created(world.admin.get("/v1/webhooks", params={"limit": 500}), 200)["items"])
    assert after == before
    unknown = "00000000-0000-4000-8000-000000000000"
    assert world.admin.get(f"/v1/webhooks/{unknown}").status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://localhost:8080/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://172.16.5.4/hook",
        "http://169.254.169.254/latest",
        "http://[::1]/hook",
        "http://[fe80::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
    ],
)
def test_loopback_private_and_link_local_endpoints_are_refused(url: str) -> None:
    with pytest.raises(EndpointRefused):
        check_endpoint(url, allow_private=False)
    check_endpoint(url, allow_private=True)


def test_the_api_refuses_a_private_endpoint_unless_allowed(world: World) -> None:
    response = world.admin.post(
        "/v1/webhooks", {"url": "http://127.0.0.1:9/x", "event_types": ["*"]}
    )
    assert response.status_code == 422
    assert "COUNTERPART_WEBHOOKS_ALLOW_PRIVATE" in response.json()["detail"]


def test_deliveries_are_signed_as_standard_webhooks_says(nudging_world: World) -> None:
    world = nudging_world
    with a_receiver() as receiver:
        endpoint = subscribe(world, receiver.url, ["plan.drafted", "metric.proposed"])
        plan = a_draft_plan(world)
        created(world.manager.post(f"{plan.url}/metrics", _metric()))
        got = receiver.wait_for(2)
    assert len(got) == 2
    payloads = [verified(endpoint["secret"], g) for g in got]
    assert [p["type"] for p in payloads] == ["plan.drafted", "metric.proposed"]
    first = payloads[0]
    assert first["data"]["plan_id"] == plan.id
    assert first["data"]["partner_id"] == world.partner
    event = first["data"]["event"]
    assert event["type"] == "Drafted"
    assert event["position"] == first["data"]["position"]
    assert event["actor"]["id"] == world.manager.id
    assert event["data"]["title"] == "Q1 2026 joint plan"
    assert got[0].headers["webhook-id"].startswith("msg_")
    assert got[0].headers["content-type"] == "application/json"
    tampered = Received(got[0].headers, got[0].body.replace(b"Q1", b"Q2"), 200)
    with pytest.raises(WebhookVerificationError):
        verified(endpoint["secret"], tampered)
    listed = deliveries(world, endpoint, status="delivered")
    assert [d["event_type"] for d in listed] == ["plan.drafted", "metric.proposed"]
    assert all(d["attempts"] == 1 and d["last_status_code"] == 200 for d in listed)
    created(world.admin.post(f"/v1/webhooks/{endpoint['id']}/disable"), 200)


def test_the_old_secret_signs_alongside_the_new_one_for_a_day(nudging_world: World) -> None:
    world = nudging_world
    with a_receiver() as receiver:
        endpoint = subscribe(world, receiver.url, ["plan.drafted"])
        rotated = created(world.admin.post(f"/v1/webhooks/{endpoint['id']}/rotate-secret"), 200)
        assert rotated["secret"] != endpoint["secret"]
        a_draft_plan(world)
        (during,) = receiver.wait_for(1)
        assert len(during.headers["webhook-signature"].split(" ")) == 2
        verified(endpoint["secret"], during)  # a receiver not yet updated still verifies
        verified(rotated["secret"], during)
        world.days(1.01)
        a_draft_plan(world)
        after = receiver.wait_for(2)[1]
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    verified(rotated["secret"], after)
    with pytest.raises(WebhookVerificationError):
        verified(endpoint["secret"], after)
    created(world.admin.post(f"/v1/webhooks/{endpoint['id']}/disable"), 200)


def test_failed_answers_are_retried_with_backoff_then_failed_then_retried_by_hand(
    nudging_world: World,
) -> None:
    world = nudging_world
    answers = {"status": 500}
    with a_receiver(lambda _: answers["status"]) as receiver:
        endpoint = subscribe(world, receiver.url, ["plan.drafted"])
        a_draft_plan(world)
        receiver.wait_for(1)
        (pending,) = _settled(world, endpoint, attempts=1)
        assert pending["status"] == "pending"
        assert pending["last_status_code"] == 500
        assert pending["next_attempt_at"] > world.clock.now().isoformat()[:19]
        world.days(0.01)  # 14 minutes: past the first pause (about a minute)
        receiver.wait_for(2)
        (second,) = _settled(world, endpoint, attempts=2)
        assert second["status"] == "pending"
        for _ in range(30):  # hourly retries until a day has passed since the first attempt
            world.days(1.3 / 24)  # past the longest pause (an hour, +25 % jitter)
            if deliveries(world, endpoint, status="failed"):
                break
            _settled(world, endpoint, attempts=len(receiver.wait_for(len(receiver.received) + 1)))
        (failed,) = deliveries(world, endpoint, status="failed")
        assert failed["attempts"] >= 10
        ids = {r.headers["webhook-id"] for r in receiver.received}
        assert ids == {failed["id"]}  # every attempt of one message carries the same id
        answers["status"] = 204
        queued = created(
            world.admin.post(f"/v1/webhooks/{endpoint['id']}/deliveries/{failed['id']}/retry"),
            200,
        )
        assert queued["status"] == "pending"
        (done,) = _settled(world, endpoint, status="delivered")
    assert done["last_status_code"] == 204
    created(world.admin.post(f"/v1/webhooks/{endpoint['id']}/disable"), 200)


def test_redirects_are_not_followed(nudging_world: World) -> None:
    world = nudging_world
    with a_receiver(lambda _: 302) as receiver:
        endpoint = subscribe(world, receiver.url, ["plan.drafted"])
        a_draft_plan(world)
        receiver.wait_for(1)
        (pending,) = _settled(world, endpoint, attempts=1)
    assert pending["status"] == "pending"
    assert pending["last_status_code"] == 302
    assert "not followed" in pending["last_error"]
    created(world.admin.post(f"/v1/webhooks/{endpoint['id']}/disable"), 200)


def test_a_disabled_endpoint_gets_nothing_until_enabled(nudging_world: World) -> None:
    world = nudging_world
    with a_receiver() as receiver:
        endpoint = subscribe(world, receiver.url, ["plan.drafted"])
        created(world.admin.post(f"/v1/webhooks/{endpoint['id']}/disable"), 200)
        a_draft_plan(world)
        world.plan(a_draft_plan(world))  # read after write: the outbox has seen both
        assert receiver.wait_for(1, timeout=0.5) == []
        shown = created(world.admin.post(f"/v1/webhooks/{endpoint['id']}/enable"), 200)
        assert shown["status"] == "active"
        plan = a_draft_plan(world)
        (got,) = receiver.wait_for(1)
    assert verified(endpoint["secret"], got)["data"]["plan_id"] == plan.id
    created(world.admin.post(f"/v1/webhooks/{endpoint['id']}/disable"), 200)


def _metric() -> dict[str, Any]:
    from tests.api.world import vendor_metric  # noqa: PLC0415

    return vendor_metric()


def _settled(
    world: World, endpoint: dict[str, Any], attempts: int | None = None, status: str | None = None
) -> list[dict[str, Any]]:
    """The deliveries once their attempts are recorded (the receiver answers first)."""
    import time  # noqa: PLC0415

    for _ in range(200):
        found = deliveries(world, endpoint)
        if (
            all(
                (attempts is None or d["attempts"] >= attempts)
                and (status is None or d["status"] == status)
                for d in found
            )
            and found
        ):
            return found
        time.sleep(0.02)
    return deliveries(world, endpoint)


def test_payload_is_plain_json(nudging_world: World) -> None:
    world = nudging_world
    with a_receiver() as receiver:
        endpoint = subscribe(world, receiver.url, ["partner.registered"])
        created(
            world.admin.post("/v1/partners", {"name": "Initech", "manager_id": world.manager.id})
        )
        (got,) = receiver.wait_for(1)
    body = json.loads(got.body)
    assert body["type"] == "partner.registered"
    assert body["data"]["plan_id"] is None
    assert body["data"]["event"]["data"]["name"] == "Initech"
    created(world.admin.post(f"/v1/webhooks/{endpoint['id']}/disable"), 200)


def test_a_repeated_subscription_with_its_key_creates_one_endpoint(nudging_world: World) -> None:
    world = nudging_world
    body = {"url": "http://127.0.0.1:9/keyed", "event_types": ["plan.closed"]}
    key = {"Idempotency-Key": "subscribe-once-1"}
    first = world.admin.post("/v1/webhooks", body, headers=key)
    again = world.admin.post("/v1/webhooks", body, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    other = world.admin.post("/v1/webhooks", {**body, "description": "x"}, headers=key)
    assert other.status_code == 422
    listed = created(world.admin.get("/v1/webhooks", params={"limit": 500}), 200)["items"]
    assert [e["url"] for e in listed].count(body["url"]) == 1
    created(world.admin.post(f"/v1/webhooks/{first.json()['id']}/disable"), 200)
