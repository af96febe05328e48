"""Event recorders that extend the hash chain inside the same write transaction as the events.

Each backend's application recorder is subclassed: after the library has inserted a batch of
events (holding its write lock: SQLite's single writer, PostgreSQL's EXCLUSIVE table lock), the
recorder reads the chain's head, hashes the new events in notification order and inserts their
links. Events and links commit together or not at all, so every acknowledged event is chained.

The same classes read what the verifier and the notary need (``ChainStore``).
"""

from __future__ import annotations

import threading
from collections.abc import Generator, Sequence
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore
from psycopg import Cursor
from psycopg.rows import DictRow, tuple_row
from psycopg.sql import SQL, Composed, Identifier

from ledger.idempotency import PostgresAnswers, Recorded, SQLiteAnswers, recorded
from ledger.integrity.chain import GENESIS, Link, extend, originator_text
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


def _checkpoint(row: Sequence[Any]) -> Checkpoint:
    return Checkpoint(
        position=int(row[0]),
        chain_hash=str(row[1]),
        issued_at=str(row[2]),
        key_id=str(row[3]),
        signature=str(row[4]),
    )


class _Head:
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


class _Remembering(ApplicationRecorder):
    """Settles the remembered head once an insert transaction committed or failed."""

    _head: _Head

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


# --------------------------------------------------------------------------- SQLite


class ChainedSQLiteRecorder(_Remembering, SQLiteApplicationRecorder):
    """SQLite's application recorder, extending the chain in each insert transaction."""

    reads_concurrently = False

    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = "stored_events"):
        self._answers = SQLiteAnswers(events_table_name)  # the create statements name it
        super().__init__(datastore, events_table_name)
        self._events = self.events_table_name
        self._head = _Head()

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
            links = extend(head[0], head[1], _raw(ids, stored_events))
            c.executemany(f"INSERT INTO {CHAIN_TABLE} VALUES (?,?,?,?,?,?)", links)
            self._head.extended(links)
        self._answers.write(c, kwargs)
        return ids

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
        return [(r[0], _sqlite_id(r[1]), r[2], r[3], bytes(r[4])) for r in rows]

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
        return _sqlite_id(stored_id)

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
        key = UUID(originator_id).hex if _is_uuid(originator_id) else originator_id
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
                _checkpoint_row(checkpoint),
            )
            return c.fetchone() is not None

    def select_checkpoints(self) -> list[Checkpoint]:
        """Every checkpoint, by position."""
        return [
            _checkpoint(r)
            for r in self._read(f"SELECT * FROM {CHECKPOINT_TABLE} ORDER BY position")
        ]

    def latest_checkpoint(self) -> Checkpoint | None:
        """The checkpoint of the highest position."""
        rows = self._read(f"SELECT * FROM {CHECKPOINT_TABLE} ORDER BY position DESC LIMIT 1")
        return _checkpoint(rows[0]) if rows else None

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
            raw = [(r[0], _sqlite_id(r[1]), r[2], r[3], bytes(r[4])) for r in c.fetchall()]
            links = extend(0, GENESIS, raw)
            c.executemany(f"INSERT INTO {CHAIN_TABLE} VALUES (?,?,?,?,?,?)", links)
            return len(links)


# ----------------------------------------------------------------------- PostgreSQL


class ChainedPostgresRecorder(_Remembering, PostgresApplicationRecorder):
    """PostgreSQL's application recorder, extending the chain under the events table lock."""

    reads_concurrently = True

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name=events_table_name)
        schema = Identifier(self.datastore.schema)
        self._chain = SQL("{}.{}").format(schema, Identifier(CHAIN_TABLE))
        self._checkpoints = SQL("{}.{}").format(schema, Identifier(CHECKPOINT_TABLE))
        self._events = SQL("{}.{}").format(schema, Identifier(self.events_table_name))
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {} (position bigint PRIMARY KEY, "
                "previous_position bigint NOT NULL, originator_id text NOT NULL, "
                "originator_version bigint NOT NULL, leaf_hash bytea NOT NULL, "
                "chain_hash bytea NOT NULL)"
            ).format(self._chain)
        )
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {} (position bigint PRIMARY KEY, "
                "chain_hash text NOT NULL, issued_at text NOT NULL, key_id text NOT NULL, "
                "signature text NOT NULL)"
            ).format(self._checkpoints)
        )
        self._select_head = SQL(
            "SELECT position, chain_hash FROM {} ORDER BY position DESC LIMIT 1"
        ).format(self._chain)
        self._insert_links = SQL("INSERT INTO {} VALUES (%s,%s,%s,%s,%s,%s)").format(self._chain)
        self._head = _Head()
        self._answers = PostgresAnswers(self.datastore.schema, self.events_table_name)
        self.sql_create_statements.append(self._answers.create)

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        if ids:
            head = self._head.known(ids[0])
            if head is None:
                curs.execute(self._select_head, prepare=True)
                row = curs.fetchone()
                head = (row["position"], bytes(row["chain_hash"])) if row else (0, GENESIS)
            links = extend(head[0], head[1], _raw(ids, stored_events))
            curs.executemany(self._insert_links, links)
            self._head.extended(links)
        return ids

    def _insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        """Check the versions read and keep a key's answer, first in the transaction (an
        error raised after the events' insert would not roll it back: the library catches
        it inside the transaction), under the lock the events' insert takes anyway."""
        super()._insert_events(curs, stored_events, **kwargs)
        if stored_events and (kwargs.get("kept") is not None or kwargs.get("checked")):
            self._lock_table(curs)
            self._answers.write(curs, kwargs)

    def select_answer(self, actor_id: UUID, key: str) -> Recorded | None:
        """The record of an Idempotency-Key, if its command was stored."""
        rows = self._read(self._answers.select, (str(actor_id), key))
        return recorded(tuple(rows[0]) if rows else None)

    def _read(self, statement: Composed, params: Sequence[Any] = ()) -> list[Any]:
        with (
            self.datastore.get_connection() as conn,
            conn.cursor(row_factory=tuple_row, binary=True) as curs,
        ):
            curs.execute(statement, params, prepare=True)
            return curs.fetchall()

    def chain_head(self) -> tuple[int, bytes]:
        """The last link's position and chain hash."""
        rows = self._read(self._select_head)
        return (int(rows[0][0]), bytes(rows[0][1])) if rows else (0, GENESIS)

    def select_raw_events(self, after: int, stop: int, limit: int) -> list[RawEvent]:
        """Events after a position, up to ``stop``."""
        rows = self._read(
            SQL(
                "SELECT notification_id, originator_id::text, originator_version, topic, state "
                "FROM {} WHERE notification_id > %s AND notification_id <= %s "
                "ORDER BY notification_id LIMIT %s"
            ).format(self._events),
            (after, stop, limit),
        )
        return [(r[0], r[1], r[2], r[3], bytes(r[4])) for r in rows]

    def identity(self, stored_id: str) -> str:
        """Read as text already."""
        return stored_id

    def link_before(self, position: int) -> tuple[int, bytes]:
        """The last event at or before a position and its link's chain hash."""
        rows = self._read(
            SQL(
                "SELECT e.notification_id, c.chain_hash FROM {} e LEFT JOIN {} c "
                "ON c.position = e.notification_id WHERE e.notification_id <= %s "
                "ORDER BY e.notification_id DESC LIMIT 1"
            ).format(self._events, self._chain),
            (position,),
        )
        if not rows:
            return 0, GENESIS
        return int(rows[0][0]), bytes(rows[0][1] or bytes(32))

    def checked_pages(
        self, after: int, upto: int, page: int
    ) -> Generator[Sequence[Checked], None, None]:
        """Pages of events with their links, in one read transaction."""
        statement = SQL(
            "SELECT e.notification_id, e.originator_id::text, e.originator_version, e.topic, "
            "e.state, c.previous_position, c.leaf_hash, c.chain_hash FROM {} e "
            "LEFT JOIN {} c ON c.position = e.notification_id "
            "AND c.position > %s AND c.position <= %s "  # lets the merge join start there
            "WHERE e.notification_id > %s AND e.notification_id <= %s "
            "ORDER BY e.notification_id LIMIT %s"
        ).format(self._events, self._chain)
        with (
            self.datastore.get_connection() as conn,
            conn.transaction(),
            conn.cursor(row_factory=tuple_row, binary=True) as curs,
        ):
            curs.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            while after < upto:
                curs.execute(statement, (after, upto, after, upto, page), prepare=True)
                rows = curs.fetchall()
                if not rows:
                    return
                yield rows
                after = rows[-1][0]

    def select_links(self, after: int, stop: int) -> list[Link]:
        """Links after a position, up to ``stop``."""
        rows = self._read(
            SQL("SELECT * FROM {} WHERE position > %s AND position <= %s ORDER BY position").format(
                self._chain
            ),
            (after, stop),
        )
        return [Link(r[0], r[1], r[2], r[3], bytes(r[4]), bytes(r[5])) for r in rows]

    def find_link(self, originator_id: str, version: int) -> int | None:
        """Where the chain records an event."""
        rows = self._read(
            SQL(
                "SELECT position FROM {} WHERE originator_id = %s AND originator_version = %s"
            ).format(self._chain),
            (originator_id, version),
        )
        return int(rows[0][0]) if rows else None

    def find_event(self, originator_id: str, version: int) -> int | None:
        """Where an event is stored."""
        if not _is_uuid(originator_id):
            return None
        rows = self._read(
            SQL(
                "SELECT notification_id FROM {} WHERE originator_id = %s "
                "AND originator_version = %s"
            ).format(self._events),
            (UUID(originator_id), version),
        )
        return int(rows[0][0]) if rows else None

    def insert_checkpoint(self, checkpoint: Checkpoint) -> bool:
        """Store a checkpoint unless one exists at its position."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                SQL("INSERT INTO {} VALUES (%s,%s,%s,%s,%s) ON CONFLICT DO NOTHING").format(
                    self._checkpoints
                ),
                _checkpoint_row(checkpoint),
            )
            return bool(curs.rowcount)

    def select_checkpoints(self) -> list[Checkpoint]:
        """Every checkpoint, by position."""
        return [
            _checkpoint(r)
            for r in self._read(SQL("SELECT * FROM {} ORDER BY position").format(self._checkpoints))
        ]

    def latest_checkpoint(self) -> Checkpoint | None:
        """The checkpoint of the highest position."""
        rows = self._read(
            SQL("SELECT * FROM {} ORDER BY position DESC LIMIT 1").format(self._checkpoints)
        )
        return _checkpoint(rows[0]) if rows else None

    def link_legacy_events(self) -> int:
        """Chain a ledger recorded before the chain existed (under the events table lock)."""
        with (
            self.datastore.get_connection() as conn,
            conn.transaction(),
            conn.cursor(row_factory=tuple_row) as curs,
        ):
            for lock in self.lock_table_statements:
                curs.execute(lock)
            curs.execute(
                SQL("SELECT (SELECT COUNT(*) FROM {}) + (SELECT COUNT(*) FROM {})").format(
                    self._chain, self._checkpoints
                )
            )
            row = curs.fetchone()
            if row is None or row[0]:
                return 0
            curs.execute(
                SQL(
                    "SELECT notification_id, originator_id::text, originator_version, topic, "
                    "state FROM {} ORDER BY notification_id"
                ).format(self._events)
            )
            links = extend(0, GENESIS, [(r[0], r[1], r[2], r[3], bytes(r[4])) for r in curs])
            curs.executemany(self._insert_links, links)
            return len(links)


# --------------------------------------------------------------------------- shared


def _raw(ids: Sequence[int], stored_events: Sequence[StoredEvent]) -> list[RawEvent]:
    texts: dict[object, str] = {}
    raw = []
    for position, event in zip(ids, stored_events, strict=True):
        text = texts.get(event.originator_id)
        if text is None:
            text = texts[event.originator_id] = originator_text(event.originator_id)
        raw.append((position, text, event.originator_version, event.topic, event.state))
    return raw


def _checkpoint_row(checkpoint: Checkpoint) -> tuple[int, str, str, str, str]:
    return (
        checkpoint.position,
        checkpoint.chain_hash,
        checkpoint.issued_at,
        checkpoint.key_id,
        checkpoint.signature,
    )


def _sqlite_id(stored: str) -> str:
    """SQLite keeps a UUID as 32 hex digits; the chain hashes its 36-character form."""
    if len(stored) != 32:
        return stored
    return f"{stored[:8]}-{stored[8:12]}-{stored[12:16]}-{stored[16:20]}-{stored[20:]}"


def _is_uuid(text: str) -> bool:
    try:
        UUID(text)
    except ValueError:
        return False
    return True
