"""Fixtures of the nudges' tests: the API tests' servers and worlds, on each backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ledger.clock import SimulatedClock
from ledger.settings import Settings
from tests.api.conftest import client, module_settings, shared_world, world
from tests.api.world import World, a_world
from tests.conftest import START
from tests.nudges.receivers import a_nudging_server

__all__ = ["client", "module_settings", "shared_world", "world"]


@pytest.fixture(scope="module")
def nudging_world(module_settings: Settings) -> Iterator[World]:
    """A server that delivers webhooks to loopback, with a world, for a whole module; its
    clock starts on 2026-01-05 and only moves forward (tests may move it)."""
    clock = SimulatedClock(START)
    with a_nudging_server(module_settings, clock) as client:
        yield a_world(client, module_settings, clock)
