"""A verifiable export: events with their hashes and a signed checkpoint, checkable offline.

The file is JSON Lines: a ``header``, a ``start`` (the chain hash the export continues from),
then one line per position up to the checkpoint — ``event`` lines with the event in full and
its hashes, and, in a partner's export, ``link`` lines holding only another partnership's leaf
hash — and the ``checkpoint`` last. ``verify_export`` needs nothing but the file and the
public key. docs/integrity.md describes every field.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

from ledger.integrity.chain import GENESIS, chain_step, leaf_hash
from ledger.integrity.signing import Checkpoint, Keyring
from ledger.integrity.store import ChainStore, RawEvent

FORMAT = "counterpart-verifiable-export/1"
PAGE = 2000

Render = Callable[[RawEvent], dict[str, Any]]
"""The readable fields of an event (position, originator_id, version, type, recorded_at,
actor, request_id, data), derived from its stored bytes alone."""


class ExportError(Exception):
    """The ledger cannot be exported verifiably (it is not consistent with its chain)."""


def export_lines(
    store: ChainStore,
    checkpoint: Checkpoint,
    render: Render,
    member: Callable[[RawEvent], bool] | None = None,
    progress: Callable[[int], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """The lines of an export through ``checkpoint``: every event, or a partnership's."""
    scope = "ledger" if member is None else "partnership"
    yield {"kind": "header", "format": FORMAT, "scope": scope, "through": checkpoint.position}
    started = member is None
    if started:
        yield _start(0, GENESIS)
    position, chain = 0, GENESIS
    after = 0
    while after < checkpoint.position:
        events = store.select_raw_events(after, checkpoint.position, PAGE)
        upper = events[-1][0] if len(events) == PAGE else checkpoint.position
        links = {link.position: link for link in store.select_links(after, upper)}
        for event in events:
            link = links.get(event[0])
            if link is None:
                msg = f"position {event[0]} has no link in the chain: run `counterpart verify`"
                raise ExportError(msg)
            mine = member is None or member(event)
            if mine and not started:
                yield _start(position, chain)
                started = True
            if mine:
                yield _event_line(event, render, link.leaf, link.chain)
            elif started:
                yield {"kind": "link", "position": event[0], "leaf_hash": link.leaf.hex()}
            position, chain = event[0], link.chain
        if progress is not None:
            progress(len(events))
        after = upper
    if not started:
        yield _start(position, chain)
    yield {"kind": "checkpoint", **checkpoint.as_dict()}


def _start(position: int, chain: bytes) -> dict[str, Any]:
    return {"kind": "start", "position": position, "chain_hash": chain.hex()}


def _event_line(event: RawEvent, render: Render, leaf: bytes, chain: bytes) -> dict[str, Any]:
    line: dict[str, Any] = {"kind": "event", **render(event), "topic": event[3]}
    try:
        line["stored"] = event[4].decode("utf-8")
    except UnicodeDecodeError:
        line["stored_base64"] = base64.b64encode(event[4]).decode("ascii")
    line["leaf_hash"] = leaf.hex()
    line["chain_hash"] = chain.hex()
    return line


# ------------------------------------------------------------------ offline check


@dataclass
class ExportVerdict:
    """The outcome of checking an export file."""

    ok: bool
    events: int
    links: int
    detail: str
    first_bad_line: int | None = None
    first_bad_position: int | None = None
    checkpoint: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        """The verdict as plain JSON."""
        return asdict(self)


class _Bad(Exception):
    def __init__(self, line: int, position: int | None, detail: str) -> None:
        super().__init__(detail)
        self.line, self.position, self.detail = line, position, detail


@dataclass
class _Reading:
    render: Render
    keyring: Keyring
    line: int = 0
    position: int | None = None
    chain: bytes = GENESIS
    events: int = 0
    links: int = 0
    checkpoint: Checkpoint | None = None

    def bad(self, detail: str, position: int | None = None) -> _Bad:
        return _Bad(self.line, position, detail)

    def take(self, record: Any) -> None:
        kind = record.get("kind") if isinstance(record, dict) else None
        if self.line == 1:
            if kind != "header" or record.get("format") != FORMAT:
                raise self.bad(f"the first line is not a {FORMAT} header")
            return
        if self.checkpoint is not None:
            raise self.bad("lines follow the checkpoint, which must be last")
        if kind == "start":
            self._start(record)
        elif self.position is None:
            raise self.bad("the start line must come before events")
        elif kind == "event":
            self._event(record)
        elif kind == "link":
            self._link(record)
        elif kind == "checkpoint":
            self._checkpoint(record)
        else:
            raise self.bad(f"unknown line kind {kind!r}")

    def _start(self, record: dict[str, Any]) -> None:
        if self.position is not None:
            raise self.bad("a second start line")
        self.position = _int(record, "position", self)
        self.chain = _hash(record, "chain_hash", self)

    def _next_position(self, record: dict[str, Any]) -> int:
        position = _int(record, "position", self)
        if self.position is not None and position <= self.position:
            msg = f"position {position} comes after position {self.position}: lines were moved"
            raise self.bad(msg, position)
        return position

    def _event(self, record: dict[str, Any]) -> None:
        position = self._next_position(record)
        raw = _raw_event(record, position, self)
        leaf = leaf_hash(*raw)
        if leaf.hex() != record.get("leaf_hash"):
            msg = f"the event at position {position} does not match its leaf hash: it was changed"
            raise self.bad(msg, position)
        try:
            readable = self.render(raw)
        except Exception:  # whatever the stored bytes are, the file is bad
            msg = f"the stored data at position {position} is not a Counterpart event"
            raise self.bad(msg, position) from None
        if {key: record.get(key) for key in readable} != readable:
            msg = f"the readable fields of position {position} disagree with its stored data"
            raise self.bad(msg, position)
        self._step(position, leaf)
        if record.get("chain_hash") != self.chain.hex():
            msg = f"the chain hash at position {position} does not follow from the lines before"
            raise self.bad(msg, position)
        self.events += 1

    def _link(self, record: dict[str, Any]) -> None:
        position = self._next_position(record)
        self._step(position, _hash(record, "leaf_hash", self))
        self.links += 1

    def _step(self, position: int, leaf: bytes) -> None:
        self.chain = chain_step(self.chain, leaf)
        self.position = position

    def _checkpoint(self, record: dict[str, Any]) -> None:
        fields = {k: v for k, v in record.items() if k != "kind"}
        try:
            checkpoint = Checkpoint.from_dict(fields)
        except ValueError as error:
            raise self.bad(str(error)) from None
        problem = self.keyring.check(checkpoint)
        if problem is not None:
            raise self.bad(problem, checkpoint.position)
        if checkpoint.position != self.position:
            msg = (
                f"the checkpoint is at position {checkpoint.position} but the lines end at "
                f"position {self.position}: lines are missing"
            )
            raise self.bad(msg, checkpoint.position)
        if checkpoint.chain_hash != self.chain.hex():
            msg = (
                f"the chain recomputed from the file differs from the checkpoint signed at "
                f"position {checkpoint.position}: the file was altered"
            )
            raise self.bad(msg, checkpoint.position)
        self.checkpoint = checkpoint


def verify_export(lines: Iterable[str | bytes], keyring: Keyring, render: Render) -> ExportVerdict:
    """Check an export file line by line against its signed checkpoint; no database needed."""
    reading = _Reading(render, keyring)
    try:
        for text in lines:
            reading.line += 1
            try:
                record = json.loads(text)
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise reading.bad("not a JSON line") from None
            reading.take(record)
        if reading.line == 0:
            raise reading.bad("the file is empty")
        if reading.checkpoint is None:
            raise reading.bad("the file ends without a checkpoint: it was cut short")
    except _Bad as bad:
        return ExportVerdict(
            ok=False,
            events=reading.events,
            links=reading.links,
            detail=bad.detail,
            first_bad_line=bad.line,
            first_bad_position=bad.position,
        )
    checkpoint = reading.checkpoint
    return ExportVerdict(
        ok=True,
        events=reading.events,
        links=reading.links,
        detail=(
            f"{reading.events} events (and {reading.links} other events' hashes) agree with "
            f"the checkpoint at position {checkpoint.position}, signed by key "
            f"{checkpoint.key_id} at {checkpoint.issued_at}"
        ),
        checkpoint=checkpoint.as_dict(),
    )


def _int(record: dict[str, Any], key: str, reading: _Reading) -> int:
    value = record.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise reading.bad(f"{key} must be a whole number")
    return value


def _hash(record: dict[str, Any], key: str, reading: _Reading) -> bytes:
    value = record.get(key)
    try:
        digest = bytes.fromhex(value) if isinstance(value, str) else b""
    except ValueError:
        digest = b""
    if len(digest) != 32:
        raise reading.bad(f"{key} must be 64 hex digits")
    return digest


def _raw_event(record: dict[str, Any], position: int, reading: _Reading) -> RawEvent:
    originator_id, version, topic = (
        record.get("originator_id"),
        record.get("version"),
        record.get("topic"),
    )
    if not isinstance(originator_id, str) or not isinstance(topic, str):
        raise reading.bad("an event line names its originator_id and topic", position)
    if not isinstance(version, int) or isinstance(version, bool):
        raise reading.bad("an event line has a whole-number version", position)
    if isinstance(record.get("stored"), str):
        state = record["stored"].encode("utf-8")
    else:
        try:
            state = base64.b64decode(record.get("stored_base64") or "", validate=True)
        except (binascii.Error, ValueError):
            raise reading.bad("stored_base64 is not base64", position) from None
    return (position, originator_id, version, topic, state)
