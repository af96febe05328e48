"""The read store: the same database as the ledger, reached through plain SQL transactions.

Read models live next to the events (the SQLite file, or the PostgreSQL schema), so a
projection's rows and its tracking position commit in one local transaction. SQL is written
once with ``?`` placeholders; the PostgreSQL store translates them to ``%s``.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool

from ledger.persistence import SQLITE_PREFIX, ConfigurationError, postgres_parts
from ledger.settings import Settings

Row = tuple[Any, ...]


class Cursor(Protocol):
    """What projections and queries use: execute, then fetch."""

    def execute(self, statement: str, params: Sequence[Any] = ()) -> None:
        """Run one statement with ``?`` placeholders."""
        ...

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement once per row of parameters."""
        ...

    def insert_many(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Insert rows into a table as fast as the database allows."""
        ...

    def fetchone(self) -> Row | None:
        """The next row of the last query."""
        ...

    def fetchall(self) -> list[Row]:
        """The remaining rows of the last query."""
        ...


class Wakeup(Protocol):
    """Waits for news of appended events, or for a timeout."""

    def wait(self, timeout: float) -> None:
        """Return when events may have been appended, or after ``timeout`` seconds."""
        ...

    def close(self) -> None:
        """Stop listening."""
        ...


class Sleep:
    """Polling: a pause, cut short when this process says it appended events (SQLite)."""

    def __init__(self, nudged: threading.Event | None = None) -> None:
        self._closed = False
        self._nudged = nudged or threading.Event()

    def wait(self, timeout: float) -> None:
        """Sleep for ``timeout`` seconds, or until nudged or closed."""
        if not self._closed:
            self._nudged.wait(timeout)
        self._nudged.clear()

    def close(self) -> None:
        """Wake any waiter."""
        self._closed = True
        self._nudged.set()


class Listen:
    """PostgreSQL LISTEN on the ledger's channel: wakes as soon as events are appended."""

    def __init__(self, connection: psycopg.Connection[Row], channel: str) -> None:
        self._connection = connection
        self._connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))

    def wait(self, timeout: float) -> None:
        """Return on the first notification, or after ``timeout`` seconds."""
        for _ in self._connection.notifies(timeout=timeout, stop_after=1):
            break

    def close(self) -> None:
        """Close the listening connection."""
        self._connection.close()


class ReadStore(Protocol):
    """A database reached by short transactions."""

    dialect: str

    def wakeup(self, channel: str, nudged: threading.Event | None = None) -> Wakeup:
        """How a runner waits for new events (``nudged`` is set when this process appends)."""
        ...

    def transaction(self) -> AbstractContextManager[Cursor]:
        """A transaction: committed when the block ends, rolled back if it raises."""
        ...

    def reading(self) -> AbstractContextManager[Cursor]:
        """A read-only transaction: one consistent snapshot, never blocking writers."""
        ...

    def close(self) -> None:
        """Release every connection."""
        ...


class SQLiteCursor:
    """A sqlite3 cursor behind the common interface."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    def execute(self, statement: str, params: Sequence[Any] = ()) -> None:
        """Run one statement with ``?`` placeholders."""
        self._cursor.execute(statement, tuple(params))

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement once per row of parameters."""
        self._cursor.executemany(statement, [tuple(r) for r in rows])

    def insert_many(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """A multi-row INSERT (executemany)."""
        marks = ", ".join("?" for _ in columns)
        self.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)

    def fetchone(self) -> Row | None:
        """The next row of the last query."""
        row: Row | None = self._cursor.fetchone()
        return row

    def fetchall(self) -> list[Row]:
        """The remaining rows of the last query."""
        return list(self._cursor.fetchall())


class SQLiteStore:
    """Read models in the ledger's SQLite file; one connection per thread."""

    dialect = "sqlite"

    def __init__(self, db_name: str, lock_timeout: float = 10.0) -> None:
        self._db_name = db_name
        self._lock_timeout = lock_timeout
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(
                self._db_name,
                uri=True,
                timeout=self._lock_timeout,
                isolation_level=None,
                check_same_thread=False,
            )
            connection.execute("PRAGMA journal_mode=WAL")
            # Read models can always be rebuilt from the events, so their commits need not
            # wait for the disk: in WAL mode NORMAL survives a crash of the process (not
            # a power cut), and the events' own commits stay fully synchronous.
            connection.execute("PRAGMA synchronous=NORMAL")
            self._local.connection = connection
            with self._lock:
                self._connections.append(connection)
        return connection

    def wakeup(self, channel: str, nudged: threading.Event | None = None) -> Wakeup:
        """SQLite has no notifications: runners poll, and wake early when nudged."""
        return Sleep(nudged)

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        """BEGIN IMMEDIATE … COMMIT: a writer waits for other writers, readers never block."""
        connection = self._connection()
        cursor = connection.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        try:
            yield SQLiteCursor(cursor)
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        else:
            cursor.execute("COMMIT")
        finally:
            cursor.close()

    @contextmanager
    def reading(self) -> Iterator[Cursor]:
        """BEGIN (deferred) … COMMIT: a consistent snapshot that takes no write lock."""
        connection = self._connection()
        cursor = connection.cursor()
        cursor.execute("BEGIN")
        try:
            yield SQLiteCursor(cursor)
        finally:
            cursor.execute("COMMIT")
            cursor.close()

    def close(self) -> None:
        """Close every thread's connection."""
        with self._lock:
            for connection in self._connections:
                connection.close()
            self._connections.clear()
        self._local = threading.local()


class PostgresCursor:
    """A psycopg cursor behind the common interface (``?`` becomes ``%s``)."""

    def __init__(self, cursor: psycopg.Cursor[Row]) -> None:
        self._cursor = cursor

    @staticmethod
    def _translate(statement: str) -> str:
        return statement.replace("%", "%%").replace("?", "%s")

    def execute(self, statement: str, params: Sequence[Any] = ()) -> None:
        """Run one statement with ``?`` placeholders."""
        self._cursor.execute(self._translate(statement), tuple(params))

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement once per row of parameters."""
        self._cursor.executemany(self._translate(statement), [tuple(r) for r in rows])

    def insert_many(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """COPY … FROM STDIN: several times faster than row-by-row inserts."""
        if not rows:
            return
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in columns)
        )
        with self._cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)

    def fetchone(self) -> Row | None:
        """The next row of the last query."""
        return self._cursor.fetchone()

    def fetchall(self) -> list[Row]:
        """The remaining rows of the last query."""
        return self._cursor.fetchall()


class PostgresStore:
    """Read models in the ledger's PostgreSQL schema, through a small connection pool."""

    dialect = "postgres"

    def __init__(self, settings: Settings, pool_size: int = 4) -> None:
        parts = postgres_parts(settings.database_url)
        self.schema = parts["schema"] or "public"
        self._kwargs: dict[str, Any] = {
            "dbname": parts["dbname"],
            "host": parts["host"],
            "port": int(parts["port"]),
            "user": parts["user"],
            "password": parts["password"] or None,
            "connect_timeout": settings.postgres_connect_timeout,
            # Rebuildable read models need not wait for the WAL flush (the events' commits do):
            # a server crash can lose the last moments of projection work, never corrupt it.
            "options": f"-c search_path={self.schema} -c synchronous_commit=off",
        }
        self._pool = ConnectionPool(
            kwargs=self._kwargs,
            min_size=1,
            max_size=pool_size,
            open=True,
            # No check on every checkout (a round trip per transaction): a connection broken by
            # an outage fails its statement once (503) and the pool discards it on return.
            timeout=settings.postgres_connect_timeout,
            # After an outage, reconnect promptly: a failed attempt is given up after this long
            # and the next request starts a fresh one (psycopg_pool otherwise backs off for up
            # to five minutes, doubling its pause, while the database is long back).
            reconnect_timeout=settings.postgres_connect_timeout,
            name="counterpart-read-store",
        )

    def wakeup(self, channel: str, nudged: threading.Event | None = None) -> Wakeup:
        """LISTEN on the ledger's channel, on a connection of its own (no nudge needed)."""
        connection: psycopg.Connection[Row] = psycopg.connect(autocommit=True, **self._kwargs)
        return Listen(connection, channel)

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        """A transaction on a pooled connection."""
        with (
            self._pool.connection() as connection,
            connection.transaction(),
            connection.cursor() as cursor,
        ):
            yield PostgresCursor(cursor)

    @contextmanager
    def reading(self) -> Iterator[Cursor]:
        """A transaction on a pooled connection, for reading (one consistent snapshot)."""
        with (
            self._pool.connection() as connection,
            connection.transaction(),
            connection.cursor() as cursor,
        ):
            yield PostgresCursor(cursor)

    def close(self) -> None:
        """Close the pool."""
        self._pool.close()


def open_store(settings: Settings) -> SQLiteStore | PostgresStore:
    """The read store of the configured ledger."""
    if settings.database_url.startswith(SQLITE_PREFIX):
        return SQLiteStore(settings.database_url[len(SQLITE_PREFIX) :])
    if settings.is_postgres:
        return PostgresStore(settings)
    msg = f"unsupported database URL {settings.database_url!r}"
    raise ConfigurationError(msg)


class Where:
    """A WHERE clause and its bound parameters, built one condition at a time."""

    def __init__(self) -> None:
        self.clauses: list[str] = []
        self.params: list[Any] = []

    def add(self, clause: str, *params: Any) -> None:
        """AND one condition with ``?`` placeholders."""
        self.clauses.append(clause)
        self.params.extend(params)

    def within(self, column: str, values: Sequence[Any]) -> bool:
        """AND ``column IN (values)``; False when ``values`` is empty (nothing can match)."""
        if not values:
            return False
        self.add(f"{column} IN ({', '.join('?' for _ in values)})", *(str(v) for v in values))
        return True

    @property
    def sql(self) -> str:
        """``WHERE …`` followed by a space, or nothing."""
        return f"WHERE {' AND '.join(self.clauses)} " if self.clauses else ""
