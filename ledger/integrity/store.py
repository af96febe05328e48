"""What the verifier, the exporter and the notary read and write: the chain's store.

``ChainStore`` is the protocol both chained recorders implement (``sqlite_recorder.py``,
``postgres_recorder.py``); the row types and table names are the ones they share.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any, Protocol

from ledger.integrity.chain import Link
from ledger.integrity.signing import Checkpoint

RawEvent = tuple[int, str, int, str, bytes]
"""An event as the chain sees it: position, aggregate id, version, topic, stored data."""
Checked = Sequence[Any]
"""An event with its link: position, stored aggregate id (see ``ChainStore.identity``),
version, topic, stored data, and the link's previous position, leaf and chain hash (all
None when the event has no link)."""

CHAIN_TABLE = "cp_chain"
CHECKPOINT_TABLE = "cp_checkpoints"


class ChainStore(Protocol):
    """What verification and checkpointing read and write."""

    reads_concurrently: bool
    """Whether a read in another thread overlaps with hashing here (the database works
    while Python waits) rather than contending for the interpreter (SQLite, in process)."""

    def chain_head(self) -> tuple[int, bytes]:
        """The last link's position and chain hash (0 and the genesis hash when empty)."""
        ...

    def max_notification_id(self) -> int | None:
        """The last event's position."""
        ...

    def select_raw_events(self, after: int, stop: int, limit: int) -> list[RawEvent]:
        """Events with ``after < position <= stop``, in order, at most ``limit``."""
        ...

    def select_links(self, after: int, stop: int) -> list[Link]:
        """Links with ``after < position <= stop``, in order."""
        ...

    def checked_pages(
        self, after: int, upto: int, page: int
    ) -> Generator[Sequence[Checked], None, None]:
        """Pages of at most ``page`` events in ``(after, upto]``, each event with its link,
        all read in one transaction (one consistent view)."""
        ...

    def identity(self, stored_id: str) -> str:
        """An aggregate id as the chain hashes it, from its stored form."""
        ...

    def link_before(self, position: int) -> tuple[int, bytes]:
        """The last event at or before ``position`` and its link's chain hash (0 and the
        genesis hash when there is none; 32 zero bytes if that event has no link)."""
        ...

    def find_link(self, originator_id: str, version: int) -> int | None:
        """The position the chain records for an event, if any."""
        ...

    def find_event(self, originator_id: str, version: int) -> int | None:
        """The position an event is stored at, if any."""
        ...

    def insert_checkpoint(self, checkpoint: Checkpoint) -> bool:
        """Store a checkpoint; False if one at that position exists already."""
        ...

    def link_legacy_events(self) -> int:
        """Chain the events of a ledger recorded before the chain existed; how many.

        Only a ledger with no links and no checkpoints at all is linked: events beyond the
        head of an existing chain were not appended through it, and must be reported by
        verification, never adopted.
        """
        ...

    def select_checkpoints(self) -> list[Checkpoint]:
        """Every stored checkpoint, by position."""
        ...

    def latest_checkpoint(self) -> Checkpoint | None:
        """The stored checkpoint of the highest position, if any."""
        ...


def checkpoint_from(row: Sequence[Any]) -> Checkpoint:
    """A checkpoint from its stored row."""
    return Checkpoint(
        position=int(row[0]),
        chain_hash=str(row[1]),
        issued_at=str(row[2]),
        key_id=str(row[3]),
        signature=str(row[4]),
    )


def checkpoint_row(checkpoint: Checkpoint) -> tuple[int, str, str, str, str]:
    """A checkpoint as its stored row."""
    return (
        checkpoint.position,
        checkpoint.chain_hash,
        checkpoint.issued_at,
        checkpoint.key_id,
        checkpoint.signature,
    )
