"""Signing in (one-time links, tokens), signing out, and live pages, on several processes."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from playwright.sync_api import Browser, expect

from api.web.sessions import SignIns
from projections.runtime.store import open_store
from tests.conftest import BACKENDS
from tests.web.site import Site, a_served_demo, cli, signed_in, status_of

LIVE_SECONDS = 2.0


@pytest.fixture(scope="module", params=BACKENDS)
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    """On PostgreSQL two server processes share the ledger (one for SQLite's single writer)."""
    directory: Path = tmp_path_factory.mktemp(f"web-live-{request.param}")
    servers = 2 if request.param == "postgres" else 1
    with a_served_demo(request.param, directory, servers=servers) as served:
        yield served


def a_link(site: Site, actor_id: str, server: int = 0) -> str:
    """A link from `counterpart actors signin-link`, pointed at one of the servers."""
    made = json.loads(cli(site.settings, "actors", "signin-link", actor_id, "--json"))
    code = made["url"].rsplit("/", 1)[1]
    return f"{site.urls[server]}/signin/{code}"


def test_a_signin_link_signs_in_once_on_any_process(browser: Browser, site: Site) -> None:
    link = a_link(site, site.ids["manager_id"])
    first = browser.new_context()
    second = browser.new_context()
    try:
        page = first.new_page()
        page.goto(link)
        other = second.new_page()
        other.goto(link.replace(site.urls[0], site.urls[-1]))  # the same link, another process
        page.get_by_role("button", name="Sign in as").click()
        expect(page.locator("header .who")).to_contain_text("manager")
        with other.expect_response(lambda r: r.request.method == "POST") as answer:
            other.get_by_role("button", name="Sign in as").click()  # spent a moment ago
        assert answer.value.status == 410
        assert "already used" in other.locator("main").inner_text()
        assert status_of(other.goto(link)) == 410  # and opening it again says so at once
        other.goto(site.urls[-1] + "/")
        assert "/signin" in other.url  # the spent link signed no one in
    finally:
        first.close()
        second.close()


def test_a_signin_link_expires_after_15_minutes(browser: Browser, site: Site) -> None:
    store = open_store(site.settings)
    try:
        made = datetime.now(UTC) - timedelta(minutes=15, seconds=1)
        code = SignIns(store).issue_link(UUID(site.ids["manager_id"]), made)
    finally:
        store.close()
    context = browser.new_context()
    try:
        page = context.new_page()
        response = page.goto(f"{site.url}/signin/{code}")
        assert status_of(response) == 410
        assert "expired" in page.locator("main").inner_text()
        assert page.get_by_role("button", name="Sign in as").count() == 0
        csrf = page.locator("input[name=csrf]").get_attribute("value")
        spent = page.request.post(f"{site.url}/signin/{code}", form={"csrf": csrf or ""})
        assert spent.status == 410  # nor can it be spent directly
        assert not any(c["name"] == "counterpart_session" for c in context.cookies())
    finally:
        context.close()


def test_a_wrong_token_is_refused_with_a_clear_message(browser: Browser, site: Site) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(site.url + "/signin")
        page.fill("#token", "cp_not-a-token")
        page.click("button[type=submit]")
        assert "unknown or was revoked" in page.get_by_role("alert").inner_text()
        assert not any(c["name"] == "counterpart_session" for c in context.cookies())
    finally:
        context.close()


def test_signing_out_ends_the_session_on_every_process(browser: Browser, site: Site) -> None:
    context, page = signed_in(browser, site, "partner")
    cookies = context.cookies()
    try:
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url("**/signin")
    finally:
        context.close()
    replay = browser.new_context()
    try:
        replay.add_cookies(cookies)  # the old cookie, on another process
        page = replay.new_page()
        page.goto(site.urls[-1] + "/")
        assert "/signin" in page.url
    finally:
        replay.close()


def test_revoking_an_actors_tokens_ends_their_web_sessions(browser: Browser, site: Site) -> None:
    made = site.api(
        "admin",
        "POST",
        "/v1/actors",
        json={"name": "Rita Revoked", "email": "rita@vendor.example", "role": "auditor"},
    )
    site.tokens["revoked-auditor"] = made["token"]
    context, page = signed_in(browser, site, "revoked-auditor")
    try:
        page.goto(site.url + "/audit")
        assert page.get_by_role("heading", name="Audit").first.is_visible()
        site.api("admin", "POST", f"/v1/actors/{made['id']}/revoke")
        page.goto(site.urls[-1] + "/audit")
        assert "/signin" in page.url
    finally:
        context.close()


def test_an_open_plan_page_and_inbox_show_the_other_sides_act_within_2_seconds(
    browser: Browser, site: Site
) -> None:
    plan = site.api("partner", "GET", f"/v1/plans/{site.ids['active_plan']['id']}")
    today = datetime.now(UTC).date().isoformat()
    metric = next(
        m
        for m in plan["metrics"]
        if m["owner_side"] == "vendor" and m["status"] == "agreed" and m["due_date"] > today
    )
    partner, partner_page = signed_in(browser, site, "partner", server=len(site.urls) - 1)
    home = partner.new_page()
    manager, manager_page = signed_in(browser, site, "manager")
    try:
        partner_page.goto(f"{site.urls[-1]}/plans/{plan['id']}")
        home.goto(site.urls[-1] + "/")
        manager_page.goto(f"{site.url}/plans/{plan['id']}")
        for page in (partner_page, home, manager_page):
            page.wait_for_load_state("networkidle")
        assert "12345" not in partner_page.content()
        # the manager's side acts (through the API, from the manager's browser context)
        acted = manager.request.post(
            f"{site.url}/v1/plans/{plan['id']}/metrics/{metric['id']}/progress",
            headers={"Authorization": f"Bearer {site.tokens['manager']}"},
            data={"value": "12345", "as_of": today, "note": "live"},
        )
        assert acted.status == 201
        started = time.monotonic()
        expect(partner_page.get_by_text("12345").first).to_be_visible(timeout=LIVE_SECONDS * 1000)
        proposed = manager.request.post(
            f"{site.url}/v1/plans/{plan['id']}/adjustments",
            headers={"Authorization": f"Bearer {site.tokens['manager']}"},
            data={
                "metric_id": metric["id"],
                "kind": "change_target",
                "new_target": "99",
                "reason": "live test",
            },
        )
        assert proposed.status == 201
        expect(home.get_by_text(f"change target of '{metric['name']}'")).to_be_visible(
            timeout=LIVE_SECONDS * 1000
        )
        expect(partner_page.get_by_text("live test").first).to_be_visible(
            timeout=LIVE_SECONDS * 1000
        )
        # the page says it was updated (written just after the new content is swapped in)
        expect(partner_page.locator(".live-note")).to_have_text(
            re.compile(r"^Updated at"), timeout=LIVE_SECONDS * 1000
        )
        assert time.monotonic() - started < 2 * LIVE_SECONDS
    finally:
        partner.close()
        manager.close()
