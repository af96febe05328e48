"""Fixtures of the projection tests: the read store next to the ledger, on each backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ledger.settings import Settings
from projections.runtime.store import ReadStore, open_store


@pytest.fixture
def store(settings: Settings) -> Iterator[ReadStore]:
    """The read store next to the ledger."""
    read_store = open_store(settings)
    yield read_store
    read_store.close()
