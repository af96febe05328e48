"""Two delivering processes on PostgreSQL: each message is sent by one of them at a time."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime

from ledger.application import Counterpart
from ledger.clock import SimulatedClock
from ledger.settings import Settings
from ledger.upgrade import upgrade
from projections.models import webhook_outbox as outbox
from projections.runtime.registry import all_projections
from projections.runtime.runner import Runner
from projections.runtime.store import open_store
from tests.builders import a_world
from tests.conftest import START
from tests.nudges.receivers import Received, a_receiver
from tests.nudges.test_delivery_crashes import a_worker, all_delivered, record_plans

PLANS = 10


def test_two_senders_never_send_one_message_at_once(postgres_url: str) -> None:
    settings = Settings(database_url=postgres_url)
    upgrade(settings)
    app = Counterpart(settings)
    store = open_store(settings)
    Runner(app, store, all_projections(app)).setup()
    world = a_world(app, SimulatedClock(START))
    in_flight: Counter[str] = Counter()
    overlaps: list[str] = []
    lock = threading.Lock()

    def answer(got: Received) -> int:
        """Hold each request a moment, noting any message sent twice at once."""
        message_id = got.headers["webhook-id"]
        with lock:
            in_flight[message_id] += 1
            if in_flight[message_id] > 1:
                overlaps.append(message_id)
        time.sleep(0.03)
        with lock:
            in_flight[message_id] -= 1
        return 200

    with a_receiver(answer) as receiver:
        head = app.recorder.max_notification_id() or 0
        outbox.create_endpoint(store, receiver.url, ["*"], None, now=datetime.now(UTC), head=head)
        # A lease outlives any round here, even on a loaded machine: a lease that runs out while
        # its sender still waits for an answer lets the other sender send the message again
        # (at least once, as the Standard Webhooks specification allows; docs/notifications.md).
        workers = [a_worker(settings, "console:", lease="30") for _ in range(2)]
        record_plans(app, world, PLANS)
        head = app.recorder.max_notification_id() or 0
        deadline = time.monotonic() + 60
        while not all_delivered(settings, head) and time.monotonic() < deadline:
            time.sleep(0.2)
        for worker in workers:
            worker.terminate()
            worker.wait(timeout=30)
        got = receiver.received
    store.close()
    app.close()
    assert all_delivered(settings, head)
    assert overlaps == []
    sent = Counter(r.headers["webhook-id"] for r in got)
    assert len(sent) == PLANS * 5
    assert set(sent.values()) == {1}, "a message was sent twice without any failure"
