"""Tamper evidence over HTTP: verify, the signed checkpoint, the public key and exports, with
each party confined to what it may see."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from api.integrity import renderer
from ledger.integrity import Keyring
from ledger.integrity.export import verify_export
from ledger.settings import Settings
from ledger.transcodings import ledger_transcoder
from tests.api.world import World, a_draft_plan, an_active_plan, created
from tests.integrity.tamper import Intruder


@pytest.fixture
def keyring(client: TestClient) -> Keyring:
    """The public key as the server publishes it (to anyone, without a token)."""
    published = created(client.get("/v1/audit/public-key"), 200)
    assert published["algorithm"] == "Ed25519"
    ring = Keyring.from_pem(published["public_key"].encode())
    assert list(ring.keys) == [published["key_id"]]
    return ring


def test_verify_over_http_reports_ok_then_the_position_of_a_changed_event(
    world: World, settings: Settings
) -> None:
    an_active_plan(world)
    verdict = created(world.auditor.get("/v1/audit/verify"), 200)
    assert verdict["ok"] is True
    assert verdict["first_bad_position"] is None
    assert verdict["checked"] == verdict["head"] > 0
    Intruder(settings).change_one_byte(verdict["head"] - 2)
    tampered = created(world.admin.get("/v1/audit/verify"), 200)
    assert tampered["ok"] is False
    assert tampered["first_bad_position"] == verdict["head"] - 2
    assert tampered["problem"] == "payload_changed"
    assert tampered["detail"]


def test_the_checkpoint_covers_the_head_and_verifies_with_the_published_key(
    world: World, keyring: Keyring
) -> None:
    an_active_plan(world)
    checkpoint = created(world.auditor.get("/v1/audit/checkpoint"), 200)
    verdict = created(world.auditor.get("/v1/audit/verify"), 200)
    assert checkpoint["position"] == verdict["head"]
    assert verdict["checkpoints_checked"] >= 1
    issued = created(world.admin.post("/v1/audit/checkpoint"), 201)
    assert set(issued) == {"position", "chain_hash", "issued_at", "key_id", "signature"}
    assert issued["key_id"] in keyring.keys


def test_a_partner_contact_exports_only_their_partnership_and_it_verifies_offline(
    world: World, keyring: Keyring
) -> None:
    mine = an_active_plan(world)
    theirs = a_draft_plan(world, by=world.other_manager)
    response = world.contact.get("/v1/audit/export")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    lines = response.text.splitlines()
    records = [json.loads(line) for line in lines]
    shown = {r["originator_id"] for r in records if r["kind"] == "event"}
    assert shown == {mine.id, world.partner}
    assert theirs.id not in response.text
    verdict = verify_export(lines, keyring, renderer(ledger_transcoder()))
    assert verdict.ok, verdict.detail


@pytest.mark.parametrize("who", ["contact", "manager"])
def test_no_one_exports_a_partnership_outside_their_scope(world: World, who: str) -> None:
    a_draft_plan(world, by=world.other_manager)
    caller = getattr(world, who)
    response = caller.get("/v1/audit/export", params={"partner_id": world.other_partner})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_only_auditors_and_admins_export_the_whole_ledger(world: World) -> None:
    an_active_plan(world)
    for caller in (world.manager, world.leader):
        assert caller.get("/v1/audit/export").status_code == 403
    whole = world.auditor.get("/v1/audit/export")
    assert whole.status_code == 200
    assert json.loads(whole.text.splitlines()[0])["scope"] == "ledger"
