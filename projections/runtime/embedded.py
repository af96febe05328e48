"""The projections running inside another process (the embedded server), on a thread."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence

import psycopg
import psycopg_pool
from eventsourcing import persistence

from ledger.application import Counterpart
from projections.runtime.day_turn import DayTurn
from projections.runtime.registry import all_projections
from projections.runtime.runner import DEFAULT_BATCH, Projection, Runner, Status
from projections.runtime.store import ReadStore

UNAVAILABLE = (
    persistence.OperationalError,
    persistence.InterfaceError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
    psycopg_pool.PoolTimeout,
    sqlite3.OperationalError,
)
"""Errors that mean the database is away for now, not that a projection is wrong."""
MAX_PAUSE = 1.0
"""Seconds between attempts to reach the database again, at most."""


class EmbeddedProjections:
    """Keeps the read models up to date from a background thread of the hosting process.

    ``start`` creates the tables, catches up, and follows the ledger; ``stop`` returns once the
    thread has finished its current batch. The server's lifespan owns one of these in the
    embedded (SQLite) mode; with PostgreSQL a separate ``counterpart projections run`` worker
    can do the same job instead.
    """

    def __init__(
        self,
        app: Counterpart,
        store: ReadStore,
        projections: Sequence[Projection] | None = None,
        *,
        poll_interval: float = 0.1,
        batch_size: int = DEFAULT_BATCH,
        day_turn: bool = True,
    ) -> None:
        self.runner = Runner(app, store, projections or all_projections(app), batch_size=batch_size)
        self.day_turn = DayTurn(self.runner) if day_turn else None
        self.poll_interval = poll_interval
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None

    def start(self) -> None:
        """Create the tables, start following the ledger and (unless told not to) the day
        turn, which computes each day's roll-ups ahead (``projections.runtime.day_turn``)."""
        self.runner.setup()
        self._thread = threading.Thread(target=self._run, name="projections", daemon=True)
        self._thread.start()
        if self.day_turn is not None:
            self.day_turn.start()

    def _run(self) -> None:
        """Follow the ledger; while the database is away, retry with a growing pause.

        A database error (connection lost, server restarting) is kept in ``error`` and retried
        every 0.1 s to 1 s (at once when a read nudges) until it answers again; any other
        error (a projection's bug) ends the thread, which health checks report.
        """
        pause = 0.1
        while not self.runner.stopping:
            try:
                self.runner.run_forever(self.poll_interval)
            except UNAVAILABLE as error:
                self.error = error
                self.runner.pause(pause)
                pause = min(pause * 2, MAX_PAUSE)
            except BaseException as error:  # kept for health checks; the thread ends
                self.error = error
                return

    @property
    def running(self) -> bool:
        """Whether the thread is alive (a crashed runner is not)."""
        return self._thread is not None and self._thread.is_alive()

    def status(self) -> list[Status]:
        """Each projection's position and lag."""
        return self.runner.status()

    def nudge(self) -> None:
        """Events were just appended here: process them now rather than at the next poll."""
        self.runner.nudge()

    def wait_for(self, position: int, timeout: float = 5.0) -> bool:
        """Wait (bounded) until every projection has processed ``position``."""
        return self.runner.wait_for(position, timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the day turn and following the ledger, and wait for the threads."""
        if self.day_turn is not None:
            self.day_turn.stop(timeout)
        self.runner.stop()
        if self._thread is not None:
            self._thread.join(timeout)
