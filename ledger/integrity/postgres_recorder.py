"""PostgreSQL's chained application recorder: events, links and a key's answer, one commit."""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow, tuple_row
from psycopg.sql import SQL, Composed, Identifier

from ledger.idempotency import PostgresAnswers, Recorded, recorded
from ledger.integrity.chain import GENESIS, Link, extend
from ledger.integrity.recording import Head, Remembering, is_uuid, raw_events
from ledger.integrity.signing import Checkpoint
from ledger.integrity.store import (
    CHAIN_TABLE,
    CHECKPOINT_TABLE,
    Checked,
    RawEvent,
    checkpoint_from,
    checkpoint_row,
)


class ChainedPostgresRecorder(Remembering, PostgresApplicationRecorder):
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
        self._head = Head()
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
            links = extend(head[0], head[1], raw_events(ids, stored_events))
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

    def stored_versions(self, ids: Sequence[UUID]) -> dict[UUID, int]:
        """The version of each aggregate's last stored event (those with none left out), in
        one statement: one snapshot of the ledger for all of them."""
        rows = self._read(
            SQL(
                "SELECT originator_id, max(originator_version) FROM {} "
                "WHERE originator_id = ANY(%s) GROUP BY originator_id"
            ).format(self._events),
            (list(ids),),
        )
        return {UUID(str(i)): int(v) for i, v in rows}

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
        if not is_uuid(originator_id):
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
                checkpoint_row(checkpoint),
            )
            return bool(curs.rowcount)

    def select_checkpoints(self) -> list[Checkpoint]:
        """Every checkpoint, by position."""
        return [
            checkpoint_from(r)
            for r in self._read(SQL("SELECT * FROM {} ORDER BY position").format(self._checkpoints))
        ]

    def latest_checkpoint(self) -> Checkpoint | None:
        """The checkpoint of the highest position."""
        rows = self._read(
            SQL("SELECT * FROM {} ORDER BY position DESC LIMIT 1").format(self._checkpoints)
        )
        return checkpoint_from(rows[0]) if rows else None

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
