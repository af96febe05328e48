"""Recompute the chain from the stored events and compare it with the links and checkpoints.

Events and links are read in pages, in position order, and merged: every event must have a
link naming it, every link an event, each leaf must match the event's bytes, each chain hash
must follow from the one before, and each checkpoint must carry a valid signature and the chain
hash recomputed at its position. The first disagreement is reported with its position.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import asdict, dataclass, field
from typing import Any

from ledger.integrity.chain import CHAIN_PREFIX, LEAF_PREFIX
from ledger.integrity.signing import Checkpoint, Keyring
from ledger.integrity.store import ChainStore, Checked

PAGE = 2000
CHUNK = 50_000
"""Events per range: the unit of work of a parallel verification."""
CACHED = 100_000
"""Aggregate ids and topics whose encoded form a verification keeps (then starts afresh)."""

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
class RangeResult:
    """What checking the events in ``(after, upto]`` found."""

    after: int
    upto: int
    checked: int
    problem: tuple[int, str, str] | None
    observed: dict[int, str | None]
    """The stored chain hash at each wanted position (None: no event there)."""


@dataclass
class _Walk:
    """Checks events against their links, page by page, within one range of positions.

    Each link's chain hash is checked against the stored chain hash of the link before it
    and the event's recomputed leaf; by induction from the genesis hash, all of them hold
    exactly when the whole stored chain equals the chain recomputed from the events. So any
    range can be checked on its own (in parallel), given the link just before it.
    """

    store: ChainStore
    position: int
    chain: bytes
    wanted: list[int]
    checked: int = 0
    observed: dict[int, str | None] = field(default_factory=dict)
    identities: dict[str, bytes] = field(default_factory=dict)
    kinds: dict[str, bytes] = field(default_factory=dict)

    def page(self, rows: Sequence[Checked]) -> None:
        """Check one page of events, each with its link, in position order."""
        chain, last = self.chain, self.position
        identities, kinds = self.identities, self.kinds
        sha256, u64, u32, leaf_prefix, chain_prefix = _sha256, _U64, _U32, LEAF_PREFIX, CHAIN_PREFIX
        due = self.wanted[0] if self.wanted else None
        checked = 0
        try:
            for position, stored_id, version, topic, state, previous, stored_leaf, stored in rows:
                identity = identities.get(stored_id)
                if identity is None:
                    identity = self._identity(stored_id)
                kind = kinds.get(topic)
                if kind is None:
                    kind = self._kind(topic)
                leaf = sha256(
                    b"".join(
                        (
                            leaf_prefix,
                            u64(position),
                            identity,
                            u64(version),
                            kind,
                            u32(len(state)),
                            state,
                        )
                    )
                ).digest()
                if leaf != stored_leaf or previous != last:
                    self.position, self.chain = last, chain
                    identity_text = self.store.identity(stored_id)
                    raise self._diagnose(position, identity_text, version, previous)
                if sha256(chain_prefix + chain + leaf).digest() != stored:
                    detail = (
                        f"the chain hash stored at position {position} does not follow from "
                        f"the one before it and the event: the chain record at position "
                        f"{position} (or just before it) was rewritten"
                    )
                    self.position = last
                    raise Tampered(position, CHAIN_ALTERED, detail)
                chain, last = stored, position
                checked += 1
                if due is not None and due <= position:
                    self._observe(position, chain)
                    due = self.wanted[0] if self.wanted else None
        finally:
            self.checked += checked
        self.position, self.chain = last, chain

    def _observe(self, position: int, chain: bytes) -> None:
        while self.wanted and self.wanted[0] <= position:
            wanted = self.wanted.pop(0)
            self.observed[wanted] = chain.hex() if wanted == position else None

    def _identity(self, stored_id: str) -> bytes:
        if len(self.identities) > CACHED:
            self.identities.clear()
        text = self.store.identity(stored_id).encode("utf-8")
        identity = self.identities[stored_id] = _U32(len(text)) + text
        return identity

    def _kind(self, topic: str) -> bytes:
        if len(self.kinds) > CACHED:
            self.kinds.clear()
        encoded = topic.encode("utf-8")
        kind = self.kinds[topic] = _U32(len(encoded)) + encoded
        return kind

    def _diagnose(
        self, position: int, originator_id: str, version: int, previous: int | None
    ) -> Tampered:
        """Name what is wrong at a position whose event and link disagree."""
        if previous is None:  # no link at this position
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
        if previous > self.position:  # the link before this one names no stored event
            return self._missing(previous, f"the chain links position {position} to it, but ")
        link = self.store.select_links(position - 1, position)[0]
        if (originator_id, version) != (link.originator_id, link.version):
            moved = self.store.find_link(originator_id, version)
            if moved is not None:
                detail = (
                    f"position {position} holds {originator_id} v{version}, which the chain "
                    f"records at position {moved}: events were moved or swapped"
                )
                return Tampered(position, ORDER_CHANGED, detail)
            detail = (
                f"position {position} holds {originator_id} v{version}, which the chain never "
                f"recorded (it records {link.originator_id} v{link.version} there)"
            )
            return Tampered(position, EVENT_INSERTED, detail)
        if previous != self.position:
            detail = (
                f"the chain links position {position} to position {previous}, but the last "
                f"event before it is at position {self.position}: events were inserted"
            )
            return Tampered(self.position, EVENT_INSERTED, detail)
        detail = (
            f"the data of {originator_id} v{version} at position {position} is not what "
            "was recorded: its hash differs from the chain's"
        )
        return Tampered(position, PAYLOAD_CHANGED, detail)

    def _missing(self, position: int, context: str = "") -> Tampered:
        """The chain records an event at ``position`` that the ledger does not hold there."""
        link = self.store.select_links(position - 1, position)
        if link:
            moved = self.store.find_event(link[0].originator_id, link[0].version)
            if moved is not None:
                detail = (
                    f"the chain records {link[0].originator_id} v{link[0].version} at position "
                    f"{position}, but it is stored at position {moved}: events were moved"
                )
                return Tampered(position, ORDER_CHANGED, detail)
        detail = (
            f"{context}the event at position {position} is missing from the ledger: it was deleted"
        )
        return Tampered(position, EVENT_MISSING, detail[0].upper() + detail[1:])

    def end(self, upto: int) -> None:
        """Links beyond the last event mean the ledger lost its tail."""
        beyond = self.store.select_links(self.position, upto)
        if beyond:
            raise self._missing(beyond[0].position)
        for wanted in self.wanted:
            self.observed[wanted] = None


def _pages(store: ChainStore, after: int, upto: int, page: int) -> Iterator[Sequence[Checked]]:
    """The pages of events with their links in ``(after, upto]``; where the database can
    work while Python hashes (PostgreSQL), each page is read while the one before is checked."""
    with closing(store.checked_pages(after, upto, page)) as pages:
        if not store.reads_concurrently:
            yield from pages
            return
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="verify-read") as reader:
            pending = reader.submit(next, pages, None)
            while (rows := pending.result()) is not None:
                pending = reader.submit(next, pages, None)
                yield rows


def check_range(
    store: ChainStore,
    after: int,
    upto: int,
    wanted: list[int],
    *,
    last: bool,
    progress: Callable[[int], None] | None = None,
    page: int = PAGE,
) -> RangeResult:
    """Check the events in ``(after, upto]`` and observe the chain at ``wanted`` positions;
    ``last``: the range ends at the head, so links beyond the last event are missing ones."""
    position, chain = store.link_before(after)
    walk = _Walk(store, position, chain, sorted(wanted))
    try:
        for rows in _pages(store, after, upto, page):
            walk.page(rows)
            if progress is not None:
                progress(len(rows))
        if last:
            walk.end(upto)
        else:
            walk._observe(upto, walk.chain)
    except Tampered as found:
        problem = (found.position, found.problem, found.detail)
        return RangeResult(after, upto, walk.checked, problem, walk.observed)
    return RangeResult(after, upto, walk.checked, None, walk.observed)


Runner = Callable[[list[tuple[int, int, list[int], bool]]], Iterator[RangeResult]]
"""Checks ranges ``(after, upto, wanted, last)`` and yields their results in order."""


def verify(
    store: ChainStore,
    keyring: Keyring | None,
    extra_checkpoints: Iterable[Checkpoint] = (),
    *,
    progress: Callable[[int], None] | None = None,
    page: int = PAGE,
    runner: Runner | None = None,
    chunk: int = CHUNK,
) -> Verdict:
    """Verify the whole ledger; ``progress`` is told how many events were checked.

    ``runner`` checks the ranges elsewhere (``ledger.integrity.parallel``); by default they
    are checked here, one after another.
    """
    head = max(store.max_notification_id() or 0, store.chain_head()[0])
    checkpoints = sorted(
        [*store.select_checkpoints(), *extra_checkpoints], key=lambda c: c.position
    )
    last_checkpoint = checkpoints[-1].position if checkpoints else None
    bounds = list(range(0, head, chunk)) or [0]
    ranges = [
        (
            after,
            min(after + chunk, head),
            [c.position for c in checkpoints if after < c.position <= after + chunk],
            after + chunk >= head,
        )
        for after in bounds
    ]

    def here(todo: list[tuple[int, int, list[int], bool]]) -> Iterator[RangeResult]:
        for after, upto, wanted, last in todo:
            yield check_range(store, after, upto, wanted, last=last, progress=progress, page=page)

    checked = checkpoints_checked = 0
    pending = list(checkpoints)
    try:
        for result in (runner or here)(ranges):
            if runner is not None and progress is not None:
                progress(result.checked)
            checked += result.checked
            bad = result.problem
            while pending and pending[0].position <= result.upto:
                checkpoint = pending[0]
                if bad is not None and checkpoint.position >= bad[0]:
                    break
                _check_checkpoint(checkpoint, keyring, result.observed.get(checkpoint.position))
                pending.pop(0)
                checkpoints_checked += 1
            if bad is not None:
                raise Tampered(*bad)
        if pending:
            checkpoint = pending[0]
            detail = (
                f"a checkpoint was signed at position {checkpoint.position}, but the ledger "
                f"ends at position {head}: events after it were deleted"
            )
            raise Tampered(head + 1, EVENT_MISSING, detail)
    except Tampered as found:
        return Verdict(
            ok=False,
            checked=checked,
            first_bad_position=found.position,
            detail=found.detail,
            problem=found.problem,
            checkpoints_checked=checkpoints_checked,
            head=head,
            last_checkpoint=last_checkpoint,
        )
    if keyring is None and checkpoints_checked:
        signatures = "; checkpoint signatures were not checked (no public key configured)"
    else:
        signatures = ""
    return Verdict(
        ok=True,
        checked=checked,
        first_bad_position=None,
        detail=(
            f"{checked} events and {checkpoints_checked} "
            f"checkpoint{'' if checkpoints_checked == 1 else 's'} agree with the chain"
            f"{signatures}"
        ),
        checkpoints_checked=checkpoints_checked,
        head=head,
        last_checkpoint=last_checkpoint,
    )


def _check_checkpoint(checkpoint: Checkpoint, keyring: Keyring | None, seen: str | None) -> None:
    """A checkpoint must be validly signed and name the chain hash stored at its position."""
    if keyring is not None:
        problem = keyring.check(checkpoint)
        if problem is not None:
            detail = f"the checkpoint at position {checkpoint.position}: {problem}"
            raise Tampered(checkpoint.position, CHECKPOINT_INVALID, detail)
    if seen is None:
        detail = (
            f"a checkpoint was signed at position {checkpoint.position}, where the ledger "
            "now has no event: it was deleted"
        )
        raise Tampered(checkpoint.position, EVENT_MISSING, detail)
    if checkpoint.chain_hash != seen:
        detail = (
            f"the history up to position {checkpoint.position} differs from the checkpoint "
            f"signed there at {checkpoint.issued_at}: events at or before it were "
            "rewritten together with their chain records"
        )
        raise Tampered(checkpoint.position, CHECKPOINT_MISMATCH, detail)
