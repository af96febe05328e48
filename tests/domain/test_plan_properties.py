"""Property tests: random command sequences keep a plan's invariants; refusals record nothing."""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import project_aggregate
from hypothesis import event, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from ledger.clock import SimulatedClock
from ledger.domain import (
    Acting,
    Actor,
    ActorRef,
    AdjustmentKind,
    AdjustmentStatus,
    Direction,
    LedgerError,
    MetricSpec,
    NotAllowedForRole,
    NotAParty,
    Plan,
    PlanStatus,
    RuleViolation,
    Side,
)
from ledger.domain.state import Metric
from tests.builders import PERIOD_END, PERIOD_START, a_cast, a_plan, partner_terms, vendor_terms
from tests.conftest import START

LAST_MOMENT = START + timedelta(days=130)  # late enough to close, early enough to stay short
TOO_BIG = Decimal(10) ** 15  # amounts must be smaller than this in magnitude
UNKNOWN = UUID(int=404)  # an id no plan ever hands out

T = TypeVar("T")
PARTY_SIDES = {"manager": Side.VENDOR, "contact": Side.PARTNER, "second_contact": Side.PARTNER}

# ------------------------------------------------------------------ strategies


def _mostly(valid: st.SearchStrategy[T], invalid: st.SearchStrategy[T]) -> st.SearchStrategy[T]:
    """Valid values seven times in eight, so that sequences get somewhere; invalid ones else."""
    return st.integers(0, 7).flatmap(lambda n: invalid if n == 7 else valid)


WHO = _mostly(
    st.sampled_from(["manager", "contact", "second_contact"]),
    st.sampled_from(["outsider", "other_manager", "auditor"]),
)
PICK = _mostly(st.integers(0, 6), st.just(-1))  # an index into what exists, or an unknown id
PERIOD_DAYS = _mostly(st.integers(0, 89), st.sampled_from([-10, -1, 90, 100])).map(
    lambda n: PERIOD_START + timedelta(days=n)
)  # the builders' period is PERIOD_START + 0..89 days
TARGETS = _mostly(
    st.one_of(
        st.sampled_from([Decimal(4), Decimal(20)]),
        st.decimals(min_value=Decimal("0.5"), max_value=Decimal(500), places=1),
    ),
    st.sampled_from([Decimal(0), Decimal(-3), Decimal("NaN"), Decimal("Infinity"), TOO_BIG]),
)
NEW_TARGETS = _mostly(
    st.decimals(min_value=Decimal("0.5"), max_value=Decimal(500), places=1),
    st.sampled_from([Decimal(4), Decimal(20), Decimal(0), Decimal("NaN"), TOO_BIG]),
)  # 4 and 20 are the builders' targets: no change
VALUES = _mostly(
    st.decimals(min_value=Decimal(-50), max_value=Decimal(500), places=2),
    st.sampled_from([Decimal("NaN"), Decimal("-Infinity"), -TOO_BIG]),
)
BLANK = st.sampled_from(["", "   "])
SPECS = st.builds(
    lambda terms, changes: terms(**changes),
    st.sampled_from([vendor_terms, partner_terms]),
    st.fixed_dictionaries(
        {},
        optional={
            "owner_side": st.sampled_from(Side),
            "name": _mostly(st.just("Joint webinars"), BLANK),
            "description": _mostly(st.just("Co-host webinars for end customers"), BLANK),
            "unit": _mostly(st.just("webinars"), BLANK),
            "direction": st.sampled_from(Direction),
            "target": TARGETS,
            "due_date": PERIOD_DAYS,
            "objective": st.sampled_from([None, "Grow the partner's pipeline"]),
        },
    ),
)
EVIDENCE = _mostly(
    st.sampled_from([None, "https://crm.example/reports/1"]), st.just("ftp://crm.example/1")
)
ATTENDEES = _mostly(
    st.sampled_from([("manager",), ("manager", "contact"), ("contact", "leader")]), st.just(())
)
REASONS = _mostly(st.sampled_from(["Market shifted", "Volumes changed"]), BLANK)
SHAPES = _mostly(st.just("fits"), st.sampled_from(["both", "neither"]))  # new_* fields given
STARTS = st.sampled_from(
    [
        "an active plan",
        "an agreed draft",
        "an open adjustment",
        "a half-committed draft",
        "a blank draft",
    ]
)
START_LATER = st.sampled_from([0, 0, 20, 45, 70, 88, 95])  # days into the 89-day period
AS_OF_DAYS_AGO = _mostly(st.integers(0, 10), st.integers(-3, 100))
HELD_DAYS_AGO = _mostly(st.integers(0, 3), st.sampled_from([-2, -1, 4, 6]))  # grace_days is 3
DUE_IN = _mostly(st.integers(1, 40), st.integers(-5, 0))  # a new due date relative to today
DAYS_LATER = st.sampled_from([0, 0, 1, 3, 7, 14, 30, 60])

ARGUMENTS: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "propose_metric": {"who": WHO, "spec": SPECS},
    "revise_metric": {"who": WHO, "pick": PICK, "spec": SPECS},
    "agree_metric": {"who": WHO, "pick": PICK},
    "commit": {"who": WHO},
    "report_progress": {
        "who": WHO,
        "pick": PICK,
        "value": VALUES,
        "days_ago": AS_OF_DAYS_AGO,
        "evidence": EVIDENCE,
    },
    "record_review": {"who": WHO, "days_ago": HELD_DAYS_AGO, "attendees": ATTENDEES},
    "propose_adjustment": {
        "who": WHO,
        "pick": PICK,
        "kind": st.sampled_from(AdjustmentKind),
        "shape": SHAPES,
        "new_target": NEW_TARGETS,
        "due_in": DUE_IN,
        "reason": REASONS,
    },
    "accept_adjustment": {"who": WHO, "pick": PICK},
    "reject_adjustment": {"who": WHO, "pick": PICK},
    "withdraw_adjustment": {"who": WHO, "pick": PICK},
    "close": {"who": WHO},
    "pass_time": {"days": DAYS_LATER, "hours": st.integers(0, 23)},
}
"""The arguments each command is attempted with, valid and invalid alike."""


def _is_amount(value: Decimal) -> bool:
    """Whether a decimal is finite and smaller than 10^15 in magnitude."""
    return value.is_finite() and abs(value) < TOO_BIG


def _is_positive_amount(value: Decimal) -> bool:
    """Whether a decimal is a sane amount greater than zero."""
    return _is_amount(value) and value > 0


def _within_period(day: date) -> bool:
    """Whether a day lies inside the builders' plan period (both ends included)."""
    return PERIOD_START <= day <= PERIOD_END


def _state(plan: Plan) -> dict[str, Any]:
    """A plan's attributes, without the events it has yet to hand over."""
    return {k: v for k, v in vars(plan).items() if k != "_pending_events"}


def _smart_faults(spec: MetricSpec) -> list[str]:
    """What keeps drawn metric terms from being SMART (nothing when they are)."""
    faults = []
    if not _is_positive_amount(spec.target):
        faults.append("target is not a positive amount")
    if not _within_period(spec.due_date):
        faults.append("due date outside the period")
    if not (spec.name.strip() and spec.description.strip() and spec.unit.strip()):
        faults.append("blank name, description or unit")
    return faults


# ------------------------------------------------------------------- the trial


class Trial:
    """A plan in memory driven by commands, with what the checks know about its history.

    Each command predicts whether the plan must accept or refuse it, attempts it, and
    checks the outcome: a refusal records nothing and changes nothing; an acceptance
    triggers exactly the expected events, caused by the acting actor at the recorded time.
    """

    def __init__(self) -> None:
        self.clock = SimulatedClock(START)
        self.cast = a_cast(self.clock)
        self.plan = a_plan(self.cast)
        self.events: list[Any] = list(self.plan.collect_events())
        self.activated_at: datetime | None = None
        self.was_closed = False
        self.requests = 0

    # ------------------------------------------------------------- actors

    def acting(self, who: str) -> Acting:
        """The named actor acting now: a party, a party to another plan, or the auditor."""
        self.requests += 1
        at, request_id = self.clock.now(), f"request-{self.requests}"
        cast = self.cast
        if who == "outsider":
            return cast.other_partner.vouch(cast.outsider, at=at, request_id=request_id)
        if who == "other_manager":
            return cast.other_partner.vouch(cast.other_manager, at=at, request_id=request_id)
        if who == "auditor":  # forged: vouch refuses auditors, so the plan must refuse too
            return Acting(
                actor=cast.auditor.ref,
                at=at,
                request_id=request_id,
                partner_id=self.plan.partner_id,
            )
        actor = {"manager": cast.manager, "contact": cast.contact}.get(who, cast.second_contact)
        return cast.partner.vouch(actor, at=at, request_id=request_id)

    def ref(self, who: str) -> ActorRef:
        """How a named member of the cast is recorded as an attendee."""
        actor: Actor = getattr(self.cast, who)
        return actor.ref

    @property
    def today(self) -> date:
        """The simulated calendar date."""
        return self.clock.now().date()

    def metric_id(self, pick: int) -> UUID:
        """An existing metric's id by position, or an unknown id."""
        ids = list(self.plan.metrics)
        return UUID(ids[pick % len(ids)]) if pick >= 0 and ids else UNKNOWN

    def adjustment_id(self, pick: int) -> UUID:
        """An existing adjustment's id by position (open ones first), or an unknown id."""
        ids = sorted(self.plan.adjustments, key=lambda k: not self.plan.adjustments[k].is_open)
        return UUID(ids[pick % len(ids)]) if pick >= 0 and ids else UNKNOWN

    # ------------------------------------------------------------ attempts

    def gate(self, who: str, needs: PlanStatus | None) -> type[LedgerError] | None:
        """The refusal every command starts with: strangers, sideless roles, wrong status."""
        if who in {"outsider", "other_manager"}:
            return NotAParty
        if who == "auditor":
            return NotAllowedForRole
        if self.plan.status is PlanStatus.CLOSED:
            return RuleViolation
        if needs is not None and self.plan.status is not needs:
            return RuleViolation
        return None

    def attempt(
        self,
        name: str,
        by: Acting,
        command: Callable[[], object],
        *,
        refused: type[LedgerError] | None,
        faults: list[str],
        expected: list[type[Plan.Event]],
    ) -> tuple[object, list[Any]] | None:
        """Run a command; check its refusal records nothing, or its events are as expected."""
        before = copy.deepcopy(vars(self.plan))
        version, pending = self.plan.version, len(self.plan.pending_events)
        refusal: LedgerError | None = None
        try:
            result = command()
        except LedgerError as error:
            refusal = error
        if refusal is not None:
            event(f"{name}: refused")
            assert self.plan.version == version, f"refused {name} moved the version"
            assert len(self.plan.pending_events) == pending, f"refused {name} triggered events"
            assert vars(self.plan) == before, f"refused {name} changed the plan"
            if refused is not None:
                assert isinstance(refusal, refused), f"{name}: {refusal!r}, expected {refused}"
            else:
                assert faults, f"{name} was refused though nothing is wrong: {refusal!r}"
            return None
        event(f"{name}: accepted")
        assert refused is None, f"{name} was accepted though it should raise {refused}"
        assert not faults, f"{name} was accepted despite {faults}"
        events: list[Any] = list(self.plan.collect_events())
        assert [type(e) for e in events] == expected
        for offset, triggered in enumerate(events, start=1):
            assert triggered.originator_id == self.plan.id
            assert triggered.originator_version == version + offset
            assert triggered.actor == by.actor
            assert triggered.request_id == by.request_id
            assert triggered.timestamp == by.at
        self.events.extend(events)
        if any(isinstance(e, Plan.Activated) for e in events):
            self.activated_at = by.at
        if any(isinstance(e, Plan.Closed) for e in events):
            self.was_closed = True
        return result, events

    # ------------------------------------------------------- draft commands

    def propose_metric(self, *, who: str, spec: MetricSpec) -> None:
        """Any party proposes a metric owned by either side; the proposer agrees by proposing."""
        by = self.acting(who)
        terms_version = self.plan.terms_version
        outcome = self.attempt(
            "propose_metric",
            by,
            lambda: self.plan.propose_metric(spec, by=by),
            refused=self.gate(who, PlanStatus.DRAFT),
            faults=_smart_faults(spec),
            expected=[Plan.MetricProposed],
        )
        if outcome is not None:
            metric_id, (proposed,) = outcome
            assert proposed.metric_id == metric_id
            metric = self.plan.metric(proposed.metric_id)
            assert metric.agreed_by == {s.value: s is by.side for s in Side}
            assert self.plan.terms_version == terms_version + 1
            assert self.plan.commitments == {s.value: None for s in Side}

    def revise_metric(self, *, who: str, pick: int, spec: MetricSpec) -> None:
        """Any party revises a draft metric; the other side's agreement is cleared."""
        by = self.acting(who)
        metric_id = self.metric_id(pick)
        metric = self.plan.metrics.get(str(metric_id))
        faults = _smart_faults(spec)
        if metric is None:
            faults.append("unknown metric")
        elif spec == metric.spec:
            faults.append("the revision changes nothing")
        terms_version = self.plan.terms_version
        outcome = self.attempt(
            "revise_metric",
            by,
            lambda: self.plan.revise_metric(metric_id, spec, by=by),
            refused=self.gate(who, PlanStatus.DRAFT),
            faults=faults,
            expected=[Plan.MetricRevised],
        )
        if outcome is not None:
            revised = self.plan.metric(metric_id)
            assert revised.spec == spec
            assert revised.agreed_by == {s.value: s is by.side for s in Side}
            assert self.plan.terms_version == terms_version + 1
            assert self.plan.commitments == {s.value: None for s in Side}

    def agree_metric(self, *, who: str, pick: int) -> None:
        """A party agrees to a metric the other side proposed."""
        by = self.acting(who)
        metric_id = self.metric_id(pick)
        metric = self.plan.metrics.get(str(metric_id))
        side = PARTY_SIDES.get(who, Side.VENDOR)
        faults = []
        if metric is None:
            faults.append("unknown metric")
        elif metric.agreed_by[side.value]:
            faults.append("already agreed by this side")
        outcome = self.attempt(
            "agree_metric",
            by,
            lambda: self.plan.agree_metric(metric_id, by=by),
            refused=self.gate(who, PlanStatus.DRAFT),
            faults=faults,
            expected=[Plan.MetricAgreed],
        )
        if outcome is not None:
            assert self.plan.metric(metric_id).agreed_by[side.value]

    def commit(self, *, who: str) -> None:
        """A party commits to the current terms; the second commitment activates the plan."""
        by = self.acting(who)
        side = PARTY_SIDES.get(who, Side.VENDOR)
        live = [m for m in self.plan.metrics.values() if not m.retired]
        faults = []
        if self.plan.commitments[side.value] is not None:
            faults.append("this side has already committed")
        if not all(m.agreed_by[s.value] for m in live for s in Side):
            faults.append("a metric is not agreed by both sides")
        if not all(any(m.owner_side is s for m in live) for s in Side):
            faults.append("a side owns no metric")
        activates = self.plan.commitments[side.other.value] is not None
        expected: list[type[Plan.Event]] = [Plan.Committed]
        if activates:
            expected.append(Plan.Activated)
        outcome = self.attempt(
            "commit",
            by,
            lambda: self.plan.commit(by=by),
            refused=self.gate(who, PlanStatus.DRAFT),
            faults=faults,
            expected=expected,
        )
        if outcome is not None:
            commitment = self.plan.commitments[side.value]
            assert commitment is not None
            assert commitment.terms_version == self.plan.terms_version
            assert commitment.actor_id == by.actor.id
            expected_status = PlanStatus.ACTIVE if activates else PlanStatus.DRAFT
            assert self.plan.status is expected_status

    # ------------------------------------------------------ active commands

    def report_progress(
        self, *, who: str, pick: int, value: Decimal, days_ago: int, evidence: str | None
    ) -> None:
        """The owner side reports a value as of a past date on an active plan."""
        by = self.acting(who)
        metric_id = self.metric_id(pick)
        metric = self.plan.metrics.get(str(metric_id))
        as_of = self.today - timedelta(days=days_ago)
        faults = []
        if metric is None:
            faults.append("unknown metric")
        elif metric.retired:
            faults.append("retired metric")
        elif metric.owner_side is not PARTY_SIDES.get(who):
            faults.append("not the owner side")
        if not _is_amount(value):
            faults.append("value is not an amount")
        if as_of > self.today or as_of < PERIOD_START:
            faults.append("as_of in the future or before the period")
        if evidence is not None and not evidence.startswith("https://"):
            faults.append("evidence is not an http(s) link")
        count = metric.reports_count if metric else 0
        outcome = self.attempt(
            "report_progress",
            by,
            lambda: self.plan.report_progress(
                metric_id, value=value, as_of=as_of, evidence_url=evidence, by=by
            ),
            refused=self.gate(who, PlanStatus.ACTIVE),
            faults=faults,
            expected=[Plan.ProgressReported],
        )
        if outcome is not None:
            reported = self.plan.metric(metric_id)
            assert reported.reports_count == count + 1
            assert reported.latest is not None
            assert reported.latest.as_of >= as_of

    def record_review(self, *, who: str, days_ago: int, attendees: tuple[str, ...]) -> None:
        """A party records a review held lately (not in the future) on an active plan."""
        by = self.acting(who)
        held_on = self.today - timedelta(days=days_ago)
        faults = []
        if held_on > self.today or held_on < self.today - timedelta(days=self.plan.grace_days):
            faults.append("held_on in the future or too long ago")
        if held_on < self.plan.period_start:
            faults.append("held_on before the plan starts")
        if not attendees:
            faults.append("nobody attended")
        refs = [self.ref(a) for a in attendees]
        count = len(self.plan.reviews)
        outcome = self.attempt(
            "record_review",
            by,
            lambda: self.plan.record_review(held_on=held_on, attendees=refs, by=by),
            refused=self.gate(who, PlanStatus.ACTIVE),
            faults=faults,
            expected=[Plan.ReviewRecorded],
        )
        if outcome is not None:
            review_id, _ = outcome
            assert len(self.plan.reviews) == count + 1
            assert self.plan.reviews[-1].id == review_id
            assert self.plan.reviews[-1].attendees == refs

    def propose_adjustment(
        self,
        *,
        who: str,
        pick: int,
        kind: AdjustmentKind,
        shape: str,
        new_target: Decimal,
        due_in: int,
        reason: str,
    ) -> None:
        """A party proposes to change a live metric's target or due date, or retire it."""
        by = self.acting(who)
        metric_id = self.metric_id(pick)
        metric = self.plan.metrics.get(str(metric_id))
        wants_target = kind is AdjustmentKind.CHANGE_TARGET
        wants_date = kind is AdjustmentKind.CHANGE_DUE_DATE
        target = new_target if shape == "both" or (shape == "fits" and wants_target) else None
        due = self.today + timedelta(days=due_in)
        new_due = due if shape == "both" or (shape == "fits" and wants_date) else None
        faults = self._adjustment_faults(metric, wants_target, wants_date, target, new_due)
        if not reason.strip():
            faults.append("blank reason")
        outcome = self.attempt(
            "propose_adjustment",
            by,
            lambda: self.plan.propose_adjustment(
                metric_id,
                kind=kind,
                reason=reason,
                new_target=target,
                new_due_date=new_due,
                by=by,
            ),
            refused=self.gate(who, PlanStatus.ACTIVE),
            faults=faults,
            expected=[Plan.AdjustmentProposed],
        )
        if outcome is not None:
            adjustment_id, _ = outcome
            assert isinstance(adjustment_id, UUID)
            adjustment = self.plan.adjustment(adjustment_id)
            assert adjustment.is_open
            assert adjustment.metric_id == metric_id
            assert adjustment.proposed_by == by.actor

    def _adjustment_faults(
        self,
        metric: Metric | None,
        wants_target: bool,
        wants_date: bool,
        target: Decimal | None,
        new_due: date | None,
    ) -> list[str]:
        """What makes a proposed adjustment unacceptable (nothing when it is fine)."""
        if metric is None:
            return ["unknown metric"]
        faults = []
        if metric.retired:
            faults.append("retired metric")
        if self.today >= metric.due_date:
            faults.append("the metric is due")
        if any(a.is_open and a.metric_id == metric.id for a in self.plan.adjustments.values()):
            faults.append("an adjustment is already open on the metric")
        if (target is not None) is not wants_target or (new_due is not None) is not wants_date:
            faults.append("new_target / new_due_date do not fit the kind")
        if target is not None and (not _is_positive_amount(target) or target == metric.target):
            faults.append("new_target is not a new positive amount")
        if new_due is not None and (
            not _within_period(new_due) or new_due <= self.today or new_due == metric.due_date
        ):
            faults.append("new_due_date is not a new future date inside the period")
        return faults

    def _decision_faults(self, adjustment_id: UUID, side: Side | None, *, own: bool) -> list[str]:
        """What stops a side deciding an adjustment; ``own``: only its proposer may."""
        adjustment = self.plan.adjustments.get(str(adjustment_id))
        if adjustment is None:
            return ["unknown adjustment"]
        faults = []
        if not adjustment.is_open:
            faults.append("the adjustment is already decided")
        if (adjustment.proposed_by.side is side) is not own:
            faults.append("the wrong side decides")
        return faults

    def accept_adjustment(self, *, who: str, pick: int) -> None:
        """The other side accepts an open adjustment before the metric is due."""
        by = self.acting(who)
        adjustment_id = self.adjustment_id(pick)
        faults = self._decision_faults(adjustment_id, PARTY_SIDES.get(who), own=False)
        adjustment = self.plan.adjustments.get(str(adjustment_id))
        before = None
        if adjustment is not None:
            before = copy.deepcopy(self.plan.metric(adjustment.metric_id))
            if self.today >= before.due_date:
                faults.append("the metric is due")
            if adjustment.new_due_date is not None and adjustment.new_due_date <= self.today:
                faults.append("the proposed due date has come")
        terms_version = self.plan.terms_version
        outcome = self.attempt(
            "accept_adjustment",
            by,
            lambda: self.plan.accept_adjustment(adjustment_id, by=by),
            refused=self.gate(who, PlanStatus.ACTIVE),
            faults=faults,
            expected=[Plan.AdjustmentAccepted],
        )
        if outcome is not None:
            assert adjustment is not None
            assert before is not None
            assert adjustment.status is AdjustmentStatus.ACCEPTED
            after = self.plan.metric(adjustment.metric_id)
            assert after.retired is (adjustment.kind is AdjustmentKind.RETIRE)
            new_target, new_due = adjustment.new_target, adjustment.new_due_date
            assert after.target == (before.target if new_target is None else new_target)
            assert after.due_date == (before.due_date if new_due is None else new_due)
            assert self.plan.terms_version == terms_version + 1

    def reject_adjustment(self, *, who: str, pick: int) -> None:
        """The other side rejects an open adjustment; the terms stay."""
        self._settle(who, pick, "reject_adjustment", AdjustmentStatus.REJECTED, own=False)

    def withdraw_adjustment(self, *, who: str, pick: int) -> None:
        """The proposing side withdraws its open adjustment; the terms stay."""
        self._settle(who, pick, "withdraw_adjustment", AdjustmentStatus.WITHDRAWN, own=True)

    def _settle(
        self, who: str, pick: int, name: str, status: AdjustmentStatus, *, own: bool
    ) -> None:
        """Reject or withdraw an adjustment and check the metric's terms did not move."""
        by = self.acting(who)
        adjustment_id = self.adjustment_id(pick)
        faults = self._decision_faults(adjustment_id, PARTY_SIDES.get(who), own=own)
        metrics, terms_version = copy.deepcopy(self.plan.metrics), self.plan.terms_version
        expected = Plan.AdjustmentWithdrawn if own else Plan.AdjustmentRejected
        outcome = self.attempt(
            name,
            by,
            lambda: getattr(self.plan, name)(adjustment_id, by=by),
            refused=self.gate(who, PlanStatus.ACTIVE),
            faults=faults,
            expected=[expected],
        )
        if outcome is not None:
            assert self.plan.adjustment(adjustment_id).status is status
            assert self.plan.metrics == metrics
            assert self.plan.terms_version == terms_version

    # ------------------------------------------------------------- closing

    def close(self, *, who: str) -> None:
        """Either side closes the plan after its period; an activated plan is graded."""
        by = self.acting(who)
        faults = [] if self.today > PERIOD_END else ["the period has not ended"]
        outcome = self.attempt(
            "close",
            by,
            lambda: self.plan.close(summary="Done", by=by),
            refused=self.gate(who, None),
            faults=faults,
            expected=[Plan.Closed],
        )
        if outcome is not None:
            live = {k for k, m in self.plan.metrics.items() if not m.retired}
            graded = live if self.activated_at is not None else set()
            assert set(self.plan.grades) == graded

    def pass_time(self, *, days: int, hours: int) -> None:
        """Let days and hours pass, up to the last moment the trial simulates."""
        later = self.clock.now() + timedelta(days=days, hours=hours)
        self.clock.set(min(later, LAST_MOMENT))

    def start(self, how: str, days_later: int, kind: AdjustmentKind) -> None:
        """Bring the plan to a starting state through checked commands, then let days pass."""
        if how != "a blank draft":
            self.propose_metric(who="manager", spec=vendor_terms())
            self.propose_metric(who="contact", spec=partner_terms())
            self.agree_metric(who="contact", pick=0)
            self.agree_metric(who="manager", pick=1)
        if how not in {"a blank draft", "an agreed draft"}:
            self.commit(who="manager")
        if how in {"an active plan", "an open adjustment"}:
            self.commit(who="contact")
        if how == "an open adjustment":
            self.propose_adjustment(
                who="manager",
                pick=1,
                kind=kind,
                shape="fits",
                new_target=Decimal(25),
                due_in=60,
                reason="Market shifted",
            )
        drafts = {"a blank draft", "an agreed draft", "a half-committed draft"}
        assert self.plan.status is (PlanStatus.DRAFT if how in drafts else PlanStatus.ACTIVE)
        assert len(self.plan.adjustments) == (how == "an open adjustment")
        self.pass_time(days=days_later, hours=0)

    # ---------------------------------------------------------- invariants

    def check_versions(self) -> None:
        """The plan's version counts every event it triggered, numbered without gaps."""
        assert self.plan.version == len(self.events)
        assert [e.originator_version for e in self.events] == list(range(1, len(self.events) + 1))
        assert self.plan.pending_events == []

    def check_lifecycle(self) -> None:
        """Status and lifecycle times agree: activated_at iff activated, closed_at iff closed."""
        plan = self.plan
        assert plan.status in set(PlanStatus)
        assert plan.activated_at == self.activated_at
        assert (plan.closed_at is not None) is (plan.status is PlanStatus.CLOSED)
        if plan.status is PlanStatus.ACTIVE:
            assert plan.activated_at is not None
        if self.was_closed:
            assert plan.status is PlanStatus.CLOSED

    def check_commitments(self) -> None:
        """Draft commitments hold the current terms; activation needs both on agreed terms."""
        plan = self.plan
        commitments = [c for c in plan.commitments.values() if c is not None]
        assert set(plan.commitments) == {s.value for s in Side}
        live = [m for m in plan.metrics.values() if not m.retired]
        if plan.status is PlanStatus.DRAFT:
            assert all(c.terms_version == plan.terms_version for c in commitments)
            if commitments:
                assert all(m.is_agreed for m in live)
                assert all(any(m.owner_side is s for m in live) for s in Side)
        if plan.activated_at is not None:
            assert len(commitments) == 2
            assert commitments[0].terms_version == commitments[1].terms_version
            assert all(m.is_agreed for m in plan.metrics.values())

    def check_adjustments(self) -> None:
        """At most one open adjustment per metric, and none on a retired metric."""
        plan = self.plan
        open_per_metric = Counter(a.metric_id for a in plan.adjustments.values() if a.is_open)
        assert all(n == 1 for n in open_per_metric.values())
        assert not any(plan.metric(m).retired for m in open_per_metric)

    def check_metrics(self) -> None:
        """Every metric's terms are positive and due inside the period; its proposer agreed."""
        for metric in self.plan.metrics.values():
            assert metric.target > 0
            assert self.plan.period_start <= metric.due_date <= self.plan.period_end
            assert set(metric.agreed_by) == {s.value for s in Side}
            assert metric.agreed_by[metric.proposed_by.value]

    def check_reports(self) -> None:
        """Reports are never as of a day after they were recorded; deciding ones are timely."""
        for metric in self.plan.metrics.values():
            for report in (metric.latest, metric.deciding):
                if report is not None:
                    assert report.as_of <= report.recorded_at.date()
                    assert report.as_of >= self.plan.period_start
            if metric.deciding is not None:
                assert metric.latest is not None
                assert metric.deciding.as_of <= metric.due_date
                assert metric.deciding.as_of <= metric.latest.as_of
            assert (metric.latest is None) is (metric.reports_count == 0)

    def check_replay(self) -> None:
        """Replaying the events triggered so far onto nothing rebuilds the live plan."""
        replayed = project_aggregate(None, self.events)
        assert isinstance(replayed, Plan)
        assert _state(replayed) == _state(self.plan)


# ---------------------------------------------------------------- the machine


def _attempting(name: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """A rule drawing the named command's arguments from ARGUMENTS."""
    # mypy cannot tell that the names in ARGUMENTS never clash with rule's `target(s)`
    return rule(**ARGUMENTS[name])  # type: ignore[call-overload,no-any-return]


@settings(max_examples=500, stateful_step_count=40, deadline=None)
class PlanCommandSequences(RuleBasedStateMachine):
    """Random commands by parties, strangers and the auditor against one plan."""

    def __init__(self) -> None:
        super().__init__()
        self.trial = Trial()

    @initialize(how=STARTS, days_later=START_LATER, kind=st.sampled_from(AdjustmentKind))
    def start(self, how: str, days_later: int, kind: AdjustmentKind) -> None:
        """Start from a draft (blank, agreed, half-committed) or an active plan, some days in."""
        self.trial.start(how, days_later, kind)

    @_attempting("propose_metric")
    def propose_metric(self, **args: Any) -> None:
        """Propose a metric."""
        self.trial.propose_metric(**args)

    @_attempting("revise_metric")
    def revise_metric(self, **args: Any) -> None:
        """Revise a metric."""
        self.trial.revise_metric(**args)

    @_attempting("agree_metric")
    def agree_metric(self, **args: Any) -> None:
        """Agree to a metric."""
        self.trial.agree_metric(**args)

    @_attempting("commit")
    def commit(self, **args: Any) -> None:
        """Commit to the plan's terms."""
        self.trial.commit(**args)

    @_attempting("report_progress")
    def report_progress(self, **args: Any) -> None:
        """Report progress on a metric."""
        self.trial.report_progress(**args)

    @_attempting("record_review")
    def record_review(self, **args: Any) -> None:
        """Record a review."""
        self.trial.record_review(**args)

    @_attempting("propose_adjustment")
    def propose_adjustment(self, **args: Any) -> None:
        """Propose an adjustment."""
        self.trial.propose_adjustment(**args)

    @_attempting("accept_adjustment")
    def accept_adjustment(self, **args: Any) -> None:
        """Accept an adjustment."""
        self.trial.accept_adjustment(**args)

    @_attempting("reject_adjustment")
    def reject_adjustment(self, **args: Any) -> None:
        """Reject an adjustment."""
        self.trial.reject_adjustment(**args)

    @_attempting("withdraw_adjustment")
    def withdraw_adjustment(self, **args: Any) -> None:
        """Withdraw an adjustment."""
        self.trial.withdraw_adjustment(**args)

    @_attempting("close")
    def close(self, **args: Any) -> None:
        """Close the plan."""
        self.trial.close(**args)

    @_attempting("pass_time")
    def pass_time(self, **args: Any) -> None:
        """Let time pass."""
        self.trial.pass_time(**args)

    @invariant()
    def the_version_counts_every_event(self) -> None:
        """The plan's version counts the events it triggered."""
        self.trial.check_versions()

    @invariant()
    def the_lifecycle_is_draft_then_active_then_closed(self) -> None:
        """Status, activated_at and closed_at agree, and a closed plan stays closed."""
        self.trial.check_lifecycle()

    @invariant()
    def commitments_hold_agreed_terms(self) -> None:
        """Commitments are to current, fully agreed terms."""
        self.trial.check_commitments()

    @invariant()
    def a_live_metric_has_at_most_one_open_adjustment(self) -> None:
        """One open adjustment per live metric at most."""
        self.trial.check_adjustments()

    @invariant()
    def metric_terms_stay_smart_and_agreed_by_their_proposer(self) -> None:
        """Targets positive, due dates inside the period, proposer agreed."""
        self.trial.check_metrics()

    @invariant()
    def reports_are_never_from_the_future(self) -> None:
        """Reports are as of a day no later than their recording; deciding ones are timely."""
        self.trial.check_reports()

    @invariant()
    def replaying_the_events_rebuilds_the_plan(self) -> None:
        """The events triggered so far rebuild the live plan."""
        self.trial.check_replay()


test_invariants_hold_after_every_accepted_command_and_rejections_record_nothing = (
    PlanCommandSequences.TestCase
)

# ------------------------------------------------------------------ replaying

COMMANDS = st.one_of(
    [st.tuples(st.just(name), st.fixed_dictionaries(args)) for name, args in ARGUMENTS.items()]
)


@settings(max_examples=150, deadline=None)
@given(
    how=STARTS,
    days_later=START_LATER,
    kind=st.sampled_from(AdjustmentKind),
    commands=st.lists(COMMANDS, min_size=10, max_size=40),
)
def test_replaying_the_recorded_events_rebuilds_the_same_plan(
    how: str, days_later: int, kind: AdjustmentKind, commands: list[tuple[str, dict[str, Any]]]
) -> None:
    """Replaying every event a plan triggered onto nothing rebuilds the live plan exactly."""
    trial = Trial()
    trial.start(how, days_later, kind)
    for name, args in commands:
        getattr(trial, name)(**args)
    replayed = project_aggregate(None, trial.events)
    assert isinstance(replayed, Plan)
    assert _state(replayed) == _state(trial.plan)
