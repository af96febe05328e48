"""Tamper evidence: a hash chain over the global event order and signed checkpoints of it.

See docs/integrity.md for the exact bytes hashed and signed, and why the chain is extended
inside the append transaction.
"""

from __future__ import annotations

from pathlib import Path

from eventsourcing.persistence import ApplicationRecorder

from ledger.integrity.chain import GENESIS, Link, chain_step, leaf_hash
from ledger.integrity.notary import Notary, NotaryThread
from ledger.integrity.postgres_recorder import ChainedPostgresRecorder
from ledger.integrity.signing import Checkpoint, KeyFileError, Keyring, Signer
from ledger.integrity.sqlite_recorder import ChainedSQLiteRecorder
from ledger.integrity.store import ChainStore
from ledger.integrity.verifier import Verdict, verify
from ledger.settings import Settings

__all__ = [
    "GENESIS",
    "ChainStore",
    "ChainedPostgresRecorder",
    "ChainedSQLiteRecorder",
    "Checkpoint",
    "KeyFileError",
    "Keyring",
    "Link",
    "Notary",
    "NotaryThread",
    "Signer",
    "Verdict",
    "chain_step",
    "chain_store",
    "keyring_from",
    "leaf_hash",
    "signer_from",
    "verify",
]


def chain_store(recorder: ApplicationRecorder) -> ChainStore:
    """The application's recorder, as the chain's store."""
    if not isinstance(recorder, ChainedSQLiteRecorder | ChainedPostgresRecorder):
        msg = f"the recorder {type(recorder).__name__} keeps no hash chain"
        raise TypeError(msg)
    return recorder


def signer_from(settings: Settings) -> Signer | None:
    """The configured signing key, if any (KeyFileError when it cannot be read)."""
    if settings.signing_key:
        return Signer.from_pem(settings.signing_key.encode("utf-8"), "COUNTERPART_SIGNING_KEY")
    if settings.signing_key_file:
        return Signer.from_file(Path(settings.signing_key_file))
    return None


def keyring_from(settings: Settings, signer: Signer | None = None) -> Keyring | None:
    """The public keys a verifier trusts: the signing key's and the trusted keys' (or None)."""
    keys = [Keyring.from_file(Path(path)) for path in settings.trusted_keys]
    if signer is not None:
        keys.append(Keyring([signer.public_key]))
    if not keys:
        return None
    ring = Keyring()
    for key in keys:
        ring = ring.merge(key)
    return ring
