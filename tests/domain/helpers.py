"""Assertions shared by the aggregate rule tests."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest

from ledger.domain import LedgerError
from ledger.domain.base import LedgerAggregate


def refused(
    aggregate: LedgerAggregate, error: type[LedgerError], command: Callable[[], object]
) -> LedgerError:
    """Run a command that must be refused with ``error``, and check it triggered nothing."""
    before = copy.deepcopy(aggregate.__dict__)
    with pytest.raises(error) as raised:
        command()
    assert aggregate.__dict__ == before, "a refused command changed the aggregate"
    return raised.value


def event_types(aggregate: LedgerAggregate) -> list[str]:
    """The names of the events triggered since the last collection (and collect them)."""
    return [type(e).__name__ for e in aggregate.collect_events()]
