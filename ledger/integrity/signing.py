"""Signed checkpoints: an Ed25519 signature over a position and the chain hash there.

The signing key belongs to the operator (a PEM file, or the PEM text in an environment
variable); ``counterpart keys generate`` makes one. Anyone holding the public key can check a
checkpoint, and so every event at or before its position, without trusting the database.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

CHECKPOINT_PREFIX = b"counterpart/checkpoint/v1\x00"
ALGORITHM = "Ed25519"


class KeyFileError(ValueError):
    """A signing or public key cannot be read."""


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement: the chain hash after the event at ``position`` was ``chain_hash``."""

    position: int
    chain_hash: str
    issued_at: str
    key_id: str
    signature: str

    def as_dict(self) -> dict[str, Any]:
        """The checkpoint as plain JSON."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> Checkpoint:
        """A checkpoint read from JSON; ValueError when a field is missing or mistyped."""
        if not isinstance(data, dict):
            msg = "a checkpoint is a JSON object"
            raise ValueError(msg)
        try:
            checkpoint = cls(
                position=data["position"],
                chain_hash=data["chain_hash"],
                issued_at=data["issued_at"],
                key_id=data["key_id"],
                signature=data["signature"],
            )
        except KeyError as missing:
            msg = f"a checkpoint needs the field {missing}"
            raise ValueError(msg) from None
        if not isinstance(checkpoint.position, int) or not all(
            isinstance(v, str)
            for v in (checkpoint.chain_hash, checkpoint.issued_at, checkpoint.key_id)
        ):
            msg = "a checkpoint has an integer position and text hashes, time and key id"
            raise ValueError(msg)
        if not isinstance(checkpoint.signature, str):
            msg = "a checkpoint's signature is hex text"
            raise ValueError(msg)
        return checkpoint


def signed_bytes(position: int, chain_hash: str, issued_at: str, key_id: str) -> bytes:
    """What the signature covers: prefix, position, chain hash, issue time and key id."""
    when = issued_at.encode("utf-8")
    key = key_id.encode("utf-8")
    return b"".join(
        (
            CHECKPOINT_PREFIX,
            struct.pack(">Q", position),
            bytes.fromhex(chain_hash),
            struct.pack(">I", len(when)),
            when,
            struct.pack(">I", len(key)),
            key,
        )
    )


def key_id(public_key: Ed25519PublicKey) -> str:
    """A public key's id: the first 16 bytes of SHA-256 of its 32 raw bytes, in hex."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:32]


def public_pem(public_key: Ed25519PublicKey) -> str:
    """A public key as PEM text (SubjectPublicKeyInfo)."""
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


class Signer:
    """Issues checkpoints with the operator's private key."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self.public_key = private_key.public_key()
        self.key_id = key_id(self.public_key)

    @classmethod
    def generate(cls) -> Signer:
        """A signer with a new random key."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, pem: bytes, source: str = "the signing key") -> Signer:
        """A signer from PEM text (PKCS#8, unencrypted)."""
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError) as error:
            msg = f"{source} is not an unencrypted PEM private key: {error}"
            raise KeyFileError(msg) from None
        if not isinstance(key, Ed25519PrivateKey):
            msg = f"{source} is not an Ed25519 key"
            raise KeyFileError(msg)
        return cls(key)

    @classmethod
    def from_file(cls, path: Path) -> Signer:
        """A signer from a PEM file."""
        return cls.from_pem(_read(path, "the signing key"), str(path))

    def private_pem(self) -> bytes:
        """The private key as unencrypted PKCS#8 PEM (for ``keys generate``)."""
        return self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def sign(self, position: int, chain_hash: bytes, now: datetime | None = None) -> Checkpoint:
        """A checkpoint of the chain at ``position``."""
        issued_at = (now or datetime.now(UTC)).astimezone(UTC).isoformat()
        signature = self._key.sign(signed_bytes(position, chain_hash.hex(), issued_at, self.key_id))
        return Checkpoint(position, chain_hash.hex(), issued_at, self.key_id, signature.hex())


class Keyring:
    """The public keys a verifier trusts, by key id."""

    def __init__(self, keys: list[Ed25519PublicKey] | None = None) -> None:
        self.keys = {key_id(k): k for k in keys or []}

    @classmethod
    def from_pem(cls, pem: bytes, source: str = "the public key") -> Keyring:
        """A keyring of one public key (or the public half of a private key) from PEM."""
        try:
            key: object = serialization.load_pem_public_key(pem)
        except (ValueError, TypeError):
            try:
                key = serialization.load_pem_private_key(pem, password=None).public_key()
            except (ValueError, TypeError):
                msg = f"{source} is not a PEM Ed25519 public key"
                raise KeyFileError(msg) from None
        if not isinstance(key, Ed25519PublicKey):
            msg = f"{source} is not an Ed25519 key"
            raise KeyFileError(msg)
        return cls([key])

    @classmethod
    def from_file(cls, path: Path) -> Keyring:
        """A keyring of one public key read from a PEM file."""
        return cls.from_pem(_read(path, "the public key"), str(path))

    def merge(self, other: Keyring) -> Keyring:
        """The keys of both."""
        return Keyring([*self.keys.values(), *other.keys.values()])

    def check(self, checkpoint: Checkpoint) -> str | None:
        """None when the signature is valid; otherwise what is wrong."""
        key = self.keys.get(checkpoint.key_id)
        if key is None:
            return f"checkpoint signed by an unknown key {checkpoint.key_id!r}"
        try:
            payload = signed_bytes(
                checkpoint.position, checkpoint.chain_hash, checkpoint.issued_at, checkpoint.key_id
            )
            key.verify(bytes.fromhex(checkpoint.signature), payload)
        except (InvalidSignature, ValueError, OverflowError, struct.error):
            return "checkpoint signature invalid"
        return None


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        msg = f"cannot read {what} {path}: {error.strerror or error}"
        raise KeyFileError(msg) from None
