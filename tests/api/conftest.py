"""Fixtures of the API tests: a running server on each backend with a registered world."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import sql

from ledger.clock import SimulatedClock
from ledger.settings import Settings
from ledger.upgrade import upgrade
from tests.api.world import World, a_server, a_world
from tests.conftest import BACKENDS, POSTGRES_URL, RUN_ID, START, postgres_or_skip


@pytest.fixture
def client(settings: Settings, clock: SimulatedClock) -> Iterator[TestClient]:
    """A running server (lifespan started) on a fresh ledger, on each backend."""
    with a_server(settings, clock) as running:
        yield running


@pytest.fixture
def world(client: TestClient, settings: Settings, clock: SimulatedClock) -> World:
    """Admin, leader, auditor, two managers with a partner each, a contact of each partner."""
    return a_world(client, settings, clock)


@pytest.fixture(scope="module", params=BACKENDS)
def module_settings(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    """A fresh ledger shared by the tests of one module, on each backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('ledger')}/ledger.db"
        schema = None
    else:
        postgres_or_skip()
        schema = f"cp_test_{RUN_ID}_{uuid.uuid4().hex[:8]}"
        separator = "&" if urlsplit(POSTGRES_URL).query else "?"
        url = f"{POSTGRES_URL}{separator}schema={schema}"
    settings = Settings(database_url=url)
    upgrade(settings)
    yield settings
    if schema is not None:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture(scope="module")
def shared_world(module_settings: Settings) -> Iterator[World]:
    """One world for a whole module whose tests each build the plans they need.

    The clock of a shared world never moves: every test sees 2026-01-05 09:00 UTC.
    """
    clock = SimulatedClock(START)
    with a_server(module_settings, clock) as client:
        yield a_world(client, module_settings, clock)
