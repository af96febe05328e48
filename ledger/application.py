"""The Counterpart application: one ``handle`` for every command, loading, time travel, wiring."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import MutableOrImmutableAggregate
from eventsourcing.persistence import (
    IntegrityError,
    JSONTranscoder,
    Recording,
    Transcoder,
)
from eventsourcing.utils import Environment, EnvType

from ledger import handlers
from ledger.clock import Clock, SystemClock
from ledger.commands import Command, Context, Done, PlanCommand
from ledger.domain import (
    OPERATOR,
    Acting,
    Actor,
    ConcurrencyConflict,
    InvalidInput,
    LedgerError,
    NotFound,
    Partner,
    Plan,
)
from ledger.domain.base import LedgerAggregate
from ledger.idempotency import Kept, KeyReused, Recorded
from ledger.integrity import ChainStore, chain_store
from ledger.persistence import library_env
from ledger.recovery import recorded_already
from ledger.settings import Settings
from ledger.transcodings import register_all

A = TypeVar("A", bound=LedgerAggregate)
T = TypeVar("T")

SNAPSHOT_INTERVAL = 25
"""Plans are snapshotted every 25 events; docs/performance.md has the measurement."""
PLAN_LOCKS = 64
"""Commands on one plan in one process take turns (one of this many locks, by plan id)."""
LIBRARY_ATTEMPTS = 10
"""The eventsourcing PostgreSQL recorder tries each query this many times on a connection
error; each try waits at most this fraction of the connect timeout for a connection."""


class Counterpart(Application[UUID]):
    """The ledger of mutual accountability: actors, partners and their plans."""

    name = "counterpart"
    snapshotting_intervals = {Plan: SNAPSHOT_INTERVAL}  # noqa: RUF012 (library's class API)

    def __init__(self, settings: Settings | None = None, clock: Clock | None = None) -> None:
        self.settings = settings or Settings.from_env()
        self.clock: Clock = clock or SystemClock()
        self._saved = threading.local()
        self._plan_locks = [threading.Lock() for _ in range(PLAN_LOCKS)]
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
        """Configure from the settings only, never from stray process environment.

        The library's aggregate cache is the one cache: it keeps each saved aggregate (no
        fast-forward query before a command, no copy); a copy gone stale because another
        process wrote makes the save conflict, and the command runs again on a fresh load.
        """
        values = dict(type(self).env)
        values["IS_SNAPSHOTTING_ENABLED"] = "y"
        values["AGGREGATE_CACHE_FASTFORWARD"] = "n"
        values["DEEPCOPY_FROM_AGGREGATE_CACHE"] = "n"
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
        """Store the pending events (with ``kept``: a key's answer; ``checked``: versions
        read) in one transaction; a conflict raises ConcurrencyConflict, storing nothing."""
        try:
            recordings = super().save(*objs, **kwargs)
        except IntegrityError:
            for obj in objs:
                if isinstance(obj, LedgerAggregate):
                    self._forget(obj.id)
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
            recordings = recorded_already(self.mapper, self.recorder, processing_event.events)
            if recordings is None:
                raise
            return recordings

    def head_position(self) -> int:
        """The global position of the newest event in the ledger (0 while it is empty)."""
        return self.recorder.max_notification_id() or 0

    @property
    def transcoder(self) -> Transcoder:
        """Decodes stored event bodies (for the history and the export)."""
        return self.mapper.transcoder

    def chain(self) -> ChainStore:
        """The hash chain's links and signed checkpoints, kept with the events."""
        return chain_store(self.recorder)

    def last_saved_position(self) -> int:
        """The global position of the last event this thread saved (0 if none).

        A caller that wants to read its own writes waits until the projections have processed
        this position (``projections.runtime.runner.Runner.wait_for``).
        """
        position: int = getattr(self._saved, "position", 0)
        return position

    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        """Snapshot plans from the saved aggregate in memory, instead of replaying it again."""
        snapshots = []
        for event in processing_event.events:
            aggregate = processing_event.aggregates.get(event.originator_id)
            if not isinstance(aggregate, Plan):
                continue
            if event.originator_version % SNAPSHOT_INTERVAL:
                continue
            if aggregate.version == event.originator_version:
                snapshots.append(Plan.Snapshot.take(aggregate))
            else:  # a later event of the same save: rebuild that version from the store
                self.take_snapshot(aggregate.id, version=event.originator_version)
        if snapshots and self.snapshots is not None:
            self.snapshots.put(snapshots)

    # ------------------------------------------------------------- loading

    def _forget(self, aggregate_id: UUID) -> None:
        """Drop an aggregate from the cache (its next load reads the store)."""
        cache = self.repository.cache
        if cache is not None:
            with contextlib.suppress(KeyError):
                cache.get(aggregate_id, evict=True)

    def load(
        self, kind: type[A], aggregate_id: UUID, version: int | None = None, *, fresh: bool = False
    ) -> A:
        """An aggregate from the cache (``fresh``: from the store), or NotFound.

        The aggregate returned for the current version is the cached one: read it, or change
        it through ``handle`` only.
        """
        noun = kind.__name__.lower()
        if fresh:
            self._forget(aggregate_id)
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
        """The actor with this id, as stored now."""
        return self.load(Actor, actor_id, fresh=True)

    def get_partner(self, partner_id: UUID) -> Partner:
        """The partner with this id, as stored now."""
        return self.load(Partner, partner_id, fresh=True)

    def get_plan(self, plan_id: UUID, version: int | None = None) -> Plan:
        """The plan as stored now (another process may have written since this one cached
        it), or as it was after its ``version``-th event."""
        if version is not None and version < 1:
            msg = "version counts events from 1"
            raise InvalidInput(msg)
        return self.load(Plan, plan_id, version, fresh=version is None)

    def read_kept_plan(self, plan_id: UUID, read: Callable[[Plan, Partner | None], T]) -> T | None:
        """``read`` of this process's cached plan if it is the stored version, under the plan's
        lock (no command is half-way on it), with its cached partner if that is current too
        (else None); None if no current copy of the plan is kept here. One query checks both."""
        with self._plan_locks[hash(plan_id) % PLAN_LOCKS]:
            plan = self._cached(plan_id)
            if not isinstance(plan, Plan):
                return None
            partner = self._cached(plan.partner_id)
            stored = self.recorder.stored_versions([plan_id, plan.partner_id])  # type: ignore[attr-defined]
            if plan.version != stored.get(plan_id):
                return None
            if not isinstance(partner, Partner) or partner.version != stored.get(partner.id):
                partner = None
            return read(plan, partner)

    def _cached(self, aggregate_id: UUID) -> object:
        """The aggregate cached for an id, or None."""
        cache = self.repository.cache
        try:
            return None if cache is None else cache.get(aggregate_id)
        except KeyError:
            return None

    def stored_version(self, aggregate_id: UUID) -> int | None:
        """The version of an aggregate's last stored event (None if it has none)."""
        latest = self.recorder.select_events(aggregate_id, desc=True, limit=1)
        return latest[0].originator_version if latest else None

    def plan_as_of(self, plan_id: UUID, at: datetime) -> Plan:
        """The plan as it was at a moment: every event recorded at or before ``at``.

        Recorded times never decrease within a plan, so the version is found by bisection
        over snapshot-backed loads rather than by replaying every event.
        """
        stored = self.stored_version(plan_id)
        if stored is None:
            msg = f"plan {plan_id} not found"
            raise NotFound(msg)
        current = self.get_plan(plan_id, stored)
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

    def answer_of(self, actor_id: UUID, key: str) -> Recorded | None:
        """The record of an actor's Idempotency-Key, if a command was stored with it."""
        select: Callable[[UUID, str], Recorded | None] = self.recorder.select_answer  # type: ignore[attr-defined]
        return select(actor_id, key)

    # ------------------------------------------------------------ handling

    def now(self, *aggregates: LedgerAggregate) -> datetime:
        """The recorded time: the clock, but never before an aggregate's last event."""
        return max([self.clock.now(), *(a.modified_on for a in aggregates)])

    def acting(self, actor_id: UUID | None, request_id: str | None, *, fresh: bool) -> Acting:
        """An admin command's actor: the operator at the command line, or a stored actor."""
        if actor_id is None:
            return Acting(actor=OPERATOR, at=self.now(), request_id=request_id)
        actor = self.load(Actor, actor_id, fresh=fresh)
        return Acting(actor=actor.ref, at=self.now(), request_id=request_id)

    def handle(self, command: Command, context: Context | None = None) -> Done:
        """Handle a command in one session: load, run the aggregate's method, save.

        Commands on one plan in this process take turns. A command runs on the cached
        aggregates first; refused or conflicting there, it runs once more on state loaded
        from the store (another process may have written). With an Idempotency-Key, the
        answer (``context.answer``) is stored with the events in one transaction, and a key
        stored already is answered from its record (``Done.replayed``), storing nothing.
        """
        ctx = context or Context()
        if isinstance(command, PlanCommand):
            with self._plan_locks[hash(command.plan_id) % PLAN_LOCKS]:
                return self._handled(command, ctx)
        return self._handled(command, ctx)

    def _handled(self, command: Command, ctx: Context) -> Done:
        for fresh in (False, True):
            try:
                step = handlers.run(self, command, ctx, fresh=fresh)
            except LedgerError:
                if not fresh:
                    continue
                replay = self._replay(ctx)
                if replay is None:
                    raise
                return replay
            done = step.done
            try:
                if ctx.answer is not None:
                    done.answer = ctx.answer(done)
                kept = None
                if ctx.key is not None and done.answer is not None:
                    kept = Kept(ctx.key, done.answer, ctx.request_id)
                self.save(*step.changed, kept=kept, checked=step.checked)
            except BaseException as error:
                for aggregate in step.changed:  # its unsaved events must not reach a next save
                    self._forget(aggregate.id)
                if not isinstance(error, ConcurrencyConflict):
                    raise
                for aggregate_id in step.checked:
                    self._forget(aggregate_id)
                replay = self._replay(ctx)
                if replay is not None:
                    return replay
                if fresh:
                    raise
                continue
            return done
        msg = "unreachable: the second run returns or raises"  # pragma: no cover
        raise AssertionError(msg)  # pragma: no cover

    def _replay(self, ctx: Context) -> Done | None:
        """The recorded answer to the context's key, if a command was stored with it; a key
        used for another request is refused (InvalidInput names it)."""
        if ctx.key is None:
            return None
        found = self.answer_of(ctx.key.actor_id, ctx.key.key)
        if found is None:
            return None
        if found.fingerprint != ctx.key.fingerprint:
            raise KeyReused
        return Done(None, None, found.answer, replayed=True)
