"""Isolation between partnerships: the tokens of one partnership never read or change another
partnership's plans, history, scores or exports, by any route of the OpenAPI document,
whether they use the other side's real ids, mix them with their own, or guess."""

from __future__ import annotations

import itertools
import json
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from ledger.clock import SimulatedClock
from ledger.settings import Settings
from tests.api.world import (
    PERIOD_END,
    PERIOD_START,
    Caller,
    World,
    a_server,
    a_world,
    created,
)
from tests.conftest import START

ROUTE_PARAMETERS = ("plan_id", "metric_id", "adjustment_id", "partner_id", "actor_id")


@dataclass
class Partnership:
    """One partnership's people, its plans in every state, and the texts only it may read."""

    name: str
    partner_id: str
    manager: Caller
    contact: Caller
    ids: dict[str, list[str]] = field(default_factory=dict)
    secrets: set[str] = field(default_factory=set)

    @property
    def callers(self) -> list[Caller]:
        """The partnership's two parties."""
        return [self.manager, self.contact]

    def secret(self, what: str) -> str:
        """A text unique to this partnership, remembered as a secret."""
        text = f"{self.name} {what} {uuid.uuid4().hex[:12]}"
        self.secrets.add(text)
        return text


def metric_body(side: str, name: str, due: str) -> dict[str, Any]:
    """A SMART metric."""
    return {
        "owner_side": side,
        "kind": "activity" if side == "vendor" else "result",
        "name": name,
        "description": f"{name}, counted weekly",
        "unit": "count",
        "direction": "at_least",
        "target": "12",
        "due_date": due,
    }


def fill(world: World, side: Partnership) -> None:
    """A draft, an active plan with progress, a review and an open adjustment, and a closed
    plan: every id and text of them is the partnership's own."""
    manager, contact = side.manager, side.contact

    def a_plan(title: str, start: str, end: str, due: str, *, active: bool) -> dict[str, Any]:
        body = {"partner_id": side.partner_id, "title": title, "period_start": start}
        plan = created(manager.post("/v1/plans", body | {"period_end": end}))
        url = f"/v1/plans/{plan['id']}"
        created(manager.post(f"{url}/metrics", metric_body("vendor", side.secret("metric"), due)))
        theirs = metric_body("partner", side.secret("metric"), due)
        plan = created(contact.post(f"{url}/metrics", theirs))
        if active:
            vendor, partner = (m["id"] for m in plan["metrics"])
            created(contact.post(f"{url}/metrics/{vendor}/agree"), 200)
            created(manager.post(f"{url}/metrics/{partner}/agree"), 200)
            created(manager.post(f"{url}/commit"), 200)
            plan = created(contact.post(f"{url}/commit"), 200)
        return plan

    draft = a_plan(
        side.secret("draft"), str(PERIOD_START), str(PERIOD_END), "2026-03-31", active=False
    )
    active = a_plan(
        side.secret("plan"), str(PERIOD_START), str(PERIOD_END), "2026-03-31", active=True
    )
    past = a_plan(side.secret("past plan"), "2025-10-01", "2025-12-31", "2025-12-15", active=True)
    url = f"/v1/plans/{active['id']}"
    vendor, partner = (m["id"] for m in active["metrics"])
    today = world.today()
    created(
        manager.post(
            f"{url}/metrics/{vendor}/progress",
            {"value": 3, "as_of": today, "note": side.secret("note")},
        )
    )
    review = {
        "held_on": today,
        "attendee_ids": [manager.id, contact.id],
        "notes": side.secret("review"),
        "decisions": side.secret("decision"),
    }
    created(manager.post(f"{url}/reviews", review))
    adjustment = {
        "metric_id": partner,
        "kind": "change_target",
        "new_target": "9",
        "reason": side.secret("reason"),
    }
    active = created(contact.post(f"{url}/adjustments", adjustment))
    created(manager.post(f"/v1/plans/{past['id']}/close", {"summary": side.secret("summary")}), 200)
    side.ids = {
        "plan_id": [active["id"], draft["id"], past["id"]],
        "metric_id": [vendor, partner, *(m["id"] for m in draft["metrics"])],
        "adjustment_id": [a["id"] for a in active["adjustments"]],
        "review_id": [r["id"] for r in active["reviews"]],
        "partner_id": [side.partner_id],
        "actor_id": [manager.id, contact.id],
    }
    for ids in side.ids.values():
        side.secrets.update(ids)


@dataclass
class Two:
    """Both partnerships of a running app."""

    world: World
    acme: Partnership
    globex: Partnership


@pytest.fixture(scope="module")
def two(module_ledger: Settings) -> Iterator[Two]:
    """Acme (manager, contact) and Globex (another manager, its contact), each filled."""
    clock = SimulatedClock(START)
    with a_server(module_ledger, clock) as client:
        world = a_world(client, module_ledger, clock)
        acme = Partnership("Acme", world.partner, world.manager, world.contact)
        globex = Partnership("Globex", world.other_partner, world.other_manager, world.outsider)
        fill(world, acme)
        fill(world, globex)
        yield Two(world, acme, globex)


@dataclass(frozen=True)
class Probe:
    """One request of an outsider, and its twin: the same request with each of the other
    partnership's ids in the path replaced by a made-up one."""

    method: str
    path: str
    twin: str | None
    params: dict[str, str] | None
    body: dict[str, Any] | None
    label: str


def bodies(world: World, mine: Partnership, theirs: Partnership) -> dict[str, dict[str, Any]]:
    """Well-formed bodies that point at the other partnership wherever a body names an id."""
    today = world.today()
    return {
        "/v1/actors": {
            "name": "Mole",
            "email": "mole@example.com",
            "role": "partner",
            "partner_id": theirs.partner_id,
        },
        "/v1/partners": {"name": "Takeover", "manager_id": theirs.manager.id},
        "/v1/plans": {
            "partner_id": theirs.partner_id,
            "title": "Planted",
            "period_start": str(PERIOD_START),
            "period_end": str(PERIOD_END),
        },
        "/v1/plans/{plan_id}/metrics": metric_body("vendor", "Planted metric", "2026-03-31"),
        "/v1/plans/{plan_id}/metrics/{metric_id}": metric_body("vendor", "Rewritten", "2026-03-31"),
        "/v1/plans/{plan_id}/metrics/{metric_id}/progress": {"value": 99, "as_of": today},
        "/v1/plans/{plan_id}/reviews": {
            "held_on": today,
            "attendee_ids": [theirs.manager.id, theirs.contact.id],
        },
        "/v1/plans/{plan_id}/adjustments": {
            "metric_id": theirs.ids["metric_id"][0],
            "kind": "retire",
            "reason": "sabotage",
        },
        "/v1/plans/{plan_id}/close": {"summary": "closed by a stranger"},
    }


def probes(
    world: World, template: str, method: str, mine: Partnership, theirs: Partnership
) -> Iterator[Probe]:
    """Every way an outsider might reach the other partnership through one route."""
    names = [n for n in ROUTE_PARAMETERS if "{" + n + "}" in template]
    body = bodies(world, mine, theirs).get(template)
    if template.startswith("/v1/plans/{plan_id}/adjustments/{adjustment_id}"):
        body = {"reason": "answered by a stranger"}

    def probe(choice: dict[str, str], label: str, params: dict[str, str] | None = None) -> Probe:
        path = twin = template
        for name, value in choice.items():
            made_up = str(uuid.uuid4()) if value in theirs.secrets else value
            path = path.replace("{" + name + "}", value)
            twin = twin.replace("{" + name + "}", made_up)
        return Probe(method, path, twin if twin != path else None, params, body, label)

    if not names:
        yield probe({}, "as is")
        for key, value in (("partner_id", theirs.partner_id), ("actor_id", theirs.manager.id)):
            yield probe({}, f"?{key}=theirs", {key: value})
        return
    for index in range(3):  # their plans and ids in every state, one by one
        choice = {n: theirs.ids[n][min(index, len(theirs.ids[n]) - 1)] for n in names}
        yield probe(choice, f"their ids #{index}")
        if method == "GET" and "plan_id" in names:
            for query in ({"version": "1"}, {"as_of": "2026-01-05T10:00:00Z"}):
                yield probe(choice, f"their ids {query}", query)
    if "plan_id" in names and len(names) > 1:  # my plan, their metric or adjustment
        choice = {n: theirs.ids[n][0] for n in names} | {"plan_id": mine.ids["plan_id"][0]}
        yield probe(choice, "my plan, their ids")
    for other in names:  # their id where mine would go, mine elsewhere
        choice = {n: mine.ids[n][0] for n in names} | {other: theirs.ids[other][0]}
        yield probe(choice, f"their {other} among mine")


def leaks(response: httpx.Response, probe: Probe, theirs: Partnership) -> list[str]:
    """Secrets of the other partnership in a response, beyond the ids the request named."""
    sent = probe.path + json.dumps(probe.params) + json.dumps(probe.body)
    return [s for s in theirs.secrets if s in response.text and s not in sent]


def answer(response: httpx.Response) -> tuple[int, object]:
    """What a caller learns from a refusal: its status and problem type."""
    if response.status_code < 400:
        return response.status_code, None
    return response.status_code, response.json().get("type")


@pytest.mark.timeout(180)
@pytest.mark.parametrize("direction", ["globex probes acme", "acme probes globex"])
def test_no_route_lets_one_partnership_read_or_change_anothers_plans_history_scores_or_exports(
    two: Two, direction: str
) -> None:
    """Both parties of one partnership call every route of the OpenAPI document with the
    other partnership's real ids (plans in every state, metrics, adjustments, partner,
    people) and with their own ids mixed with the other's: no response shows any id or text
    of the other partnership that the request did not name itself, a request naming its
    resources in the path is refused exactly as the same request with made-up ids is (same
    status, same problem type: guessing teaches nothing), and the ledger never moves."""
    world = two.world
    mine, theirs = (
        (two.globex, two.acme)
        if direction.startswith("globex")
        else (
            two.acme,
            two.globex,
        )
    )
    document = world.client.get("/openapi.json").json()
    routes = [
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
        if path.startswith("/v1/")
    ]
    statuses: Counter[int] = Counter()
    wrong: list[str] = []
    tried = 0
    for method, template in routes:
        cases = itertools.product(mine.callers, probes(world, template, method, mine, theirs))
        for caller, probe in cases:
            head = world.head()
            response = world.client.request(
                method, probe.path, params=probe.params, json=probe.body, headers=caller.auth
            )
            tried += 1
            statuses[response.status_code] += 1
            where = f"{caller.name}: {method} {template} [{probe.label}] -> {response.status_code}"
            if response.status_code >= 500:
                wrong.append(where)
            if found := leaks(response, probe, theirs):
                wrong.append(f"{where} shows {sorted(found)[:3]}")
            if world.head() != head:
                wrong.append(f"{where} changed the ledger")
            if probe.twin is not None:
                twin = world.client.request(
                    method, probe.twin, params=probe.params, json=probe.body, headers=caller.auth
                )
                tried += 1
                if response.status_code < 400 or answer(response) != answer(twin):
                    wrong.append(f"{where}, but {answer(twin)} for made-up ids")
    counts = dict(sorted(statuses.items()))
    print(f"{direction}: {tried} requests to {len(routes)} routes: {counts}")
    assert tried > 300
    assert not wrong, f"{len(wrong)} of {tried}:\n" + "\n".join(wrong[:30])
