"""`make screenshots`: a PNG of every page of the web workspace on the demo, for the docs.

Usage: python -m tests.web.screenshots docs/screenshots
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Browser, Page

from tests.web.admin_screenshots import admin_pages
from tests.web.form_screenshots import form_pages
from tests.web.site import DESKTOP, PHONE, Site, a_browser, a_served_demo, signed_in

CHARTS_DRAWN = """() => !document.querySelector('#trend [hx-trigger]')
  && [...document.querySelectorAll('canvas[data-chart]')].every(
       (c) => c.dataset.drawn === 'yes' && window.Chart && window.Chart.getChart(c))"""
"""True once the portfolio's trend is complete (no part still to load) and every chart on the
page has been drawn by Chart.js."""


def shoot(page: Page, url: str, path: Path) -> None:
    """Open a page, wait until its trend has loaded and its charts are drawn, save all of it."""
    page.goto(url)
    page.wait_for_load_state("networkidle")
    page.wait_for_function(CHARTS_DRAWN, timeout=120_000)
    page.screenshot(path=str(path), full_page=True)
    print(f"wrote {path}")


def telling_plan(site: Site) -> str:
    """The active plan whose sides' scores are furthest apart: the one that shows most."""
    plans = site.api("leader", "GET", "/v1/plans?status=active&limit=500")["items"]

    def gap(plan_id: str) -> float:
        sides = site.api("leader", "GET", f"/v1/plans/{plan_id}/accountability")["sides"]
        vendor, partner = sides["vendor"]["score"] or 0, sides["partner"]["score"] or 0
        return float(abs(vendor - partner))

    return max((p["id"] for p in plans), key=gap)


def every_page(browser: Browser, site: Site, out: Path) -> None:
    """The pages each role sees, on a desktop and two on a phone."""
    ids = site.ids
    plan = telling_plan(site)
    anonymous = browser.new_context(viewport=DESKTOP)
    shoot(anonymous.new_page(), site.url + "/signin", out / "signin.png")
    shoot(anonymous.new_page(), site.url + "/docs", out / "docs.png")
    anonymous.close()
    shots = {
        "leader": [
            ("/portfolio", "portfolio.png"),
            (f"/managers/{ids['manager_id']}", "manager.png"),
            (f"/plans/{plan}", "plan.png"),
            (f"/plans/{plan}?version=12", "plan-past.png"),
        ],
        "manager": [("/", "home-manager.png")],
        "partner": [
            ("/", "home-partner.png"),
            (f"/partners/{ids['partner_id']}", "partner.png"),
        ],
        "auditor": [("/audit", "audit.png")],
    }
    for role, pages in shots.items():
        context, page = signed_in(browser, site, role)
        for path, name in pages:
            shoot(page, site.url + path, out / name)
        context.close()
    for role, path, name in (
        ("leader", "/portfolio", "portfolio-phone.png"),
        ("leader", f"/plans/{plan}", "plan-phone.png"),
    ):
        context, page = signed_in(browser, site, role, PHONE)
        shoot(page, site.url + path, out / name)
        context.close()


def main() -> None:
    """Serve the demo (24 partnerships) on a temporary SQLite file and photograph it."""
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as directory:
        key = Path(directory) / "signing.pem"  # so that the audit page shows a checkpoint
        subprocess.run(
            [sys.executable, "-m", "api.cli", "keys", "generate", "--out", str(key)],
            check=True,
            capture_output=True,
        )
        env = {
            "COUNTERPART_SIGNING_KEY_FILE": str(key),
            "COUNTERPART_WEBHOOKS_ALLOW_PRIVATE": "1",  # the admin pages' loopback endpoint
        }
        with (
            a_served_demo("sqlite", Path(directory), partners=24, managers=3, env=env) as site,
            a_browser() as browser,
        ):
            every_page(browser, site, out)
            admin_pages(browser, site, out)
            form_pages(browser, site, out)


if __name__ == "__main__":
    main()
