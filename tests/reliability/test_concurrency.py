"""Many clients on one plan at once, through a real server: each acknowledged command is stored
exactly once, each refused one not at all, and the read models miss or double nothing."""

from __future__ import annotations

import random
import threading
from pathlib import Path
from uuid import UUID

import httpx
import pytest

from ledger.application import Counterpart
from ledger.settings import Settings
from tests.reliability.conftest import (
    Cast,
    Command,
    Journal,
    Server,
    a_cast,
    adjustment,
    answer,
    assert_applied_exactly_once,
    assert_projections_equal_a_clean_rebuild,
    attempt,
    progress,
    settle,
)

CLIENTS = 16
COMMANDS_PER_CLIENT = 15
SEED = 20261126


def a_client(
    base: str, cast: Cast, index: int, journal: Journal, barrier: threading.Barrier
) -> None:
    """Progress reports and adjustments (proposed, answered, withdrawn) on the one plan."""
    plan = cast.plans[0]
    vendor = index % 2 == 0
    me, other = ("vendor", "partner") if vendor else ("partner", "vendor")
    party = cast.manager if vendor else cast.contact
    rng = random.Random(SEED + index)
    seen: list[dict[str, object]] = []
    with httpx.Client(base_url=base, timeout=30) as client:
        barrier.wait()
        for _ in range(COMMANDS_PER_CLIENT):
            roll = rng.random()
            open_ = [a for a in seen if a["status"] == "proposed"]
            command: Command
            if roll < 0.3 and open_:
                chosen = rng.choice(open_)
                if chosen["proposed_by_side"] == other:
                    verb = rng.choice(["accept", "reject"])
                else:
                    verb = "withdraw"
                command = answer(plan.id, str(chosen["id"]), verb, party)
            elif roll < 0.5:
                command = adjustment(plan, cast, vendor=vendor)
            else:
                command = progress(plan, cast, vendor=vendor)
            journal.add(command)
            attempt(client, command)
            if command.acknowledged and isinstance(command.response, dict):
                seen = list(command.response["adjustments"])
    assert me


@pytest.mark.timeout(180)
def test_concurrent_commands_on_one_plan_are_each_stored_once_or_refused_storing_nothing(
    settings: Settings, tmp_path: Path
) -> None:
    """16 clients report progress and propose, answer and withdraw adjustments on the same
    plan through a real server: every 2xx is in the ledger exactly once, every 409 (or 422,
    a target that is already the target) stored nothing, no other status, the plan's version
    is its number of events (each 2xx took one version of its own), and the read models
    equal a clean rebuild."""
    cast = a_cast(settings, plans=1)
    plan = cast.plans[0]
    app = Counterpart(settings)
    before = app.get_plan(UUID(plan.id)).version
    app.close()
    server = Server(settings.database_url, tmp_path / "server.log").start()
    journal = Journal()
    try:
        barrier = threading.Barrier(CLIENTS)
        threads = [
            threading.Thread(target=a_client, args=(server.base, cast, i, journal, barrier))
            for i in range(CLIENTS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        settle(server.base, journal.commands)
        with httpx.Client(base_url=server.base, timeout=30) as client:
            headers = {"Authorization": f"Bearer {cast.manager.token}"}
            served = client.get(f"/v1/plans/{plan.id}", headers=headers).json()
            history, cursor = [], None
            while True:
                params = {"limit": 500} | ({"cursor": cursor} if cursor else {})
                page = client.get(f"/v1/plans/{plan.id}/history", params=params, headers=headers)
                history += page.json()["items"]
                if not (cursor := page.json()["next_cursor"]):
                    break
        server.wait_caught_up()
    finally:
        server.stop()
    statuses = journal.statuses()
    print(f"{len(journal.commands)} commands by {CLIENTS} clients: {statuses}")
    assert_applied_exactly_once(settings, journal.commands)
    assert set(statuses) <= {200, 201, 409, 422}, statuses
    assert statuses.get(409, 0) > 0, "the clients never raced: the test proved nothing"
    app = Counterpart(settings)
    try:
        stored = app.recorder.select_events(UUID(plan.id))
    finally:
        app.close()
    assert [e.originator_version for e in stored] == list(range(1, len(stored) + 1))
    acknowledged = [c for c in journal.commands if c.acknowledged]
    assert served["version"] == len(stored) == before + len(acknowledged)
    versions = sorted(c.response["version"] for c in acknowledged)
    assert versions == list(range(before + 1, len(stored) + 1)), "two 2xx share a version"
    assert [e["version"] for e in history] == list(range(1, len(stored) + 1))
    assert not server.log_lines("unexpected_error")
    assert_projections_equal_a_clean_rebuild(settings)
