"""The receiver example of docs/notifications.md, run against a real delivery."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.api.world import World, a_draft_plan, created
from tests.nudges.receivers import Received, a_receiver

DOC = Path(__file__).resolve().parents[2] / "docs" / "notifications.md"


def documented_verify() -> Callable[[str, dict[str, str], bytes], bool]:
    """The ``verify`` function exactly as the documentation shows it."""
    text = DOC.read_text(encoding="utf-8")
    found = re.search(r"<!-- receiver-example -->\n```python\n(.*?)```", text, re.DOTALL)
    assert found, "docs/notifications.md lost its receiver example"
    namespace: dict[str, Any] = {}
    exec(compile(found.group(1), str(DOC), "exec"), namespace)  # noqa: S102 (our own docs)
    return namespace["verify"]  # type: ignore[no-any-return]


def test_the_documented_receiver_verifies_a_real_delivery(nudging_world: World) -> None:
    world = nudging_world
    verify = documented_verify()
    with a_receiver() as receiver:
        body = {"url": receiver.url, "event_types": ["plan.drafted"]}
        endpoint = created(world.admin.post("/v1/webhooks", body))
        a_draft_plan(world)
        (got,) = receiver.wait_for(1)
        rotated = created(world.admin.post(f"/v1/webhooks/{endpoint['id']}/rotate-secret"), 200)
        a_draft_plan(world)
        during = receiver.wait_for(2)[1]
    assert verify(endpoint["secret"], got.headers, got.body)
    assert not verify(endpoint["secret"], got.headers, got.body + b" ")
    assert not verify(rotated["secret"], got.headers, got.body)
    assert verify(endpoint["secret"], during.headers, during.body)
    assert verify(rotated["secret"], during.headers, during.body)
    stale = Received({**got.headers, "webhook-timestamp": "1000000000"}, got.body, 200)
    assert not verify(endpoint["secret"], stale.headers, stale.body)
    created(world.admin.post(f"/v1/webhooks/{endpoint['id']}/disable"), 200)
