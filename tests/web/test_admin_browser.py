"""The admin pages and preferences in a real browser, on both backends: used by role and label,
and every state of their forms (empty, refused, done, a secret shown once) accessible."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from tests.conftest import BACKENDS
from tests.nudges.receivers import a_receiver
from tests.web.site import Site, a_served_demo, signed_in

AXE = Axe()
SERIOUS = {"serious", "critical"}


@pytest.fixture(scope="module", params=BACKENDS)
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    """The demo served by one process, delivering webhooks to loopback, on each backend."""
    directory: Path = tmp_path_factory.mktemp(f"admin-{request.param}")
    env = {"COUNTERPART_WEBHOOKS_ALLOW_PRIVATE": "1"}
    with a_served_demo(request.param, directory, env=env) as served:
        yield served


def serious(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now."""
    results = AXE.run(page)
    return [v["id"] for v in results.response["violations"] if v["impact"] in SERIOUS]


def test_an_administrator_registers_a_person_and_gives_them_a_way_in(
    browser: Browser, site: Site
) -> None:
    context, page = signed_in(browser, site, "admin")
    try:
        page.get_by_role("link", name="Admin").click()
        page.wait_for_load_state()
        expect(page.get_by_role("heading", name="Actors", level=1)).to_be_visible()
        assert serious(page) == []  # the forms as first shown
        register = page.locator("#form-register-actor")
        page.get_by_text("Register an actor").click()
        register.get_by_label("Name").fill("Rae Newhire")
        register.get_by_label("E-mail").fill("rae@vendor.example")
        register.get_by_label("Role").select_option("partner")
        register.get_by_role("button", name="Register").click()
        page.wait_for_load_state()
        expect(page.get_by_text("partner id is required")).to_be_visible()
        expect(page.locator("#form-register-actor").get_by_label("Name")).to_have_value(
            "Rae Newhire"
        )
        assert serious(page) == []  # the form with its error
        register = page.locator("#form-register-actor")
        register.get_by_label("Role").select_option("leader")
        register.get_by_role("button", name="Register").click()
        page.wait_for_load_state()
        expect(page.get_by_role("heading", name="Registered Rae Newhire")).to_be_visible()
        token = page.get_by_label("Copy this now: it is not shown again").input_value()
        assert token.startswith("cp_")
        assert serious(page) == []  # the secret, shown once
        page.get_by_role("link", name="Back to the list").click()
        page.wait_for_load_state()
        assert token not in page.content()  # the token is nowhere but on that answer
        row = page.get_by_role("row", name="Rae Newhire")
        row.get_by_role("button", name="Issue token").dblclick()  # sent once: the token shows
        page.wait_for_load_state()
        another = page.get_by_label("Copy this now: it is not shown again").input_value()
        assert another.startswith("cp_")
        assert another != token
        page.goto(f"{site.url}/admin/actors")
        row = page.get_by_role("row", name="Rae Newhire")
        row.get_by_role("button", name="Issue sign-in link").click()
        page.wait_for_load_state()
        link = page.get_by_label("Copy this now: it is not shown again").input_value()
        assert "/signin/" in link
        page.goto(f"{site.url}/admin/actors")
        page.get_by_role("row", name="Rae Newhire").get_by_role("button", name="Revoke").click()
        page.wait_for_load_state()
        expect(page.get_by_role("status")).to_contain_text("Revoked")
        assert "done=revoked" in page.url
        assert serious(page) == []  # after success
    finally:
        context.close()


def test_an_administrator_hands_a_partnership_to_another_manager(
    browser: Browser, site: Site
) -> None:
    context, page = signed_in(browser, site, "admin")
    try:
        page.goto(f"{site.url}/admin/partners")
        assert serious(page) == []
        page.get_by_role("link", name="Reassign manager").first.click()
        page.wait_for_load_state()
        form = page.locator("#form-reassign")
        current = form.get_by_label("New manager").input_value()
        form.get_by_role("button", name="Reassign").click()  # the same manager: refused
        page.wait_for_load_state()
        expect(page.get_by_role("alert").first).to_contain_text("already manages")
        assert serious(page) == []
        form = page.locator("#form-reassign")
        others = form.locator("select option").evaluate_all("os => os.map(o => o.value)")
        form.get_by_label("New manager").select_option(next(o for o in others if o != current))
        form.get_by_role("button", name="Reassign").click()
        page.wait_for_load_state()
        expect(page.get_by_role("status")).to_contain_text("Manager reassigned")
        assert serious(page) == []
    finally:
        context.close()


def test_an_administrator_adds_a_webhook_and_retries_a_delivery(
    browser: Browser, site: Site
) -> None:
    context, page = signed_in(browser, site, "admin")
    try:
        with a_receiver(lambda _: 503) as receiver:
            page.goto(f"{site.url}/admin/webhooks")
            assert serious(page) == []
            page.get_by_text("Add a webhook endpoint").click()
            form = page.locator("#form-add-webhook")
            form.get_by_label("URL").fill("ftp://nowhere.example")
            form.get_by_role("button", name="Add webhook").click()
            page.wait_for_load_state()
            expect(page.locator("#add-webhook-url-error")).to_contain_text("http:// or https://")
            assert serious(page) == []
            form = page.locator("#form-add-webhook")
            form.get_by_label("URL").fill(receiver.url)
            form.get_by_label("partner.registered").check()
            form.get_by_label("Every event (including types added later)").uncheck()
            form.get_by_role("button", name="Add webhook").click()
            page.wait_for_load_state()
            secret = page.get_by_label("Copy this now: it is not shown again").input_value()
            assert secret.startswith("whsec_")
            assert serious(page) == []
            manager = site.api("admin", "GET", "/v1/partners")["items"][0]["manager_id"]
            site.api("admin", "POST", "/v1/partners", json={"name": "Hook", "manager_id": manager})
            assert receiver.wait_for(1)
            page.goto(f"{site.url}/admin/webhooks")
            row = page.get_by_role("row", name=receiver.url)
            row.get_by_role("link", name="Deliveries").click()
            page.wait_for_load_state()
            expect(page.get_by_text("HTTP 503")).to_be_visible()
            assert serious(page) == []
            page.get_by_role("button", name="Retry").first.click()
            page.wait_for_load_state()
            expect(page.get_by_role("status")).to_contain_text("Queued again")
            assert len(receiver.wait_for(2)) >= 2
    finally:
        context.close()


def test_a_partner_contact_chooses_their_e_mails_and_sees_no_admin_page(
    browser: Browser, site: Site
) -> None:
    context, page = signed_in(browser, site, "partner")
    try:
        assert page.get_by_role("link", name="Admin").count() == 0
        assert page.goto(f"{site.url}/admin/actors").status == 403  # type: ignore[union-attr]
        assert serious(page) == []
        page.get_by_role("link", name="Preferences").click()
        page.wait_for_load_state()
        assert serious(page) == []
        digest = page.get_by_label("Weekly digest, on Mondays")
        expect(digest).to_be_checked()
        digest.uncheck()
        page.get_by_role("button", name="Save preferences").click()
        page.wait_for_load_state()
        expect(page.get_by_role("status")).to_have_text("Saved.")
        expect(page.get_by_label("Weekly digest, on Mondays")).not_to_be_checked()
        assert serious(page) == []
        chosen = site.api("partner", "GET", "/v1/me/notifications")["email"]
        assert chosen == {"reminders": True, "digest": False}
    finally:
        context.close()
