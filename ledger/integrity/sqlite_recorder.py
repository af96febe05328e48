"""SQLite's chained application recorder: events, their links and a key's answer, one commit."""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore

from ledger.idempotency import Recorded, SQLiteAnswers, recorded
from ledger.integrity.chain import GENESIS, Link, extend
from ledger.integrity.recording import Head, Remembering, is_uuid, raw_events, sqlite_id
from ledger.integrity.signing import Checkpoint
from ledger.integrity.store import (
    CHAIN_TABLE,
    CHECKPOINT_TABLE,
    Checked,
    RawEvent,
    checkpoint_from,
    checkpoint_row,
)


class ChainedSQLiteRecorder(Remembering, SQLiteApplicationRecorder):
    """SQLite's application recorder, extending the chain in each insert transaction."""

    reads_concurrently = False

    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = "stored_events"):
        self._answers = SQLiteAnswers(events_table_name)  # the create statements name it
        super().__init__(datastore, events_table_name)
        self._events = self.events_table_name
        self._head = Head()

    def construct_create_table_statements(self) -> list[str]:
        """The library's table plus the chain and checkpoint tables."""
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {CHAIN_TABLE} ("
            "position INTEGER PRIMARY KEY, previous_position INTEGER NOT NULL, "
            "originator_id TEXT NOT NULL, originator_version INTEGER NOT NULL, "
            "leaf_hash BLOB NOT NULL, chain_hash BLOB NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {CHECKPOINT_TABLE} ("
            "position INTEGER PRIMARY KEY, chain_hash TEXT NOT NULL, issued_at TEXT NOT NULL, "
            "key_id TEXT NOT NULL, signature TEXT NOT NULL)",
            self._answers.create,
        ]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        if ids:
            head = self._head.known(ids[0])
            if head is None:
                c.execute(
                    f"SELECT position, chain_hash FROM {CHAIN_TABLE} ORDER BY position DESC LIMIT 1"
                )
                row = c.fetchone()
                head = (int(row[0]), bytes(row[1])) if row else (0, GENESIS)
            links = extend(head[0], head[1], raw_events(ids, stored_events))
            c.executemany(f"INSERT INTO {CHAIN_TABLE} VALUES (?,?,?,?,?,?)", links)
            self._head.extended(links)
        self._answers.write(c, kwargs)
        return ids

    def stored_versions(self, ids: Sequence[UUID]) -> dict[UUID, int]:
        """The version of each aggregate's last stored event (those with none left out), in
        one query: one snapshot of the ledger for all of them."""
        marks = ", ".join("?" * len(ids))
        rows = self._read(
            f"SELECT originator_id, max(originator_version) FROM {self._events} "
            f"WHERE originator_id IN ({marks}) GROUP BY originator_id",
            [i.hex for i in ids],  # stored as the library stores them: hex, no dashes
        )
        return {UUID(str(i)): int(v) for i, v in rows}

    def select_answer(self, actor_id: UUID, key: str) -> Recorded | None:
        """The record of an Idempotency-Key, if its command was stored."""
        rows = self._read(self._answers.select, (str(actor_id), key))
        return recorded(tuple(rows[0]) if rows else None)

    def _read(self, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        with self.datastore.transaction(commit=False) as c:
            cursor: Any = c  # the library yields the sqlite3 cursor itself
            cursor.row_factory = None  # plain tuples: cheaper than sqlite3.Row
            cursor.execute(statement, params)
            rows: list[Any] = cursor.fetchall()
            return rows

    def chain_head(self) -> tuple[int, bytes]:
        """The last link's position and chain hash."""
        rows = self._read(
            f"SELECT position, chain_hash FROM {CHAIN_TABLE} ORDER BY position DESC LIMIT 1"
        )
        return (int(rows[0][0]), bytes(rows[0][1])) if rows else (0, GENESIS)

    def select_raw_events(self, after: int, stop: int, limit: int) -> list[RawEvent]:
        """Events after a position, up to ``stop``."""
        rows = self._read(
            f"SELECT rowid, originator_id, originator_version, topic, state FROM {self._events} "
            "WHERE rowid > ? AND rowid <= ? ORDER BY rowid LIMIT ?",
            (after, stop, limit),
        )
        return [(r[0], sqlite_id(r[1]), r[2], r[3], bytes(r[4])) for r in rows]

    def checked_pages(
        self, after: int, upto: int, page: int
    ) -> Generator[Sequence[Checked], None, None]:
        """Pages of events with their links, in one read transaction."""
        statement = (
            f"SELECT e.rowid, e.originator_id, e.originator_version, e.topic, e.state, "
            f"c.previous_position, c.leaf_hash, c.chain_hash FROM {self._events} e "
            f"LEFT JOIN {CHAIN_TABLE} c ON c.position = e.rowid "
            "WHERE e.rowid > ? AND e.rowid <= ? ORDER BY e.rowid LIMIT ?"
        )
        with self.datastore.transaction(commit=False) as c:
            cursor: Any = c  # the library yields the sqlite3 cursor itself
            cursor.row_factory = None
            while after < upto:
                cursor.execute(statement, (after, upto, page))
                rows: list[Any] = cursor.fetchall()
                if not rows:
                    return
                yield rows
                after = rows[-1][0]

    def identity(self, stored_id: str) -> str:
        """SQLite keeps UUIDs as 32 hex digits."""
        return sqlite_id(stored_id)

    def link_before(self, position: int) -> tuple[int, bytes]:
        """The last event at or before a position and its link's chain hash."""
        rows = self._read(
            f"SELECT e.rowid, c.chain_hash FROM {self._events} e LEFT JOIN {CHAIN_TABLE} c "
            "ON c.position = e.rowid WHERE e.rowid <= ? ORDER BY e.rowid DESC LIMIT 1",
            (position,),
        )
        if not rows:
            return 0, GENESIS
        return int(rows[0][0]), bytes(rows[0][1] or bytes(32))

    def select_links(self, after: int, stop: int) -> list[Link]:
        """Links after a position, up to ``stop``."""
        rows = self._read(
            f"SELECT * FROM {CHAIN_TABLE} WHERE position > ? AND position <= ? ORDER BY position",
            (after, stop),
        )
        return [Link(r[0], r[1], r[2], r[3], bytes(r[4]), bytes(r[5])) for r in rows]

    def find_link(self, originator_id: str, version: int) -> int | None:
        """Where the chain records an event."""
        rows = self._read(
            f"SELECT position FROM {CHAIN_TABLE} WHERE originator_id = ? "
            "AND originator_version = ?",
            (originator_id, version),
        )
        return int(rows[0][0]) if rows else None

    def find_event(self, originator_id: str, version: int) -> int | None:
        """Where an event is stored."""
        key = UUID(originator_id).hex if is_uuid(originator_id) else originator_id
        rows = self._read(
            f"SELECT rowid FROM {self._events} WHERE originator_id = ? AND originator_version = ?",
            (key, version),
        )
        return int(rows[0][0]) if rows else None

    def insert_checkpoint(self, checkpoint: Checkpoint) -> bool:
        """Store a checkpoint unless one exists at its position."""
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                f"INSERT INTO {CHECKPOINT_TABLE} VALUES (?,?,?,?,?) ON CONFLICT DO NOTHING "
                "RETURNING position",
                checkpoint_row(checkpoint),
            )
            return c.fetchone() is not None

    def select_checkpoints(self) -> list[Checkpoint]:
        """Every checkpoint, by position."""
        return [
            checkpoint_from(r)
            for r in self._read(f"SELECT * FROM {CHECKPOINT_TABLE} ORDER BY position")
        ]

    def latest_checkpoint(self) -> Checkpoint | None:
        """The checkpoint of the highest position."""
        rows = self._read(f"SELECT * FROM {CHECKPOINT_TABLE} ORDER BY position DESC LIMIT 1")
        return checkpoint_from(rows[0]) if rows else None

    def link_legacy_events(self) -> int:
        """Chain a ledger recorded before the chain existed."""
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                f"SELECT (SELECT COUNT(*) FROM {CHAIN_TABLE}) + "
                f"(SELECT COUNT(*) FROM {CHECKPOINT_TABLE})"
            )
            if c.fetchone()[0]:
                return 0
            c.execute(
                f"SELECT rowid, originator_id, originator_version, topic, state "
                f"FROM {self._events} ORDER BY rowid"
            )
            raw = [(r[0], sqlite_id(r[1]), r[2], r[3], bytes(r[4])) for r in c.fetchall()]
            links = extend(0, GENESIS, raw)
            c.executemany(f"INSERT INTO {CHAIN_TABLE} VALUES (?,?,?,?,?,?)", links)
            return len(links)
