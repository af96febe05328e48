"""Bad requests: every error is problem+json, never a 500, and a refused request stores nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.api.world import (
    PlanRef,
    World,
    a_draft_plan,
    an_active_plan,
    partner_metric,
    plan_body,
    vendor_metric,
    with_proposed_metrics,
)

PROBLEM = "application/problem+json"
NOBODY = "00000000-0000-4000-8000-000000000000"


@dataclass
class Plans:
    """Plans the bad requests aim at (shared: nothing may change them)."""

    draft: PlanRef
    active: PlanRef


@pytest.fixture(scope="module")
def plans(shared_world: World) -> Plans:
    """A draft with a metric per side and an active plan of the world's partnership."""
    return Plans(
        draft=with_proposed_metrics(shared_world, a_draft_plan(shared_world)),
        active=an_active_plan(shared_world),
    )


@dataclass(frozen=True)
class Bad:
    """A bad request: what is sent (a JSON value, or raw bytes) and the status it must get."""

    method: str
    path: str
    body: Any = None
    raw: bytes | None = None
    status: int = 422
    params: dict[str, Any] | None = None
    headers: dict[str, str] | None = None
    as_admin: bool = False

    def send(self, world: World, plans: Plans) -> httpx.Response:
        """Send as the partnership's manager (or the admin), the path's placeholders filled in."""
        path = self.path.format(
            draft=plans.draft.url,
            active=plans.active.url,
            vendor=plans.active.vendor_metric,
            partner_id=world.partner,
        )
        caller = world.admin if self.as_admin else world.manager
        headers = {**caller.auth, **(self.headers or {})}
        if self.raw is not None:
            headers.setdefault("Content-Type", "application/json")
            return world.client.request(
                self.method, path, content=self.raw, params=self.params, headers=headers
            )
        body = self.body
        if isinstance(body, dict) and "partner_id" in body and body["partner_id"] == "{partner_id}":
            body = body | {"partner_id": world.partner}
        return world.client.request(
            self.method, path, json=body, params=self.params, headers=headers
        )


def draft_body(**changes: Any) -> dict[str, Any]:
    """A plan body whose partner is filled in when sent."""
    return plan_body("{partner_id}") | changes


def raw_plan(**replace: str) -> bytes:
    """A plan body as JSON text, with some fields replaced by raw JSON text."""
    text = json.dumps(draft_body())
    for field, value in replace.items():
        text = text.replace(f'"{field}": {json.dumps(draft_body()[field])}', f'"{field}": {value}')
    return text.encode()


def raw_metric(target: str) -> bytes:
    """A vendor metric body whose target is raw JSON text (NaN, 1e400, …)."""
    return json.dumps(vendor_metric(target="@")).replace('"@"', target).encode()


def raw_progress(value: str) -> bytes:
    """A progress body whose value is raw JSON text."""
    return f'{{"value": {value}, "as_of": "2026-01-05"}}'.encode()


PROGRESS = "{active}/metrics/{vendor}/progress"
BAD_REQUESTS: dict[str, Bad] = {
    # malformed or mistyped bodies
    "malformed JSON": Bad("POST", "/v1/plans", raw=b'{"title": '),
    "a JSON array body": Bad("POST", "/v1/plans", raw=b"[]"),
    "an empty body": Bad("POST", "/v1/plans", raw=b""),
    "JSON null": Bad("POST", "/v1/plans", raw=b"null"),
    "deeply nested JSON": Bad("POST", "/v1/plans", raw=b"[" * 50_000),
    "a form body": Bad("POST", "/v1/plans", raw=b"title=x", headers={"Content-Type": "text/plain"}),
    "title as a number": Bad("POST", "/v1/plans", draft_body(title=123)),
    "objectives as a string": Bad("POST", "/v1/plans", draft_body(objectives="grow")),
    "a cadence as a word": Bad("POST", "/v1/plans", draft_body(report_every_days="weekly")),
    "a fractional cadence": Bad("POST", "/v1/plans", draft_body(report_every_days=1.5)),
    "a zero cadence": Bad("POST", "/v1/plans", draft_body(review_every_days=0)),
    "negative grace": Bad("POST", "/v1/plans", draft_body(grace_days=-1)),
    "a huge cadence": Bad("POST", "/v1/plans", draft_body(report_every_days=10**40)),
    "an unknown field": Bad("POST", "/v1/plans", draft_body(status="active")),
    "a missing field": Bad("POST", "/v1/plans", {"title": "No partner"}),
    "an empty title": Bad("POST", "/v1/plans", draft_body(title="   ")),
    "a too long title": Bad("POST", "/v1/plans", draft_body(title="x" * 201)),
    "too many objectives": Bad("POST", "/v1/plans", draft_body(objectives=["o"] * 21)),
    "NUL in a title": Bad("POST", "/v1/plans", draft_body(title="Q1\u0000plan")),
    "a lone surrogate in a title": Bad("POST", "/v1/plans", raw=raw_plan(title='"\\ud800"')),
    "a lone low surrogate in an objective": Bad(
        "POST", "/v1/plans", raw=raw_plan(objectives='["\\udfff x"]')
    ),
    # ids
    "a partner_id that is not a UUID": Bad("POST", "/v1/plans", draft_body(partner_id="acme")),
    "a partner_id that is a number": Bad("POST", "/v1/plans", raw=raw_plan(partner_id="42")),
    "an unknown partner": Bad("POST", "/v1/plans", draft_body(partner_id=NOBODY), status=404),
    "a plan id that is not a UUID": Bad("GET", "/v1/plans/not-a-plan"),
    "a metric id that is not a UUID": Bad("POST", "{active}/metrics/42/progress", {"value": 1}),
    "a partner id that is not a UUID in the path": Bad("GET", "/v1/partners/1"),
    "an actor id that is not a UUID in the path": Bad("POST", "/v1/actors/me/tokens"),
    "an attendee that is not a UUID": Bad(
        "POST", "{active}/reviews", {"held_on": "2026-01-05", "attendee_ids": ["pat"]}
    ),
    "an adjustment of no metric": Bad(
        "POST",
        "{active}/adjustments",
        {"metric_id": NOBODY, "kind": "retire", "reason": "none"},
        status=404,
    ),
    # dates
    "period_start in year 1": Bad("POST", "/v1/plans", draft_body(period_start="0001-01-01")),
    "period_end in year 9999": Bad("POST", "/v1/plans", draft_body(period_end="9999-12-31")),
    "the 30th of February": Bad("POST", "/v1/plans", draft_body(period_end="2026-02-30")),
    "a date with a time": Bad("POST", "/v1/plans", draft_body(period_start="2026-01-05T10:00")),
    "a period that ends before it starts": Bad(
        "POST", "/v1/plans", draft_body(period_end="2026-01-01")
    ),
    "a period of two years": Bad("POST", "/v1/plans", draft_body(period_end="2028-01-05")),
    "a due date in year 1": Bad("POST", "{draft}/metrics", vendor_metric(due_date="0001-01-01")),
    "a due date in year 9999": Bad("POST", "{draft}/metrics", vendor_metric(due_date="9999-12-31")),
    "a due date after the period": Bad(
        "POST", "{draft}/metrics", vendor_metric(due_date="2026-05-01")
    ),
    "progress as of year 9999": Bad("POST", PROGRESS, {"value": 1, "as_of": "9999-12-31"}),
    "progress as of year 1": Bad("POST", PROGRESS, {"value": 1, "as_of": "0001-01-01"}),
    "progress as of tomorrow": Bad("POST", PROGRESS, {"value": 1, "as_of": "2026-01-06"}),
    "a review in year 1": Bad(
        "POST", "{active}/reviews", {"held_on": "0001-01-01", "attendee_ids": [NOBODY]}
    ),
    "a plan as of year 9999": Bad("GET", "{active}", params={"as_of": "9999-12-31T00:00:00Z"}),
    "a plan as of year 1": Bad("GET", "{active}", params={"as_of": "0001-01-01T00:00:00Z"}),
    "a plan as of the first moment, east of UTC": Bad(
        "GET", "{active}", params={"as_of": "0001-01-01T00:30:00+01:00"}
    ),
    "a plan as of the last moment, west of UTC": Bad(
        "GET", "{active}", params={"as_of": "9999-12-31T23:30:00-01:00"}
    ),
    "a plan as of a word": Bad("GET", "{active}", params={"as_of": "yesterday"}),
    "accountability as of year 1": Bad(
        "GET", "{active}/accountability", params={"as_of": "0001-01-01"}
    ),
    "accountability as of year 9999": Bad(
        "GET", "{active}/accountability", params={"as_of": "9999-12-31"}
    ),
    "a partner's accountability as of year 9999": Bad(
        "GET", "/v1/partners/{partner_id}/accountability", params={"as_of": "9999-12-31"}
    ),
    # numbers
    "a negative target": Bad("POST", "{draft}/metrics", vendor_metric(target=-1)),
    "a zero target": Bad("POST", "{draft}/metrics", vendor_metric(target=0)),
    "a target of 'NaN'": Bad("POST", "{draft}/metrics", vendor_metric(target="NaN")),
    "a target of 'Infinity'": Bad("POST", "{draft}/metrics", vendor_metric(target="Infinity")),
    "a target of '-Infinity'": Bad("POST", "{draft}/metrics", vendor_metric(target="-Infinity")),
    "a target of 'sNaN'": Bad("POST", "{draft}/metrics", vendor_metric(target="sNaN")),
    "a target of NaN (bare)": Bad("POST", "{draft}/metrics", raw=raw_metric("NaN")),
    "a target of Infinity (bare)": Bad("POST", "{draft}/metrics", raw=raw_metric("Infinity")),
    "a target of 1e400": Bad("POST", "{draft}/metrics", raw=raw_metric("1e400")),
    "a target of '1e400'": Bad("POST", "{draft}/metrics", vendor_metric(target="1e400")),
    "a target of 10**40": Bad("POST", "{draft}/metrics", vendor_metric(target=10**40)),
    "a target of 1e-400": Bad("POST", "{draft}/metrics", raw=raw_metric("1e-400")),
    "a target of true": Bad("POST", "{draft}/metrics", vendor_metric(target=True)),
    "a target of '12,5'": Bad("POST", "{draft}/metrics", vendor_metric(target="12,5")),
    "a target of ''": Bad("POST", "{draft}/metrics", vendor_metric(target="")),
    "a target of null": Bad("POST", "{draft}/metrics", vendor_metric(target=None)),
    "a target of a list": Bad("POST", "{draft}/metrics", vendor_metric(target=[4])),
    "a target of 10**15": Bad("POST", "{draft}/metrics", vendor_metric(target=10**15)),
    "a value of 'NaN'": Bad("POST", PROGRESS, {"value": "NaN", "as_of": "2026-01-05"}),
    "a value of NaN (bare)": Bad("POST", PROGRESS, raw=raw_progress("NaN")),
    "a value of -Infinity (bare)": Bad("POST", PROGRESS, raw=raw_progress("-Infinity")),
    "a value of 1e400": Bad("POST", PROGRESS, raw=raw_progress("1e400")),
    "a value of 10**40": Bad("POST", PROGRESS, {"value": 10**40, "as_of": "2026-01-05"}),
    "a value of 'Infinity'": Bad("POST", PROGRESS, {"value": "Infinity", "as_of": "2026-01-05"}),
    "a value of 65 digits": Bad("POST", PROGRESS, {"value": "1" * 65, "as_of": "2026-01-05"}),
    "a new target of 'NaN'": Bad(
        "POST",
        "{active}/adjustments",
        {"metric_id": NOBODY, "kind": "change_target", "new_target": "NaN", "reason": "x"},
    ),
    # enums
    "an unknown metric kind": Bad("POST", "{draft}/metrics", vendor_metric(kind="outcome")),
    "an unknown side": Bad("POST", "{draft}/metrics", vendor_metric(owner_side="both")),
    "an unknown direction": Bad("POST", "{draft}/metrics", vendor_metric(direction="exactly")),
    "an unknown adjustment kind": Bad(
        "POST", "{active}/adjustments", {"metric_id": NOBODY, "kind": "delete", "reason": "x"}
    ),
    "an unknown role": Bad(
        "POST",
        "/v1/actors",
        {"name": "Root", "email": "root@example.com", "role": "root"},
        as_admin=True,
    ),
    "an unknown status filter": Bad("GET", "/v1/plans", params={"status": "open"}),
    # texts
    "NUL in a metric name": Bad("POST", "{draft}/metrics", vendor_metric(name="Sessions\x00")),
    "a lone surrogate in a description": Bad(
        "POST",
        "{draft}/metrics",
        raw=json.dumps(vendor_metric(description="@")).replace('"@"', '"\\ud83d"').encode(),
    ),
    "NUL in a progress note": Bad(
        "POST", PROGRESS, {"value": 1, "as_of": "2026-01-05", "note": "\x00"}
    ),
    "NUL in an actor's name": Bad(
        "POST",
        "/v1/actors",
        {"name": "A\x00", "email": "a@example.com", "role": "leader"},
        as_admin=True,
    ),
    "an email that is not one": Bad(
        "POST", "/v1/actors", {"name": "Ann", "email": "ann", "role": "leader"}, as_admin=True
    ),
    "a partner contact without a partner": Bad(
        "POST",
        "/v1/actors",
        {"name": "Ann", "email": "ann@example.com", "role": "partner"},
        as_admin=True,
    ),
    "a manager with a partner": Bad(
        "POST",
        "/v1/actors",
        {"name": "Ann", "email": "ann@example.com", "role": "manager", "partner_id": NOBODY},
        as_admin=True,
    ),
    "an unknown field on a metric": Bad("POST", "{draft}/metrics", vendor_metric(stretch_target=8)),
    # paging and headers
    "a limit of 0": Bad("GET", "/v1/plans", params={"limit": 0}),
    "a limit of 501": Bad("GET", "/v1/plans", params={"limit": 501}),
    "a limit that is a word": Bad("GET", "/v1/partners", params={"limit": "all"}),
    "a cursor we never issued": Bad("GET", "/v1/plans", params={"cursor": "%%%"}),
    "a history cursor we never issued": Bad(
        "GET", "{active}/history", params={"cursor": "bm90LWEtbnVtYmVy"}
    ),
    "an audit search since a word": Bad("GET", "/v1/audit/commitments", params={"since": "x"}),
    "an Idempotency-Key of 201 characters": Bad(
        "POST", "/v1/plans", draft_body(), headers={"Idempotency-Key": "k" * 201}
    ),
    "an Idempotency-Key with a space": Bad(
        "POST", "/v1/plans", draft_body(), headers={"Idempotency-Key": "two words"}
    ),
    # routes and methods
    "an unknown route": Bad("GET", "/v1/nothing-here", status=404),
    "an unknown version of the API": Bad("GET", "/v2/plans", status=404),
    "an unknown plan sub-resource": Bad("GET", "{active}/secrets", status=404),
    "DELETE on a plan": Bad("DELETE", "{active}", status=405),
    "PUT on the plan list": Bad("PUT", "/v1/plans", draft_body(), status=405),
    "GET on a command": Bad("GET", "{active}/commit", status=405),
    "PATCH on a metric": Bad("PATCH", "{draft}/metrics/{vendor}", {}, status=405),
    "POST on who I am": Bad("POST", "/v1/me", {}, status=405),
}


def is_problem(response: httpx.Response, status: int) -> None:
    """An RFC 9457 problem with the given status."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status
    assert all(isinstance(body[k], str) and body[k] for k in ("type", "title", "detail"))
    if status == 422:
        assert body["errors"], body
        for error in body["errors"]:
            assert isinstance(error["loc"], list)
            assert isinstance(error["msg"], str)
            assert error["msg"]


@pytest.mark.parametrize("case", BAD_REQUESTS)
def test_a_bad_request_gets_a_problem_and_stores_nothing(
    shared_world: World, plans: Plans, case: str
) -> None:
    """Each bad request: its 4xx as problem+json (422 with errors [{loc, msg}]); never a 500;
    the ledger's head and the plans' versions unchanged."""
    world = shared_world
    bad = BAD_REQUESTS[case]
    head = world.head()
    versions = (world.version(plans.draft), world.version(plans.active))
    response = bad.send(world, plans)
    assert response.status_code < 500, response.text
    is_problem(response, bad.status)
    assert world.head() == head
    assert (world.version(plans.draft), world.version(plans.active)) == versions


def test_a_validation_error_names_every_field_that_is_wrong(shared_world: World) -> None:
    """errors lists each wrong field with its location in the request."""
    body = partner_metric(kind="x", target="NaN", due_date="soon") | {"owner_side": None}
    plan = a_draft_plan(shared_world)
    response = shared_world.manager.post(f"{plan.url}/metrics", body)
    is_problem(response, 422)
    locations = {tuple(error["loc"]) for error in response.json()["errors"]}
    assert {
        ("body", "kind"),
        ("body", "target"),
        ("body", "due_date"),
        ("body", "owner_side"),
    } <= locations


def test_a_body_over_the_limit_is_refused_with_413(shared_world: World) -> None:
    """A body over 64 KiB answers 413 problem+json before anything runs."""
    world = shared_world
    head = world.head()
    big = plan_body(world.partner, objectives=["x" * 1000] * 70)
    response = world.manager.post("/v1/plans", big)
    is_problem(response, 413)
    assert world.head() == head


def test_a_streamed_body_over_the_limit_is_refused_with_413(shared_world: World) -> None:
    """A body without Content-Length is cut off at the limit too."""
    world = shared_world
    head = world.head()
    text = json.dumps(plan_body(world.partner, objectives=["x" * 1000] * 70)).encode()

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(text), 4096):
            yield text[start : start + 4096]

    headers = {**world.manager.auth, "Content-Type": "application/json"}
    response = world.client.post("/v1/plans", content=chunks(), headers=headers)
    is_problem(response, 413)
    assert world.head() == head


@pytest.mark.parametrize(
    "authorization",
    ["", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer " + "x" * 500, "Token abc"],
    ids=["empty", "no token", "blank token", "basic", "oversized", "other scheme"],
)
def test_a_bad_authorization_header_answers_401_problem(
    shared_world: World, authorization: str
) -> None:
    """Malformed credentials are 401 problem+json with WWW-Authenticate, not 400 or 500."""
    response = shared_world.client.get("/v1/plans", headers={"Authorization": authorization})
    is_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "given", ["has spaces", "x" * 200, "semi;colon", ""], ids=["spaces", "long", "semi", "empty"]
)
def test_a_bad_request_id_is_replaced_by_a_generated_one(shared_world: World, given: str) -> None:
    """An X-Request-ID that is not a short token is not echoed; the server makes its own."""
    response = shared_world.manager.get("/v1/me", headers={"X-Request-ID": given})
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] != given
    assert len(response.headers["X-Request-ID"]) == 32


def test_an_error_never_leaks_a_traceback(shared_world: World) -> None:
    """Problem details say what is wrong in words, not in Python."""
    response = shared_world.client.post(
        "/v1/plans", content=b"[" * 50_000, headers=shared_world.manager.auth
    )
    assert "Traceback" not in response.text
    assert "File " not in response.text
