"""Clocks: the system clock in production, a simulated one for tests and demo histories."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Tells the recorded time of the next event."""

    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The machine's clock, in UTC."""

    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        return datetime.now(tz=UTC)


class SimulatedClock:
    """A clock that only moves when told to (thread-safe)."""

    def __init__(self, start: datetime) -> None:
        if start.utcoffset() != timedelta(0):
            msg = "a simulated clock starts at a timezone-aware UTC time"
            raise ValueError(msg)
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The simulated current time."""
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward and return the new time."""
        if delta < timedelta(0):
            msg = "a clock does not run backwards"
            raise ValueError(msg)
        with self._lock:
            self._now += delta
            return self._now

    def set(self, moment: datetime) -> None:
        """Move the clock to a later moment."""
        with self._lock:
            if moment < self._now:
                msg = "a clock does not run backwards"
                raise ValueError(msg)
            self._now = moment
