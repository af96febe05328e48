"""GET /v1/me/inbox through the real app: kinds, act_by, actions, and who sees what."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta
from typing import Any

from tests.api.world import (
    World,
    a_draft_plan,
    an_active_plan,
    an_agreed_plan,
    created,
    with_proposed_metrics,
)


def inbox(caller: Any, as_of: str | None = None) -> list[dict[str, Any]]:
    """The caller's inbox items."""
    params = {"as_of": as_of} if as_of else None
    body = created(caller.get("/v1/me/inbox", params=params), 200)
    items: list[dict[str, Any]] = body["items"]
    return items


def of_plan(items: list[dict[str, Any]], plan_id: str) -> list[dict[str, Any]]:
    """The items of one plan."""
    return [i for i in items if i["plan_id"] == plan_id]


def test_each_side_is_asked_to_agree_to_the_other_sides_metric(shared_world: World) -> None:
    world = shared_world
    plan = with_proposed_metrics(world, a_draft_plan(world))
    vendor = of_plan(inbox(world.manager), plan.id)
    partner = of_plan(inbox(world.contact), plan.id)
    assert [(i["kind"], i["metric_id"]) for i in vendor] == [("agree_metric", plan.partner_metric)]
    assert [(i["kind"], i["metric_id"]) for i in partner] == [("agree_metric", plan.vendor_metric)]
    item = vendor[0]
    today = date.fromisoformat(world.today())
    assert item["act_by"] == (today + timedelta(days=5)).isoformat()
    assert item["at_stake"]["component"] == "responsiveness"
    assert item["action"] == {
        "method": "POST",
        "path": f"/v1/plans/{plan.id}/metrics/{plan.partner_metric}/agree",
    }
    assert item["side"] == "vendor"
    assert item["partner_id"] == world.partner


def test_an_item_disappears_as_soon_as_its_action_is_recorded(shared_world: World) -> None:
    world = shared_world
    plan = with_proposed_metrics(world, a_draft_plan(world))
    (item,) = of_plan(inbox(world.manager), plan.id)
    created(world.manager.post(item["action"]["path"]), 200)
    assert [i["kind"] for i in of_plan(inbox(world.manager), plan.id)] == []


def test_both_sides_are_asked_to_commit_once_every_metric_is_agreed(shared_world: World) -> None:
    world = shared_world
    plan = an_agreed_plan(world)
    for caller in (world.manager, world.contact):
        (item,) = of_plan(inbox(caller), plan.id)
        assert item["kind"] == "commit"
        assert item["act_by"] is None
        assert item["at_stake"]["component"] is None
        assert item["action"]["path"] == f"/v1/plans/{plan.id}/commit"
    created(world.manager.post(f"{plan.url}/commit"), 200)
    assert of_plan(inbox(world.manager), plan.id) == []
    assert [i["kind"] for i in of_plan(inbox(world.contact), plan.id)] == ["commit"]


def test_an_active_plan_asks_for_reports_and_reviews_in_the_current_windows(
    shared_world: World,
) -> None:
    world = shared_world
    plan = an_active_plan(world)
    today = date.fromisoformat(world.today())
    later = (today + timedelta(days=20)).isoformat()  # inside the second 14-day window
    items = of_plan(inbox(world.contact, later), plan.id)
    kinds = sorted((i["kind"], i["act_by"]) for i in items)
    assert kinds == [
        ("record_review", (today + timedelta(days=29)).isoformat()),
        ("report_progress", (today + timedelta(days=27)).isoformat()),
    ]
    report = next(i for i in items if i["kind"] == "report_progress")
    assert report["metric_id"] == plan.partner_metric
    assert report["at_stake"]["component"] == "reporting"
    assert report["action"]["path"] == f"/v1/plans/{plan.id}/metrics/{plan.partner_metric}/progress"


def test_items_are_sorted_by_act_by_with_no_deadline_last(shared_world: World) -> None:
    world = shared_world
    an_agreed_plan(world)
    with_proposed_metrics(world, a_draft_plan(world))
    an_active_plan(world)
    items = inbox(world.manager)
    deadlines = [i["act_by"] for i in items]
    dated = [d for d in deadlines if d is not None]
    assert dated == sorted(dated)
    assert deadlines == dated + [None] * (len(deadlines) - len(dated))
    assert None in deadlines
    assert dated


def test_nobody_sees_an_item_of_a_partnership_outside_their_scope(shared_world: World) -> None:
    world = shared_world
    plan = with_proposed_metrics(world, a_draft_plan(world))
    for caller in (world.other_manager, world.outsider):
        assert of_plan(inbox(caller), plan.id) == []
    for caller in (world.leader, world.auditor, world.admin):
        assert inbox(caller) == []


def test_the_inbox_needs_a_token_and_a_valid_date(shared_world: World) -> None:
    world = shared_world
    assert world.client.get("/v1/me/inbox").status_code == 401
    bad = world.manager.get("/v1/me/inbox", params={"as_of": "2026-13-01"})
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")


def test_the_home_page_shows_exactly_the_items_of_the_inbox_route(shared_world: World) -> None:
    """The web home and GET /v1/me/inbox come from the same function: same items, same order."""
    world = shared_world
    a_draft_plan(world)
    with_proposed_metrics(world, a_draft_plan(world))
    an_agreed_plan(world)
    for caller in (world.manager, world.contact):
        items = inbox(caller)
        assert items
        client = caller.client
        client.cookies.clear()
        form = client.get("/signin")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert csrf is not None
        client.post("/signin", data={"token": caller.token, "csrf": csrf.group(1)})
        home = client.get("/")
        client.cookies.clear()
        assert home.status_code == 200
        rows = re.findall(r'<td><a href="/plans/([^"]+)">([^<]+)</a></td>', home.text)
        titles = [html.unescape(title) for _, title in rows]
        assert titles == [i["title"] for i in items]
        assert [plan_id for plan_id, _ in rows] == [i["plan_id"] for i in items]
