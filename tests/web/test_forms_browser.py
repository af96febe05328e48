"""The plan forms in a real browser, on both backends: a partner contact reports progress by
keyboard alone, every state of the form (empty, refused, done) and the conflict page are
accessible."""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from tests.web.site import Site, signed_in

AXE = Axe()
SERIOUS = {"serious", "critical"}


def serious(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now."""
    results = AXE.run(page)
    return [v["id"] for v in results.response["violations"] if v["impact"] in SERIOUS]


def test_a_partner_reports_progress_by_keyboard_alone_and_every_form_state_is_accessible(
    browser: Browser, site: Site
) -> None:
    plan = site.ids["active_plan"]
    context, page = signed_in(browser, site, "partner")
    try:
        page.goto(f"{site.url}/plans/{plan['id']}")
        assert serious(page) == []  # the forms as first shown
        actions = page.get_by_role("region", name="What you can do")
        assert actions.get_by_role("button", name="Commit").count() == 0  # the plan is active
        form = page.locator("form[action$='/progress']").first
        summary = page.locator("details:has(form[action$='/progress']) > summary").first
        summary.focus()
        page.keyboard.press("Enter")  # unfold the form
        page.keyboard.press("Tab")
        expect(form.get_by_label("Value")).to_be_focused()
        page.keyboard.type("lots")
        page.keyboard.press("Enter")  # sends the form, as a browser does from a text field
        page.wait_for_load_state()
        refused = page.get_by_text("Value must be a number, such as 20 or 12.5.")
        expect(refused).to_be_visible()
        value = page.locator("form[action$='/progress'] input[name=value][aria-invalid=true]")
        expect(value).to_be_focused()  # the refused field has the focus, as typed
        expect(value).to_have_value("lots")
        assert serious(page) == []  # the form with its error
        page.keyboard.press("Control+A")
        page.keyboard.type("17")
        page.keyboard.press("Enter")
        page.wait_for_load_state()
        expect(page.get_by_role("status")).to_have_text("Progress reported.")
        assert "done=reported" in page.url  # redirected after the POST
        expect(page.get_by_role("cell", name="17 as of").first).to_be_visible()
        assert serious(page) == []  # after success
    finally:
        context.close()


def test_the_conflict_page_is_accessible_and_its_retry_records_once(
    browser: Browser, site: Site
) -> None:
    """A form the other side made stale gets the conflict page (0 serious or critical axe
    violations), which says what changed and records the retry on the current version."""
    plan = site.ids["active_plan"]
    document = site.api("manager", "GET", f"/v1/plans/{plan['id']}")
    vendor_metric = next(m for m in document["metrics"] if m["owner_side"] == "vendor")
    context, page = signed_in(browser, site, "partner")
    try:
        page.goto(f"{site.url}/plans/{plan['id']}")
        page.locator("details:has(form[action$='/progress']) > summary").first.click()
        form = page.locator("form[action$='/progress']").first
        form.get_by_label("Value").fill("5")
        site.api(
            "manager",
            "POST",
            f"/v1/plans/{plan['id']}/metrics/{vendor_metric['id']}/progress",
            json={"value": "2", "as_of": form.get_by_label("As of").input_value()},
        )
        before = site.api("partner", "GET", f"/v1/plans/{plan['id']}")["version"]
        form.get_by_role("button", name="Report progress").click()
        page.wait_for_load_state()
        expect(page.get_by_text("The plan changed since you opened this form")).to_be_visible()
        assert serious(page) == []  # the conflict page
        assert site.api("partner", "GET", f"/v1/plans/{plan['id']}")["version"] == before
        page.locator("form[action$='/progress']").first.get_by_role(
            "button", name="Report progress"
        ).click()
        page.wait_for_load_state()
        expect(page.get_by_role("status")).to_have_text("Progress reported.")
        assert site.api("partner", "GET", f"/v1/plans/{plan['id']}")["version"] == before + 1
    finally:
        context.close()
