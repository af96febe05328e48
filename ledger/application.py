"""The Counterpart application: every command, plan time travel, persistence wiring."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    ProcessingEvent,
)
from eventsourcing.domain import DomainEventProtocol, MutableOrImmutableAggregate
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Notification, Recording
from eventsourcing.utils import Environment, EnvType

from ledger.checkout import Checkout
from ledger.clock import Clock, SystemClock
from ledger.domain import (
    OPERATOR,
    Acting,
    Actor,
    AdjustmentKind,
    ConcurrencyConflict,
    InvalidInput,
    LedgerError,
    MetricSpec,
    NotFound,
    OutOfScope,
    Partner,
    Plan,
    Role,
    VersionMismatch,
)
from ledger.domain.base import LedgerAggregate
from ledger.persistence import library_env
from ledger.settings import Settings
from ledger.tokens import hash_token, new_token
from ledger.transcodings import register_all

A = TypeVar("A", bound=LedgerAggregate)
R = TypeVar("R")
PlanCommand = Callable[[Plan, Acting, Partner], R]

SNAPSHOT_INTERVAL = 25
"""Plans are snapshotted every 25 events; docs/performance.md has the measurement."""
PLAN_LOCKS = 64
"""Commands on one plan in one process take turns (one of this many locks, by plan id)."""
LIBRARY_ATTEMPTS = 10
"""The eventsourcing PostgreSQL recorder tries each query this many times on a connection
error; each try waits at most this fraction of the connect timeout for a connection."""
SHARED_PLAN_COMMANDS = 20
"""After another process changed a plan under its kept copy, this many commands load it fresh
first (a query) rather than try the kept copy (a conflicting insert, then the same load)."""
REQUEST_SCAN_BATCH = 500
"""Events read per query while looking for the events of a request (``events_of_request``)."""


class Counterpart(Application[UUID]):
    """The ledger of mutual accountability: actors, partners and their plans."""

    name = "counterpart"
    snapshotting_intervals = {Plan: SNAPSHOT_INTERVAL}  # noqa: RUF012 (library's class API)

    def __init__(self, settings: Settings | None = None, clock: Clock | None = None) -> None:
        self.settings = settings or Settings.from_env()
        self.clock: Clock = clock or SystemClock()
        self._saved = threading.local()
        self._plans: Checkout[Plan] = Checkout(self.settings.cache_size)
        self._identities: Checkout[Actor] = Checkout(self.settings.cache_size)
        self._plan_locks = [threading.Lock() for _ in range(PLAN_LOCKS)]
        self._shared: dict[UUID, int] = {}
        """Plans whose kept copy went stale (another process wrote): commands left to load
        them fresh (one query for the newer events) instead of trying the kept copy first."""
        self.on_saved: Callable[[int], None] | None = None
        """Told how many events each save stored (a server counts them for its metrics)."""
        super().__init__(env=library_env(self.settings))
        pool = getattr(getattr(self.recorder, "datastore", None), "pool", None)
        if pool is not None:  # PostgreSQL: bound the waits of an outage (docs/reliability.md)
            # A request waits about the connect timeout in all, over the library's tries...
            pool.timeout = self.settings.postgres_connect_timeout / LIBRARY_ATTEMPTS
            # ...and once the database is back, the pool reconnects within about as long.
            pool.reconnect_timeout = self.settings.postgres_connect_timeout

    # ---------------------------------------------------------------- wiring

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        """Configure from the settings only, never from stray process environment."""
        values = dict(type(self).env)
        values["IS_SNAPSHOTTING_ENABLED"] = "y"
        values.update(env or {})
        return Environment(name, values)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        """The library's transcodings plus the ledger's."""
        super().register_transcodings(transcoder)
        register_all(transcoder)

    def save(
        self,
        *objs: MutableOrImmutableAggregate[UUID] | Any,
        **kwargs: Any,
    ) -> list[Recording[UUID]]:
        """Store the pending events; a stale write raises ConcurrencyConflict, storing nothing."""
        try:
            recordings = super().save(*objs, **kwargs)
        except IntegrityError:
            msg = "someone else changed this first; re-read it and try again"
            raise ConcurrencyConflict(msg) from None
        if recordings:
            self._saved.position = recordings[-1].notification.id
            if self.on_saved is not None:
                self.on_saved(len(recordings))
        return recordings

    def _record(self, processing_event: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        """Record the events; a write that conflicts only with itself is taken as done.

        The library tries an insert again when the connection fails; if the failure hid a
        commit (the database stored the events, then the connection broke before saying so),
        the retry conflicts with those very events. Taken as a conflict, the command would run
        again on the plan that already holds it: recorded twice.
        """
        try:
            return super()._record(processing_event)
        except IntegrityError:
            recordings = self._recorded_already(processing_event.events)
            if recordings is None:
                raise
            return recordings

    def _recorded_already(
        self, events: Sequence[DomainEventProtocol[UUID]]
    ) -> list[Recording[UUID]] | None:
        """Recordings of these exact events if the store holds them already, else None.

        Only for events of a request (with its id): events without one (the command line, a
        test) could be byte for byte those of another writer, and are never taken as done.
        """
        if not events or not all(getattr(e, "request_id", None) for e in events):
            return None
        stored = [self.mapper.to_stored_event(event) for event in events]
        for originator_id in {event.originator_id for event in events}:
            mine = [s for s in stored if s.originator_id == originator_id]
            found = self.recorder.select_events(
                originator_id,
                gt=mine[0].originator_version - 1,
                lte=mine[-1].originator_version,
            )
            if [(f.topic, f.state) for f in found] != [(m.topic, m.state) for m in mine]:
                return None
        position = self.recorder.max_notification_id() or 0  # at or after these events
        return [
            Recording(
                event,
                Notification(
                    originator_id=s.originator_id,
                    originator_version=s.originator_version,
                    topic=s.topic,
                    state=s.state,
                    id=position,
                ),
            )
            for event, s in zip(events, stored, strict=True)
        ]

    def last_saved_position(self) -> int:
        """The global position of the last event this thread saved (0 if none).

        A caller that wants to read its own writes waits until the projections have processed
        this position (``projections.runtime.runner.Runner.wait_for``).
        """
        position: int = getattr(self._saved, "position", 0)
        return position

    def events_of_request(
        self, request_id: str, actor_id: UUID, *, after: int, until: datetime
    ) -> list[LedgerAggregate.Event]:
        """The events that a request of this actor caused, oldest first.

        Looks at the events after global position ``after``, up to the first batch that
        reaches past the recorded time ``until`` (so the search stays bounded however late it
        runs). A retry asks this before running again the command of an attempt that died
        without answering: events found mean that attempt's command was stored.
        """
        needle = request_id.encode("utf-8")
        # The fast filter looks for the id in the stored JSON: valid for ids JSON writes as is.
        exact = request_id.isascii() and request_id.isprintable() and '"' not in request_id
        exact = exact and "\\" not in request_id
        found: list[LedgerAggregate.Event] = []
        position = after
        while batch := self.recorder.select_notifications(
            start=position + 1, limit=REQUEST_SCAN_BATCH
        ):
            for notification in batch:
                if exact and needle not in notification.state:
                    continue
                event = self.mapper.to_domain_event(notification)
                if (
                    isinstance(event, LedgerAggregate.Event)
                    and event.request_id == request_id
                    and event.actor.id == actor_id
                ):
                    found.append(event)
            position = batch[-1].id
            if len(batch) < REQUEST_SCAN_BATCH:
                break
            last = self.mapper.to_domain_event(batch[-1])
            if isinstance(last, LedgerAggregate.Event) and last.timestamp > until:
                break
        return found

    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        """Snapshot plans from the saved aggregate in memory, instead of replaying it again."""
        snapshots = []
        for event in processing_event.events:
            aggregate = processing_event.aggregates.get(event.originator_id)
            if not isinstance(aggregate, Plan):
                continue
            interval = self.snapshotting_intervals.get(Plan)
            if not interval or event.originator_version % interval:
                continue
            if aggregate.version == event.originator_version:
                snapshots.append(Plan.Snapshot.take(aggregate))
            else:  # a later event of the same save: rebuild that version from the store
                self.take_snapshot(aggregate.id, version=event.originator_version)
        if snapshots and self.snapshots is not None:
            self.snapshots.put(snapshots)

    # ------------------------------------------------------------- loading

    def _get(self, kind: type[A], aggregate_id: UUID, version: int | None = None) -> A:
        noun = kind.__name__.lower()
        try:
            aggregate: object = self.repository.get(aggregate_id, version=version)
        except AggregateNotFoundError:
            msg = f"{noun} {aggregate_id} not found"
            raise NotFound(msg) from None
        if not isinstance(aggregate, kind):
            msg = f"{noun} {aggregate_id} not found"
            raise NotFound(msg)
        return aggregate

    def get_actor(self, actor_id: UUID) -> Actor:
        """The actor with this id."""
        return self._get(Actor, actor_id)

    def get_partner(self, partner_id: UUID) -> Partner:
        """The partner with this id."""
        return self._get(Partner, partner_id)

    def _partner_to_read(self, partner_id: UUID) -> Partner:
        """The partner, brought up to date from the store but not copied: for reading only
        (who is party to it), never for changing it."""
        try:
            aggregate: object = self.repository.get(partner_id, deepcopy_from_cache=False)
        except AggregateNotFoundError:
            aggregate = None
        if not isinstance(aggregate, Partner):
            msg = f"partner {partner_id} not found"
            raise NotFound(msg)
        return aggregate

    def get_plan(self, plan_id: UUID, version: int | None = None) -> Plan:
        """The plan now, or as it was after its ``version``-th event."""
        if version is not None and version < 1:
            msg = "version counts events from 1"
            raise InvalidInput(msg)
        return self._get(Plan, plan_id, version)

    def plan_as_of(self, plan_id: UUID, at: datetime) -> Plan:
        """The plan as it was at a moment: every event recorded at or before ``at``.

        Recorded times never decrease within a plan, so the version is found by bisection
        over snapshot-backed loads rather than by replaying every event.
        """
        current = self.get_plan(plan_id)
        if current.modified_on <= at:
            return current
        low, high = 0, current.version  # version ``low`` is at or before ``at``; ``high`` after
        while high - low > 1:
            middle = (low + high) // 2
            if self.get_plan(plan_id, middle).modified_on <= at:
                low = middle
            else:
                high = middle
        if low == 0:
            msg = f"plan {plan_id} did not exist yet at {at.isoformat()}"
            raise NotFound(msg)
        return self.get_plan(plan_id, low)

    # -------------------------------------------------------- acting

    def _now(self, *aggregates: LedgerAggregate) -> datetime:
        """The recorded time: the clock, but never before an aggregate's last event."""
        return max([self.clock.now(), *(a.modified_on for a in aggregates)])

    def _as_admin(self, actor_id: UUID | None, request_id: str | None) -> Acting:
        if actor_id is None:
            return Acting(actor=OPERATOR, at=self._now(), request_id=request_id)
        actor = self.get_actor(actor_id)
        return Acting(actor=actor.ref, at=self._now(), request_id=request_id)

    def _identity(self, actor_id: UUID) -> Actor:
        """The actor acting, from memory when seen before.

        Only the immutable facts of an actor (id, role, side, partner) decide what it may do on
        a plan, so a copy loaded once is good for good. Tokens are checked by the caller.
        """
        actor = self._identities.take(actor_id) or self.get_actor(actor_id)
        self._identities.put(actor_id, actor)
        return actor

    def _on_plan(
        self,
        plan_id: UUID,
        actor_id: UUID,
        request_id: str | None,
        expected_version: int | None,
        command: PlanCommand[R],
    ) -> tuple[Plan, R]:
        """Run a plan command and save its events; returns the plan after it and the result.

        Commands on the same plan in this process take turns, so they never conflict with
        each other (only with other processes). The plan kept from the last command is used
        when there is one (no query, no copy); if it was stale the save conflicts, and the
        command runs once more on a fresh load (and the next few commands on that plan start
        from a fresh load: other processes write it too).
        """
        with self._plan_locks[hash(plan_id) % PLAN_LOCKS]:
            return self._on_plan_in_turn(plan_id, actor_id, request_id, expected_version, command)

    def _on_plan_in_turn(
        self,
        plan_id: UUID,
        actor_id: UUID,
        request_id: str | None,
        expected_version: int | None,
        command: PlanCommand[R],
    ) -> tuple[Plan, R]:
        kept = self._plans.take(plan_id)
        shared = self._shared.pop(plan_id, 0)
        if shared > 1:  # another process writes this plan too: its kept copy is likely stale
            self._shared[plan_id] = shared - 1
        elif kept is not None:
            done = self._attempt(kept, actor_id, request_id, expected_version, command)
            if done is not None:
                return done
            if len(self._shared) >= self.settings.cache_size:
                self._shared.clear()
            self._shared[plan_id] = SHARED_PLAN_COMMANDS
        fresh = self.get_plan(plan_id)
        done = self._attempt(fresh, actor_id, request_id, expected_version, command, fresh=True)
        if done is None:
            msg = "someone else changed this plan first; re-read it and try again"
            raise ConcurrencyConflict(msg)
        return done

    def _attempt(
        self,
        plan: Plan,
        actor_id: UUID,
        request_id: str | None,
        expected_version: int | None,
        command: PlanCommand[R],
        *,
        fresh: bool = False,
    ) -> tuple[Plan, R] | None:
        """One try of a plan command: None when the plan turned out stale or lost a race.

        ``fresh``: the plan was just loaded, so an expected version ahead of it is a mismatch
        (not a sign that a kept copy is behind).
        """
        try:
            partner = self._partner_to_read(plan.partner_id)
            try:
                by = partner.vouch(
                    self._identity(actor_id), at=self._now(plan), request_id=request_id
                )
            except OutOfScope:
                msg = f"plan {plan.id} not found"
                raise OutOfScope(msg) from None
            if expected_version is not None and expected_version != plan.version:
                if plan.version < expected_version and not fresh:
                    return None  # kept copy is behind what the caller saw: reload
                raise VersionMismatch(expected_version, plan.version)
            result = command(plan, by, partner)
        except LedgerError:
            self._plans.put(plan.id, plan)  # a refused command leaves the plan as it was
            raise
        try:
            self.save(plan)
        except ConcurrencyConflict:
            return None
        self._plans.put(plan.id, copy.deepcopy(plan))
        return plan, result

    # ------------------------------------------------- actors and partners

    def register_actor(
        self,
        *,
        name: str,
        email: str,
        role: Role,
        partner_id: UUID | None = None,
        by: UUID | None = None,
        request_id: str | None = None,
    ) -> tuple[Actor, str]:
        """Register an actor and issue their first token; returns the actor and the token.

        ``by`` is the registering admin; None is the operator at the command line.
        """
        acting = self._as_admin(by, request_id)
        if partner_id is not None:
            try:
                self.get_partner(partner_id)
            except NotFound:
                msg = f"no partner with id {partner_id}"
                raise InvalidInput(msg) from None
        actor = Actor.register(name=name, email=email, role=role, partner_id=partner_id, by=acting)
        token = new_token()
        actor.issue_token(hash_token(token), by=acting)
        self.save(actor)
        return actor, token

    def issue_token(
        self, actor_id: UUID, *, by: UUID | None = None, request_id: str | None = None
    ) -> str:
        """Issue another token to an actor; older tokens stay valid until revoked."""
        acting = self._as_admin(by, request_id)
        actor = self.get_actor(actor_id)
        token = new_token()
        actor.issue_token(hash_token(token), by=acting)
        self.save(actor)
        return token

    def revoke_tokens(
        self, actor_id: UUID, *, by: UUID | None = None, request_id: str | None = None
    ) -> Actor:
        """Revoke every token of an actor."""
        acting = self._as_admin(by, request_id)
        actor = self.get_actor(actor_id)
        actor.revoke_tokens(by=acting)
        self.save(actor)
        return actor

    def register_partner(
        self,
        *,
        name: str,
        manager_id: UUID,
        by: UUID | None = None,
        request_id: str | None = None,
    ) -> Partner:
        """Register a partner organisation owned by a channel manager."""
        acting = self._as_admin(by, request_id)
        manager = self._existing_actor(manager_id, "manager_id")
        partner = Partner.register(name=name, manager=manager, by=acting)
        self.save(partner)
        return partner

    def reassign_manager(
        self,
        partner_id: UUID,
        *,
        manager_id: UUID,
        by: UUID | None = None,
        request_id: str | None = None,
    ) -> Partner:
        """Hand a partnership to another channel manager."""
        acting = self._as_admin(by, request_id)
        partner = self.get_partner(partner_id)
        manager = self._existing_actor(manager_id, "manager_id")
        partner.reassign_manager(manager, by=acting)
        self.save(partner)
        return partner

    def _existing_actor(self, actor_id: UUID, field: str) -> Actor:
        """An actor named in a request body (only its immutable facts are used)."""
        try:
            return self._identity(actor_id)
        except NotFound:
            msg = f"{field}: no actor with id {actor_id}"
            raise InvalidInput(msg) from None

    # ------------------------------------------------------------- plans

    def draft_plan(
        self,
        *,
        partner_id: UUID,
        title: str,
        period_start: date,
        period_end: date,
        objectives: Sequence[str] = (),
        report_every_days: int = 14,
        review_every_days: int = 30,
        grace_days: int = 3,
        actor_id: UUID,
        request_id: str | None = None,
    ) -> Plan:
        """Draft a plan for a partnership (its manager or one of its contacts)."""
        partner = self._partner_to_read(partner_id)
        by = partner.vouch(self._identity(actor_id), at=self._now(), request_id=request_id)
        plan = Plan.draft(
            title=title,
            period_start=period_start,
            period_end=period_end,
            objectives=list(objectives),
            report_every_days=report_every_days,
            review_every_days=review_every_days,
            grace_days=grace_days,
            by=by,
        )
        self.save(plan)
        return plan

    def propose_metric(
        self,
        plan_id: UUID,
        spec: MetricSpec,
        *,
        actor_id: UUID,
        request_id: str | None = None,
        expected_version: int | None = None,
    ) -> tuple[Plan, UUID]:
        """Propose a metric on a draft plan; returns the plan and the new metric's id."""
        return self._on_plan(
            plan_id,
            actor_id,
            request_id,
            expected_version,
            lambda plan, by, _: plan.propose_metric(spec, by=by),
        )

    def revise_metric(
        self,
        plan_id: UUID,
        metric_id: UUID,
        spec: MetricSpec,
        *,
        actor_id: UUID,
        request_id: str | None = None,
        expected_version: int | None = None,
    ) -> Plan:
        """Revise a draft metric (a counter-proposal)."""
        plan, _ = self._on_plan(
            plan_id,
            actor_id,
            request_id,
            expected_version,
            lambda plan, by, _: plan.revise_metric(metric_id, spec, by=by),
        )
        return plan

    def agree_metric(
        self,
        plan_id: UUID,
        metric_id: UUID,
        *,
        actor_id: UUID,
        request_id: str | None = None,
        expected_version: int | None = None,
    ) -> Plan:
        """The caller's side agrees to a metric."""
        plan, _ = self._on_plan(
            plan_id,
            actor_id,
            request_id,
            expected_version,
            lambda plan, by, _: plan.agree_metric(metric_id, by=by),
        )
        return plan

    def commit(
        self,
        plan_id: UUID,
        *,
        actor_id: UUID,
        request_id: str | None = None,
        expected_version: int | None = None,
    ) -> Plan:
        """The caller's side commits; the second commitment activates the plan."""
        plan, _ = self._on_plan(
            plan_id,
            actor_id,
            request_id,
            expected_version,
            lambda plan, by, _: plan.commit(by=by),
        )
        return plan

    def report_progress(
        self,
        plan_id: UUID,
        metric_id: UUID,
        *,
        value: Decimal,
        as_of: date,
        note: str | None = None,
        evidence_url: str | None = None,
        actor_id: UUID,
        request_id: str | None = None,
        expected_version: int | None = None,
    ) -> Plan:
        """The owner side reports a metric's value."""
        plan, _ = self._on_plan(
            plan_id,
            actor_id,
            request_id,
            expected_version,
            lambda plan, by, _: plan.report_progress(
                metric_id, value=value, as_of=as_of, note=note, evidence_url=evidence_url, by=by
            ),
        )
        return plan

    def record_review(
        self,
        plan_id: UUID,
        *,
        held_on: date,
        attendee_ids: Iterable[UUID],
        notes: str | None = None,
        decisions: str | None = None,
        actor_id: UUID,
        request_id: str | None = None,
        expected_version: int | None = None,
    ) -> tuple[Plan, UUID]:
        """Record a review; attendees are the partnership's parties or vendor leaders."""
        named = list(dict.fromkeys(attendee_ids))

        def review(plan: Plan, by: Acting, partner: Partner) -> UUID:
            attendees = [self._existing_actor(a, "attendee_ids") for a in named]
            return plan.record_review(
                held_on=held_on,
                attendees=partner.attendees(attendees),
                notes=notes,
                decisions=decisions,
                by=by,
            )

        return self._on_plan(plan_id, actor_id, request_id, expected_version, review)

    def propose_adjustment(
        self,
        plan_id: UUID,
        metric_id: UUID,
        *,
        kind: AdjustmentKind,
        reason: str,
        new_target: Decimal | None = None,
        new_due_date: date | None = None,
        actor_id: UUID,
        request_id: str | None = None,
        expected_version: int | None = None,
    ) -> tuple[Plan, UUID]:
        """Propose changing or retiring a metric of an active plan."""
        return self._on_plan(
            plan_id,
            actor_id,
            request_id,
            expected_version,
            lambda plan, by, _: plan.propose_adjustment(
                metric_id,
                kind=kind,
                reason=reason,
                new_target=new_target,
                new_due_date=new_due_date,
                by=by,
            ),
        )

    def accept_adjustment(
        self,
        plan_id: UUID,
        adjustment_id: UUID,
        *,
        reason: str | None = None,
        actor_id: UUID,
        request_id: str | None = None,
        expected_version: int | None = None,
    ) -> Plan:
        """The other side accepts an adjustment."""
        plan, _ = self._on_plan(
            plan_id,
            actor_id,
            request_id,
            expected_version,
            lambda plan, by, _: plan.accept_adjustment(adjustment_id, reason=reason, by=by),
        )
        return plan

    def reject_adjustment(
        self,
        plan_id: UUID,
        adjustment_id: UUID,
        *,
        reason: str | None = None,
        actor_id: UUID,
        request_id: str | None = None,
        expected_version: int | None = None,
    ) -> Plan:
        """The other side rejects an adjustment."""
        plan, _ = self._on_plan(
            plan_id,
            actor_id,
            request_id,
            expected_version,
            lambda plan, by, _: plan.reject_adjustment(adjustment_id, reason=reason, by=by),
        )
        return plan

    def withdraw_adjustment(
        self,
        plan_id: UUID,
        adjustment_id: UUID,
        *,
        reason: str | None = None,
        actor_id: UUID,
        request_id: str | None = None,
        expected_version: int | None = None,
    ) -> Plan:
        """The proposing side withdraws its adjustment."""
        plan, _ = self._on_plan(
            plan_id,
            actor_id,
            request_id,
            expected_version,
            lambda plan, by, _: plan.withdraw_adjustment(adjustment_id, reason=reason, by=by),
        )
        return plan

    def close_plan(
        self,
        plan_id: UUID,
        *,
        summary: str | None = None,
        actor_id: UUID,
        request_id: str | None = None,
        expected_version: int | None = None,
    ) -> Plan:
        """Close a plan after its period; its metrics are graded met or missed."""
        plan, _ = self._on_plan(
            plan_id,
            actor_id,
            request_id,
            expected_version,
            lambda plan, by, _: plan.close(summary=summary, by=by),
        )
        return plan
