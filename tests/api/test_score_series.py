"""Score series: every point equals what the single-date route answers for that date; a
manager's roll-up reads the same kept as computed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from ledger.clock import SimulatedClock
from ledger.settings import Settings
from tests.api.world import (
    PlanRef,
    World,
    a_draft_plan,
    a_running_world,
    an_active_plan,
    created,
)
from tests.conftest import START


@pytest.fixture(scope="module")
def lived(module_settings: Settings) -> Iterator[tuple[World, PlanRef]]:
    """An active plan lived for 70 days: reports (one late), a review, an adjustment
    answered late; a second partnership with a draft only."""
    with a_running_world(module_settings, SimulatedClock(START)) as world:
        plan = an_active_plan(world)
        a_draft_plan(world, by=world.other_manager)
        progress = f"{plan.url}/metrics/{plan.partner_metric}/progress"
        for step in range(10):
            world.days(5)
            if step % 3:
                created(world.contact.post(progress, {"value": 2 * step, "as_of": world.today()}))
            if step == 4:
                late = (world.clock.now().date() - timedelta(days=6)).isoformat()
                created(world.contact.post(progress, {"value": 1, "as_of": late}))
            if step == 5:
                review = {"held_on": world.today(), "attendee_ids": [world.manager.id]}
                created(world.manager.post(f"{plan.url}/reviews", review))
            if step == 6:
                change = {
                    "metric_id": plan.vendor_metric,
                    "kind": "change_target",
                    "new_target": "6",
                    "reason": "Budget",
                }
                created(world.manager.post(f"{plan.url}/adjustments", change))
        world.days(20)
        yield world, plan


def test_each_point_of_a_plans_series_is_its_score_as_of_that_date(
    lived: tuple[World, PlanRef],
) -> None:
    """Weekly points from before the plan to today: each side's score of the single-date
    route (null before activation), the last point today."""
    world, plan = lived
    start = (START.date() - timedelta(days=7)).isoformat()
    body = created(world.manager.get(f"{plan.url}/accountability/series?from={start}"), 200)
    assert body["plan_id"] == plan.id
    assert body["every"] == 7
    assert body["points"][-1]["as_of"] == world.today()
    assert body["points"][0]["vendor"] is None
    seen = set()
    for point in body["points"]:
        single = created(
            world.manager.get(f"{plan.url}/accountability?as_of={point['as_of']}"), 200
        )
        for side in ("vendor", "partner"):
            assert point[side] == single["sides"][side]["score"], point
            seen.add(point[side])
    assert len(seen) > 3


def test_a_series_every_few_days_between_two_dates(lived: tuple[World, PlanRef]) -> None:
    """from, to and every: points every 3 days ending on ``to``, oldest first."""
    world, plan = lived
    url = f"{plan.url}/accountability/series?from=2026-01-10&to=2026-02-01&every=3"
    days = [p["as_of"] for p in created(world.contact.get(url), 200)["points"]]
    assert days == [
        (date(2026, 2, 1) - timedelta(days=3 * k)).isoformat() for k in range(7, -1, -1)
    ]


def test_a_series_refuses_a_reversed_range_or_too_many_points(
    lived: tuple[World, PlanRef],
) -> None:
    """422 problems: from after to, every below 1, more than 200 points."""
    world, plan = lived
    base = f"{plan.url}/accountability/series"
    for query in ("from=2026-02-02&to=2026-02-01", "every=0", "from=2025-01-01&every=1"):
        response = world.manager.get(f"{base}?{query}")
        assert response.status_code == 422, (query, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    response = world.leader.get("/v1/portfolio/series?from=2025-01-01&to=2026-01-01&every=1")
    assert response.status_code == 422, response.text


def test_a_plans_series_is_not_found_out_of_scope(lived: tuple[World, PlanRef]) -> None:
    """Another partnership's contact gets 404, as for the plan itself."""
    world, plan = lived
    assert world.outsider.get(f"{plan.url}/accountability/series").status_code == 404


def test_each_point_of_the_portfolio_series_is_the_portfolio_of_that_date(
    lived: tuple[World, PlanRef],
) -> None:
    """Shares and mean scores of every point equal GET /v1/portfolio?as_of= of its date."""
    world, _ = lived
    start = (START.date() - timedelta(days=10)).isoformat()
    body = created(world.leader.get(f"/v1/portfolio/series?from={start}&every=10"), 200)
    assert body["every"] == 10
    assert body["coverage_target"] == 0.9
    assert body["points"][0]["partnerships"] == 0  # before anyone was registered
    for point in body["points"]:
        single = created(world.leader.get(f"/v1/portfolio?as_of={point['as_of']}"), 200)
        assert single["coverage_target"] == 0.9
        assert point == {
            "as_of": single["as_of"],
            "partnerships": single["partnerships"],
            "active_plan_share": single["active_plan"]["share"],
            "all_metrics_agreed_share": single["all_metrics_agreed"]["share"],
            "reviewed_recently_share": single["reviewed_recently"]["share"],
            "mean_score": single["mean_score"],
        }
    assert {p["active_plan_share"] for p in body["points"][1:]} >= {0.5}


def test_the_portfolio_series_is_for_leadership(lived: tuple[World, PlanRef]) -> None:
    """Leader, admin and auditor 200; a manager or a partner contact 403."""
    world, _ = lived
    for caller in (world.leader, world.admin, world.auditor):
        assert caller.get("/v1/portfolio/series").status_code == 200
    for caller in (world.manager, world.contact):
        assert caller.get("/v1/portfolio/series").status_code == 403


def test_a_managers_roll_up_reads_the_same_computed_and_kept(lived: tuple[World, PlanRef]) -> None:
    """GET /v1/managers/{id}/accountability answers the kept roll-up's JSON text as kept: the
    same bytes as the first read (which computes it), rendered as a JSON response renders it."""
    world, _ = lived
    as_of = (START.date() + timedelta(days=17)).isoformat()
    url = f"/v1/managers/{world.manager.id}/accountability?as_of={as_of}"
    first = world.manager.get(url)
    again = world.leader.get(url)
    assert first.status_code == again.status_code == 200
    assert first.headers["content-type"] == again.headers["content-type"] == "application/json"
    assert again.content == first.content
    body = first.json()
    assert list(body) == ["manager_id", "as_of", "score", "partners"]
    assert (body["manager_id"], body["as_of"]) == (world.manager.id, as_of)
    assert body["partners"]
    rendered = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    assert first.content == rendered
