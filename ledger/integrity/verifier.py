"""Recompute the chain from the stored events and compare it with the links and checkpoints.

Events and links are read in pages, in position order, and merged: every event must have a
link naming it, every link an event, each leaf must match the event's bytes, each chain hash
must follow from the one before, and each checkpoint must carry a valid signature and the chain
hash recomputed at its position. The first disagreement is reported with its position.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from ledger.integrity.chain import CHAIN_PREFIX, GENESIS, LEAF_PREFIX, Link
from ledger.integrity.recorders import ChainStore, RawEvent
from ledger.integrity.signing import Checkpoint, Keyring

PAGE = 2000

PAYLOAD_CHANGED = "payload_changed"
EVENT_MISSING = "event_missing"
EVENT_INSERTED = "event_inserted"
ORDER_CHANGED = "order_changed"
CHAIN_ALTERED = "chain_altered"
CHECKPOINT_INVALID = "checkpoint_signature_invalid"
CHECKPOINT_MISMATCH = "checkpoint_mismatch"


@dataclass
class Verdict:
    """The outcome of a verification."""

    ok: bool
    checked: int
    first_bad_position: int | None
    detail: str
    problem: str | None = None
    checkpoints_checked: int = 0
    head: int = 0
    last_checkpoint: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """The verdict as plain JSON."""
        return asdict(self)


class Tampered(Exception):
    """The record disagrees with its chain at ``position``."""

    def __init__(self, position: int, problem: str, detail: str) -> None:
        super().__init__(detail)
        self.position = position
        self.problem = problem
        self.detail = detail


_U64 = struct.Struct(">Q").pack
_U32 = struct.Struct(">I").pack
_sha256 = hashlib.sha256


@dataclass
class _Walk:
    """The running state of a verification."""

    store: ChainStore
    keyring: Keyring | None
    checkpoints: list[Checkpoint]
    position: int = 0
    chain: bytes = GENESIS
    checked: int = 0
    checkpoints_checked: int = 0
    notes: list[str] = field(default_factory=list)

    def events(self, events: list[RawEvent], links: list[Link]) -> None:
        """Check one page: events and links over the same range of positions."""
        by_position = {link.position: link for link in links}
        linked = iter(sorted(by_position))
        next_link = next(linked, None)
        for event in events:
            position = event[0]
            while next_link is not None and next_link < position:
                self._link_without_event(by_position[next_link])
                next_link = next(linked, None)
            link = by_position.get(position)
            if link is None:
                raise self._event_without_link(event)
            next_link = next(linked, None)
            self._step(event, link)
        while next_link is not None:
            self._link_without_event(by_position[next_link])
            next_link = next(linked, None)

    def _step(self, event: RawEvent, link: Link) -> None:
        position, originator_id, version, topic, state = event
        if (originator_id, version) != (link.originator_id, link.version):
            moved = self.store.find_link(originator_id, version)
            if moved is not None:
                detail = (
                    f"position {position} holds {originator_id} v{version}, which the chain "
                    f"records at position {moved}: events were moved or swapped"
                )
                raise Tampered(position, ORDER_CHANGED, detail)
            detail = (
                f"position {position} holds {originator_id} v{version}, which the chain never "
                f"recorded (it records {link.originator_id} v{link.version} there)"
            )
            raise Tampered(position, EVENT_INSERTED, detail)
        identity = originator_id.encode("utf-8")
        kind = topic.encode("utf-8")
        leaf = _sha256(
            b"".join(
                (
                    LEAF_PREFIX,
                    _U64(position),
                    _U32(len(identity)),
                    identity,
                    _U64(version),
                    _U32(len(kind)),
                    kind,
                    _U32(len(state)),
                    state,
                )
            )
        ).digest()
        if leaf != link.leaf:
            detail = (
                f"the data of {originator_id} v{version} at position {position} is not what "
                "was recorded: its hash differs from the chain's"
            )
            raise Tampered(position, PAYLOAD_CHANGED, detail)
        if link.previous_position != self.position:
            detail = (
                f"the chain links position {position} to position {link.previous_position}, "
                f"but the last event before it is at position {self.position}: the event at "
                f"position {link.previous_position} is missing"
            )
            raise Tampered(link.previous_position, EVENT_MISSING, detail)
        chain = _sha256(CHAIN_PREFIX + self.chain + leaf).digest()
        if chain != link.chain:
            detail = (
                f"the chain hash stored at position {position} does not follow from the "
                f"events up to it: the chain record at or just before position {position} "
                "was rewritten"
            )
            raise Tampered(position, CHAIN_ALTERED, detail)
        self.position, self.chain = position, chain
        self.checked += 1
        self.reached(position)

    def _event_without_link(self, event: RawEvent) -> Tampered:
        position, originator_id, version = event[0], event[1], event[2]
        moved = self.store.find_link(originator_id, version)
        if moved is not None:
            detail = (
                f"position {position} holds {originator_id} v{version}, which the chain "
                f"records at position {moved}: events were moved"
            )
            return Tampered(position, ORDER_CHANGED, detail)
        detail = (
            f"the event at position {position} ({originator_id} v{version}) is not in the "
            "chain: it was inserted after the fact"
        )
        return Tampered(position, EVENT_INSERTED, detail)

    def _link_without_event(self, link: Link) -> None:
        moved = self.store.find_event(link.originator_id, link.version)
        if moved is not None:
            detail = (
                f"the chain records {link.originator_id} v{link.version} at position "
                f"{link.position}, but it is stored at position {moved}: events were moved"
            )
            raise Tampered(link.position, ORDER_CHANGED, detail)
        detail = (
            f"the event at position {link.position} ({link.originator_id} v{link.version}) "
            "is recorded by the chain but missing from the ledger: it was deleted"
        )
        raise Tampered(link.position, EVENT_MISSING, detail)

    def reached(self, position: int) -> None:
        """Check the checkpoints at or before ``position`` against the recomputed chain."""
        while self.checkpoints and self.checkpoints[0].position <= position:
            self._checkpoint(self.checkpoints.pop(0))

    def _checkpoint(self, checkpoint: Checkpoint) -> None:
        if self.keyring is not None:
            problem = self.keyring.check(checkpoint)
            if problem is not None:
                detail = f"the checkpoint at position {checkpoint.position}: {problem}"
                raise Tampered(checkpoint.position, CHECKPOINT_INVALID, detail)
        if checkpoint.position != self.position:
            detail = (
                f"a checkpoint was signed at position {checkpoint.position}, where the ledger "
                "now has no event: it was deleted"
            )
            raise Tampered(checkpoint.position, EVENT_MISSING, detail)
        if checkpoint.chain_hash != self.chain.hex():
            detail = (
                f"the history up to position {checkpoint.position} differs from the checkpoint "
                f"signed there at {checkpoint.issued_at}: events at or before it were "
                "rewritten together with their chain records"
            )
            raise Tampered(checkpoint.position, CHECKPOINT_MISMATCH, detail)
        self.checkpoints_checked += 1

    def end(self, head: int) -> None:
        """Checkpoints beyond the last event mean the ledger lost its tail."""
        if self.checkpoints:
            checkpoint = self.checkpoints[0]
            detail = (
                f"a checkpoint was signed at position {checkpoint.position}, but the ledger "
                f"ends at position {head}: events after it were deleted"
            )
            raise Tampered(head + 1, EVENT_MISSING, detail)


def verify(
    store: ChainStore,
    keyring: Keyring | None,
    extra_checkpoints: Iterable[Checkpoint] = (),
    progress: Callable[[int], None] | None = None,
    page: int = PAGE,
) -> Verdict:
    """Verify the whole ledger; ``progress`` is told how many events each page checked."""
    head = max(store.max_notification_id() or 0, store.chain_head()[0])
    checkpoints = sorted(
        [*store.select_checkpoints(), *extra_checkpoints], key=lambda c: c.position
    )
    last_checkpoint = checkpoints[-1].position if checkpoints else None
    walk = _Walk(store, keyring, checkpoints)
    try:
        after = 0
        while after < head:
            events = store.select_raw_events(after, head, page)
            upper = events[-1][0] if len(events) == page else head
            walk.events(events, store.select_links(after, upper))
            if progress is not None:
                progress(len(events))
            after = upper
        walk.end(head)
    except Tampered as found:
        return Verdict(
            ok=False,
            checked=walk.checked,
            first_bad_position=found.position,
            detail=found.detail,
            problem=found.problem,
            checkpoints_checked=walk.checkpoints_checked,
            head=head,
            last_checkpoint=last_checkpoint,
        )
    if keyring is None and walk.checkpoints_checked:
        signatures = "; checkpoint signatures were not checked (no public key configured)"
    else:
        signatures = ""
    return Verdict(
        ok=True,
        checked=walk.checked,
        first_bad_position=None,
        detail=(
            f"{walk.checked} events and {walk.checkpoints_checked} checkpoints agree with "
            f"the chain{signatures}"
        ),
        checkpoints_checked=walk.checkpoints_checked,
        head=head,
        last_checkpoint=last_checkpoint,
    )
