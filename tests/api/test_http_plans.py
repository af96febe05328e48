"""Plans through HTTP: a whole life, versions and If-Match, time travel, history, paging."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest

from ledger import commands as c
from ledger.application import Counterpart
from tests.api.world import (
    DUE,
    Caller,
    World,
    a_draft_plan,
    an_active_plan,
    an_adjustment,
    an_agreed_plan,
    created,
    partner_metric,
    plan_body,
    vendor_metric,
    with_proposed_metrics,
)


def plan_of(response: httpx.Response, status: int) -> dict[str, Any]:
    """A plan response with the given status, whose ETag is its version."""
    body: dict[str, Any] = created(response, status)
    assert response.headers["ETag"] == f'"{body["version"]}"'
    return body


def applied(world: World, response: httpx.Response, status: int) -> dict[str, Any]:
    """A command's response, which an immediate GET shows unchanged (read-your-writes)."""
    body = plan_of(response, status)
    assert world.plan(body["id"]) == body
    for caller in (world.contact, world.leader):
        seen = plan_of(caller.get(f"/v1/plans/{body['id']}"), 200)
        assert seen["version"] == body["version"]
    return body


def metric(document: dict[str, Any], metric_id: str) -> dict[str, Any]:
    """A metric of a plan document by id."""
    found: dict[str, Any] = next(m for m in document["metrics"] if m["id"] == metric_id)
    return found


# ---------------------------------------------------------------- a whole life


def test_a_plan_lives_its_whole_life_through_http(world: World) -> None:
    """Draft, propose, revise, agree, commit, report, review, adjust, close: each response
    has the status of docs/api.md, its effect and an ETag; an immediate GET shows the same plan."""
    manager, contact = world.manager, world.contact
    drafted = applied(world, manager.post("/v1/plans", plan_body(world.partner)), 201)
    assert drafted["status"] == "draft"
    assert drafted["version"] == 1
    assert drafted["partner_id"] == world.partner
    assert drafted["title"] == "Q1 2026 joint plan"
    assert (drafted["period_start"], drafted["period_end"]) == ("2026-01-05", "2026-04-04")
    assert drafted["objectives"] == ["Grow qualified pipeline"]
    assert (drafted["report_every_days"], drafted["review_every_days"]) == (14, 30)
    assert drafted["grace_days"] == 3
    assert drafted["activated_at"] is None
    assert drafted["closed_at"] is None
    assert drafted["metrics"] == []
    assert drafted["commitments"] == {"vendor": None, "partner": None}
    assert drafted["adjustments"] == []
    assert drafted["reviews"] == []
    url = f"/v1/plans/{drafted['id']}"

    proposed = applied(world, manager.post(f"{url}/metrics", vendor_metric(target=4)), 201)
    ours = proposed["metrics"][0]
    assert ours["owner_side"] == "vendor"
    assert ours["target"] == "4"
    assert ours["status"] == "proposed"
    assert ours["agreed_by"] == {"vendor": True, "partner": False}
    assert (ours["latest_value"], ours["latest_as_of"], ours["pace"]) == (None, None, None)
    theirs_doc = applied(world, contact.post(f"{url}/metrics", partner_metric()), 201)
    theirs = theirs_doc["metrics"][1]
    assert theirs["agreed_by"] == {"vendor": False, "partner": True}
    assert theirs_doc["version"] == 3

    world.days(1)
    agreed = applied(world, contact.post(f"{url}/metrics/{ours['id']}/agree"), 200)
    assert metric(agreed, ours["id"])["status"] == "agreed"
    revised = applied(
        world, contact.put(f"{url}/metrics/{theirs['id']}", partner_metric(target="25")), 200
    )
    assert metric(revised, theirs["id"])["target"] == "25"
    assert metric(revised, theirs["id"])["agreed_by"] == {"vendor": False, "partner": True}
    applied(world, manager.post(f"{url}/metrics/{theirs['id']}/agree"), 200)

    committed = applied(world, manager.post(f"{url}/commit"), 200)
    assert committed["status"] == "draft"
    assert committed["commitments"]["vendor"]["actor_id"] == manager.id
    assert committed["commitments"]["partner"] is None
    active = applied(world, contact.post(f"{url}/commit"), 200)
    assert active["status"] == "active"
    assert active["activated_at"] == "2026-01-06T09:00:00.000000Z"
    assert active["commitments"]["partner"]["actor_id"] == contact.id
    assert (
        active["commitments"]["vendor"]["terms_version"]
        == active["commitments"]["partner"]["terms_version"]
    )

    world.days(13)
    body = {"value": 7.5, "as_of": world.today(), "note": "Good start", "evidence_url": None}
    reported = applied(world, contact.post(f"{url}/metrics/{theirs['id']}/progress", body), 201)
    assert metric(reported, theirs["id"])["latest_value"] == "7.5"
    assert metric(reported, theirs["id"])["latest_as_of"] == "2026-01-19"
    assert metric(reported, theirs["id"])["pace"] in {"on_track", "at_risk", "off_track"}
    body = {"value": "1", "as_of": world.today()}
    applied(world, manager.post(f"{url}/metrics/{ours['id']}/progress", body), 201)

    review = {
        "held_on": world.today(),
        "attendee_ids": [manager.id, contact.id, world.leader.id],
        "notes": "Pipeline review",
        "decisions": "Add a webinar",
    }
    reviewed = applied(world, manager.post(f"{url}/reviews", review), 201)
    [held] = reviewed["reviews"]
    assert held["held_on"] == "2026-01-19"
    assert held["attendee_ids"] == review["attendee_ids"]
    assert (held["notes"], held["decisions"]) == ("Pipeline review", "Add a webinar")

    change = {"metric_id": ours["id"], "kind": "change_target", "new_target": "6", "reason": "More"}
    proposal = applied(world, manager.post(f"{url}/adjustments", change), 201)
    [adjustment] = proposal["adjustments"]
    assert adjustment["metric_id"] == ours["id"]
    assert adjustment["new_target"] == "6"
    assert adjustment["new_due_date"] is None
    assert adjustment["proposed_by_side"] == "vendor"
    assert adjustment["status"] == "proposed"
    accepted = applied(
        world, contact.post(f"{url}/adjustments/{adjustment['id']}/accept", {"reason": "ok"}), 200
    )
    assert accepted["adjustments"][0]["status"] == "accepted"
    assert metric(accepted, ours["id"])["target"] == "6"

    later = {
        "metric_id": theirs["id"],
        "kind": "change_due_date",
        "new_due_date": "2026-04-02",
        "reason": "Quarter-end rush",
    }
    second = applied(world, contact.post(f"{url}/adjustments", later), 201)["adjustments"][1]
    assert second["new_due_date"] == "2026-04-02"
    rejected = applied(world, manager.post(f"{url}/adjustments/{second['id']}/reject"), 200)
    assert rejected["adjustments"][1]["status"] == "rejected"
    assert metric(rejected, theirs["id"])["due_date"] == DUE.isoformat()

    retire = {"metric_id": theirs["id"], "kind": "retire", "reason": "Programme cancelled"}
    third = applied(world, contact.post(f"{url}/adjustments", retire), 201)["adjustments"][2]
    withdrawn = applied(world, contact.post(f"{url}/adjustments/{third['id']}/withdraw"), 200)
    assert withdrawn["adjustments"][2]["status"] == "withdrawn"
    assert metric(withdrawn, theirs["id"])["status"] == "agreed"

    too_early = manager.post(f"{url}/close", {"summary": "Early"})
    assert too_early.status_code == 409, too_early.text
    world.clock.set(datetime.fromisoformat("2026-04-06T09:00:00+00:00"))
    closed = applied(world, manager.post(f"{url}/close", {"summary": "A good quarter"}), 200)
    assert closed["status"] == "closed"
    assert closed["closed_at"] == "2026-04-06T09:00:00.000000Z"
    assert {m["pace"] for m in closed["metrics"]} == {"missed"}

    late = contact.post(
        f"{url}/metrics/{theirs['id']}/progress", {"value": 30, "as_of": "2026-04-01"}
    )
    assert late.status_code == 409, late.text
    history = created(manager.get(f"{url}/history"), 200)["items"]
    assert [e["type"] for e in history] == [
        "Drafted",
        "MetricProposed",
        "MetricProposed",
        "MetricAgreed",
        "MetricRevised",
        "MetricAgreed",
        "Committed",
        "Committed",
        "Activated",
        "ProgressReported",
        "ProgressReported",
        "ReviewRecorded",
        "AdjustmentProposed",
        "AdjustmentAccepted",
        "AdjustmentProposed",
        "AdjustmentRejected",
        "AdjustmentProposed",
        "AdjustmentWithdrawn",
        "Closed",
    ]
    assert [e["version"] for e in history] == list(range(1, closed["version"] + 1))


# ------------------------------------------------------------ versions, If-Match


def test_a_stale_if_match_is_refused_with_412_and_stores_nothing(shared_world: World) -> None:
    """If-Match with an older version answers 412 with the current version; nothing changes."""
    world = shared_world
    plan = with_proposed_metrics(world, a_draft_plan(world))
    version = world.version(plan)
    head = world.head()
    for stale in (f'"{version - 1}"', '"1"', f'W/"{version - 1}"'):
        response = world.contact.post(
            f"{plan.url}/metrics/{plan.vendor_metric}/agree", headers={"If-Match": stale}
        )
        assert response.status_code == 412, (stale, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["current_version"] == version
    assert world.version(plan) == version
    assert world.head() == head


def test_an_if_match_of_a_version_not_yet_reached_is_refused_with_412(shared_world: World) -> None:
    """If-Match ahead of the plan is as wrong as one behind it: 412, nothing stored."""
    world = shared_world
    plan = with_proposed_metrics(world, a_draft_plan(world))
    version = world.version(plan)
    response = world.contact.post(
        f"{plan.url}/metrics/{plan.vendor_metric}/agree", headers={"If-Match": f'"{version + 5}"'}
    )
    assert world.version(plan) == version
    assert response.status_code == 412, response.text


def test_an_if_match_that_is_not_a_version_is_refused_and_stores_nothing(
    shared_world: World,
) -> None:
    """If-Match must be an ETag this API gave; anything else answers 412, not 500."""
    world = shared_world
    plan = with_proposed_metrics(world, a_draft_plan(world))
    head = world.head()
    for junk in ("seven", '"7.0"', '"-1"', '"99999999999999999999999"', '""x'):
        response = world.contact.post(
            f"{plan.url}/metrics/{plan.vendor_metric}/agree", headers={"If-Match": junk}
        )
        assert response.status_code == 412, (junk, response.text)
    assert world.head() == head


def test_a_current_if_match_applies_the_command(shared_world: World) -> None:
    """If-Match equal to the version the caller read lets the command through."""
    world = shared_world
    plan = with_proposed_metrics(world, a_draft_plan(world))
    version = world.version(plan)
    response = world.contact.post(
        f"{plan.url}/metrics/{plan.vendor_metric}/agree", headers={"If-Match": f'"{version}"'}
    )
    assert plan_of(response, 200)["version"] == version + 1
    weak = world.manager.post(
        f"{plan.url}/metrics/{plan.partner_metric}/agree",
        headers={"If-Match": f'W/"{version + 1}"'},
    )
    assert plan_of(weak, 200)["version"] == version + 2
    anything = world.manager.post(f"{plan.url}/commit", headers={"If-Match": "*"})
    assert plan_of(anything, 200)["version"] == version + 3


def test_a_revision_with_a_stale_if_match_is_refused(shared_world: World) -> None:
    """PUT honours If-Match too."""
    world = shared_world
    plan = with_proposed_metrics(world, a_draft_plan(world))
    version = world.version(plan)
    url = f"{plan.url}/metrics/{plan.vendor_metric}"
    stale = world.manager.put(url, vendor_metric(target=9), headers={"If-Match": '"1"'})
    assert stale.status_code == 412, stale.text
    assert world.version(plan) == version
    current = world.manager.put(url, vendor_metric(target=9), headers={"If-Match": f'"{version}"'})
    assert metric(plan_of(current, 200), plan.vendor_metric)["target"] == "9"


# ----------------------------------------------------------------- time travel


def test_a_plan_is_read_as_it_was_after_its_nth_event_or_at_a_time(world: World) -> None:
    """?version=N replays N events; ?as_of= takes every event recorded at or before then."""
    plan = a_draft_plan(world)  # version 1 at 09:00
    world.clock.advance(timedelta(hours=1))
    with_proposed_metrics(world, plan)  # versions 2 and 3 at 10:00
    world.clock.advance(timedelta(hours=1))
    created(world.contact.post(f"{plan.url}/metrics/{plan.vendor_metric}/agree"), 200)
    now = world.plan(plan)
    assert now["version"] == 4

    first = plan_of(world.contact.get(plan.url, params={"version": 1}), 200)
    assert (first["version"], first["metrics"], first["status"]) == (1, [], "draft")
    second = plan_of(world.auditor.get(plan.url, params={"version": 2}), 200)
    assert [m["id"] for m in second["metrics"]] == [plan.vendor_metric]
    assert plan_of(world.manager.get(plan.url, params={"version": 4}), 200) == now

    at_930 = plan_of(world.manager.get(plan.url, params={"as_of": "2026-01-05T09:30:00Z"}), 200)
    assert (at_930["version"], at_930["metrics"]) == (1, [])
    at_1030 = world.manager.get(plan.url, params={"as_of": "2026-01-05T11:30:00+01:00"})
    assert plan_of(at_1030, 200)["version"] == 3
    assert (
        plan_of(world.manager.get(plan.url, params={"as_of": "2026-02-01T00:00:00Z"}), 200) == now
    )

    before = world.manager.get(plan.url, params={"as_of": "2026-01-05T08:00:00Z"})
    assert before.status_code == 404, before.text
    beyond = world.manager.get(plan.url, params={"version": 5})
    assert beyond.status_code == 404, beyond.text
    for params in ({"version": 0}, {"version": "two"}, {"version": 1, "as_of": "2026-01-05"}):
        response = world.manager.get(plan.url, params=params)
        assert response.status_code == 422, (params, response.text)


# ---------------------------------------------------------------------- history


def test_history_events_name_the_actor_from_the_token(world: World) -> None:
    """Each event: position, version, type, recorded_at, actor {id, side, role}, data."""
    plan = with_proposed_metrics(world, a_draft_plan(world))
    world.days(2)
    created(world.contact.post(f"{plan.url}/metrics/{plan.vendor_metric}/agree"), 200)
    items = created(world.leader.get(f"{plan.url}/history"), 200)["items"]
    assert [e["type"] for e in items] == [
        "Drafted",
        "MetricProposed",
        "MetricProposed",
        "MetricAgreed",
    ]
    assert [e["version"] for e in items] == [1, 2, 3, 4]
    positions = [e["position"] for e in items]
    assert positions == sorted(positions)
    assert len(set(positions)) == 4
    assert all(p <= world.head() for p in positions)
    manager = {"id": world.manager.id, "side": "vendor", "role": "manager"}
    contact = {"id": world.contact.id, "side": "partner", "role": "partner"}
    assert [e["actor"] for e in items] == [manager, manager, contact, contact]
    assert items[0]["recorded_at"] == "2026-01-05T09:00:00.000000Z"
    assert items[3]["recorded_at"] == "2026-01-07T09:00:00.000000Z"
    drafted = items[0]["data"]
    assert drafted["title"] == "Q1 2026 joint plan"
    assert drafted["partner_id"] == world.partner
    assert items[2]["data"]["spec"]["target"] == "20"
    assert items[3]["data"]["metric_id"] == plan.vendor_metric
    assert all("actor" not in e["data"] for e in items)


def test_the_acting_actor_cannot_be_given_in_the_body(shared_world: World) -> None:
    """A body naming an actor is refused (unknown field): the actor comes from the token."""
    world = shared_world
    plan = a_draft_plan(world)
    head = world.head()
    for field in ("actor", "actor_id", "by"):
        body = vendor_metric() | {field: world.contact.id}
        response = world.manager.post(f"{plan.url}/metrics", body)
        assert response.status_code == 422, response.text
    assert world.head() == head


# ------------------------------------------------------------------ pagination


def all_pages(caller: Caller, path: str, limit: int, **params: Any) -> list[list[dict[str, Any]]]:
    """Every page of a list, following next_cursor."""
    pages = []
    cursor = None
    while True:
        query = {"limit": limit, **params} | ({"cursor": cursor} if cursor else {})
        page = created(caller.get(path, params=query), 200)
        pages.append(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 50, "paging does not end"


def test_plans_are_listed_in_pages_that_follow_next_cursor(world: World) -> None:
    """limit caps a page; next_cursor leads to the next one; the last page says null."""
    plans = {a_draft_plan(world).id for _ in range(5)} | {an_active_plan(world).id}
    pages = all_pages(world.manager, "/v1/plans", 2)
    assert [len(p) for p in pages] == [2, 2, 2]
    listed = [p["id"] for page in pages for p in page]
    assert sorted(listed) == sorted(plans)
    assert listed == sorted(listed)  # in id order
    active = all_pages(world.contact, "/v1/plans", 50, status="active")
    assert [[p["status"] for p in page] for page in active] == [["active"]]
    default = created(world.manager.get("/v1/plans"), 200)
    assert (len(default["items"]), default["next_cursor"]) == (6, None)
    for params in ({"limit": 0}, {"limit": 501}, {"cursor": "not a cursor"}, {"status": "open"}):
        response = world.manager.get("/v1/plans", params=params)
        assert response.status_code == 422, (params, response.text)


def test_a_plans_history_pages_oldest_first(shared_world: World) -> None:
    """The history follows next_cursor without gaps or repeats."""
    world = shared_world
    plan = an_active_plan(world)
    pages = all_pages(world.auditor, f"{plan.url}/history", 3)
    versions = [e["version"] for page in pages for e in page]
    assert versions == list(range(1, world.version(plan) + 1))
    assert all(len(page) == 3 for page in pages[:-1])


# ------------------------------------------------------- decimals and accounts


def test_decimals_are_accepted_as_numbers_or_strings_and_returned_as_strings(
    shared_world: World,
) -> None:
    """Numbers or numeric strings in (20, 12.5, "0.1", 1e-3); plain decimal strings out."""
    world = shared_world
    plan = a_draft_plan(world)
    document = plan_of(world.manager.post(f"{plan.url}/metrics", vendor_metric(target=12.5)), 201)
    assert document["metrics"][0]["target"] == "12.5"
    document = plan_of(world.contact.post(f"{plan.url}/metrics", partner_metric(target="20")), 201)
    assert document["metrics"][1]["target"] == "20"
    active = an_active_plan(world)
    progress = f"{active.url}/metrics/{active.vendor_metric}/progress"
    for value, shown in (("0.1", "0.1"), (1e-3, "0.001"), (7, "7"), ("-2.50", "-2.5")):
        response = world.manager.post(progress, {"value": value, "as_of": world.today()})
        assert metric(plan_of(response, 201), active.vendor_metric)["latest_value"] == shown
    change = {
        "metric_id": active.partner_metric,
        "kind": "change_target",
        "new_target": 22.25,
        "reason": "Stretch",
    }
    response = world.contact.post(f"{active.url}/adjustments", change)
    assert plan_of(response, 201)["adjustments"][0]["new_target"] == "22.25"


def test_a_plans_accountability_has_both_sides_scores_explained(world: World) -> None:
    """plan_id, as_of, rule_version 1, and per side score, components and history."""
    plan = an_active_plan(world)
    world.days(3)
    created(
        world.contact.post(
            f"{plan.url}/metrics/{plan.partner_metric}/progress",
            {"value": 4, "as_of": world.today()},
        )
    )
    body = created(world.manager.get(f"{plan.url}/accountability"), 200)
    assert body["plan_id"] == plan.id
    assert body["as_of"] == "2026-01-08"
    assert body["rule_version"] == 1
    assert set(body["sides"]) == {"vendor", "partner"}
    for side in body["sides"].values():
        assert side["score"] is None or isinstance(side["score"], int | float)
        assert set(side["components"]) == {"delivery", "reporting", "reviews", "responsiveness"}
        for component in side["components"].values():
            assert {"value", "weight", "met", "total", "items"} <= set(component)
            assert all("event_ids" in item for item in component["items"])
        for entry in side["history"]:
            assert {"recorded_at", "kind", "summary", "event_position"} <= set(entry)
    kinds = {entry["kind"] for entry in body["sides"]["partner"]["history"]}
    assert {"agreed", "committed"} <= kinds
    dated = created(world.manager.get(f"{plan.url}/accountability?as_of=2026-01-05"), 200)
    assert dated["as_of"] == "2026-01-05"
    bad = world.manager.get(f"{plan.url}/accountability?as_of=yesterday")
    assert bad.status_code == 422, bad.text


# ------------------------------------------------------------- the sides' rules


def test_a_partner_contact_cannot_report_on_a_vendor_metric(shared_world: World) -> None:
    """Progress is reported by the metric's owner side only: 403 and nothing stored."""
    world = shared_world
    plan = an_active_plan(world)
    version = world.version(plan)
    body = {"value": 3, "as_of": world.today()}
    response = world.contact.post(f"{plan.url}/metrics/{plan.vendor_metric}/progress", body)
    assert response.status_code == 403, response.text
    assert world.version(plan) == version


def test_progress_on_a_draft_plan_is_refused_with_409(shared_world: World) -> None:
    """Progress is for active plans."""
    world = shared_world
    plan = an_agreed_plan(world)
    version = world.version(plan)
    body = {"value": 3, "as_of": world.today()}
    response = world.manager.post(f"{plan.url}/metrics/{plan.vendor_metric}/progress", body)
    assert response.status_code == 409, response.text
    assert world.version(plan) == version


def test_committing_before_every_metric_is_agreed_is_refused_with_409(shared_world: World) -> None:
    """A side commits only when every metric is agreed by both sides."""
    world = shared_world
    plan = with_proposed_metrics(world, a_draft_plan(world))
    version = world.version(plan)
    for caller in (world.manager, world.contact):
        response = caller.post(f"{plan.url}/commit")
        assert response.status_code == 409, response.text
        assert "agreed" in response.json()["detail"]
    assert world.version(plan) == version


def test_a_side_answers_only_the_other_sides_adjustments(shared_world: World) -> None:
    """Accepting your own side's adjustment or withdrawing the other's → 403."""
    world = shared_world
    plan = an_active_plan(world)
    ours = an_adjustment(world, plan, world.manager)
    version = world.version(plan)
    for caller, verb in ((world.manager, "accept"), (world.manager, "reject")):
        response = caller.post(f"{plan.url}/adjustments/{ours}/{verb}")
        assert response.status_code == 403, (verb, response.text)
    response = world.contact.post(f"{plan.url}/adjustments/{ours}/withdraw")
    assert response.status_code == 403, response.text
    assert world.version(plan) == version


def test_metrics_change_only_on_drafts_and_unknown_ones_are_404(shared_world: World) -> None:
    """Proposing or revising on an active plan → 409; a metric or plan that is not there → 404."""
    world = shared_world
    plan = an_active_plan(world)
    version = world.version(plan)
    proposed = world.manager.post(f"{plan.url}/metrics", vendor_metric(name="Another"))
    assert proposed.status_code == 409, proposed.text
    revised = world.manager.put(f"{plan.url}/metrics/{plan.vendor_metric}", vendor_metric(target=8))
    assert revised.status_code == 409, revised.text
    nobody = "00000000-0000-4000-8000-000000000000"
    draft = a_draft_plan(world)
    assert world.manager.post(f"{draft.url}/metrics/{nobody}/agree").status_code == 404
    assert world.manager.put(f"{draft.url}/metrics/{nobody}", vendor_metric()).status_code == 404
    assert world.manager.post(f"/v1/plans/{nobody}/commit").status_code == 404
    assert world.manager.get(f"/v1/plans/{nobody}").status_code == 404
    assert world.version(plan) == version
    assert world.version(draft) == 1


@pytest.mark.parametrize("status", ["draft", "active"])
def test_the_plan_list_filters_by_status_and_partner(world: World, status: str) -> None:
    """?status= and ?partner_id= narrow the list."""
    drafted = a_draft_plan(world)
    activated = an_active_plan(world)
    expected = {"draft": drafted, "active": activated}[status]
    listed = created(
        world.leader.get("/v1/plans", params={"status": status, "partner_id": world.partner}), 200
    )
    assert [p["id"] for p in listed["items"]] == [expected.id]


def test_a_review_names_real_attendees_of_the_partnership(shared_world: World) -> None:
    """Attendees are the partnership's parties or vendor leaders; others are refused (422)."""
    world = shared_world
    plan = an_active_plan(world)
    version = world.version(plan)
    for attendees in (
        [world.outsider.id],
        [world.auditor.id],
        ["00000000-0000-4000-8000-000000000000"],
    ):
        body = {"held_on": world.today(), "attendee_ids": attendees}
        response = world.manager.post(f"{plan.url}/reviews", body)
        assert response.status_code == 422, response.text
    assert world.version(plan) == version


def test_the_audit_trail_shows_who_agreed_and_committed_to_which_terms(
    shared_world: World,
) -> None:
    """GET /v1/audit/commitments: proposals, agreements, commitments and the activation of a
    plan, with the actor, the plan and the partner, filterable by actor and partner."""
    world = shared_world
    plan = an_active_plan(world)
    assert world.plan(plan)["status"] == "active"  # a fresh read: the projections caught up
    items = [
        e
        for page in all_pages(world.auditor, "/v1/audit/commitments", 500)
        for e in page
        if e["plan_id"] == plan.id
    ]
    assert [e["type"] for e in items] == [
        "MetricProposed",
        "MetricProposed",
        "MetricAgreed",
        "MetricAgreed",
        "Committed",
        "Committed",
        "Activated",
    ]
    assert {e["partner_id"] for e in items} == {world.partner}
    committed = [e for e in items if e["type"] == "Committed"]
    assert [e["actor"]["id"] for e in committed] == [world.manager.id, world.contact.id]
    mine = all_pages(
        world.leader,
        "/v1/audit/commitments",
        500,
        actor_id=world.contact.id,
        partner_id=world.partner,
    )
    assert {e["actor"]["id"] for page in mine for e in page} == {world.contact.id}


def test_a_plan_read_from_the_kept_copy_equals_the_plan_read_from_the_read_models(
    world: World,
) -> None:
    """A GET answered from the process's cached plan (its stored version) is the very
    document the read models give once that copy is gone, paces for today included; and its
    scope is the same: another partnership's manager gets 404."""
    plan = an_active_plan(world)
    progress = f"{plan.url}/metrics/{plan.partner_metric}/progress"
    for value in (2, 5):
        created(world.contact.post(progress, {"value": value, "as_of": world.today()}))
        world.clock.advance(timedelta(days=9))
    services = world.client.app.state.services  # type: ignore[attr-defined]
    assert services.app.read_kept_plan(UUID(plan.id), lambda kept, _: kept.version) is not None
    kept = world.plan(plan)
    assert world.other_manager.get(plan.url).status_code == 404
    services.app.repository.cache.get(UUID(plan.id), evict=True)
    assert services.app.read_kept_plan(UUID(plan.id), lambda kept, _: kept.version) is None
    assert world.plan(plan) == kept
    assert world.other_manager.get(plan.url).status_code == 404
    assert any(m["pace"] is not None for m in kept["metrics"])


def test_a_plan_read_from_the_kept_copy_follows_a_reassignment_at_once(world: World) -> None:
    """Read from the cached plan, the scope is the ledger's current partner: the moment a
    partnership is handed to another manager, the new one reads its plan and the old one
    gets 404 — whether this process handled the hand-over or another process did."""
    plan = an_active_plan(world)
    services = world.client.app.state.services  # type: ignore[attr-defined]
    assert world.manager.get(plan.url).status_code == 200
    assert services.app.read_kept_plan(UUID(plan.id), lambda _, partner: partner) is not None
    services.app.handle(c.ReassignManager(UUID(world.partner), UUID(world.other_manager.id)))
    assert world.manager.get(plan.url).status_code == 404
    assert world.other_manager.get(plan.url).status_code == 200
    elsewhere = Counterpart(world.settings, world.clock)  # another process's ledger
    try:
        elsewhere.handle(c.ReassignManager(UUID(world.partner), UUID(world.manager.id)))
    finally:
        elsewhere.close()
    services.catch_up()  # the directory has it too, for reads not answered from the ledger
    assert world.other_manager.get(plan.url).status_code == 404
    assert world.manager.get(plan.url).status_code == 200
