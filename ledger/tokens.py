"""Bearer tokens: 256 random bits shown once; only their SHA-256 hashes are ever stored."""

from __future__ import annotations

import hashlib
import secrets

PREFIX = "cp_"


def new_token() -> str:
    """A fresh random token (256 bits of entropy, URL-safe)."""
    return PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The stored form of a token.

    A fast hash is right here: the token is 256 random bits, so it cannot be guessed from its
    hash, and the hash must be cheap to compute on every request.
    """
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
