"""A client generated from /openapi.json (openapi-python-client) runs a plan's whole life.

The client is generated at test time from the running app's document, so an operation id,
a body model or a response model that a generator cannot use fails here: functions are named
after the API's verbs (``report_progress``), scores have ``sides.vendor`` and
``sides.partner``.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from api.app import create_app
from ledger.application import Counterpart
from ledger.domain import Role
from ledger.settings import Settings
from tests.api.world import partner_metric, vendor_metric
from tests.reliability.conftest import Server
from tests.support import shortcuts

GENERATOR = Path(sys.executable).parent.parent / "generator" / "bin" / "openapi-python-client"
"""Installed by `make test` in a virtual environment of its own (it pins an older typer)."""
PACKAGE = "counterpart_client"


@pytest.fixture(scope="module")
def client_package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Generate the client package from the app's OpenAPI document; its import name."""
    where = tmp_path_factory.mktemp("generated")
    document = where / "openapi.json"
    app = create_app(Settings(database_url=f"sqlite:///{where / 'unused.db'}"))
    document.write_text(json.dumps(app.openapi()), encoding="utf-8")
    done = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(document),
            "--meta",
            "none",
            "--output-path",
            str(where / PACKAGE),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=where,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    sys.path.insert(0, str(where))
    try:
        yield PACKAGE
    finally:
        sys.path.remove(str(where))
        for name in [m for m in sys.modules if m.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def part(package: str, name: str) -> ModuleType:
    """A module of the generated package."""
    return importlib.import_module(f"{package}.{name}")


def ok(response: Any, model: str) -> Any:
    """The parsed response, which must be the success model (not a problem)."""
    assert type(response).__name__ == model, response
    return response


@pytest.mark.timeout(120)
def test_a_generated_client_runs_a_plan_from_draft_to_close(
    settings: Settings, client_package: str, tmp_path: Path
) -> None:
    """Register a manager, a partner and its contact; draft last quarter's plan, propose and
    agree both metrics, commit both sides, report (and repeat the report with its key), read
    the scores and close — all through the generated functions, against a real server."""
    ledger = Counterpart(settings)
    try:
        _, admin_token = shortcuts.register_actor(
            ledger, name="Ada Admin", email="ada@vendor.example", role=Role.ADMIN
        )
    finally:
        ledger.close()
    server = Server(settings.database_url, tmp_path / "server.log").start()
    try:
        run_a_plans_life(client_package, server.base, admin_token)
    finally:
        server.stop()


def run_a_plans_life(package: str, base: str, admin_token: str) -> None:
    """The plan's life through the generated client."""
    client_module = part(package, "client")
    models = part(package, "models")
    actors = "api.actors_and_partners"
    plans = "api.plans"

    def as_(token: str) -> Any:
        return client_module.AuthenticatedClient(base_url=base, token=token, timeout=30.0)

    admin = as_(admin_token)
    manager = ok(
        part(package, f"{actors}.register_actor").sync(
            client=admin,
            body=models.ActorIn.from_dict(
                {"name": "Max Manager", "email": "max@vendor.example", "role": "manager"}
            ),
        ),
        "ActorWithToken",
    )
    partner = ok(
        part(package, f"{actors}.register_partner").sync(
            client=admin,
            body=models.PartnerIn.from_dict({"name": "Acme", "manager_id": str(manager.id)}),
        ),
        "PartnerOut",
    )
    contact = ok(
        part(package, f"{actors}.register_actor").sync(
            client=admin,
            body=models.ActorIn.from_dict(
                {
                    "name": "Pat Partner",
                    "email": "pat@acme.example",
                    "role": "partner",
                    "partner_id": str(partner.id),
                }
            ),
        ),
        "ActorWithToken",
    )
    vendor, other = as_(manager.token), as_(contact.token)
    plan = ok(
        part(package, f"{plans}.draft_plan").sync(
            client=vendor,
            body=models.PlanIn.from_dict(
                {
                    "partner_id": str(partner.id),
                    "title": "Q4 joint plan",
                    "period_start": "2025-10-01",
                    "period_end": "2025-12-31",
                    "objectives": ["Grow qualified pipeline"],
                }
            ),
            idempotency_key="draft-1",
        ),
        "Plan",
    )
    propose = part(package, f"{plans}.propose_metric").sync
    ours = ok(
        propose(
            plan.id,
            client=vendor,
            body=models.MetricIn.from_dict(vendor_metric(due_date="2025-12-15")),
        ),
        "Plan",
    ).metrics[0]
    theirs = next(
        m
        for m in ok(
            propose(
                plan.id,
                client=other,
                body=models.MetricIn.from_dict(partner_metric(due_date="2025-12-15")),
            ),
            "Plan",
        ).metrics
        if m.id != ours.id
    )
    agree = part(package, f"{plans}.agree_metric").sync
    ok(agree(plan.id, ours.id, client=other), "Plan")
    ok(agree(plan.id, theirs.id, client=vendor), "Plan")
    commit = part(package, f"{plans}.commit").sync
    ok(commit(plan.id, client=vendor), "Plan")
    active = ok(commit(plan.id, client=other), "Plan")
    assert active.status.value == "active"
    reported = ok(
        part(package, f"{plans}.report_progress").sync(
            plan.id,
            ours.id,
            client=vendor,
            body=models.ProgressIn.from_dict({"value": "5", "as_of": "2025-12-10"}),
            idempotency_key="report-1",
        ),
        "Plan",
    )
    replayed = part(package, f"{plans}.report_progress").sync(
        plan.id,
        ours.id,
        client=vendor,
        body=models.ProgressIn.from_dict({"value": "5", "as_of": "2025-12-10"}),
        idempotency_key="report-1",
    )
    assert replayed.version == reported.version
    scores = ok(
        part(package, "api.scores_and_audit.plan_scores").sync(plan.id, client=vendor),
        "Accountability",
    )
    assert type(scores.sides.vendor).__name__ == "SideScore"
    assert type(scores.sides.partner).__name__ == "SideScore"
    closed = ok(
        part(package, f"{plans}.close_plan").sync(
            plan.id, client=vendor, body=models.CloseIn.from_dict({"summary": "done"})
        ),
        "Plan",
    )
    assert closed.status.value == "closed"
    read = ok(part(package, f"{plans}.get_plan").sync(plan.id, client=other), "Plan")
    assert read.version == closed.version
