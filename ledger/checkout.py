"""A bounded cache of aggregates a command takes exclusively and puts back after saving."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Generic, TypeVar
from uuid import UUID

T = TypeVar("T")


class Checkout(Generic[T]):
    """Aggregates kept between commands, without copying.

    ``take`` removes the aggregate, so two threads never mutate the same object; the command
    ``put``s it back only after its events were saved (or refused without changing it). A copy
    taken here may be stale if another process wrote since: the save then conflicts and the
    command retries on a fresh load, so decisions are never made on stale state that lands.
    """

    def __init__(self, maxsize: int) -> None:
        self._maxsize = maxsize
        self._items: OrderedDict[UUID, T] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: UUID) -> T | None:
        """Remove and return the aggregate, if kept."""
        with self._lock:
            return self._items.pop(key, None)

    def put(self, key: UUID, item: T) -> None:
        """Keep the aggregate for the next command, evicting the least recently used."""
        if self._maxsize <= 0:
            return
        with self._lock:
            self._items[key] = item
            self._items.move_to_end(key)
            while len(self._items) > self._maxsize:
                self._items.popitem(last=False)

    def discard(self, key: UUID) -> None:
        """Forget the aggregate."""
        with self._lock:
            self._items.pop(key, None)
