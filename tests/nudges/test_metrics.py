"""The nudges' Prometheus metrics: deliveries by outcome, delivery lag, reminders sent."""

from __future__ import annotations

import re
import time

from ledger.clock import SimulatedClock
from ledger.settings import Settings
from tests.api.world import a_world, an_agreed_plan, created
from tests.conftest import START
from tests.nudges.receivers import NOTIFY, a_nudging_server, a_receiver
from tests.nudges.smtp import an_smtp_server


def figure(text: str, name: str) -> float:
    """A sample's value in Prometheus text (0 when absent)."""
    found = re.search(rf"^{re.escape(name)} ([0-9.e+]+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def reminded(text: str) -> float:
    """Reminders sent, of every kind."""
    kinds = ("item", "digest", "portfolio")
    return sum(figure(text, f'counterpart_reminders_sent_total{{kind="{k}"}}') for k in kinds)


def test_deliveries_lag_and_reminders_are_counted(settings: Settings) -> None:
    clock = SimulatedClock(START)
    with an_smtp_server() as (smtp_url, mails), a_receiver() as receiver:
        notify = NOTIFY.replaced(smtp_url=smtp_url, remind_every=0.1)
        with a_nudging_server(settings, clock, notify) as client:
            world = a_world(client, settings, clock)
            body = {"url": receiver.url, "event_types": ["metric.agreed"]}
            created(world.admin.post("/v1/webhooks", body))
            an_agreed_plan(world)
            receiver.wait_for(2)
            deadline = time.monotonic() + 10
            text = ""
            while time.monotonic() < deadline:
                text = client.get("/metrics").text
                delivered = 'counterpart_webhook_deliveries_total{outcome="delivered"}'
                if figure(text, delivered) >= 2 and reminded(text) >= 7:
                    break
                time.sleep(0.1)
    assert figure(text, 'counterpart_webhook_deliveries_total{outcome="delivered"}') == 2
    assert figure(text, 'counterpart_reminders_sent_total{kind="item"}') == 2  # commit, twice
    assert reminded(text) == len(mails.received()) == 7  # and, on a Monday, 5 digests
    assert "counterpart_webhook_delivery_lag_positions 0.0" in text
