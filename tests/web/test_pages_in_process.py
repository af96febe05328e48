"""Pages checked in process, with no browser: the plan page's history a page at a time, the
portfolio's trend part on its own."""

from __future__ import annotations

import html
import re

from api.web.plan_views import HISTORY_PAGE
from tests.api.conftest import client, module_settings, shared_world, world
from tests.api.world import Caller, World, an_active_plan, created

__all__ = ["client", "module_settings", "shared_world", "world"]


def page_as(caller: Caller, path: str) -> str:
    """A page's HTML, signed in with the caller's token through the sign-in form."""
    http = caller.client
    http.cookies.clear()
    csrf = re.search(r'name="csrf" value="([^"]+)"', http.get("/signin").text)
    assert csrf is not None
    http.post("/signin", data={"token": caller.token, "csrf": csrf.group(1)})
    try:
        response = http.get(path)
    finally:
        http.cookies.clear()
    assert response.status_code == 200
    return response.text


def versions(text: str) -> list[int]:
    """The versions of the history entries on a page, in the order shown."""
    return [int(v) for v in re.findall(r"\?version=(\d+)\" aria-label=\"The plan after", text)]


def test_a_long_history_is_shown_newest_first_a_page_at_a_time(shared_world: World) -> None:
    world = shared_world
    plan = an_active_plan(world)
    for n in range(HISTORY_PAGE):
        body = {"value": str(n), "as_of": world.today()}
        created(world.manager.post(f"{plan.url}/metrics/{plan.vendor_metric}/progress", body))
    latest = world.version(plan)
    first = page_as(world.manager, f"/plans/{plan.id}")
    assert versions(first) == list(range(latest, latest - HISTORY_PAGE, -1))
    older = re.search(r'<a href="([^"]+)" rel="next">Older events</a>', first)
    assert older is not None
    rest = page_as(world.manager, html.unescape(older.group(1)))
    assert versions(rest) == list(range(latest - HISTORY_PAGE, 0, -1))
    assert "Older events" not in rest
    assert "Newest events" in rest
    # events the score cites that are on the older page: their links open that page
    assert re.search(
        rf'href="/plans/{plan.id}\?history_before=\d+#event-\d+"', html.unescape(first)
    )


def test_the_portfolio_trend_part_renders_on_its_own(shared_world: World) -> None:
    """The part the portfolio page loads when its trend takes long: the whole trend, a chart."""
    world = shared_world
    an_active_plan(world)
    part = page_as(world.leader, "/portfolio/trend")
    assert 'data-chart="portfolio-trend"' in part
    assert "hx-trigger" not in part  # complete: nothing left to load
