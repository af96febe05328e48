"""Idempotency records, written by the event recorders in the events' own transaction.

A command sent with an Idempotency-Key is saved with ``kept=Kept(...)``: the recorder inserts
the key's record (actor, key, fingerprint, status, body, headers) after the events and their
chain links, so the events and the answer to repeat commit together or not at all. A key
recorded already makes the insert fail, and the whole transaction with it: the command is
stored once. A save may also name aggregates it read but did not change (``checked``, e.g.
the partner that vouched for the actor): if one of them moved on meanwhile, the save fails
the same way and the command runs again on fresh state.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError
from psycopg.sql import SQL, Composed, Identifier

from ledger.commands import Answer, Keyed
from ledger.domain import InvalidInput

TABLE = "cp_idempotency"
CREATE = (
    "CREATE TABLE IF NOT EXISTS {} ("
    "actor_id TEXT NOT NULL, idempotency_key TEXT NOT NULL, "
    "fingerprint TEXT NOT NULL, request_id TEXT, started_at DOUBLE PRECISION NOT NULL, "
    "status INTEGER, body TEXT, headers TEXT, ledger_head BIGINT, attempt TEXT, "
    "PRIMARY KEY (actor_id, idempotency_key))"
)
"""The table of the first release (its last two columns are no longer written); a row
without a status is a reservation of that release, which a new answer replaces."""
INSERT = (
    "INSERT INTO {} (actor_id, idempotency_key, fingerprint, request_id, started_at, status, "
    "body, headers) VALUES ({}) ON CONFLICT (actor_id, idempotency_key) DO UPDATE SET "
    "fingerprint = excluded.fingerprint, request_id = excluded.request_id, "
    "started_at = excluded.started_at, status = excluded.status, body = excluded.body, "
    "headers = excluded.headers WHERE {}.status IS NULL RETURNING 1"
)
SELECT = (
    "SELECT fingerprint, status, body, headers FROM {} WHERE actor_id = {} AND idempotency_key = {}"
)


class KeyReused(InvalidInput):
    """An Idempotency-Key sent again with another request (a client error, 422)."""

    def __init__(self) -> None:
        super().__init__(
            "this Idempotency-Key was already used for a different request; "
            "use a new key for a new command"
        )


@dataclass(frozen=True)
class Kept:
    """The answer to keep with a key, and the request that gave it."""

    keyed: Keyed
    answer: Answer
    request_id: str | None = None

    def row(self) -> tuple[Any, ...]:
        """The record's values, in INSERT's order."""
        answer = self.answer
        return (
            str(self.keyed.actor_id),
            self.keyed.key,
            self.keyed.fingerprint,
            self.request_id,
            time.time(),
            answer.status,
            answer.replayed_body.decode("utf-8"),
            json.dumps(answer.headers),
        )


@dataclass(frozen=True)
class Recorded:
    """A key's record: the fingerprint of its request and the answer to repeat."""

    fingerprint: str
    answer: Answer


def recorded(row: tuple[Any, ...] | None) -> Recorded | None:
    """A record from its row (None if absent, or a reservation of the first release)."""
    if row is None or row[1] is None:
        return None
    return Recorded(
        str(row[0]), Answer(int(row[1]), str(row[2]).encode("utf-8"), json.loads(row[3] or "{}"))
    )


def refuse(what: str) -> None:
    """Fail the save's transaction (taken as a conflict: nothing is stored)."""
    raise IntegrityError(what)


class SQLiteAnswers:
    """The statements on SQLite."""

    def __init__(self, events_table: str) -> None:
        self.create = CREATE.format(TABLE)
        self.insert = INSERT.format(TABLE, ",".join("?" * 8), TABLE)
        self.select = SELECT.format(TABLE, "?", "?")
        self.version = (
            f"SELECT MAX(originator_version) FROM {events_table} "  # noqa: S608 (our table name)
            "WHERE originator_id = ?"
        )

    def write(self, cursor: Any, kwargs: Mapping[str, Any]) -> None:
        """Check the versions read and insert the key's record, in the save's transaction."""
        for aggregate_id, version in (kwargs.get("checked") or {}).items():
            cursor.execute(self.version, (UUID(str(aggregate_id)).hex,))
            found = cursor.fetchone()
            if found is None or found[0] != version:
                refuse(f"{aggregate_id} moved on from version {version}")
        kept: Kept | None = kwargs.get("kept")
        if kept is not None:
            cursor.execute(self.insert, kept.row())
            if cursor.fetchone() is None:
                refuse("this Idempotency-Key was recorded already")


class PostgresAnswers:
    """The statements on PostgreSQL (schema-qualified)."""

    def __init__(self, schema: str, events_table: str) -> None:
        table = SQL("{}.{}").format(Identifier(schema), Identifier(TABLE))
        self.create: Composed = SQL(CREATE).format(table)
        self.insert: Composed = SQL(INSERT).format(
            table, SQL(",".join(["%s"] * 8)), Identifier(TABLE)
        )
        self.select: Composed = SQL(SELECT).format(table, SQL("%s"), SQL("%s"))
        self.version: Composed = SQL(
            "SELECT MAX(originator_version) FROM {}.{} WHERE originator_id = %s"
        ).format(Identifier(schema), Identifier(events_table))

    def write(self, events_cursor: Any, kwargs: Mapping[str, Any]) -> None:
        """Check the versions read and insert the key's record, in the save's transaction
        (called under the events table's lock, before the events are inserted)."""
        checked = kwargs.get("checked") or {}
        kept: Kept | None = kwargs.get("kept")
        if not checked and kept is None:
            return
        with events_cursor.connection.cursor() as cursor:
            self._write(cursor, checked, kept)

    def _write(self, cursor: Any, checked: Mapping[UUID, int], kept: Kept | None) -> None:
        for aggregate_id, version in checked.items():
            cursor.execute(self.version, (aggregate_id,), prepare=True)
            found = cursor.fetchone()
            value = None if found is None else next(iter(dict(found).values()), None)
            if value != version:
                refuse(f"{aggregate_id} moved on from version {version}")
        if kept is not None:
            cursor.execute(self.insert, kept.row(), prepare=True)
            if cursor.fetchone() is None:
                refuse("this Idempotency-Key was recorded already")
