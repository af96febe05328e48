"""What both chained recorders share: the remembered chain head and the events' chain form.

Each backend's application recorder is subclassed (``sqlite_recorder.py``,
``postgres_recorder.py``): after the library has inserted a batch of events (holding its write
lock: SQLite's single writer, PostgreSQL's EXCLUSIVE table lock), the recorder reads the
chain's head, hashes the new events in notification order and inserts their links. Events and
links commit together or not at all, so every acknowledged event is chained.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, StoredEvent

from ledger.integrity.chain import Link, originator_text
from ledger.integrity.store import RawEvent


class Head:
    """The chain's head as this process last committed it, to skip reading it again.

    It is used only when the first position of a new append directly follows it: positions
    are handed out under the append lock, so no other transaction committed an event in
    between. A head is remembered only after its transaction committed.
    """

    def __init__(self) -> None:
        self._committed: tuple[int, bytes] | None = None
        self._pending = threading.local()

    def known(self, first_position: int) -> tuple[int, bytes] | None:
        head = self._committed
        return head if head is not None and head[0] + 1 == first_position else None

    def extended(self, links: list[Link]) -> None:
        self._pending.head = (links[-1].position, links[-1].chain) if links else None

    def settled(self, *, committed: bool) -> None:
        head = getattr(self._pending, "head", None)
        self._pending.head = None
        if committed and head is not None:
            self._committed = head


class Remembering(ApplicationRecorder):
    """Settles the remembered head once an insert transaction committed or failed."""

    _head: Head

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """Insert events and their links in one transaction."""
        try:
            ids: Sequence[int] | None = super().insert_events(  # type: ignore[safe-super]
                stored_events, **kwargs
            )  # (the concrete recorder comes next in the MRO)
        except BaseException:
            self._head.settled(committed=False)
            raise
        self._head.settled(committed=True)
        return ids


def raw_events(ids: Sequence[int], stored_events: Sequence[StoredEvent]) -> list[RawEvent]:
    """Inserted events as the chain hashes them, at the positions the insert handed out."""
    texts: dict[object, str] = {}
    raw = []
    for position, event in zip(ids, stored_events, strict=True):
        text = texts.get(event.originator_id)
        if text is None:
            text = texts[event.originator_id] = originator_text(event.originator_id)
        raw.append((position, text, event.originator_version, event.topic, event.state))
    return raw


def sqlite_id(stored: str) -> str:
    """SQLite keeps a UUID as 32 hex digits; the chain hashes its 36-character form."""
    if len(stored) != 32:
        return stored
    return f"{stored[:8]}-{stored[8:12]}-{stored[12:16]}-{stored[16:20]}-{stored[20:]}"


def is_uuid(text: str) -> bool:
    """Whether an aggregate id is a UUID (the stores keep those in their own form)."""
    try:
        UUID(text)
    except ValueError:
        return False
    return True
