"""The hash chain over the global event order: canonical bytes, leaf hashes, chain steps.

Standard library only, so the same few lines serve the recorder (at append time), the
verifier (over the database) and the offline verifier (over an export file). The exact form
is documented in docs/integrity.md; change nothing here without a new version prefix.
"""

from __future__ import annotations

import hashlib
import struct
from typing import NamedTuple
from uuid import UUID

LEAF_PREFIX = b"counterpart/leaf/v1\x00"
CHAIN_PREFIX = b"counterpart/chain/v1\x00"
GENESIS = bytes(32)
"""The chain hash "before" the first event: 32 zero bytes."""

_U64 = struct.Struct(">Q")
_U32 = struct.Struct(">I")


def originator_text(originator_id: UUID | str) -> str:
    """An aggregate id as it is hashed: the UUID's 36-character lower-case form."""
    return str(originator_id)


def leaf_bytes(position: int, originator_id: str, version: int, topic: str, state: bytes) -> bytes:
    """The canonical bytes of one event at one position in the global order.

    ``state`` is the event's stored data exactly as recorded; it carries the recorded time
    (``timestamp``) and the acting actor (``actor``), so both are covered.
    """
    identity = originator_id.encode("utf-8")
    kind = topic.encode("utf-8")
    return b"".join(
        (
            LEAF_PREFIX,
            _U64.pack(position),
            _U32.pack(len(identity)),
            identity,
            _U64.pack(version),
            _U32.pack(len(kind)),
            kind,
            _U32.pack(len(state)),
            state,
        )
    )


def leaf_hash(position: int, originator_id: str, version: int, topic: str, state: bytes) -> bytes:
    """SHA-256 of the event's canonical bytes."""
    return hashlib.sha256(leaf_bytes(position, originator_id, version, topic, state)).digest()


def chain_step(previous: bytes, leaf: bytes) -> bytes:
    """The chain hash after an event: SHA-256 of the prefix, the previous hash and the leaf."""
    return hashlib.sha256(CHAIN_PREFIX + previous + leaf).digest()


class Link(NamedTuple):
    """One event's entry in the chain table (its fields in the table's column order)."""

    position: int
    previous_position: int
    originator_id: str
    version: int
    leaf: bytes
    chain: bytes


def extend(
    head_position: int,
    head_hash: bytes,
    events: list[tuple[int, str, int, str, bytes]],
) -> list[Link]:
    """The links of newly appended events ``(position, id, version, topic, state)``, in order."""
    links = []
    previous_position, chain = head_position, head_hash
    sha256, u64, u32 = hashlib.sha256, _U64.pack, _U32.pack
    for position, originator_id, version, topic, state in events:
        identity = originator_id.encode("utf-8")
        kind = topic.encode("utf-8")
        leaf = sha256(
            b"".join(
                (
                    LEAF_PREFIX,
                    u64(position),
                    u32(len(identity)),
                    identity,
                    u64(version),
                    u32(len(kind)),
                    kind,
                    u32(len(state)),
                    state,
                )
            )
        ).digest()
        chain = sha256(CHAIN_PREFIX + chain + leaf).digest()
        links.append(Link(position, previous_position, originator_id, version, leaf, chain))
        previous_position = position
    return links
