"""A plan command costs one write transaction and one read transaction, keyed or not.

Every database connection the server opens is traced (SQLite's statement trace; on
PostgreSQL a hook on psycopg's connections and cursors), and the transactions of one command
are counted: a write is a transaction that inserts, updates, deletes or locks; a read is any
other. The keyed command's idempotency record is inserted in its events' transaction.
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest

from ledger.clock import SimulatedClock
from ledger.settings import Settings
from tests.api.world import World, a_running_world, an_active_plan

WRITES = ("INSERT", "UPDATE", "DELETE", "LOCK", "REPLACE")


@dataclass
class Trace:
    """The transactions seen on every traced connection: ``write`` or ``read``, with their
    statements."""

    on: bool = False
    done: list[tuple[str, list[str]]] = field(default_factory=list)
    open: dict[int, list[str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def statement(self, connection: int, sql: str, *, in_transaction: bool) -> None:
        """A statement on a connection (inside an explicit transaction, or on its own)."""
        text = " ".join(sql.split()).strip()
        if not self.on or not text or text.upper().startswith("PRAGMA"):
            return
        with self.lock:
            if in_transaction:
                self.open.setdefault(connection, []).append(text)
            else:
                self.done.append((kind([text]), [text]))

    def begin(self, connection: int) -> None:
        """An explicit transaction began."""
        if self.on:
            with self.lock:
                self.open[connection] = []

    def end(self, connection: int) -> None:
        """An explicit transaction ended (committed or rolled back)."""
        with self.lock:
            statements = self.open.pop(connection, None)
            if self.on and statements:
                self.done.append((kind(statements), statements))

    def count(self, what: str) -> int:
        """Transactions of a kind."""
        return sum(1 for k, _ in self.done if k == what)


def kind(statements: list[str]) -> str:
    """``write`` if any statement changes the database (or locks for it), else ``read``."""
    return "write" if any(s.upper().startswith(WRITES) for s in statements) else "read"


TRACE = Trace()


@contextmanager
def traced_sqlite(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every SQLite connection opened from now on reports its statements."""
    connect = sqlite3.connect

    def traced(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        connection = connect(*args, **kwargs)
        key = id(connection)

        def seen(sql: str) -> None:
            head = sql.strip().upper()
            if head.startswith("BEGIN"):
                TRACE.begin(key)
            elif head.startswith(("COMMIT", "ROLLBACK", "END")):
                TRACE.end(key)
            else:
                TRACE.statement(key, sql, in_transaction=key in TRACE.open)

        connection.set_trace_callback(seen)
        return connection

    monkeypatch.setattr(sqlite3, "connect", traced)
    yield


@contextmanager
def traced_postgres(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every psycopg connection reports its explicit transactions and its statements."""
    transaction = psycopg.Connection.transaction
    execute = psycopg.Cursor.execute
    executemany = psycopg.Cursor.executemany

    @contextmanager
    def traced_transaction(self: psycopg.Connection[Any], *args: Any, **kwargs: Any) -> Any:
        outermost = id(self) not in TRACE.open
        if outermost:
            TRACE.begin(id(self))
        try:
            with transaction(self, *args, **kwargs) as tx:
                yield tx
        finally:
            if outermost:
                TRACE.end(id(self))

    def seen(cursor: psycopg.Cursor[Any], query: Any) -> None:
        connection = cursor.connection
        text = query if isinstance(query, str | bytes) else query.as_string(connection)
        text = text.decode() if isinstance(text, bytes) else text
        TRACE.statement(id(connection), text, in_transaction=id(connection) in TRACE.open)

    def traced_execute(self: psycopg.Cursor[Any], query: Any, *args: Any, **kwargs: Any) -> Any:
        seen(self, query)
        return execute(self, query, *args, **kwargs)

    def traced_executemany(self: psycopg.Cursor[Any], query: Any, *args: Any, **kwargs: Any) -> Any:
        seen(self, query)
        return executemany(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Connection, "transaction", traced_transaction)
    monkeypatch.setattr(psycopg.Cursor, "execute", traced_execute)
    monkeypatch.setattr(psycopg.Cursor, "executemany", traced_executemany)
    yield


@pytest.fixture
def world(
    settings: Settings, clock: SimulatedClock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[World]:
    """A server whose every connection is traced, with the background work stopped once the
    world is registered (so that only the commands' own transactions are seen)."""
    tracing = traced_postgres if settings.is_postgres else traced_sqlite
    with tracing(monkeypatch), a_running_world(settings, clock) as built:
        built.client.app.state.services.stop_background()  # type: ignore[attr-defined]
        yield built


def transactions_of(send: Any) -> Trace:
    """The transactions a request caused."""
    TRACE.done.clear()
    TRACE.on = True
    try:
        response = send()
    finally:
        TRACE.on = False
    assert response.status_code == 201, response.text
    return TRACE


@pytest.mark.parametrize("keyed", [True, False], ids=["keyed", "unkeyed"])
def test_a_plan_command_commits_once_and_reads_once(world: World, *, keyed: bool) -> None:
    """``POST …/progress`` (with and without an Idempotency-Key) on a warm server: at most
    one write transaction (events, chain links, the key's record) and one read transaction
    (the token)."""
    plan = an_active_plan(world)
    url = f"{plan.url}/metrics/{plan.vendor_metric}/progress"
    body = {"value": "3", "as_of": world.today()}
    world.manager.post(url, body, headers={"Idempotency-Key": uuid.uuid4().hex})  # warm

    def send() -> Any:
        headers = {"Idempotency-Key": uuid.uuid4().hex} if keyed else {}
        return world.manager.post(url, body, headers=headers)

    trace = transactions_of(send)
    shown = "\n".join(f"{k}: {' | '.join(s)[:300]}" for k, s in trace.done)
    assert trace.count("write") == 1, shown
    assert trace.count("read") <= 1, shown
    if keyed:
        (write,) = [s for k, s in trace.done if k == "write"]
        assert any("cp_idempotency" in s for s in write), shown
