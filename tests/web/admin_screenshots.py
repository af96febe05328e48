"""The admin pages and preferences for `make screenshots`: each list, a refused form, a secret
shown once, and a webhook's failed deliveries (an endpoint on loopback that nothing answers)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, Page

from tests.web.site import Site, signed_in

FULL = True
UNANSWERED = "http://127.0.0.1:9/counterpart-hook"
"""A webhook endpoint nobody listens on (the discard port): its deliveries fail and retry."""


def saved(page: Page, path: Path) -> None:
    """The page as it is now, all of it."""
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(path), full_page=FULL)
    print(f"wrote {path}")


def admin_pages(browser: Browser, site: Site, out: Path) -> None:
    """What an administrator sees and does, and a partner contact's preferences."""
    hook = site.api(
        "admin",
        "POST",
        "/v1/webhooks",
        json={"url": UNANSWERED, "event_types": ["*"], "description": "The CRM's inbound hook"},
    )
    manager = site.api("admin", "GET", "/v1/partners")["items"][0]["manager_id"]
    site.api("admin", "POST", "/v1/partners", json={"name": "Northwind", "manager_id": manager})
    context, page = signed_in(browser, site, "admin")
    for path, name in (
        ("/admin/actors", "admin-actors.png"),
        ("/admin/partners", "admin-partners.png"),
        ("/admin/webhooks", "admin-webhooks.png"),
        (f"/admin/webhooks/{hook['id']}/deliveries", "admin-deliveries.png"),
    ):
        page.goto(site.url + path)
        saved(page, out / name)
    page.goto(site.url + "/admin/actors")
    page.get_by_text("Register an actor").click()
    form = page.locator("#form-register-actor")
    form.get_by_label("Name").fill("Rae Newhire")
    form.get_by_label("E-mail").fill("rae@partner.example")
    form.get_by_label("Role").select_option("partner")
    form.get_by_role("button", name="Register").click()
    saved(page, out / "admin-actors-error.png")
    form = page.locator("#form-register-actor")
    form.get_by_label("Role").select_option("leader")
    form.get_by_role("button", name="Register").click()
    saved(page, out / "admin-token.png")
    context.close()
    context, page = signed_in(browser, site, "partner")
    page.goto(site.url + "/preferences")
    saved(page, out / "preferences.png")
    context.close()
