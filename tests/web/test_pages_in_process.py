"""Pages checked in process, with no browser: the plan page's history a page at a time, the
portfolio's trend part on its own, the portfolio's attention list a page at a time."""

from __future__ import annotations

import html
import re
from uuid import UUID

import pytest

from api.web import views
from api.web.plan_views import HISTORY_PAGE
from ledger import commands as c
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


def attention_names(text: str) -> list[str]:
    """The partnerships listed as needing attention on a portfolio page."""
    section = text.split('id="attention-title"', 1)[1]
    return re.findall(r'<td><a href="/partners/[^"]+">([^<]+)</a></td>', section)


def managers_table(text: str) -> dict[str, str]:
    """The portfolio's managers table: each manager's number of partnerships."""
    section = text.split('id="managers-title"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(
        r'<a href="/managers/[^"]+">([^<]+)</a></td>.*?<td>\d+ of (\d+)</td>', section, re.S
    )
    return dict(rows)


def test_the_attention_list_pages_through_every_partnership_that_needs_it(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Partnerships without a plan need attention; the list shows a page of them at a time
    and its links reach every one, each once, with the count in the heading."""
    monkeypatch.setattr(views, "ATTENTION_PAGE", 2)
    for n in range(3):
        body = {"name": f"Initech {n}", "manager_id": world.manager.id}
        created(world.admin.post("/v1/partners", body))
    first = page_as(world.leader, "/portfolio")
    count = re.search(r"Partnerships that need attention \((\d+)\)", first)
    assert count is not None
    assert int(count.group(1)) == 5  # the two of the world and the three new ones
    seen, page = [], first
    while True:
        seen += attention_names(page)
        following = re.search(r'<a href="([^"]+)" rel="next">', page)
        if following is None:
            break
        page = page_as(world.leader, html.unescape(following.group(1)))
    assert len(seen) == 5
    assert len(set(seen)) == 5
    assert {"Initech 0", "Initech 1", "Initech 2"} <= set(seen)
    assert 'rel="prev"' in page
    # the page's lists are kept per day, and end with a registration or a reassignment
    created(world.admin.post("/v1/partners", {"name": "Umbrella", "manager_id": world.manager.id}))
    assert "Partnerships that need attention (6)" in page_as(world.leader, "/portfolio")
    services = world.client.app.state.services  # type: ignore[attr-defined]
    services.app.handle(c.ReassignManager(UUID(world.partner), UUID(world.other_manager.id)))
    managers = managers_table(page_as(world.leader, "/portfolio"))
    assert managers[world.other_manager.name] == "2"  # Globex and, now, Acme
