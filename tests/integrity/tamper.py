"""Direct edits of the database behind the ledger's back, as an intruder with SQL access would.

Each backend keeps events in its own table and column for the global position: SQLite in
``stored_events`` keyed by ``rowid``, PostgreSQL in ``counterpart_events`` keyed by
``notification_id`` (in the test's own schema).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import sql

from ledger.integrity.chain import extend
from ledger.persistence import postgres_parts
from ledger.settings import Settings


class Intruder:
    """Runs SQL on the ledger's database, outside the application."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        if settings.is_postgres:
            self.events, self.position = "counterpart_events", "notification_id"
        else:
            self.events, self.position = "stored_events", "rowid"

    def run(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """One statement with ``?`` placeholders, committed; its rows if it returns any."""
        if not self.settings.is_postgres:
            path = self.settings.database_url.removeprefix("sqlite:///")
            with sqlite3.connect(path) as conn:
                rows = conn.execute(statement, params).fetchall()
            conn.close()
            return rows
        schema = postgres_parts(self.settings.database_url)["schema"]
        url = self.settings.database_url.split("?")[0]
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
            cursor = conn.execute(statement.replace("?", "%s"), params)  # type: ignore[arg-type]
            return cursor.fetchall() if cursor.description else []

    def event(self, position: int) -> tuple[Any, ...]:
        """(originator_id, version, topic, state) of the event at a position."""
        rows = self.run(
            f"SELECT originator_id, originator_version, topic, state FROM {self.events} "
            f"WHERE {self.position} = ?",
            (position,),
        )
        return rows[0]

    def change_one_byte(self, position: int) -> None:
        """Change one byte of an event's data."""
        state = bytearray(self.event(position)[3])
        index = state.index(b'"_data_":"') + len(b'"_data_":"')
        state[index] = ord("1") if state[index] != ord("1") else ord("2")
        self.run(
            f"UPDATE {self.events} SET state = ? WHERE {self.position} = ?",
            (bytes(state), position),
        )

    def delete(self, position: int) -> None:
        """Delete an event."""
        self.run(f"DELETE FROM {self.events} WHERE {self.position} = ?", (position,))

    def forge(self, originator_id: str, topic: str, state: bytes) -> int:
        """Insert an event the application never stored; its position."""
        key: Any = originator_id if self.settings.is_postgres else originator_id.replace("-", "")
        self.run(
            f"INSERT INTO {self.events} (originator_id, originator_version, topic, state) "
            "VALUES (?, 1, ?, ?)",
            (key, topic, state),
        )
        return int(self.run(f"SELECT MAX({self.position}) FROM {self.events}")[0][0])

    def swap(self, first: int, second: int) -> None:
        """Exchange the positions of two events."""
        parked = -1
        for old, new in ((first, parked), (second, first), (parked, second)):
            self.run(
                f"UPDATE {self.events} SET {self.position} = ? WHERE {self.position} = ?",
                (new, old),
            )

    def rewrite_chain_from(self, position: int) -> None:
        """Recompute every link from ``position`` on, from the events as they now are."""
        before = self.run(
            "SELECT position, chain_hash FROM cp_chain WHERE position < ? "
            "ORDER BY position DESC LIMIT 1",
            (position,),
        )
        head_position, head_hash = (before[0][0], bytes(before[0][1])) if before else (0, bytes(32))
        events = self.run(
            f"SELECT {self.position}, originator_id, originator_version, topic, state "
            f"FROM {self.events} WHERE {self.position} >= ? ORDER BY {self.position}",
            (position,),
        )
        raw = [(p, _dashed(str(i)), v, t, bytes(s)) for p, i, v, t, s in events]
        self.run("DELETE FROM cp_chain WHERE position >= ?", (position,))
        for link in extend(head_position, head_hash, raw):
            self.run("INSERT INTO cp_chain VALUES (?,?,?,?,?,?)", link)


def _dashed(text: str) -> str:
    if len(text) != 32:
        return text
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
