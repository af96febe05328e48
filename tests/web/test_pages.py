"""Every page for every role, in a real browser: scope, time travel, accessibility, keyboard,
small screens, offline API docs and the security headers."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from tests.web.site import DESKTOP, PHONE, Site, signed_in, status_of

AXE = Axe()
SERIOUS = {"serious", "critical"}


def pages_of(site: Site) -> dict[str, list[tuple[str, str]]]:
    """(path, heading) of every page each role may open."""
    ids = site.ids
    plan = ids["active_plan"]["id"]
    managed_plan = site.api("manager", "GET", "/v1/plans")["items"][0]["id"]
    leadership = [
        ("/portfolio", "Channel portfolio"),
        (f"/managers/{ids['manager_id']}", ""),
        (f"/partners/{ids['partner_id']}", ""),
        (f"/plans/{plan}", ids["active_plan"]["title"]),
    ]
    integrity = [("/audit", "Audit")]
    return {
        "leader": leadership,
        "admin": leadership + integrity,
        "auditor": leadership + integrity,
        "manager": [
            ("/", "Good to see you"),
            (f"/managers/{ids['manager_id']}", ""),
            (f"/partners/{ids['managed_partner_id']}", ""),
            (f"/plans/{managed_plan}", ""),
        ],
        "partner": [
            ("/", "Good to see you"),
            (f"/partners/{ids['partner_id']}", ""),
            (f"/plans/{plan}", ids["active_plan"]["title"]),
        ],
    }


def serious_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now."""
    results = AXE.run(page)
    return [v for v in results.response["violations"] if v["impact"] in SERIOUS]


def fits(page: Page) -> bool:
    """No horizontal scrolling of the page itself (wide tables scroll inside their box)."""
    width: bool = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    return width


def settles_to_fit(page: Page) -> bool:
    """Whether the page fits without horizontal scrolling once it has laid itself out again
    after a change of viewport (charts redraw on the next frames); polled for up to 5 s."""
    for _ in range(100):
        if page.evaluate("window.innerWidth") == PHONE["width"] and fits(page):
            return True
        page.wait_for_timeout(50)
    return False


@pytest.mark.parametrize("role", ["leader", "admin", "auditor", "manager", "partner"])
def test_every_page_of_a_role_renders_accessibly_on_a_desktop_and_a_phone(
    browser: Browser, site: Site, role: str
) -> None:
    context, page = signed_in(browser, site, role)
    try:
        for path, heading in pages_of(site)[role]:
            page.set_viewport_size(DESKTOP)
            response = page.goto(site.url + path)
            assert status_of(response) == 200, path
            page.wait_for_load_state("networkidle")
            title = page.locator("main h1").first.inner_text()
            assert heading in title, (path, title)
            assert fits(page), f"{path} scrolls sideways on a desktop"
            assert serious_violations(page) == [], path
            # the same page on a phone's screen (the layout follows the viewport's width)
            page.set_viewport_size(PHONE)
            assert settles_to_fit(page), f"{path} scrolls sideways on a phone"
    finally:
        context.close()


def test_a_leader_at_home_lands_on_the_portfolio_with_its_charts(
    browser: Browser, site: Site
) -> None:
    context, page = signed_in(browser, site, "leader")
    try:
        page.goto(site.url + "/")
        assert page.url.endswith("/portfolio")
        assert page.get_by_text("of partnerships have an active plan").is_visible()
        # the charting library drew on both canvases (the trend may come a moment later)
        expect(page.locator("canvas[data-chart]")).to_have_count(2)
        page.wait_for_load_state("networkidle")
        drawn = page.evaluate(
            "Array.from(document.querySelectorAll('canvas[data-chart]'))"
            ".map(c => c.dataset.drawn === 'yes' && Chart.getChart(c) !== undefined)"
        )
        assert drawn == [True, True]
        # the page's trend and coverage are the API's series and portfolio, point for point
        shown = json.loads(
            page.locator("canvas[data-chart=portfolio-trend]").get_attribute("data-points") or ""
        )
        series = site.api("leader", "GET", "/v1/portfolio/series")
        assert shown == series["points"]
        figures = site.api("leader", "GET", "/v1/portfolio")
        coverage = f"({figures['active_plan']['count']} of {figures['partnerships']})"
        assert coverage in page.locator(".coverage").inner_text()
        assert f"{figures['coverage_target'] * 100:.0f}%" in page.locator(".coverage").inner_text()
        assert page.locator("table").filter(has_text="Vendor-side score").is_visible()
    finally:
        context.close()


def test_pages_outside_the_role_or_scope_look_exactly_like_missing_ones(
    browser: Browser, site: Site
) -> None:
    ids = site.ids
    context, page = signed_in(browser, site, "partner")
    try:
        missing = page.goto(f"{site.url}/plans/{uuid.uuid4()}")
        assert status_of(missing) == 404
        missing_text = page.locator("main").inner_text()
        for path in (
            f"/plans/{ids['other_plan']['id']}",
            f"/partners/{ids['other_partner_id']}",
        ):
            response = page.goto(site.url + path)
            assert status_of(response) == 404, path
            assert page.locator("main").inner_text() == missing_text
            assert ids["other_plan"]["title"] not in page.content()
        stream = page.request.get(f"{site.url}/live/plans/{ids['other_plan']['id']}")
        assert stream.status == 404  # no live stream of it either
        # a page the role may never see says so, as the API's 403 does
        for path, words in (
            ("/portfolio", "the portfolio is for"),
            (f"/managers/{ids['manager_id']}", "a manager's accountability is for"),
        ):
            response = page.goto(site.url + path)
            assert status_of(response) == 403, path
            assert words in page.locator("main").inner_text()
    finally:
        context.close()


def test_time_travel_shows_the_plan_as_it_was_and_says_so(browser: Browser, site: Site) -> None:
    plan = site.ids["active_plan"]
    context, page = signed_in(browser, site, "partner")
    try:
        page.goto(f"{site.url}/plans/{plan['id']}")
        assert page.locator("aside.past").count() == 0
        link = page.locator("ol.timeline li").nth(1).get_by_role("link")  # newest first
        shown = (link.get_attribute("href") or "").split("version=")[-1]
        link.click()
        assert f"version={shown}" in page.url
        page.goto(f"{site.url}/plans/{plan['id']}?version=2")
        past = page.locator("aside.past")
        assert past.is_visible()
        assert "A view of the past" in past.inner_text()
        assert "version 2" in past.inner_text()
        assert page.locator("ol.timeline li").count() == 2
        assert page.locator(".status").first.inner_text() == "draft"
        before = plan["activated_at"][:10]
        page.goto(f"{site.url}/plans/{plan['id']}")
        page.fill("#travel-date", before)
        page.locator("form.travel button").click()
        assert f"as_of={before}" in page.url
        assert f"at the end of {before}" in page.locator("aside.past").inner_text()
        response = page.goto(f"{site.url}/plans/{plan['id']}?as_of=yesterday")
        assert status_of(response) == 422
        assert "not a date" in page.locator("main").inner_text()
    finally:
        context.close()


def test_every_score_item_explains_itself_and_links_to_the_deciding_events(
    browser: Browser, site: Site
) -> None:
    plan = site.ids["active_plan"]
    context, page = signed_in(browser, site, "partner")
    try:
        page.goto(f"{site.url}/plans/{plan['id']}")
        links = page.locator("#partner-score ~ details .evidence a, .side-score .evidence a")
        assert links.count() > 0
        target = links.first.get_attribute("href")
        assert target is not None
        anchor = target[target.index("#event-") :]
        if not target.startswith("#"):  # the entry is on an older page of the history
            page.goto(site.url + target)
        assert page.locator(anchor).count() == 1  # the history entry it points at
        page.goto(f"{site.url}/plans/{plan['id']}")
        assert page.get_by_role("heading", name="What would raise it").first.is_visible()
        shown = json.loads(
            page.locator("canvas[data-chart=plan-trend]").get_attribute("data-points") or ""
        )
        since = plan["activated_at"][:10]
        series = site.api(
            "partner", "GET", f"/v1/plans/{plan['id']}/accountability/series?from={since}"
        )
        assert shown == series["points"]  # the trend is the API's series
    finally:
        context.close()


def test_the_workspace_is_usable_by_keyboard(browser: Browser, site: Site) -> None:
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(site.url + "/portfolio")  # not signed in: the sign-in page, coming back after
        assert "/signin" in page.url
        page.keyboard.press("Tab")  # the skip link first
        assert page.evaluate("document.activeElement.textContent") == "Skip to content"
        page.locator("#token").focus()
        page.keyboard.type(site.tokens["leader"])
        page.keyboard.press("Enter")
        page.wait_for_url("**/portfolio")
        reached = set()
        for _ in range(40):
            page.keyboard.press("Tab")
            reached.add(page.evaluate("document.activeElement.textContent.trim()"))
        assert {"Portfolio", "Sign out"} <= reached
        page.locator("a[href^='/managers/']").first.focus()
        page.keyboard.press("Enter")
        page.wait_for_url("**/managers/*")
    finally:
        context.close()


def test_pages_allow_only_this_servers_scripts_and_never_show_a_token(
    browser: Browser, site: Site
) -> None:
    context, page = signed_in(browser, site, "partner")
    try:
        response = page.goto(f"{site.url}/plans/{site.ids['active_plan']['id']}")
        assert response is not None
        policy = response.headers["content-security-policy"]
        script_src = next(p for p in policy.split(";") if p.strip().startswith("script-src"))
        assert script_src.split() == ["script-src", "'self'"]
        assert site.tokens["partner"] not in page.content()
        cookie = next(c for c in context.cookies() if c["name"] == "counterpart_session")
        assert cookie["httpOnly"]
        assert cookie["sameSite"] == "Lax"
        assert cookie["expires"] > 0
    finally:
        context.close()


def test_the_api_docs_render_with_the_network_blocked(browser: Browser, site: Site) -> None:
    context = browser.new_context()
    blocked: list[str] = []

    def only_this_server(route: Any) -> None:
        if route.request.url.startswith(site.url):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", only_this_server)
    page = context.new_page()
    try:
        page.goto(site.url + "/docs")
        page.wait_for_selector(".opblock", timeout=20_000)
        assert page.locator(".opblock").count() >= 20
        assert page.get_by_text("/v1/plans/{plan_id}/commit").first.is_visible()
        page.goto(site.url + "/redoc")
        page.get_by_role("heading", name="Counterpart").first.wait_for(timeout=30_000)
        assert page.get_by_text("/v1/plans/{plan_id}/commit").count() >= 1
        assert blocked == []
    finally:
        context.close()


def test_the_signin_and_error_pages_are_accessible_too(browser: Browser, site: Site) -> None:
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(site.url + "/signin")
        assert serious_violations(page) == []
        page.fill("#token", "cp_wrong")
        page.click("button[type=submit]")
        assert serious_violations(page) == []  # with the refusal shown
        context.close()
        context, page = signed_in(browser, site, "partner")
        assert status_of(page.goto(f"{site.url}/plans/{uuid.uuid4()}")) == 404
        assert serious_violations(page) == []
    finally:
        context.close()
