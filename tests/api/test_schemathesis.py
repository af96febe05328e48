"""The OpenAPI document tells the truth: schemathesis fuzzes every operation on both backends.

Every case runs through the real app (its lifespan started once per backend), authenticated
with the real bearer token of an admin, a manager, a partner contact or an auditor. Most cases
aim their ids (path, query and body) at real actors, partners, plans, metrics and adjustments,
so the fuzzer gets past 404 and into the plan rules; the rest keep the generated ids. A case
fails on any 5xx, an undocumented status code, a wrong content type, or a body that does not
match the schema the OpenAPI document declares for it.
"""

from __future__ import annotations

import base64
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import DataGenerationMethod, experimental
from schemathesis.checks import not_a_server_error
from schemathesis.exceptions import SkipTest
from schemathesis.internal.result import Err
from schemathesis.models import Case
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.specs.openapi.formats import register_string_format, unregister_string_format
from starlette_testclient import TestClient

from api.app import create_app
from api.config import ServerSettings
from api.schemas import EARLIEST, LATEST
from ledger.application import Counterpart
from ledger.clock import SimulatedClock
from ledger.domain import Role
from ledger.settings import Settings
from tests.conftest import START
from tests.support import shortcuts

BASE_URL = "http://testserver"
EXAMPLES_PER_OPERATION = 25
NEGATIVE_EXAMPLES_PER_OPERATION = 10
CHECKS = (
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
)
# FastAPI publishes OpenAPI 3.1; validating responses against it needs JSON Schema 2020-12
# (``anyOf`` with ``{"type": "null"}``), which schemathesis 3 keeps behind this flag.
experimental.OPEN_API_3_1.enable()

pytestmark = pytest.mark.filterwarnings(
    # Registering our date, date-time and uuid strategies replaces hypothesis-jsonschema's own.
    "ignore:Overriding standard format:hypothesis.errors.HypothesisWarning"
)


@dataclass
class RealPlan:
    """A plan's id with the ids of its metrics and adjustments."""

    id: str
    metric_ids: list[str]
    adjustment_ids: list[str]


@dataclass
class World:
    """Real resources to aim ids at, a token per role, and the statuses seen."""

    tokens: dict[str, str]
    ids: dict[str, list[str]] = field(default_factory=dict)
    plans: list[RealPlan] = field(default_factory=list)
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)

    @property
    def calls(self) -> int:
        """How many cases were sent."""
        return sum(self.statuses.values())

    def choices(self, name: str, path: str, plan: RealPlan) -> list[str]:
        """Real ids a parameter named ``name`` may take (empty: keep the generated value)."""
        if name == "plan_id":
            return [plan.id]
        if name == "metric_id":
            return plan.metric_ids
        if name == "adjustment_id":
            return plan.adjustment_ids
        if name == "actor_id" and "/actors/" in path:
            # Revoking the fuzzer's own callers would turn the rest of the run into 401s.
            return self.ids["spare_actor_id"]
        return self.ids.get(name, [])


def bearer(token: str) -> dict[str, str]:
    """The Authorization header of a token."""
    return {"Authorization": f"Bearer {token}"}


def post(client: TestClient, token: str, path: str, body: Any = None) -> dict[str, Any]:
    """A setup command that must succeed; its JSON body."""
    response = client.post(path, json=body, headers=bearer(token))
    assert response.status_code in {200, 201}, response.text
    found: dict[str, Any] = response.json()
    return found


def metric(owner_side: str, name: str, due_date: str) -> dict[str, Any]:
    """A SMART metric body."""
    return {
        "owner_side": owner_side,
        "kind": "activity" if owner_side == "vendor" else "result",
        "name": name,
        "description": f"{name}, counted at the end of each week",
        "unit": "count",
        "direction": "at_least",
        "target": "12",
        "due_date": due_date,
    }


def a_plan(
    client: TestClient, world: World, title: str, period: tuple[str, str, str], *, active: bool
) -> dict[str, Any]:
    """A plan with a metric on each side; agreed and committed by both when ``active``."""
    start, end, due = period
    manager, contact = world.tokens["manager"], world.tokens["partner"]
    partner_id = world.ids["partner_id"][0]
    body = {"partner_id": partner_id, "title": title, "period_start": start, "period_end": end}
    plan = post(client, manager, "/v1/plans", body)
    path = f"/v1/plans/{plan['id']}"
    plan = post(client, manager, f"{path}/metrics", metric("vendor", "Joint webinars", due))
    plan = post(client, contact, f"{path}/metrics", metric("partner", "Qualified deals", due))
    if active:
        vendor_metric, partner_metric = (m["id"] for m in plan["metrics"])
        post(client, contact, f"{path}/metrics/{vendor_metric}/agree")
        post(client, manager, f"{path}/metrics/{partner_metric}/agree")
        post(client, manager, f"{path}/commit")
        plan = post(client, contact, f"{path}/commit")
        assert plan["status"] == "active"
    return plan


def build_world(client: TestClient, admin_token: str) -> World:
    """A manager, a partner and its contact, an auditor, spare actors, plans in every status."""
    world = World(tokens={"admin": admin_token})

    def actor(name: str, email: str, role: str, **extra: str) -> dict[str, Any]:
        body = {"name": name, "email": email, "role": role, **extra}
        return post(client, admin_token, "/v1/actors", body)

    manager = actor("Dana Reyes", "dana@vendor.example", "manager")
    partner = post(
        client, admin_token, "/v1/partners", {"name": "Acme", "manager_id": manager["id"]}
    )
    contact = actor("Sam Ito", "sam@acme.example", "partner", partner_id=partner["id"])
    auditor = actor("Ari Audit", "ari@vendor.example", "auditor")
    spare = [actor(f"Spare {n}", f"spare{n}@vendor.example", "leader")["id"] for n in range(2)]
    world.tokens |= {
        "manager": manager["token"],
        "partner": contact["token"],
        "auditor": auditor["token"],
    }
    world.ids = {
        "actor_id": [manager["id"], contact["id"]],
        "spare_actor_id": spare,
        "partner_id": [partner["id"]],
        "manager_id": [manager["id"]],
        "attendee_ids": [manager["id"], contact["id"]],
    }
    draft = a_plan(client, world, "Draft", ("2026-01-05", "2026-04-04", "2026-03-31"), active=False)
    active = a_plan(
        client, world, "Active", ("2026-01-01", "2026-03-31", "2026-03-15"), active=True
    )
    ended = a_plan(client, world, "Past", ("2025-10-01", "2025-12-31", "2025-12-15"), active=True)
    post(client, world.tokens["manager"], f"/v1/plans/{ended['id']}/close", {"summary": "Done"})
    path = f"/v1/plans/{active['id']}"
    vendor_metric, partner_metric = (m["id"] for m in active["metrics"])
    progress = {"value": "3", "as_of": "2026-01-05", "note": "first webinar held"}
    post(client, world.tokens["manager"], f"{path}/metrics/{vendor_metric}/progress", progress)
    change_target = {
        "metric_id": partner_metric,
        "kind": "change_target",
        "new_target": "10",
        "reason": "a shorter quarter",
    }
    post(client, world.tokens["partner"], f"{path}/adjustments", change_target)
    change_due_date = {
        "metric_id": vendor_metric,
        "kind": "change_due_date",
        "new_due_date": "2026-03-20",
        "reason": "speaker availability",
    }
    active = post(client, world.tokens["manager"], f"{path}/adjustments", change_due_date)
    for plan in (active, draft, ended):  # the first is drawn most often
        world.plans.append(
            RealPlan(
                plan["id"],
                [m["id"] for m in plan["metrics"]],
                [a["id"] for a in plan["adjustments"]],
            )
        )
    return world


def aim_at_real_resources(case: Case, world: World, draw: Callable[..., Any]) -> None:
    """Replace generated ids in the path, query and body with ids of one real plan's world."""
    plan = draw(st.sampled_from(world.plans), label="plan")

    def real(name: str, value: Any) -> Any:
        options = world.choices(name, case.path, plan)
        if not options:
            return value
        if isinstance(value, list):
            return draw(st.lists(st.sampled_from(options), min_size=1, max_size=2), label=name)
        return draw(st.sampled_from(options), label=name)

    for parameters in (case.path_parameters, case.query, case.body):
        if isinstance(parameters, dict):
            for name, value in list(parameters.items()):
                parameters[name] = real(name, value)


@contextmanager
def realistic_formats() -> Iterator[None]:
    """Ids that are UUIDs, dates and times inside the API's range, mostly near the plans.

    Without these the generator sends ``"0"`` for every id and dates of any year, and almost
    nothing gets past validation; near the clock's today, progress and reviews can. Malformed
    values are still sent by the negative cases (queries and bodies).
    """
    today = START.date()  # what the simulated clock says
    near = st.dates(today - timedelta(days=2), today)  # inside the reporting windows
    around = st.dates(date(2025, 9, 1), date(2026, 6, 30))
    day = st.one_of(near, around, st.dates(EARLIEST, LATEST))
    zones = st.sampled_from([UTC, timezone(timedelta(hours=-5))])
    moment = st.builds(datetime.combine, day, st.times(), zones)
    formats = {
        "uuid": st.uuids().map(str),
        "date": day.map(date.isoformat),
        "date-time": moment.map(datetime.isoformat),
    }
    for name, strategy in formats.items():
        register_string_format(name, strategy)
    try:
        yield
    finally:
        for name in formats:
            unregister_string_format(name)


def fuzz_every_operation(client: TestClient, world: World) -> list[str]:
    """Run each operation's cases; the failures (one per operation and kind of data)."""
    raw = client.get("/openapi.json").json()
    schema = schemathesis.from_dict(raw, base_url=BASE_URL)
    failures: list[str] = []
    roles = ["manager", "partner", "admin", "auditor"]
    kinds = [
        (DataGenerationMethod.positive, EXAMPLES_PER_OPERATION),
        (DataGenerationMethod.negative, NEGATIVE_EXAMPLES_PER_OPERATION),
    ]
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            failures.append(f"an operation schemathesis cannot read: {result.err()}")
            continue
        operation = result.ok()
        for kind, examples in kinds:
            if kind is DataGenerationMethod.negative and operation.path_parameters:
                # schemathesis 3 cannot make a UUID path parameter invalid and keep the URL
                # well-formed: every negative attempt is filtered out (Unsatisfiable). The
                # positive cases cover these operations; a malformed path id is a case of
                # tests/api/test_http_errors.py.
                continue
            strategy = operation.as_strategy(data_generation_method=kind)
            if kind is DataGenerationMethod.positive:
                # The OpenAPI document's own examples, then generated cases.
                strategy = st.one_of(*operation.get_strategies_from_examples(), strategy)

            @settings(
                max_examples=examples,
                deadline=None,
                derandomize=True,
                database=None,
                phases=[Phase.generate, Phase.shrink],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=strategy, data=st.data())
            def run(case: Case, data: st.DataObject) -> None:
                # Hypothesis leans towards the first choice: real ids, then the plan's parties.
                if data.draw(st.sampled_from([True, True, True, False]), label="aim"):
                    aim_at_real_resources(case, world, data.draw)
                role = data.draw(st.sampled_from(roles), label="role")
                response = case.call(session=client, headers=bearer(world.tokens[role]))
                world.statuses[case.operation.verbose_name, response.status_code] += 1
                case.validate_response(response, checks=CHECKS)

            try:
                with realistic_formats():
                    run()
            except SkipTest:
                continue  # nothing of this operation can be made invalid
            except Exception as error:  # collect every operation's failure, then fail once
                failures.append(f"{operation.verbose_name} ({kind.name} data): {error}")
    return failures


@pytest.fixture
def client(settings: Settings, clock: SimulatedClock) -> Iterator[tuple[TestClient, str]]:
    """The app with its lifespan running, and the token of an admin made at the command line."""
    bootstrap = Counterpart(settings, clock)
    _, token = shortcuts.register_actor(
        bootstrap, name="Ada Admin", email="ada@vendor.example", role=Role.ADMIN
    )
    bootstrap.close()
    app = create_app(settings, server=ServerSettings(poll_interval=0.05), clock=clock)
    with TestClient(app, base_url=BASE_URL) as test_client:
        yield test_client, token


def test_every_operation_answers_as_its_openapi_document_says(
    client: tuple[TestClient, str], database_url: str
) -> None:
    """No 5xx, and no undocumented status, content type or body, for any role or input."""
    test_client, admin_token = client
    started = time.perf_counter()
    world = build_world(test_client, admin_token)
    failures = fuzz_every_operation(test_client, world)
    elapsed = time.perf_counter() - started
    backend = database_url.split(":", 1)[0]
    print(f"schemathesis on {backend}: {world.calls} cases in {elapsed:.1f}s")
    for (name, status), count in sorted(world.statuses.items()):
        print(f"  {name} -> {status}: {count}")
    assert world.calls > 500
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize(
    "cursor",
    [
        base64.urlsafe_b64encode(b"9" * 30).decode(),  # a position no database integer holds
        base64.urlsafe_b64encode("²".encode()).decode(),  # a digit to str.isdigit, not to int
    ],
)
def test_a_position_cursor_this_api_never_issued_answers_422(
    client: tuple[TestClient, str], cursor: str
) -> None:
    """Found by hand after the fuzzer: these cursors used to answer 500."""
    test_client, admin_token = client
    found = test_client.get(f"/v1/audit/commitments?cursor={cursor}", headers=bearer(admin_token))
    assert found.status_code == 422
    assert found.headers["content-type"] == "application/problem+json"
