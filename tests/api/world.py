"""Builders for API scenarios: a cast registered through HTTP, and plans in each state."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import httpx
from fastapi.testclient import TestClient

from api.app import create_app
from api.config import ServerSettings
from ledger.application import Counterpart
from ledger.clock import SimulatedClock
from ledger.domain import Role
from ledger.integrity import Signer
from ledger.settings import Settings
from tests.support import shortcuts

PERIOD_START = date(2026, 1, 5)
PERIOD_END = date(2026, 4, 4)
DUE = date(2026, 3, 31)
SERVER = ServerSettings(poll_interval=0.05)
SIGNING_KEY = Signer.generate().private_pem().decode("ascii")
"""The operator's checkpoint key for every test server of a run."""


def vendor_metric(**changes: Any) -> dict[str, Any]:
    """The body of a SMART metric owned by the vendor side."""
    body: dict[str, Any] = {
        "owner_side": "vendor",
        "kind": "activity",
        "name": "Enablement sessions",
        "description": "Run hands-on enablement sessions for the partner's sellers",
        "unit": "sessions",
        "direction": "at_least",
        "target": 4,
        "due_date": DUE.isoformat(),
        "objective": "Grow qualified pipeline",
    }
    return body | changes


def partner_metric(**changes: Any) -> dict[str, Any]:
    """The body of a SMART metric owned by the partner side."""
    body: dict[str, Any] = {
        "owner_side": "partner",
        "kind": "result",
        "name": "Qualified opportunities",
        "description": "Register qualified opportunities in the deal registration portal",
        "unit": "opportunities",
        "direction": "at_least",
        "target": "20",
        "due_date": DUE.isoformat(),
    }
    return body | changes


def a_server(settings: Settings, clock: SimulatedClock) -> TestClient:
    """A client of a freshly built app (enter it to run the lifespan), holding a signing key."""
    if settings.signing_key is None and settings.signing_key_file is None:
        settings = settings.replaced(signing_key=SIGNING_KEY)
    return TestClient(create_app(settings, SERVER, clock), raise_server_exceptions=False)


def ledger_head(settings: Settings) -> int:
    """The ledger's head position, read by a separate process-like application."""
    app = Counterpart(settings)
    try:
        return app.recorder.max_notification_id() or 0
    finally:
        app.close()


@dataclass
class Caller:
    """An actor with a token, calling the API."""

    client: TestClient
    name: str
    id: str
    token: str
    role: str

    @property
    def auth(self) -> dict[str, str]:
        """The Authorization header (none for an anonymous caller)."""
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        return {**self.auth, **(headers or {})}

    def get(
        self,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """GET as this actor."""
        return self.client.get(path, params=params, headers=self._headers(headers))

    def post(
        self, path: str, json: Any = None, *, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        """POST (a JSON body, or none) as this actor."""
        return self.client.post(path, json=json, headers=self._headers(headers))

    def put(
        self, path: str, json: Any = None, *, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        """PUT a JSON body as this actor."""
        return self.client.put(path, json=json, headers=self._headers(headers))


def created(response: httpx.Response, status: int = 201) -> Any:
    """The JSON body of a response that must have the given status."""
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    return response.json()


@dataclass
class PlanRef:
    """A plan's id and the ids of its vendor and partner metrics."""

    id: str
    vendor_metric: str = ""
    partner_metric: str = ""

    @property
    def url(self) -> str:
        """The plan's path."""
        return f"/v1/plans/{self.id}"


@dataclass
class World:
    """Two partnerships and everyone who may (or may not) look at them, registered by HTTP."""

    client: TestClient
    settings: Settings
    clock: SimulatedClock
    admin: Caller
    leader: Caller
    auditor: Caller
    manager: Caller
    other_manager: Caller
    contact: Caller
    outsider: Caller
    partner: str
    other_partner: str

    def callers(self) -> dict[str, Caller]:
        """Every caller by the role it plays towards ``partner``'s plans."""
        return {
            "admin": self.admin,
            "leader": self.leader,
            "auditor": self.auditor,
            "manager": self.manager,
            "other_manager": self.other_manager,
            "contact": self.contact,
            "outsider": self.outsider,
        }

    def days(self, n: float) -> None:
        """Let simulated time pass."""
        self.clock.advance(timedelta(days=n))

    def on(self, client: TestClient) -> World:
        """The same world, called through another server (say, after a restart)."""
        moved = replace(self, client=client)
        for name, caller in self.callers().items():
            setattr(moved, name, replace(caller, client=client))
        return moved

    def today(self) -> str:
        """The simulated date, ISO."""
        return self.clock.now().date().isoformat()

    def plan(self, ref: PlanRef | str, **params: Any) -> dict[str, Any]:
        """The plan as its manager reads it now."""
        plan_id = ref.id if isinstance(ref, PlanRef) else ref
        response = self.manager.get(f"/v1/plans/{plan_id}", params=params or None)
        return created(response, 200)  # type: ignore[no-any-return]

    def head(self) -> int:
        """The ledger's head position, as the running server's recorder reads it."""
        services = self.client.app.state.services  # type: ignore[attr-defined]
        return int(services.app.recorder.max_notification_id() or 0)

    def version(self, ref: PlanRef) -> int:
        """The plan's current version."""
        return int(self.plan(ref)["version"])


def a_caller(admin: Caller, name: str, role: str, partner_id: str | None = None) -> Caller:
    """An actor registered by the admin, with its first token."""
    email = name.lower().replace(" ", ".") + "@example.com"
    body: dict[str, Any] = {"name": name, "email": email, "role": role}
    if partner_id is not None:
        body["partner_id"] = partner_id
    found = created(admin.post("/v1/actors", body))
    return Caller(admin.client, name, found["id"], found["token"], role)


def a_world(client: TestClient, settings: Settings, clock: SimulatedClock) -> World:
    """Bootstrap an admin as the command line does, then register everyone else by HTTP."""
    ledger = Counterpart(settings, clock)
    try:
        actor, token = shortcuts.register_actor(
            ledger, name="Ada Admin", email="ada@vendor.example", role=Role.ADMIN
        )
    finally:
        ledger.close()
    admin = Caller(client, "Ada Admin", str(actor.id), token, "admin")
    leader = a_caller(admin, "Lee Leader", "leader")
    auditor = a_caller(admin, "Aude Auditor", "auditor")
    manager = a_caller(admin, "Max Manager", "manager")
    other_manager = a_caller(admin, "Olga Manager", "manager")
    partner = created(admin.post("/v1/partners", {"name": "Acme", "manager_id": manager.id}))
    other = created(admin.post("/v1/partners", {"name": "Globex", "manager_id": other_manager.id}))
    return World(
        client=client,
        settings=settings,
        clock=clock,
        admin=admin,
        leader=leader,
        auditor=auditor,
        manager=manager,
        other_manager=other_manager,
        contact=a_caller(admin, "Pat Partner", "partner", partner["id"]),
        outsider=a_caller(admin, "Otto Outsider", "partner", other["id"]),
        partner=partner["id"],
        other_partner=other["id"],
    )


@contextmanager
def a_running_world(settings: Settings, clock: SimulatedClock) -> Iterator[World]:
    """A server on the settings with a world registered through it."""
    with a_server(settings, clock) as client:
        yield a_world(client, settings, clock)


# -------------------------------------------------------------------- plans


def plan_body(partner_id: str, **changes: Any) -> dict[str, Any]:
    """The body that drafts the standard Q1 plan."""
    body: dict[str, Any] = {
        "partner_id": partner_id,
        "title": "Q1 2026 joint plan",
        "period_start": PERIOD_START.isoformat(),
        "period_end": PERIOD_END.isoformat(),
        "objectives": ["Grow qualified pipeline"],
    }
    return body | changes


def a_draft_plan(world: World, by: Caller | None = None, **changes: Any) -> PlanRef:
    """A draft plan of the world's partnership, no metrics yet."""
    drafter = by or world.manager
    partner_id = world.other_partner if drafter in (world.other_manager, world.outsider) else None
    body = plan_body(partner_id or world.partner, **changes)
    return PlanRef(created(drafter.post("/v1/plans", body))["id"])


def with_proposed_metrics(world: World, plan: PlanRef, due: date = DUE) -> PlanRef:
    """Each side proposes its metric (so each has agreed only its own)."""
    terms = {"due_date": due.isoformat()}
    document = created(world.manager.post(f"{plan.url}/metrics", vendor_metric(**terms)))
    plan.vendor_metric = document["metrics"][-1]["id"]
    document = created(world.contact.post(f"{plan.url}/metrics", partner_metric(**terms)))
    plan.partner_metric = document["metrics"][-1]["id"]
    return plan


def an_agreed_plan(world: World, due: date = DUE, **changes: Any) -> PlanRef:
    """A draft plan whose two metrics both sides agreed; nobody committed yet."""
    plan = with_proposed_metrics(world, a_draft_plan(world, **changes), due)
    created(world.contact.post(f"{plan.url}/metrics/{plan.vendor_metric}/agree"), 200)
    created(world.manager.post(f"{plan.url}/metrics/{plan.partner_metric}/agree"), 200)
    return plan


def an_active_plan(world: World, due: date = DUE, **changes: Any) -> PlanRef:
    """A plan both sides committed to."""
    plan = an_agreed_plan(world, due, **changes)
    created(world.manager.post(f"{plan.url}/commit"), 200)
    document = created(world.contact.post(f"{plan.url}/commit"), 200)
    assert document["status"] == "active"
    return plan


def a_past_plan(world: World) -> PlanRef:
    """An active plan for last quarter (already over), ready to be closed without moving time."""
    return an_active_plan(
        world, date(2025, 12, 15), period_start="2025-10-01", period_end="2025-12-31"
    )


def an_adjustment(world: World, plan: PlanRef, by: Caller) -> str:
    """An adjustment of the proposer's own metric's target, left proposed; its id."""
    metric = plan.vendor_metric if by is world.manager else plan.partner_metric
    body = {"metric_id": metric, "kind": "change_target", "new_target": "6", "reason": "Budget"}
    return str(created(by.post(f"{plan.url}/adjustments", body))["adjustments"][-1]["id"])
