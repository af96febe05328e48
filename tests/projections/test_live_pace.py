"""A command's response shows the same pace as the read models: live_pace agrees with scoring."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

from hypothesis import example, given, settings
from hypothesis import strategies as st

from ledger.application import Counterpart
from ledger.clock import SimulatedClock
from ledger.domain import AdjustmentKind
from ledger.settings import Settings
from projections.rules.live_pace import paces
from projections.rules.scoring import pace
from tests.builders import a_world, an_active_plan_in
from tests.conftest import START
from tests.projections.replay import replayed_facts
from tests.support import shortcuts

Step = tuple[int, int, int, str]
steps = st.lists(
    st.tuples(
        st.integers(0, 15),  # days to wait
        st.integers(0, 30),  # value reported
        st.integers(0, 5),  # how many days back the report is "as of"
        st.sampled_from(["vendor", "partner", "lower", "later", "none"]),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=15, deadline=None)
@given(history=steps)
@example(history=[(80, 20, 0, "partner"), (8, 5, 0, "partner")])  # met by the due date, then less
def test_the_pace_read_off_the_saved_plan_equals_the_pace_from_its_facts(
    history: list[Step],
) -> None:
    """For any history of reports and accepted adjustments, and any day from now on.

    (Domain and replay only: an in-memory SQLite ledger per example.)
    """
    clock = SimulatedClock(START)
    memory = f"sqlite:///file:pace-{uuid.uuid4().hex}?mode=memory&cache=shared"
    app = Counterpart(Settings(database_url=memory), clock)
    try:
        w = a_world(app, clock)
        plan_id, metrics = an_active_plan_in(w)
        for wait, value, back, what in history:
            clock.advance(timedelta(days=wait, hours=1))
            today = clock.now().date()
            if what in {"vendor", "partner"}:
                metric = metrics.vendor if what == "vendor" else metrics.partner
                actor = w.manager if what == "vendor" else w.contact
                shortcuts.report_progress(
                    app,
                    plan_id,
                    metric,
                    value=Decimal(value),
                    as_of=max(today - timedelta(days=back), START.date()),
                    actor_id=actor,
                )
            elif what in {"lower", "later"}:
                plan = app.get_plan(plan_id)
                due = plan.metrics[str(metrics.partner)].due_date
                target = plan.metrics[str(metrics.partner)].target
                if today >= due or (what == "later" and due + timedelta(days=7) > plan.period_end):
                    continue
                if what == "lower" and target <= 1:
                    continue
                _, adjustment = shortcuts.propose_adjustment(
                    app,
                    plan_id,
                    metrics.partner,
                    kind=AdjustmentKind.CHANGE_TARGET
                    if what == "lower"
                    else AdjustmentKind.CHANGE_DUE_DATE,
                    new_target=target - 1 if what == "lower" else None,
                    new_due_date=due + timedelta(days=7) if what == "later" else None,
                    reason="circumstances changed",
                    actor_id=w.contact,
                )
                shortcuts.accept_adjustment(app, plan_id, adjustment, actor_id=w.manager)
        plan = app.get_plan(plan_id)
        facts = replayed_facts(app, plan_id)
        for look in range(120):  # every day from now on, past every due date
            day = clock.now().date() + timedelta(days=look)
            expected = {
                key: None if (found := pace(metric, facts, day)) is None else found.value
                for key, metric in facts.metrics.items()
            }
            assert paces(plan, day) == expected, f"on {day}"
    finally:
        app.close()
