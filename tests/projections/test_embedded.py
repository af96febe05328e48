"""Projections embedded in a hosting process: start, follow, wait for a write, stop."""

from __future__ import annotations

from decimal import Decimal

from ledger.application import Counterpart
from ledger.clock import SimulatedClock
from projections.models.plan_state import plan_document
from projections.runtime.embedded import EmbeddedProjections
from projections.runtime.store import ReadStore
from tests.builders import a_world, an_active_plan_in
from tests.support import shortcuts


def test_embedded_projections_follow_the_ledger_until_stopped(
    app: Counterpart, clock: SimulatedClock, store: ReadStore
) -> None:
    """Writes made after start are visible after a bounded wait; stop ends the thread."""
    w = a_world(app, clock)
    embedded = EmbeddedProjections(app, store, poll_interval=0.01)
    embedded.start()
    try:
        assert embedded.running
        plan_id, metrics = an_active_plan_in(w)
        shortcuts.report_progress(
            app,
            plan_id,
            metrics.vendor,
            value=Decimal(3),
            as_of=clock.now().date(),
            actor_id=w.manager,
        )
        assert embedded.wait_for(app.last_saved_position(), timeout=10)
        with store.transaction() as cursor:
            document = plan_document(cursor, plan_id)
        assert document is not None
        assert document["status"] == "active"
        assert {s.lag for s in embedded.status()} == {0}
    finally:
        embedded.stop()
    assert not embedded.running
    assert embedded.error is None
