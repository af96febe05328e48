"""A whole plan life in two browsers (a manager and a partner contact) on a real server, on
both backends, and the same story through the JSON API: the same plan and the same scores."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from api.app import create_app
from ledger.clock import SimulatedClock
from tests.api.world import SERVER, SIGNING_KEY, World, a_world, partner_metric, vendor_metric
from tests.conftest import BACKENDS, START, a_fresh_ledger
from tests.support.loopback import in_process


@pytest.fixture(params=BACKENDS)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """A real uvicorn on loopback (in this process, so that the test moves its clock)."""
    with a_fresh_ledger(request.param, tmp_path_factory.mktemp("story")) as fresh:
        settings = fresh.replaced(signing_key=SIGNING_KEY)
        clock = SimulatedClock(START)
        app = create_app(settings, SERVER, clock)
        with (
            in_process(app, timeout_keep_alive=600) as base,
            httpx.Client(base_url=base, timeout=30) as client,
        ):
            yield a_world(client, settings, clock)  # type: ignore[arg-type]


def a_browser_of(browser: Browser, world: World, token: str) -> Page:
    """A browser context signed in with a token through the sign-in form."""
    page = browser.new_context().new_page()
    page.goto(f"{world.client.base_url}/signin")
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def fill_metric(page: Page, form: str, terms: dict[str, Any]) -> None:
    """Type a metric's terms into a metric form."""
    scope = page.locator(f"#form-{form}")
    page.locator(f"#act-{form} summary").click()
    for name in ("name", "unit", "target", "due_date", "objective"):
        if name in terms:
            scope.locator(f"[name={name}]").fill(str(terms[name]))
    scope.locator("[name=description]").fill(terms["description"])
    for name in ("owner_side", "kind", "direction"):
        scope.locator(f"[name={name}]").select_option(terms[name])
    scope.get_by_role("button", name="Propose metric").click()
    page.wait_for_load_state()


def press(page: Page, plan_url: str, verb: str, within: str | None = None) -> None:
    """Open the plan afresh and press a form's button (in one form, if named)."""
    page.goto(plan_url)
    scope = (
        page.locator(f"#form-{within}")
        if within
        else page.get_by_role("region", name="What you can do")
    )
    scope.get_by_role("button", name=verb, exact=True).first.click()
    page.wait_for_load_state()
    expect(page.get_by_role("status")).to_be_visible()


def test_a_whole_plan_life_in_two_browsers_equals_the_same_story_through_the_api(
    browser: Browser, served: World
) -> None:
    w = served
    base = str(w.client.base_url)
    manager = a_browser_of(browser, w, w.manager.token)
    contact = a_browser_of(browser, w, w.contact.token)
    # the API's twin of each step, on the other partnership, at the same simulated moments
    api_plan = w.other_manager.post(
        "/v1/plans",
        {
            "partner_id": w.other_partner,
            "title": "Q1 2026 joint plan",
            "period_start": "2026-01-05",
            "period_end": "2026-04-04",
            "objectives": ["Grow qualified pipeline"],
        },
    ).json()["id"]
    api = f"/v1/plans/{api_plan}"
    manager.goto(f"{base}/partners/{w.partner}")
    manager.locator("#act-draft summary").click()
    draft = manager.locator("#form-draft")
    draft.get_by_label("Title").fill("Q1 2026 joint plan")
    draft.get_by_label("Period start").fill("2026-01-05")
    draft.get_by_label("Period end").fill("2026-04-04")
    draft.get_by_label("Objectives").fill("Grow qualified pipeline")
    draft.get_by_role("button", name="Draft plan").click()
    manager.wait_for_load_state()
    plan_url = manager.url.split("?")[0]
    plan_id = plan_url.rsplit("/", 1)[1]
    fill_metric(manager, "propose", vendor_metric())
    contact.goto(plan_url)
    fill_metric(contact, "propose", partner_metric())
    vm = w.other_manager.post(f"{api}/metrics", vendor_metric()).json()["metrics"][-1]["id"]
    pm = w.outsider.post(f"{api}/metrics", partner_metric()).json()["metrics"][-1]["id"]
    plan = w.plan(plan_id)
    web_vm, web_pm = (
        next(m["id"] for m in plan["metrics"] if m["owner_side"] == s)
        for s in ("vendor", "partner")
    )
    press(contact, plan_url, "Agree", f"agree-{web_vm}")
    press(manager, plan_url, "Agree", f"agree-{web_pm}")
    w.outsider.post(f"{api}/metrics/{vm}/agree")
    w.other_manager.post(f"{api}/metrics/{pm}/agree")
    manager.goto(plan_url)
    assert (
        "The plan becomes active when the partner side commits too"
        in manager.locator("#form-commit").inner_text()
    )
    press(manager, plan_url, "Commit")
    contact.goto(plan_url)
    assert "activates the plan" in contact.locator("#form-commit").inner_text()
    press(contact, plan_url, "Commit")
    w.other_manager.post(f"{api}/commit")
    w.outsider.post(f"{api}/commit")
    expect(contact.locator("hgroup")).to_contain_text("active")
    assert contact.get_by_role("button", name="Accept").count() == 0
    w.days(10)  # sessions last 12 hours: both sign in again
    manager = a_browser_of(browser, w, w.manager.token)
    contact = a_browser_of(browser, w, w.contact.token)
    for page, metric, value in ((manager, web_vm, "2"), (contact, web_pm, "8")):
        page.goto(plan_url)
        page.locator(f"#act-progress-{metric} summary").click()
        page.locator(f"#form-progress-{metric}").get_by_label("Value").fill(value)
        page.locator(f"#form-progress-{metric}").get_by_role(
            "button", name="Report progress"
        ).click()
        page.wait_for_load_state()
    w.other_manager.post(f"{api}/metrics/{vm}/progress", {"value": "2", "as_of": w.today()})
    w.outsider.post(f"{api}/metrics/{pm}/progress", {"value": "8", "as_of": w.today()})
    contact.goto(plan_url)
    contact.locator("#act-review summary").click()
    review = contact.locator("#form-review")
    review.get_by_label("Max Manager (manager)").check()
    review.get_by_label("Pat Partner (partner contact)").check()
    review.get_by_label("Notes").fill("Pipeline review")
    review.get_by_role("button", name="Record review").click()
    contact.wait_for_load_state()
    w.outsider.post(
        f"{api}/reviews",
        {
            "held_on": w.today(),
            "attendee_ids": [w.other_manager.id, w.outsider.id],
            "notes": "Pipeline review",
        },
    )
    for proposer, answerer, metric, target, verb, api_by, api_to, api_metric in (
        (contact, manager, web_pm, "16", "Accept", w.outsider, w.other_manager, pm),
        (manager, contact, web_vm, "9", "Reject", w.other_manager, w.outsider, vm),
    ):
        proposer.goto(plan_url)
        proposer.locator("#act-adjust summary").click()
        adjust = proposer.locator("#form-adjust")
        adjust.get_by_label("Metric", exact=True).select_option(metric)
        adjust.get_by_label("New target").fill(target)
        adjust.get_by_label("Reason").fill("Market changed")
        adjust.get_by_role("button", name="Propose adjustment").click()
        proposer.wait_for_load_state()
        answerer.goto(plan_url)
        answerer.get_by_role("button", name=verb, exact=True).click()
        answerer.wait_for_load_state()
        body = {
            "metric_id": api_metric,
            "kind": "change_target",
            "new_target": target,
            "reason": "Market changed",
        }
        adjustment = api_by.post(f"{api}/adjustments", body).json()["adjustments"][-1]["id"]
        api_to.post(f"{api}/adjustments/{adjustment}/{verb.lower()}")
    w.days(95)
    manager = a_browser_of(browser, w, w.manager.token)
    manager.goto(plan_url)
    manager.locator("#act-close summary").click()
    assert "Closing grades each metric" in manager.locator("#form-close").inner_text()
    manager.get_by_role("button", name="Close plan").click()
    manager.wait_for_load_state()
    w.other_manager.post(f"{api}/close")
    web, through_api = w.plan(plan_id), w.other_manager.get(api).json()
    assert web["status"] == "closed"
    assert comparable(web) == comparable(through_api)
    scores = [
        w.leader.get(f"/v1/plans/{p}/accountability").json()["sides"] for p in (plan_id, api_plan)
    ]
    assert {s: scores[0][s]["score"] for s in ("vendor", "partner")} == {
        s: scores[1][s]["score"] for s in ("vendor", "partner")
    }
    assert scores[0]["vendor"]["score"] is not None


def comparable(plan: dict[str, Any]) -> dict[str, Any]:
    """A plan without its ids and the times of its commands (both stories run at once)."""
    drop = {
        "id",
        "partner_id",
        "metric_id",
        "actor_id",
        "attendee_ids",
        "committed_at",
        "activated_at",
        "closed_at",
        "version",
    }

    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items() if k not in drop}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    return clean(plan)  # type: ignore[no-any-return]
