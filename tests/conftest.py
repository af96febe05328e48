"""Fixtures shared by every test tier: clocks, backends (SQLite and PostgreSQL), the application."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg import sql

from ledger.application import Counterpart
from ledger.clock import SimulatedClock
from ledger.settings import Settings
from ledger.upgrade import upgrade

POSTGRES_URL = os.environ.get(
    "COUNTERPART_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
RUN_ID = uuid.uuid4().hex[:8]
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
BACKENDS = ["sqlite", "postgres"]


def postgres_or_skip() -> None:
    """Skip when PostgreSQL is unreachable, except under CI=true, where that is a failure."""
    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=3):
            pass
    except psycopg.OperationalError as error:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL is required under CI=true and unreachable: {error}")
        pytest.skip(f"PostgreSQL unreachable at {POSTGRES_URL}: {error}")


@contextmanager
def a_fresh_ledger(backend: str, directory: Path) -> Iterator[Settings]:
    """An upgraded, empty ledger: an SQLite file in ``directory``, or a PostgreSQL schema of
    its own, dropped afterwards (for fixtures wider than one test)."""
    schema = None
    if backend == "sqlite":
        url = f"sqlite:///{directory}/ledger.db"
    else:
        postgres_or_skip()
        schema = f"cp_test_{RUN_ID}_{uuid.uuid4().hex[:8]}"
        separator = "&" if urlsplit(POSTGRES_URL).query else "?"
        url = f"{POSTGRES_URL}{separator}schema={schema}"
    settings = Settings(database_url=url)
    upgrade(settings)
    try:
        yield settings
    finally:
        if schema is not None:
            with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
                drop = sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE")
                conn.execute(drop.format(sql.Identifier(schema)))


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL with a schema of its own, dropped afterwards."""
    postgres_or_skip()
    schema = f"cp_test_{RUN_ID}_{uuid.uuid4().hex[:8]}"
    separator = "&" if urlsplit(POSTGRES_URL).query else "?"
    yield f"{POSTGRES_URL}{separator}schema={schema}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: object) -> str:
    """The URL of a fresh, empty ledger on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/ledger.db"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Settings for a fresh ledger whose tables exist (created as ``db upgrade`` does)."""
    settings = Settings(database_url=database_url)
    upgrade(settings)
    return settings


@pytest.fixture
def clock() -> SimulatedClock:
    """A clock that moves only when the test says so, starting on Monday 2026-01-05 09:00 UTC."""
    return SimulatedClock(START)


@pytest.fixture
def app(settings: Settings, clock: SimulatedClock) -> Iterator[Counterpart]:
    """The application on a fresh ledger, on each backend."""
    application = Counterpart(settings, clock)
    yield application
    application.close()
