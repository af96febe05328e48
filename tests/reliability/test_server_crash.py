"""The server killed (SIGKILL) at random moments under load, several times: after each restart
nothing acknowledged is missing, retries apply nothing twice, the ledger is whole and the read
models catch up to what a clean rebuild makes."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import httpx
import pytest

from ledger.settings import Settings
from tests.reliability.conftest import (
    Cast,
    Command,
    Journal,
    Server,
    a_cast,
    assert_applied_exactly_once,
    assert_ledger_verifies,
    assert_projections_equal_a_clean_rebuild,
    attempt,
    draft,
    progress,
    review,
    settle,
)

ROUNDS = 5
CLIENTS = 6
PLANS = 3
LOAD_BEFORE_KILL = (0.4, 1.2)
"""Seconds of load before each SIGKILL, drawn uniformly."""
SEED = 7


def next_command(rng: random.Random, cast: Cast) -> Command:
    """Progress by either side (mostly), a review, or a new plan."""
    plan = rng.choice(cast.plans)
    roll = rng.random()
    if roll < 0.7:
        return progress(plan, cast, vendor=rng.random() < 0.5)
    if roll < 0.85:
        return review(plan, cast)
    return draft(cast, by_contact=rng.random() < 0.5)


def a_client(base: str, cast: Cast, index: int, journal: Journal, stop: threading.Event) -> None:
    """Send commands until stopped; one in doubt (refused connection, reset, 503, in
    progress) is sent again, with its key, before anything new."""
    rng = random.Random(SEED * 100 + index)
    pending: Command | None = None
    with httpx.Client(base_url=base, timeout=10) as client:
        while not stop.is_set():
            command = pending or journal.add(next_command(rng, cast))
            pending = None if attempt(client, command) else command
            if pending is not None:
                time.sleep(0.05)


@pytest.mark.timeout(240)
def test_nothing_acknowledged_is_lost_when_the_server_is_killed_under_load(
    settings: Settings, tmp_path: Path
) -> None:
    """SIGKILL the server at random moments of a load of progress reports, reviews and new
    plans, restart it, several rounds; clients resend what was in doubt with its key. Every
    2xx is in the ledger exactly once, every refusal stored nothing, the ledger verifies, and
    the read models the restarted server caught up equal a clean rebuild."""
    cast = a_cast(settings, plans=PLANS)
    server = Server(settings.database_url, tmp_path / "server.log").start()
    journal = Journal()
    stop = threading.Event()
    rng = random.Random(SEED)
    threads = [
        threading.Thread(target=a_client, args=(server.base, cast, i, journal, stop))
        for i in range(CLIENTS)
    ]
    in_flight_at_kill = []
    try:
        for thread in threads:
            thread.start()
        for _ in range(ROUNDS):
            time.sleep(rng.uniform(*LOAD_BEFORE_KILL))
            server.kill()
            in_flight_at_kill.append(sum(1 for c in journal.commands if c.status is None))
            server.start()
        time.sleep(0.5)
        stop.set()
        for thread in threads:
            thread.join(60)
        settle(server.base, journal.commands)
        server.wait_caught_up()
    finally:
        stop.set()
        server.stop()
    statuses = journal.statuses()
    recovered = len(server.log_lines("idempotent_command_recovered"))
    print(
        f"{ROUNDS} kills, {len(journal.commands)} commands {statuses}; in doubt at each kill "
        f"{in_flight_at_kill}; answered from stored events after a kill: {recovered}"
    )
    assert server.starts == ROUNDS + 1
    assert sum(in_flight_at_kill) > 0, "no command was ever cut off: the test proved nothing"
    assert set(statuses) <= {200, 201}, statuses
    assert not server.log_lines("unexpected_error")
    assert_applied_exactly_once(settings, journal.commands)
    assert_ledger_verifies(settings.database_url)
    assert_projections_equal_a_clean_rebuild(settings)
