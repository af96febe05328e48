"""Property tests: the inbox and the score agree about what is late, over random plan lives.

A random plan life (the score properties' scripts) is cut at a random step. For every item
of either side's inbox that day: acting before its ``act_by`` (at a random moment) keeps the
component it names at full credit for that item, and the item disappears at once; leaving it
lowers that component as of ``act_by``. Items without ``act_by`` stay until acted on.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.clock import SimulatedClock
from ledger.domain import LedgerError, Side
from projections.rules.facts import AGREE_METRIC, ANSWER_ADJUSTMENT
from projections.rules.inbox import (
    CLOSE_PLAN,
    COMMIT,
    RECORD_REVIEW,
    REPORT_PROGRESS,
    InboxItem,
    plan_inbox,
)
from projections.rules.scoring import (
    DELIVERY,
    RESPONSIVENESS,
    REVIEWS,
    responsiveness,
    score,
)
from tests.scoring.test_score_properties import Life, Script, facts_of, scripts

pytestmark = pytest.mark.timeout(600)
TITLE = "Plan"


@st.composite
def cut_lives(draw: st.DrawFn) -> Script:
    """A plan life cut short: during the negotiation, or some steps into the active plan."""
    script = draw(scripts(activate=draw(st.booleans())))
    if draw(st.booleans()):
        kept = draw(st.integers(1, len(script.draft)))
        return replace(script, draft=script.draft[:kept], active=(), close=None)
    kept = draw(st.integers(0, len(script.active)))
    return replace(script, active=script.active[:kept], close=None)


def branch(life: Life) -> Life:
    """A copy of the life that can go on differently (its own plan, events and clock)."""
    other = object.__new__(Life)
    other.__dict__.update(life.__dict__)
    other.plan = copy.deepcopy(life.plan)
    other.events = list(life.events)
    other.clock = SimulatedClock(life.clock.now())
    other.cast = replace(life.cast, clock=other.clock)
    return other


def inbox_of(life: Life, day: date) -> list[InboxItem]:
    """Both sides' items of the life's plan as of ``day``."""
    facts = facts_of(life.positioned)
    assert facts is not None
    return plan_inbox(facts, TITLE, day)


def moment_on(life: Life, day: date, minute: int) -> datetime:
    """A moment on ``day`` not before the life's clock."""
    start = max(life.clock.now(), datetime.combine(day, time(0), tzinfo=UTC))
    end = datetime.combine(day, time(23, 59), tzinfo=UTC)
    return min(end, start + timedelta(minutes=minute))


def must(life: Life, command: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Run a command the inbox asked for: the domain must accept it."""
    try:
        command(*args, **kwargs)
    except LedgerError as error:
        pytest.fail(f"the domain refused what the inbox asked: {error}")
    life.events.extend(life.plan.collect_events())


def act(life: Life, item: InboxItem, day: date) -> None:
    """Do what the item asks, on ``day``, as its side; the domain must accept it."""
    by = life.cast.side(item.side)
    plan = life.plan
    if item.kind == AGREE_METRIC:
        must(life, plan.agree_metric, item.metric_id, by=by)
    elif item.kind == ANSWER_ADJUSTMENT:
        answer = plan.accept_adjustment if item.path.endswith("/accept") else plan.reject_adjustment
        must(life, answer, item.adjustment_id, by=by)
    elif item.kind == REPORT_PROGRESS:
        assert item.metric_id is not None
        metric = plan.metric(item.metric_id)
        must(
            life,
            plan.report_progress,
            item.metric_id,
            value=metric.target,
            as_of=min(day, metric.due_date),
            by=by,
        )
    elif item.kind == RECORD_REVIEW:
        person = life.cast.manager if item.side is Side.VENDOR else life.cast.contact
        must(
            life,
            plan.record_review,
            held_on=day,
            attendees=life.cast.partner.attendees([person]),
            by=by,
        )
    elif item.kind == COMMIT:
        must(life, plan.commit, by=by)
    elif item.kind == CLOSE_PLAN:
        must(life, plan.close, summary="Done", by=by)


def credit(life: Life, item: InboxItem, day: date) -> tuple[Any, Any]:
    """(the score's verdict on the item's own entry, the component's value) as of ``day``."""
    facts = facts_of(life.positioned)
    assert facts is not None
    assert item.component is not None
    if item.component == RESPONSIVENESS:  # a draft's requests count once the plan is active
        component = responsiveness(facts, item.side, day)
    else:
        component = score(facts, day).sides[item.side].components[item.component]
    entries = component.items
    if item.component == RESPONSIVENESS:
        subject = str(item.adjustment_id or item.metric_id)
        opened = item.waiting_since.isoformat()
        found = [e for e in entries if e["subject_id"] == subject and e["opened_at"] == opened]
        verdict = Decimal(found[0]["credit"]) if found else None
    elif item.component == DELIVERY:
        found = [e for e in entries if e["metric_id"] == str(item.metric_id)]
        verdict = Decimal(found[0]["attainment"]) if found else None
    else:
        start = None if item.window_start is None else item.window_start.isoformat()
        found = [
            e
            for e in entries
            if e["window_start"] == start
            and (item.component == REVIEWS or e["metric_id"] == str(item.metric_id))
        ]
        verdict = Decimal(found[0]["met"]) if found else None
    return verdict, component.value


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(cut_lives(), st.data())
def test_acting_before_act_by_keeps_full_credit_and_leaving_it_lowers_it(
    script: Script, data: st.DataObject
) -> None:
    life = Life(script)
    today = life.today
    for item in inbox_of(life, today):
        if item.act_by is None:
            continue
        windowed = item.kind in {REPORT_PROGRESS, RECORD_REVIEW}
        last = item.act_by if windowed else item.act_by - timedelta(days=1)
        if last < today:
            continue  # already late: nothing acting can save
        acted = branch(life)
        span = (last - today).days
        day = today + timedelta(days=data.draw(st.sampled_from([0, span]) | st.integers(0, span)))
        acted.move_to(moment_on(acted, day, data.draw(st.integers(0, 24 * 60))))
        act(acted, item, day)
        assert item.key not in {i.key for i in inbox_of(acted, day)}, "still waiting after acting"
        kept, kept_value = credit(acted, item, item.act_by)
        assert kept == 1, f"acting on {day} did not keep full credit for {item}"
        lost, lost_value = credit(life, item, item.act_by)
        assert lost == 0, f"leaving {item} past its act_by still earned credit"
        assert lost_value is not None
        assert kept_value is not None
        assert lost_value < kept_value


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cut_lives(), st.integers(1, 40))
def test_items_without_act_by_stay_until_acted_on(script: Script, later: int) -> None:
    life = Life(script)
    today = life.today
    for item in inbox_of(life, today):
        if item.act_by is not None:
            continue
        assert item.key in {i.key for i in inbox_of(life, today + timedelta(days=later))}
        acted = branch(life)
        act(acted, item, today)
        assert item.key not in {i.key for i in inbox_of(acted, today)}
