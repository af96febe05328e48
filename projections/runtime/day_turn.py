"""The day turn: at start and whenever the day turns, today's roll-ups are computed ahead."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, timedelta

import structlog

from projections.models.directory import manager_ids
from projections.models.rollup_reads import RollupDays
from projections.rules.series import DEFAULT_POINTS, series_days
from projections.runtime.runner import Runner
from projections.runtime.store import ReadStore

LOGGER = "counterpart.day_turn"
EVERY = 7
"""Days between the portfolio series' points that are computed ahead (the default series)."""
LOOK_EVERY = 30.0
"""Seconds between looks at the clock."""
DATES_AT_ONCE = 4
"""Series dates filled per step (the facts are read once per step; stopping waits for one)."""


def warm(
    store: ReadStore,
    today: date,
    *,
    every: int = EVERY,
    points: int = DEFAULT_POINTS,
    stopping: Callable[[], bool] = lambda: False,
) -> list[date]:
    """Compute and keep what the first reads of a day would: today's portfolio, each manager's
    roll-up of today, then the portfolio series' other dates not kept yet (those kept are
    not computed again). The series' dates, oldest first."""
    rollups = RollupDays(store)
    rollups.portfolio(today)
    with store.reading() as cursor:
        managers = manager_ids(cursor)
    for manager_id in managers:
        if stopping():
            return []
        rollups.manager(manager_id, today)
    days = series_days(today - timedelta(days=every * (points - 1)), today, every)
    lacking = [day for day in days if not rollups.has_portfolio(day)]
    for start in range(0, len(lacking), DATES_AT_ONCE):
        if stopping():
            return []
        rollups.portfolios(lacking[start : start + DATES_AT_ONCE])
    return days


class DayTurn:
    """A thread that warms the roll-ups once the projections have caught up at start, then
    again each time the clock's date changes; ``stop`` returns once it has ended.

    A failed turn (the database away, say) is kept in ``error``, logged, and tried again at
    the next look: reads compute what is not kept, so a missed turn only costs time.
    """

    def __init__(self, runner: Runner, *, look_every: float = LOOK_EVERY) -> None:
        self.runner = runner
        self.look_every = look_every
        self.turned: date | None = None
        self.error: BaseException | None = None
        self._stopping = threading.Event()
        self._turned = threading.Condition()
        self._thread: threading.Thread | None = None
        self._log = structlog.get_logger(LOGGER)

    def start(self) -> None:
        """Start looking at the clock."""
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="day-turn", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopping.is_set():
            today = self.runner.app.clock.now().date()
            if today != self.turned and self._caught_up():
                self._turn(today)
            self._stopping.wait(self.look_every)

    def _caught_up(self) -> bool:
        """Whether the projections have processed the ledger's head (what is warmed is then
        up to date; warming earlier would compute figures about to be dropped)."""
        head = self.runner.app.recorder.max_notification_id() or 0
        return self.runner.wait_for(head, timeout=min(self.look_every, 1.0))

    def _turn(self, today: date) -> None:
        try:
            days = warm(self.runner.store, today, stopping=self._stopping.is_set)
        except Exception as error:  # tried again at the next look
            self.error = error
            self._log.warning("day_turn_failed", day=str(today), error=repr(error))
            return
        if not days:  # stopped half-way
            return
        self.error = None
        self._log.info("day_turned", day=str(today), dates=len(days))
        with self._turned:
            self.turned = today
            self._turned.notify_all()

    def wait_turned(self, day: date, timeout: float = 10.0) -> bool:
        """Wait (bounded) until the roll-ups of ``day`` have been warmed."""
        with self._turned:
            return self._turned.wait_for(lambda: self.turned == day, timeout)

    @property
    def running(self) -> bool:
        """Whether the thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop after the current step and wait for the thread."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
