"""Who may call what: every endpoint, called as every role, in scope and out of scope.

The rules of docs/api.md: no token, an unknown token or a revoked one → 401 on every ``/v1`` route;
a resource outside the caller's scope → 404, never its content; an action the caller's role or
side may not take on a resource it can see → 403. Each test calls one endpoint as every caller
and reports every mismatch at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.api.world import (
    Caller,
    PlanRef,
    World,
    a_caller,
    a_draft_plan,
    a_past_plan,
    an_active_plan,
    an_adjustment,
    an_agreed_plan,
    created,
    partner_metric,
    plan_body,
    vendor_metric,
    with_proposed_metrics,
)

CALLERS = [
    "admin",
    "leader",
    "auditor",
    "manager",
    "other_manager",
    "contact",
    "outsider",
    "anonymous",
    "unknown",
    "revoked",
]
UNAUTHENTICATED = {"anonymous": 401, "unknown": 401, "revoked": 401}
READS_ALL = {"admin": 200, "leader": 200, "auditor": 200}
IN_SCOPE = {**READS_ALL, "manager": 200, "contact": 200}
OUT_OF_SCOPE = {"other_manager": 404, "outsider": 404}
SEES_PLAN = {**IN_SCOPE, **OUT_OF_SCOPE, **UNAUTHENTICATED}
NOT_PARTY = {"admin": 403, "leader": 403, "auditor": 403, **OUT_OF_SCOPE, **UNAUTHENTICATED}
NOT_ADMIN = {
    "leader": 403,
    "auditor": 403,
    "manager": 403,
    "other_manager": 403,
    "contact": 403,
    "outsider": 403,
    **UNAUTHENTICATED,
}
LEADERSHIP = {
    **READS_ALL,
    "manager": 403,
    "other_manager": 403,
    "contact": 403,
    "outsider": 403,
    **UNAUTHENTICATED,
}


@pytest.fixture(scope="module")
def cast(shared_world: World) -> dict[str, Caller]:
    """Every caller by name, including three that are not authenticated."""
    world = shared_world
    callers = world.callers()
    callers["anonymous"] = Caller(world.client, "Nobody", "", "", "none")
    callers["unknown"] = Caller(world.client, "Mallory", "", "cp_not-a-token-we-issued", "none")
    revoked = a_caller(world.admin, "Rex Revoked", "manager")
    created(world.admin.post(f"/v1/actors/{revoked.id}/revoke"), 200)
    callers["revoked"] = revoked
    return callers


def mismatches(
    cast: dict[str, Caller],
    expected: dict[str, int],
    call: Callable[[Caller], httpx.Response],
    *,
    hidden: str | None = None,
) -> list[str]:
    """Call as each expected caller; describe every status that differs from the table.

    ``hidden`` is a text of the resource that a 404 or 401 must never show.
    """
    wrong = []
    for name in CALLERS:
        if name not in expected:
            continue
        response = call(cast[name])
        status = response.status_code
        if status != expected[name]:
            wrong.append(f"{name}: expected {expected[name]}, got {status}: {response.text[:300]}")
        elif status >= 400:
            if response.headers["content-type"] != "application/problem+json":
                wrong.append(f"{name}: a {status} that is not problem+json")
            if hidden is not None and hidden in response.text:
                wrong.append(f"{name}: a {status} that shows the resource's content")
    return wrong


def assert_table(
    cast: dict[str, Caller],
    expected: dict[str, int],
    call: Callable[[Caller], httpx.Response],
    *,
    hidden: str | None = None,
) -> None:
    """Every caller gets the status of the table."""
    wrong = mismatches(cast, expected, call, hidden=hidden)
    assert not wrong, "\n".join(wrong)


# ------------------------------------------------------------------ plan reads


@pytest.mark.parametrize(
    "suffix",
    ["", "?version=1", "?as_of=2026-01-05T09:00:00Z", "/history", "/accountability"],
    ids=["plan", "version", "as_of", "history", "accountability"],
)
def test_a_plan_is_read_by_its_parties_and_readers_of_all_and_hidden_from_everyone_else(
    shared_world: World, cast: dict[str, Caller], suffix: str
) -> None:
    """Owner manager, own contact, leader, auditor, admin → 200; the other partnership's → 404."""
    world = shared_world
    plan = an_active_plan(world, title="Acme confidential plan")
    assert_table(
        cast,
        SEES_PLAN,
        lambda caller: caller.get(f"{plan.url}{suffix}"),
        hidden="Acme confidential plan" if suffix != "/accountability" else plan.vendor_metric,
    )


def test_the_plan_list_shows_each_caller_only_the_plans_in_scope(
    shared_world: World, cast: dict[str, Caller]
) -> None:
    """GET /v1/plans lists the caller's partnerships' plans, and no others."""
    world = shared_world
    ours = a_draft_plan(world)
    theirs = a_draft_plan(world, by=world.other_manager)
    scope = {
        "manager": {world.partner},
        "contact": {world.partner},
        "other_manager": {world.other_partner},
        "outsider": {world.other_partner},
    }
    wrong = []
    for name in ["admin", "leader", "auditor", *scope]:
        listed = created(cast[name].get("/v1/plans", params={"limit": 500}), 200)
        assert listed["next_cursor"] is None
        ids = {p["id"] for p in listed["items"]}
        partners = {p["partner_id"] for p in listed["items"]}
        visible = scope.get(name, {world.partner, world.other_partner})
        if name in scope and not partners <= visible:
            wrong.append(f"{name} sees plans of partners {partners - visible}")
        for plan, partner in ((ours, world.partner), (theirs, world.other_partner)):
            if (plan.id in ids) != (partner in visible):
                wrong.append(f"{name}: plan of {partner} listed={plan.id in ids}")
    filtered = created(
        world.manager.get("/v1/plans", params={"partner_id": world.other_partner}), 200
    )
    if filtered["items"]:
        wrong.append("filtering by another partner shows its plans to the manager")
    assert not wrong, "\n".join(wrong)
    assert_table(
        cast,
        {**IN_SCOPE, "other_manager": 200, "outsider": 200, **UNAUTHENTICATED},
        lambda caller: caller.get("/v1/plans"),
    )


def test_a_plan_out_of_scope_looks_exactly_like_no_plan_at_all(
    shared_world: World, cast: dict[str, Caller]
) -> None:
    """The 404 for another partnership's plan says no more than the 404 for a made-up id."""
    world = shared_world
    plan = a_draft_plan(world)
    made_up = "00000000-0000-4000-8000-000000000000"
    for suffix in ("", "/history", "/accountability", "/commit"):
        send = world.outsider.post if suffix == "/commit" else world.outsider.get
        hidden = send(f"{plan.url}{suffix}")
        missing = send(f"/v1/plans/{made_up}{suffix}")
        assert hidden.status_code == missing.status_code == 404, suffix
        assert hidden.json() == {**missing.json(), "detail": hidden.json()["detail"]}
        assert hidden.json()["detail"] == missing.json()["detail"].replace(made_up, plan.id)


# --------------------------------------------------------------- plan commands


@dataclass
class Act:
    """One request: method, path and body."""

    method: str
    path: str
    body: Any = None

    def by(self, caller: Caller) -> httpx.Response:
        """Send it as a caller."""
        if self.method == "PUT":
            return caller.put(self.path, self.body)
        return caller.post(self.path, self.body)


@dataclass
class Scenario:
    """A plan in the state a command needs, what each side sends, and what each side gets."""

    plan: PlanRef | None
    vendor: Act
    partner: Act
    vendor_status: int
    partner_status: int


def draft(world: World) -> Scenario:
    """Either party drafts a plan for its partnership."""
    act = Act("POST", "/v1/plans", plan_body(world.partner))
    return Scenario(None, act, act, 201, 201)


def propose(world: World) -> Scenario:
    """Each side proposes a metric on a draft."""
    plan = a_draft_plan(world)
    vendor = Act("POST", f"{plan.url}/metrics", vendor_metric())
    partner = Act("POST", f"{plan.url}/metrics", partner_metric())
    return Scenario(plan, vendor, partner, 201, 201)


def revise(world: World) -> Scenario:
    """Each side revises its own draft metric."""
    plan = with_proposed_metrics(world, a_draft_plan(world))
    vendor = Act("PUT", f"{plan.url}/metrics/{plan.vendor_metric}", vendor_metric(target=5))
    partner = Act("PUT", f"{plan.url}/metrics/{plan.partner_metric}", partner_metric(target=25))
    return Scenario(plan, vendor, partner, 200, 200)


def agree(world: World) -> Scenario:
    """Each side agrees to the other side's metric."""
    plan = with_proposed_metrics(world, a_draft_plan(world))
    vendor = Act("POST", f"{plan.url}/metrics/{plan.partner_metric}/agree")
    partner = Act("POST", f"{plan.url}/metrics/{plan.vendor_metric}/agree")
    return Scenario(plan, vendor, partner, 200, 200)


def commit(world: World) -> Scenario:
    """Both sides commit to agreed terms."""
    plan = an_agreed_plan(world)
    act = Act("POST", f"{plan.url}/commit")
    return Scenario(plan, act, act, 200, 200)


def progress(world: World) -> Scenario:
    """Each side reports on its own metric."""
    plan = an_active_plan(world)
    body = {"value": 1, "as_of": world.today()}
    vendor = Act("POST", f"{plan.url}/metrics/{plan.vendor_metric}/progress", body)
    partner = Act("POST", f"{plan.url}/metrics/{plan.partner_metric}/progress", body)
    return Scenario(plan, vendor, partner, 201, 201)


def review(world: World) -> Scenario:
    """Either side records a review."""
    plan = an_active_plan(world)
    body = {"held_on": world.today(), "attendee_ids": [world.manager.id, world.contact.id]}
    act = Act("POST", f"{plan.url}/reviews", body)
    return Scenario(plan, act, act, 201, 201)


def adjust(world: World) -> Scenario:
    """Each side proposes an adjustment of its own metric."""
    plan = an_active_plan(world)
    vendor = Act(
        "POST",
        f"{plan.url}/adjustments",
        {"metric_id": plan.vendor_metric, "kind": "change_target", "new_target": 6, "reason": "x"},
    )
    partner = Act(
        "POST",
        f"{plan.url}/adjustments",
        {"metric_id": plan.partner_metric, "kind": "retire", "reason": "Market changed"},
    )
    return Scenario(plan, vendor, partner, 201, 201)


def answer(verb: str) -> Callable[[World], Scenario]:
    """Each side answers (accept, reject) the other side's adjustment."""

    def scenario(world: World) -> Scenario:
        plan = an_active_plan(world)
        by_vendor = an_adjustment(world, plan, world.manager)
        by_partner = an_adjustment(world, plan, world.contact)
        vendor = Act("POST", f"{plan.url}/adjustments/{by_partner}/{verb}", {"reason": "ok"})
        partner = Act("POST", f"{plan.url}/adjustments/{by_vendor}/{verb}")
        return Scenario(plan, vendor, partner, 200, 200)

    return scenario


def withdraw(world: World) -> Scenario:
    """Each side withdraws its own adjustment."""
    plan = an_active_plan(world)
    by_vendor = an_adjustment(world, plan, world.manager)
    by_partner = an_adjustment(world, plan, world.contact)
    vendor = Act("POST", f"{plan.url}/adjustments/{by_vendor}/withdraw")
    partner = Act("POST", f"{plan.url}/adjustments/{by_partner}/withdraw", {"reason": "later"})
    return Scenario(plan, vendor, partner, 200, 200)


def close(world: World) -> Scenario:
    """Either side closes a plan whose period is over; once closed, it accepts nothing."""
    plan = a_past_plan(world)
    act = Act("POST", f"{plan.url}/close", {"summary": "Done"})
    return Scenario(plan, act, act, 200, 409)


COMMANDS = {
    "draft": draft,
    "propose_metric": propose,
    "revise_metric": revise,
    "agree_metric": agree,
    "commit": commit,
    "report_progress": progress,
    "record_review": review,
    "propose_adjustment": adjust,
    "accept_adjustment": answer("accept"),
    "reject_adjustment": answer("reject"),
    "withdraw_adjustment": withdraw,
    "close": close,
}


@pytest.mark.parametrize("command", COMMANDS)
def test_only_the_parties_act_on_a_plan_others_who_see_it_get_403_and_the_rest_404(
    shared_world: World, cast: dict[str, Caller], command: str
) -> None:
    """Leader, auditor, admin → 403; the other partnership's → 404; nothing stored for either."""
    world = shared_world
    scenario = COMMANDS[command](world)
    head = world.head()
    assert_table(cast, NOT_PARTY, scenario.vendor.by)
    assert world.head() == head, "a refused command stored events"
    assert_table(cast, {"manager": scenario.vendor_status}, scenario.vendor.by)
    assert_table(cast, {"contact": scenario.partner_status}, scenario.partner.by)


# ------------------------------------------------------- actors and partners


def assert_admin_only(
    world: World, cast: dict[str, Caller], call: Callable[[Caller], httpx.Response], success: int
) -> httpx.Response:
    """Everyone but the admin is refused and stores nothing; then the admin succeeds."""
    head = world.head()
    assert_table(cast, NOT_ADMIN, call)
    assert world.head() == head, "a refused command stored events"
    response = call(cast["admin"])
    assert response.status_code == success, response.text
    return response


def test_only_an_admin_registers_actors(shared_world: World, cast: dict[str, Caller]) -> None:
    """POST /v1/actors: admin 201 with a token; everyone else 403."""

    def register(caller: Caller) -> httpx.Response:
        tag = caller.name.lower().replace(" ", ".")
        body = {
            "name": f"Made by {caller.name}",
            "email": f"by.{tag}@example.com",
            "role": "auditor",
        }
        return caller.post("/v1/actors", body)

    response = assert_admin_only(shared_world, cast, register, 201)
    assert response.json()["token"]


def test_only_an_admin_issues_tokens(shared_world: World, cast: dict[str, Caller]) -> None:
    """POST /v1/actors/{id}/tokens: admin 201; everyone else (even the actor itself) 403."""
    target = shared_world.contact.id
    response = assert_admin_only(
        shared_world, cast, lambda caller: caller.post(f"/v1/actors/{target}/tokens"), 201
    )
    assert response.json()["token"]


def test_only_an_admin_revokes_tokens(shared_world: World, cast: dict[str, Caller]) -> None:
    """POST /v1/actors/{id}/revoke: admin 200; everyone else 403 and the tokens keep working."""
    world = shared_world
    victim = a_caller(world.admin, "Val Victim", "partner", world.partner)
    revoke = f"/v1/actors/{victim.id}/revoke"
    assert_admin_only(world, {**cast, "contact": victim}, lambda caller: caller.post(revoke), 200)
    assert victim.get("/v1/me").status_code == 401


def test_only_an_admin_registers_partners(shared_world: World, cast: dict[str, Caller]) -> None:
    """POST /v1/partners: admin 201; everyone else 403."""
    world = shared_world
    owner = a_caller(world.admin, "Sam Spare", "manager")
    body = {"name": "Initech", "manager_id": owner.id}
    response = assert_admin_only(world, cast, lambda caller: caller.post("/v1/partners", body), 201)
    assert response.json()["manager_id"] == owner.id


def test_everyone_authenticated_reads_who_they_are(cast: dict[str, Caller]) -> None:
    """GET /v1/me: each caller gets itself; no token, an unknown or a revoked one → 401."""
    expected = dict.fromkeys(CALLERS, 200) | UNAUTHENTICATED
    assert_table(cast, expected, lambda caller: caller.get("/v1/me"))
    for name in CALLERS:
        if name not in UNAUTHENTICATED:
            assert cast[name].get("/v1/me").json()["id"] == cast[name].id, name


@pytest.mark.parametrize("suffix", ["", "/accountability"], ids=["partner", "accountability"])
def test_a_partner_is_seen_only_by_its_parties_and_readers_of_all(
    shared_world: World, cast: dict[str, Caller], suffix: str
) -> None:
    """GET /v1/partners/{id} and its accountability: in scope 200, else 404."""
    world = shared_world
    theirs = {
        **READS_ALL,
        "manager": 404,
        "contact": 404,
        "other_manager": 200,
        "outsider": 200,
        **UNAUTHENTICATED,
    }
    ours_url = f"/v1/partners/{world.partner}{suffix}"
    theirs_url = f"/v1/partners/{world.other_partner}{suffix}"
    assert_table(cast, SEES_PLAN, lambda caller: caller.get(ours_url), hidden="Acme")
    assert_table(cast, theirs, lambda caller: caller.get(theirs_url), hidden="Globex")


def test_the_partner_list_shows_only_the_partners_in_scope(
    shared_world: World, cast: dict[str, Caller]
) -> None:
    """GET /v1/partners: a manager sees what they own, a contact their own partner only."""
    world = shared_world
    owned = {
        "manager": {world.partner},
        "contact": {world.partner},
        "other_manager": {world.other_partner},
        "outsider": {world.other_partner},
    }
    for name in CALLERS:
        response = cast[name].get("/v1/partners", params={"limit": 500})
        if name in UNAUTHENTICATED:
            assert response.status_code == 401, name
            continue
        ids = {p["id"] for p in created(response, 200)["items"]}
        if name in owned:
            assert ids == owned[name], name
        else:
            assert {world.partner, world.other_partner} <= ids, name


# -------------------------------------------------------------- roll-ups, audit


def test_the_portfolio_is_for_leaders_admins_and_auditors(cast: dict[str, Caller]) -> None:
    """GET /v1/portfolio: leader, admin, auditor 200; managers and partner contacts 403."""
    assert_table(cast, LEADERSHIP, lambda caller: caller.get("/v1/portfolio"))


def test_the_audit_trail_is_for_auditors_leaders_and_admins(cast: dict[str, Caller]) -> None:
    """GET /v1/audit/commitments: auditor, leader, admin 200; managers and contacts 403."""
    assert_table(cast, LEADERSHIP, lambda caller: caller.get("/v1/audit/commitments"))


def test_a_managers_score_is_for_leadership_and_that_manager(
    shared_world: World, cast: dict[str, Caller]
) -> None:
    """GET /v1/managers/{id}/accountability: leadership and the manager 200, another manager
    404, partner contacts 403."""
    url = f"/v1/managers/{shared_world.manager.id}/accountability"
    expected = {
        **READS_ALL,
        "manager": 200,
        "other_manager": 404,
        "contact": 403,
        "outsider": 403,
        **UNAUTHENTICATED,
    }
    assert_table(cast, expected, lambda caller: caller.get(url))


@pytest.mark.parametrize("path", ["/v1/audit/verify", "/v1/audit/checkpoint"])
def test_integrity_checks_are_for_auditors_and_admins(cast: dict[str, Caller], path: str) -> None:
    """GET /v1/audit/verify and /v1/audit/checkpoint: auditor and admin 200, everyone else 403."""
    expected = {
        "admin": 200,
        "auditor": 200,
        "leader": 403,
        "manager": 403,
        "other_manager": 403,
        "contact": 403,
        "outsider": 403,
        **UNAUTHENTICATED,
    }
    assert_table(cast, expected, lambda caller: caller.get(path))


def test_a_registered_actor_is_shown_with_its_side_and_its_first_token(
    shared_world: World,
) -> None:
    """POST /v1/actors answers {id, name, email, role, side, partner_id, token}; GET /v1/me
    shows the same actor without any token."""
    world = shared_world
    sides = {"manager": "vendor", "leader": "vendor", "auditor": None, "partner": "partner"}
    for role, side in sides.items():
        body = {"name": f"Shown {role}", "email": f"shown.{role}@example.com", "role": role}
        if role == "partner":
            body["partner_id"] = world.partner
        shown = created(world.admin.post("/v1/actors", body))
        assert shown["side"] == side, role
        assert shown["partner_id"] == body.get("partner_id"), role
        assert (shown["name"], shown["email"], shown["role"]) == (
            body["name"],
            body["email"],
            role,
        )
        me = Caller(world.client, shown["name"], shown["id"], shown["token"], role).get("/v1/me")
        assert created(me, 200) == {k: v for k, v in shown.items() if k != "token"}


def test_a_new_token_leaves_older_ones_valid_until_revoked(shared_world: World) -> None:
    """Tokens accumulate; a revocation ends every one of them."""
    world = shared_world
    first = a_caller(world.admin, "Tia Tokens", "leader")
    second = created(world.admin.post(f"/v1/actors/{first.id}/tokens"))["token"]
    assert second != first.token
    again = Caller(world.client, first.name, first.id, second, "leader")
    assert first.get("/v1/me").status_code == again.get("/v1/me").status_code == 200
    created(world.admin.post(f"/v1/actors/{first.id}/revoke"), 200)
    assert first.get("/v1/me").status_code == again.get("/v1/me").status_code == 401
