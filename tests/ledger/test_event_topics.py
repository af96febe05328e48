"""Rules: a plan's events keep the topics stored ledgers hold, wherever their code lives."""

from __future__ import annotations

import pytest
from eventsourcing.utils import get_topic, resolve_topic

from ledger.domain.plan import Plan

# Every plan event ever stored carries one of these topics: renaming one orphans stored events.
STORED_TOPICS = [
    "ledger.domain.plan:Plan.Drafted",
    "ledger.domain.plan:Plan.MetricProposed",
    "ledger.domain.plan:Plan.MetricRevised",
    "ledger.domain.plan:Plan.MetricAgreed",
    "ledger.domain.plan:Plan.Committed",
    "ledger.domain.plan:Plan.Activated",
    "ledger.domain.plan:Plan.ProgressReported",
    "ledger.domain.plan:Plan.ReviewRecorded",
    "ledger.domain.plan:Plan.AdjustmentProposed",
    "ledger.domain.plan:Plan.AdjustmentAccepted",
    "ledger.domain.plan:Plan.AdjustmentRejected",
    "ledger.domain.plan:Plan.AdjustmentWithdrawn",
    "ledger.domain.plan:Plan.Closed",
]


@pytest.mark.parametrize("topic", STORED_TOPICS)
def test_a_stored_topic_resolves_to_the_plan_event_that_writes_it(topic: str) -> None:
    name = topic.rsplit(".", 1)[1]
    event_class = getattr(Plan, name)
    assert resolve_topic(topic) is event_class
    assert get_topic(event_class) == topic


def test_every_plan_event_is_one_of_the_stored_topics() -> None:
    written = {
        get_topic(value)
        for name, value in vars(Plan).items()
        if isinstance(value, type)
        and issubclass(value, Plan.Event)
        and name not in {"Event", "Created"}
    }
    assert written == set(STORED_TOPICS)
