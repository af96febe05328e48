"""The chained recorders pass the eventsourcing library's own recorder test cases, both backends.

Extending the chain inside the append transaction must not change what the library promises:
inserts and selects, gap-free notification order, no interleaving of concurrent transactions.
After each case the chain is checked too: one link per event, and it verifies.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore
from eventsourcing.tests.persistence import (
    ApplicationRecorderTestCase,
    NonInterleavingNotificationIDsBaseCase,
)
from psycopg import sql

from ledger.integrity import ChainedPostgresRecorder, ChainedSQLiteRecorder, verify
from tests.conftest import POSTGRES_URL, postgres_or_skip


def _check_chain(recorder: ChainedSQLiteRecorder | ChainedPostgresRecorder) -> None:
    verdict = verify(recorder, keyring=None)
    assert verdict.ok, verdict.detail
    assert verdict.checked == len(recorder.select_notifications(start=None, limit=10**7))


class SQLiteCase:
    """A fresh SQLite file per test; the chain is verified after each test."""

    recorders: list[ChainedSQLiteRecorder]

    @pytest.fixture(autouse=True)
    def _database(self, tmp_path: Path) -> Iterator[None]:
        self.path = tmp_path / "ledger.db"
        self.recorders = []
        yield
        for recorder in self.recorders:
            _check_chain(recorder)

    def create_recorder(self) -> ChainedSQLiteRecorder:
        datastore = SQLiteDatastore(str(self.path))
        recorder = ChainedSQLiteRecorder(datastore)
        recorder.create_table()
        self.recorders.append(recorder)
        return recorder


class PostgresCase:
    """A fresh PostgreSQL schema per test; the chain is verified after each test."""

    recorders: list[ChainedPostgresRecorder]

    @pytest.fixture(autouse=True)
    def _database(self) -> Iterator[None]:
        postgres_or_skip()
        self.schema = f"cp_lib_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(self.schema)))
        self.recorders = []
        yield
        for recorder in self.recorders:
            _check_chain(recorder)
            recorder.datastore.close()
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(self.schema)))

    def create_recorder(self) -> ChainedPostgresRecorder:
        parts = urlsplit(POSTGRES_URL)
        datastore = PostgresDatastore(
            dbname=parts.path.lstrip("/"),
            host=parts.hostname or "127.0.0.1",
            port=str(parts.port or 5432),
            user=parts.username or "postgres",
            password=parts.password or "",
            schema=self.schema,
            pool_size=4,
            max_overflow=10,
        )
        recorder = ChainedPostgresRecorder(datastore, events_table_name="counterpart_events")
        recorder.create_table()
        self.recorders.append(recorder)
        return recorder


class TestChainedSQLiteRecorderKeepsTheLibrarysPromises(
    SQLiteCase, ApplicationRecorderTestCase[ChainedSQLiteRecorder]
):
    """The library's application recorder cases, on SQLite."""


class TestChainedSQLiteRecorderNeverInterleavesNotificationIds(
    SQLiteCase, NonInterleavingNotificationIDsBaseCase
):
    """The library's non-interleaving case, on SQLite."""


@pytest.mark.postgres
class TestChainedPostgresRecorderKeepsTheLibrarysPromises(
    PostgresCase, ApplicationRecorderTestCase[ChainedPostgresRecorder]
):
    """The library's application recorder cases, on PostgreSQL."""

    EXPECT_CONTIGUOUS_NOTIFICATION_IDS = False


@pytest.mark.postgres
class TestChainedPostgresRecorderNeverInterleavesNotificationIds(
    PostgresCase, NonInterleavingNotificationIDsBaseCase
):
    """The library's non-interleaving case, on PostgreSQL."""
