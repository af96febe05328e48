"""Crash tests: the delivering process is killed (SIGKILL) again and again while events are
recorded and the receiver fails for a while; nothing is lost, order holds, no mail twice."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

from ledger.application import Counterpart
from ledger.clock import SimulatedClock
from ledger.settings import Settings
from projections.models import webhook_outbox as outbox
from projections.runtime.registry import all_projections
from projections.runtime.runner import Runner
from projections.runtime.store import open_store
from tests.builders import PERIOD_END, PERIOD_START, a_world, partner_terms, vendor_terms
from tests.conftest import START
from tests.nudges.receivers import Received, a_receiver
from tests.nudges.smtp import an_smtp_server
from tests.support import shortcuts

ROOT = Path(__file__).resolve().parents[2]
PLANS = 8
KILLS = 3


def a_worker(settings: Settings, smtp_url: str, lease: str = "1") -> subprocess.Popen[bytes]:
    """``counterpart projections run`` delivering to loopback, retrying fast; a killed sender's
    lease runs out after ``lease`` seconds."""
    env = {
        **os.environ,
        "COUNTERPART_DATABASE_URL": settings.database_url,
        "COUNTERPART_WEBHOOKS_ALLOW_PRIVATE": "true",
        "COUNTERPART_WEBHOOKS_RETRY_FIRST": "0.05",
        "COUNTERPART_WEBHOOKS_RETRY_CAP": "0.2",
        "COUNTERPART_WEBHOOKS_LEASE": lease,
        "COUNTERPART_SMTP_URL": smtp_url,
        "COUNTERPART_MAIL_FROM": "counterpart@vendor.example",
        "COUNTERPART_REMIND_EVERY": "0.2",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "api.cli", "projections", "run", "--poll-interval", "0.05"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def record_plans(app: Counterpart, world: object, count: int) -> None:
    """Plans negotiated to the point where both sides are asked to commit (events spaced)."""
    for n in range(count):
        plan = shortcuts.draft_plan(
            app,
            partner_id=world.partner,  # type: ignore[attr-defined]
            title=f"Plan {n}",
            period_start=PERIOD_START,
            period_end=PERIOD_END,
            actor_id=world.manager,  # type: ignore[attr-defined]
        )
        _, vendor = shortcuts.propose_metric(app, plan.id, vendor_terms(), actor_id=world.manager)  # type: ignore[attr-defined]
        _, partner = shortcuts.propose_metric(app, plan.id, partner_terms(), actor_id=world.contact)  # type: ignore[attr-defined]
        shortcuts.agree_metric(app, plan.id, vendor, actor_id=world.contact)  # type: ignore[attr-defined]
        shortcuts.agree_metric(app, plan.id, partner, actor_id=world.manager)  # type: ignore[attr-defined]
        time.sleep(0.05)


def all_delivered(settings: Settings, head: int) -> bool:
    """Whether the outbox has seen the whole ledger and nothing is left to deliver."""
    store = open_store(settings)
    try:
        with store.reading() as cursor:
            return outbox.lag(cursor, head) == 0
    finally:
        store.close()


def test_killed_senders_lose_nothing_keep_plan_order_and_never_mail_twice(
    settings: Settings,
) -> None:
    app = Counterpart(settings)
    store = open_store(settings)
    Runner(app, store, all_projections(app)).setup()
    world = a_world(app, SimulatedClock(START))
    first_seen: list[float] = []

    def answer(_: Received) -> int:
        """500 for the first second after the first request, then 200."""
        first_seen.append(first_seen[0] if first_seen else time.monotonic())
        return 500 if time.monotonic() < first_seen[0] + 1.0 else 200

    with a_receiver(answer) as receiver, an_smtp_server() as (smtp_url, mails):
        first = (app.recorder.max_notification_id() or 0) + 1
        endpoint = outbox.create_endpoint(
            store, receiver.url, ["*"], None, now=datetime.now(UTC), head=first - 1
        )
        writer = threading.Thread(target=record_plans, args=(app, world, PLANS))
        writer.start()
        worker = a_worker(settings, smtp_url)
        for _ in range(KILLS):
            time.sleep(random.uniform(0.4, 0.9))
            worker.send_signal(signal.SIGKILL)
            worker.wait()
            worker = a_worker(settings, smtp_url)
        writer.join()
        head = app.recorder.max_notification_id() or 0
        deadline = time.monotonic() + 60
        while not all_delivered(settings, head) and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(0.6)  # a few more reminder passes: none may send anything again
        worker.terminate()
        worker.wait(timeout=30)
        got = receiver.received
        sent = mails.received()
    store.close()
    app.close()

    assert all_delivered(settings, head), "messages were left undelivered"
    payloads = [(json.loads(r.body), r.headers["webhook-id"], r.answered) for r in got]
    delivered = {p["data"]["position"] for p, _, status in payloads if status == 200}
    assert delivered == set(range(first, head + 1)), "an event was never delivered"
    ids: dict[int, set[str]] = defaultdict(set)
    for payload, message_id, _ in payloads:
        ids[payload["data"]["position"]].add(message_id)
    assert all(len(found) == 1 for found in ids.values()), "a retry changed its webhook-id"
    by_plan: dict[str, list[int]] = defaultdict(list)
    for payload, _, _ in payloads:
        if payload["data"]["plan_id"] is not None:
            by_plan[payload["data"]["plan_id"]].append(payload["data"]["position"])
    assert len(by_plan) == PLANS
    for plan_id, positions in by_plan.items():
        assert positions == sorted(positions), f"plan {plan_id} was delivered out of order"
    assert any(status == 500 for _, _, status in payloads), "the receiver never failed"
    keys = [(m["To"], m["Subject"]) for m in sent]
    assert keys, "no reminder was sent"
    assert len(keys) == len(set(keys)), "a reminder was sent twice"
    assert UUID(endpoint.id)
