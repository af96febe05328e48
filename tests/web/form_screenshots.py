"""The plan forms for `make screenshots`: a partner contact's forms unfolded, a refused report
with its message by the field, and the conflict page when the other side acted first."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser

from tests.web.admin_screenshots import saved
from tests.web.site import Site, signed_in

PROGRESS_FORM = "form[action$='/progress']"
PROGRESS_SUMMARY = "details:has(form[action$='/progress']) > summary"


def form_pages(browser: Browser, site: Site, out: Path) -> None:
    """The partner contact's active plan: its forms, a refusal, a conflict."""
    plan = site.ids["active_plan"]["id"]
    document = site.api("manager", "GET", f"/v1/plans/{plan}")
    vendor_metric = next(m for m in document["metrics"] if m["owner_side"] == "vendor")
    context, page = signed_in(browser, site, "partner")
    page.goto(f"{site.url}/plans/{plan}")
    for summary in page.locator("section details > summary").all():
        summary.click()  # every form of the side unfolded
    saved(page, out / "plan-forms.png")
    page.goto(f"{site.url}/plans/{plan}")
    page.locator(PROGRESS_SUMMARY).first.click()
    form = page.locator(PROGRESS_FORM).first
    form.get_by_label("Value").fill("lots")
    form.get_by_role("button", name="Report progress").click()
    page.wait_for_load_state("networkidle")
    page.locator(PROGRESS_FORM).first.scroll_into_view_if_needed()
    page.screenshot(path=str(out / "form-error.png"))  # the form and its message, as seen
    print(f"wrote {out / 'form-error.png'}")
    page.goto(f"{site.url}/plans/{plan}")
    page.locator(PROGRESS_SUMMARY).first.click()
    form = page.locator(PROGRESS_FORM).first
    form.get_by_label("Value").fill("5")
    site.api(
        "manager",
        "POST",
        f"/v1/plans/{plan}/metrics/{vendor_metric['id']}/progress",
        json={"value": "2", "as_of": form.get_by_label("As of").input_value()},
    )
    form.get_by_role("button", name="Report progress").click()
    page.get_by_text("The plan changed since you opened this form").wait_for()
    saved(page, out / "form-conflict.png")
    context.close()
