"""Fixtures of the API tests: a running server on each backend with a registered world."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from ledger.clock import SimulatedClock
from ledger.settings import Settings
from tests.api.world import World, a_server, a_world
from tests.conftest import BACKENDS, START, a_fresh_ledger


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
    with a_fresh_ledger(request.param, tmp_path_factory.mktemp("ledger")) as settings:
        yield settings


@pytest.fixture(scope="module")
def shared_world(module_settings: Settings) -> Iterator[World]:
    """One world for a whole module whose tests each build the plans they need.

    The clock of a shared world never moves: every test sees 2026-01-05 09:00 UTC.
    """
    clock = SimulatedClock(START)
    with a_server(module_settings, clock) as client:
        yield a_world(client, module_settings, clock)
