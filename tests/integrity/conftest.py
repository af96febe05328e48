"""Fixtures for the integrity tests: a small ledger with a signed checkpoint, an intruder."""

from __future__ import annotations

import pytest

from ledger.application import Counterpart
from ledger.clock import SimulatedClock
from ledger.integrity import Keyring, Notary, Signer, chain_store
from ledger.settings import Settings
from tests.builders import fill_ledger
from tests.integrity.tamper import Intruder


@pytest.fixture
def signer() -> Signer:
    """The operator's signing key."""
    return Signer.generate()


@pytest.fixture
def keyring(signer: Signer) -> Keyring:
    """The verifier's trusted public keys: the operator's."""
    return Keyring([signer.public_key])


@pytest.fixture
def filled(app: Counterpart, clock: SimulatedClock, signer: Signer) -> Counterpart:
    """A ledger of three plans with ten reports each (about 60 events), with a checkpoint."""
    fill_ledger(app, clock, plans=3, reports=10)
    Notary(chain_store(app.recorder), signer).issue()
    return app


@pytest.fixture
def intruder(settings: Settings) -> Intruder:
    """SQL access to the ledger's database, behind the application's back."""
    return Intruder(settings)
