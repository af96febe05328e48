"""Plan forms over HTTP, on both backends: what each side may do, refusals in words, one
event per form however often it is sent, conflicts, and CSRF."""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from ledger.clock import SimulatedClock
from tests.api.world import (
    World,
    a_draft_plan,
    a_server,
    a_world,
    an_active_plan,
    created,
    with_proposed_metrics,
)
from tests.conftest import BACKENDS, START, a_fresh_ledger
from tests.web.form_pages import Visitor, forms_of, visiting


@pytest.fixture(scope="module", params=BACKENDS)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """One world per backend; each test builds the plans it needs (the clock stands still)."""
    with a_fresh_ledger(request.param, tmp_path_factory.mktemp("forms")) as settings:
        clock = SimulatedClock(START)
        with a_server(settings, clock) as client:
            yield a_world(client, settings, clock)


@pytest.fixture(scope="module")
def manager(world: World) -> Visitor:
    """The partnership's channel manager in a browser."""
    return visiting(world.client, world.manager)


@pytest.fixture(scope="module")
def contact(world: World) -> Visitor:
    """The partner contact in a browser."""
    return visiting(world.client, world.contact)


def error_of(html: str, element_id: str) -> str:
    """The text of the element with this id."""
    found = re.search(rf'id="{re.escape(element_id)}">([^<]*)<', html)
    assert found, f"no #{element_id} in the page"
    return found.group(1)


def test_each_side_sees_only_the_actions_it_may_take(
    world: World, manager: Visitor, contact: Visitor
) -> None:
    plan = an_active_plan(world)
    page = f"/plans/{plan.id}"
    mine, theirs = manager.forms(page), contact.forms(page)
    assert f"progress-{plan.vendor_metric}" in mine
    assert f"progress-{plan.partner_metric}" not in mine
    assert f"progress-{plan.partner_metric}" in theirs
    assert f"progress-{plan.vendor_metric}" not in theirs
    assert {"review", "adjust"} <= set(mine) & set(theirs)
    assert "commit" not in theirs
    assert "propose" not in theirs
    leader = visiting(world.client, world.leader)
    assert not [f for f in leader.forms(page) if f not in {"travel"}] or set(
        leader.forms(page)
    ) <= {""}
    before = world.version(plan)
    sent = contact.send(
        f"{page}/metrics/{plan.vendor_metric}/progress",
        mine[f"progress-{plan.vendor_metric}"].filled(
            value="3", csrf=theirs["review"].values["csrf"][0]
        ),
    )
    assert sent.status_code == 403
    assert "Only the vendor side reports on" in sent.text
    assert world.version(plan) == before


def test_a_double_submit_and_a_refresh_after_post_record_once(
    world: World, manager: Visitor
) -> None:
    plan = an_active_plan(world)
    form = manager.forms(f"/plans/{plan.id}")[f"progress-{plan.vendor_metric}"]
    typed = form.filled(value="2", note="Two sessions held")
    before = world.version(plan)
    with ThreadPoolExecutor(2) as pool:  # a double click: two posts at once
        answers = list(pool.map(lambda _: manager.send(form.action, typed), range(2)))
    again = manager.send(form.action, typed)  # a refresh that re-sends the post
    for answer in (*answers, again):
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/plans/{plan.id}?done=reported"
    assert world.version(plan) == before + 1
    assert "Progress reported." in manager.get(again.headers["location"]).text


def test_a_form_made_stale_by_the_other_side_gets_the_conflict_page(
    world: World, manager: Visitor
) -> None:
    plan = an_active_plan(world)
    form = manager.forms(f"/plans/{plan.id}")[f"progress-{plan.vendor_metric}"]
    body = {"value": "7", "as_of": world.today()}
    created(world.contact.post(f"/v1/plans/{plan.id}/metrics/{plan.partner_metric}/progress", body))
    current = world.version(plan)
    answer = manager.send(form.action, form.filled(value="3", note="Typed before"))
    assert answer.status_code == 412
    assert "The plan changed since you opened this form" in answer.text
    assert "Pat Partner (partner side) reported 7 on “Qualified opportunities”" in answer.text
    assert world.version(plan) == current  # nothing recorded
    retry = forms_of(answer.text)[f"progress-{plan.vendor_metric}"]
    assert retry.values["version"] == [str(current)]
    assert retry.values["value"] == ["3"]
    assert retry.values["note"] == ["Typed before"]
    assert manager.send(retry.action, retry.filled()).status_code == 303
    assert world.version(plan) == current + 1


REFUSALS = [
    # (form, field, typed, status, the message next to the field)
    ("progress", "value", {"value": "lots"}, 422, "Value must be a number, such as 20 or 12.5."),
    (
        "progress",
        "as_of",
        {"value": "1", "as_of": "2026-02-01"},
        422,
        "As of (2026-02-01) must not be in the future",
    ),
    (
        "progress",
        "evidence_url",
        {"value": "1", "evidence_url": "ftp://x"},
        422,
        "Evidence link must be an http:// or https:// link",
    ),
    ("review", "attendee_ids", {}, 422, "Choose at least one for attendees."),
    (
        "adjust",
        "new_target",
        {"kind": "change_target", "new_target": "0", "reason": "Budget"},
        422,
        "New target must be greater than 0",
    ),
    ("adjust", "reason", {"kind": "retire", "reason": ""}, 422, "Reason is required."),
]


def test_each_refusal_shows_its_message_by_its_field_and_stores_nothing(
    world: World, manager: Visitor
) -> None:
    plan = an_active_plan(world)
    page = f"/plans/{plan.id}"
    before = world.version(plan)
    for name, field, typed, status, message in REFUSALS:
        form_id = f"{name}-{plan.vendor_metric}" if name == "progress" else name
        form = manager.forms(page)[form_id]
        answer = manager.send(form.action, form.filled(**typed))
        assert answer.status_code == status, (name, typed, answer.text[:300])
        assert message in error_of(answer.text, f"{form_id}-{field}-error"), name
        shown = forms_of(answer.text)[form_id]
        for typed_name, value in typed.items():
            assert shown.values[typed_name] == [value] or typed_name == "kind", (name, typed_name)
    assert world.version(plan) == before


def test_a_draft_metric_is_refused_in_words_and_kept_as_typed(
    world: World, contact: Visitor
) -> None:
    plan = with_proposed_metrics(world, a_draft_plan(world))
    form = contact.forms(f"/plans/{plan.id}")["propose"]
    typed = form.filled(
        name="Joint webinars",
        description="Run webinars",
        unit="webinars",
        target="-2",
        due_date="2027-01-01",
    )
    answer = contact.send(form.action, typed)
    assert answer.status_code == 422
    assert "Target must be greater than 0" in error_of(answer.text, "propose-target-error")
    assert 'value="Joint webinars"' in answer.text
    assert 'value="-2"' in answer.text
    typed["target"] = "4"
    answer = contact.send(form.action, typed)
    assert "Due date (2027-01-01) must be inside the plan period" in error_of(
        answer.text, "propose-due_date-error"
    )


def test_a_form_without_its_csrf_token_is_refused(world: World, manager: Visitor) -> None:
    plan = an_active_plan(world)
    form = manager.forms(f"/plans/{plan.id}")[f"progress-{plan.vendor_metric}"]
    before = world.version(plan)
    for csrf in ("", "not-the-token"):
        answer = manager.send(form.action, form.filled(value="1", csrf=csrf))
        assert answer.status_code == 403
        assert "the form was stale or not sent from this site" in answer.text
    assert world.version(plan) == before
