"""The projection worker serves the nudges' metrics on a port of its own."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from ledger.application import Counterpart
from ledger.clock import SimulatedClock
from ledger.settings import Settings
from projections.models import webhook_outbox as outbox
from projections.runtime.registry import all_projections
from projections.runtime.runner import Runner
from projections.runtime.store import open_store
from tests.builders import PERIOD_END, PERIOD_START, a_world
from tests.conftest import START
from tests.nudges.receivers import a_receiver
from tests.nudges.test_metrics import figure
from tests.support import shortcuts
from tests.support.loopback import free_port

ROOT = Path(__file__).resolve().parents[2]
DELIVERED = 'counterpart_webhook_deliveries_total{outcome="delivered"}'


def test_the_worker_counts_its_deliveries_and_the_lag_at_its_metrics_port(
    settings: Settings,
) -> None:
    app = Counterpart(settings)
    store = open_store(settings)
    Runner(app, store, all_projections(app)).setup()
    world = a_world(app, SimulatedClock(START))
    port = free_port()
    env = {
        **os.environ,
        "COUNTERPART_DATABASE_URL": settings.database_url,
        "COUNTERPART_WEBHOOKS_ALLOW_PRIVATE": "true",
        "COUNTERPART_WORKER_METRICS_PORT": str(port),
    }
    text = ""
    with a_receiver() as receiver:
        head = app.recorder.max_notification_id() or 0
        outbox.create_endpoint(store, receiver.url, ["*"], None, now=datetime.now(UTC), head=head)
        for n in range(2):
            shortcuts.draft_plan(
                app,
                partner_id=world.partner,
                title=f"Plan {n}",
                period_start=PERIOD_START,
                period_end=PERIOD_END,
                actor_id=world.manager,
            )
        worker = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "projections", "run", "--poll-interval", "0.05"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
                except httpx.HTTPError:
                    text = ""
                if figure(text, DELIVERED) >= 2:
                    break
                time.sleep(0.2)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    store.close()
    app.close()
    assert figure(text, DELIVERED) == len(receiver.received) == 2
    assert "counterpart_webhook_delivery_lag_positions 0.0" in text
    assert "counterpart_reminders_sent_total" in text
