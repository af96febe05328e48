"""The projection runner: reads the ledger in global order, in batches, exactly once.

Each batch of events is applied to a projection's rows and its tracking position in one
transaction, so a crash at any instant leaves a projection before or after a whole batch.
Several projections at the same position share one read of the ledger and one transaction.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Any, Protocol

from ledger.application import Counterpart
from projections.runtime.store import Cursor, ReadStore

TRACKING_TABLE = "cp_tracking"
DEFAULT_BATCH = 1000


@dataclass(frozen=True)
class Positioned:
    """A domain event with its global position in the ledger, and its state as stored."""

    position: int
    event: Any
    stored: bytes = b""


class Projection(Protocol):
    """A read model: its tables, and how a batch of events changes them."""

    name: str

    def create(self, cursor: Cursor, dialect: str) -> None:
        """Create the projection's tables if missing."""
        ...

    def drop(self, cursor: Cursor) -> None:
        """Drop the projection's tables."""
        ...

    def process(self, cursor: Cursor, batch: Sequence[Positioned]) -> None:
        """Apply a batch of events, oldest first, to the projection's rows."""
        ...


@dataclass(frozen=True)
class Status:
    """Where a projection stands against the ledger."""

    name: str
    position: int
    head: int

    @property
    def lag(self) -> int:
        """Events recorded but not yet processed."""
        return max(0, self.head - self.position)


SETUP_LOCK = 0x436F756E  # "Coun": the advisory lock that serialises creating tables
COALESCE = 0.02
"""Seconds a following runner waits after a short batch, to gather the next appends."""


class Runner:
    """Keeps projections up to date with the ledger."""

    def __init__(
        self,
        app: Counterpart,
        store: ReadStore,
        projections: Sequence[Projection],
        batch_size: int = DEFAULT_BATCH,
    ) -> None:
        self.app = app
        self.store = store
        self.projections = {p.name: p for p in projections}
        self.batch_size = batch_size
        self._progress = threading.Condition()
        self._stopping = threading.Event()
        self._nudged = threading.Event()
        self._reached = 0  # every projection has processed this far (as this runner saw)
        self._applied: dict[str, int] = {}  # each projection's position after our batches

    # ------------------------------------------------------------------ setup

    def setup(self) -> None:
        """Create the tracking table, each projection's tables and tracking row.

        Safe when several processes start at once: on PostgreSQL they take turns (an advisory
        lock), since concurrent ``CREATE TABLE IF NOT EXISTS`` can collide.
        """
        with self.store.transaction() as cursor:
            if self.store.dialect == "postgres":
                cursor.execute("SELECT pg_advisory_xact_lock(?)", (SETUP_LOCK,))
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {TRACKING_TABLE} ("
                "name TEXT PRIMARY KEY, position BIGINT NOT NULL)"
            )
            for name, projection in self.projections.items():
                projection.create(cursor, self.store.dialect)
                cursor.execute(
                    f"INSERT INTO {TRACKING_TABLE} (name, position) VALUES (?, 0) "
                    "ON CONFLICT (name) DO NOTHING",
                    (name,),
                )

    def positions(self) -> dict[str, int]:
        """Each projection's tracking position."""
        with self.store.reading() as cursor:
            cursor.execute(f"SELECT name, position FROM {TRACKING_TABLE}")
            stored = {str(name): int(position) for name, position in cursor.fetchall()}
        return {name: stored.get(name, 0) for name in self.projections}

    def status(self) -> list[Status]:
        """Position and lag of every projection."""
        head = self.app.recorder.max_notification_id() or 0
        return [Status(name, pos, head) for name, pos in self.positions().items()]

    # ---------------------------------------------------------------- running

    def run_once(self) -> int:
        """Process at most one batch per group of projections; returns events processed."""
        processed = 0
        positions = self.positions()
        for name, position in positions.items():
            self._applied[name] = max(self._applied.get(name, 0), position)
        by_position = sorted(positions.items(), key=lambda item: item[1])
        for position, group in groupby(by_position, key=lambda item: item[1]):
            names = [name for name, _ in group]
            notifications = self.app.recorder.select_notifications(
                start=position + 1, limit=self.batch_size
            )
            if not notifications:
                continue
            batch = [
                Positioned(n.id, self.app.mapper.to_domain_event(n), n.state) for n in notifications
            ]
            processed += self._apply(names, position, batch)
        if processed:
            reached = min(self._applied.get(name, 0) for name in self.projections)
            with self._progress:
                self._reached = max(self._reached, reached)
                self._progress.notify_all()
        return processed

    def _apply(self, names: list[str], position: int, batch: list[Positioned]) -> int:
        last = batch[-1].position
        lock = " FOR UPDATE" if self.store.dialect == "postgres" else ""
        done: list[str] = []
        with self.store.transaction() as cursor:
            applied = 0
            for name in names:
                cursor.execute(
                    f"SELECT position FROM {TRACKING_TABLE} WHERE name = ?{lock}", (name,)
                )
                row = cursor.fetchone()
                if row is None or int(row[0]) != position:
                    continue  # another worker got there first; its batch stands
                self.projections[name].process(cursor, batch)
                cursor.execute(
                    f"UPDATE {TRACKING_TABLE} SET position = ? WHERE name = ?", (last, name)
                )
                applied = len(batch)
                done.append(name)
        for name in done:  # committed: these have reached ``last``
            self._applied[name] = max(self._applied.get(name, 0), last)
        return applied

    def catch_up(self, on_batch: Callable[[int], None] | None = None) -> int:
        """Process until every projection has reached the ledger's head.

        ``on_batch`` is told how many events each round processed (for progress bars).
        """
        total = 0
        while processed := self.run_once():
            total += processed
            if on_batch is not None:
                on_batch(processed)
        return total

    def apply(
        self, batch: Sequence[Positioned], on_projection: Callable[[int], None] | None = None
    ) -> None:
        """Apply events the caller holds in memory, one transaction per projection.

        For a writer that has just saved the whole ledger itself (the demo): ``batch`` must be
        every event after the projections' positions, in ledger order, so reading them back
        would give the same events. A projection not at the position just before the batch
        is refused. ``on_projection`` is told ``len(batch)`` as each projection is done.
        """
        if not batch:
            return
        start = batch[0].position
        positions = self.positions()
        behind = [name for name, position in positions.items() if position != start - 1]
        if behind:
            msg = f"projection {behind[0]} is at {positions[behind[0]]}, not at {start - 1}"
            raise ValueError(msg)
        for name in self.projections:
            self._apply([name], start - 1, list(batch))
            if on_projection is not None:
                on_projection(len(batch))
        reached = min(self._applied.get(name, 0) for name in self.projections)
        with self._progress:
            self._reached = max(self._reached, reached)
            self._progress.notify_all()

    def run_forever(self, poll_interval: float = 0.2, coalesce: float = COALESCE) -> None:
        """Catch up, then follow the ledger until stopped.

        On PostgreSQL the runner LISTENs to the channel the event store NOTIFYs on every
        append, and still polls every ``poll_interval`` in case a notification is lost; on
        SQLite it polls. Having caught up with a short batch, it pauses ``coalesce`` seconds
        before looking again, so that a stream of single appends is processed a few at a
        time (per-batch work dominates tiny batches) at the price of that much more lag.
        """
        channel = getattr(self.app.recorder, "channel_name", self.app.name)
        wakeup = self.store.wakeup(channel, self._nudged)
        try:
            while not self._stopping.is_set():
                processed = self.run_once()
                if not processed:
                    wakeup.wait(poll_interval)
                elif processed < self.batch_size and coalesce > 0:
                    self._stopping.wait(coalesce)
        finally:
            wakeup.close()

    @property
    def stopping(self) -> bool:
        """Whether ``stop`` was called."""
        return self._stopping.is_set()

    def pause(self, seconds: float) -> None:
        """Sleep, unless stopped or nudged meanwhile."""
        self._nudged.wait(seconds)
        self._nudged.clear()

    def nudge(self) -> None:
        """Say that events were appended: a polling runner looks at once instead of sleeping."""
        self._nudged.set()

    def stop(self) -> None:
        """Ask ``run_forever`` to return (within one poll interval)."""
        self._stopping.set()
        self._nudged.set()

    def wait_for(self, position: int, timeout: float = 5.0) -> bool:
        """Wait until every projection has processed ``position``; False on timeout.

        Batches this runner applies wake the waiter at once; batches of other processes (a
        separate worker) are seen by re-reading the tracking positions every 10 ms.
        """
        deadline = time.monotonic() + timeout
        while True:
            with self._progress:
                if self._reached >= position:
                    return True
            if min(self.positions().values(), default=position) >= position:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            with self._progress:
                if self._reached < position:
                    self._progress.wait(min(remaining, 0.01))

    # ---------------------------------------------------------------- rebuild

    def reset(self, name: str) -> None:
        """Drop a projection's rows and set it back to position 0, in one transaction."""
        projection = self.projections[name]
        with self.store.transaction() as cursor:
            projection.drop(cursor)
            projection.create(cursor, self.store.dialect)
            cursor.execute(f"UPDATE {TRACKING_TABLE} SET position = 0 WHERE name = ?", (name,))

    def rebuild(self, name: str, on_batch: Callable[[int], None] | None = None) -> int:
        """Drop a projection's rows and replay the whole ledger into it.

        If the process dies half-way, running the projection again resumes from the last
        committed batch: the result is the same as an uninterrupted rebuild.
        """
        self.reset(name)
        return self.catch_up(on_batch)
