"""The one settings object of the ledger, read from ``COUNTERPART_*`` environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_DATABASE_URL = "sqlite:///counterpart.db"


@dataclass(frozen=True)
class Settings:
    """Where the ledger is stored and how the store is used.

    ``database_url`` is ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db``,
    ``sqlite:///file:NAME?mode=memory&cache=shared`` (tests) or
    ``postgresql://user[:password]@host[:port]/dbname[?schema=NAME]``.
    ``create_tables`` defaults to yes on SQLite and no on PostgreSQL, where tables are
    created by the explicit ``counterpart db upgrade`` step.

    Checkpoints are signed with the Ed25519 key in ``signing_key_file`` (a PEM file) or
    ``signing_key`` (the PEM text itself); verifiers also trust the public keys in the PEM
    files of ``trusted_keys`` (earlier keys, after a rotation). See docs/integrity.md.
    """

    database_url: str = DEFAULT_DATABASE_URL
    create_tables: bool | None = None
    cache_size: int = 1000
    postgres_pool_size: int = 5
    postgres_connect_timeout: int = 5
    signing_key_file: str | None = None
    signing_key: str | None = None
    trusted_keys: tuple[str, ...] = ()
    checkpoint_every_events: int = 1000
    checkpoint_every_seconds: int = 60

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from ``COUNTERPART_DATABASE_URL`` and friends (defaults otherwise)."""
        env = os.environ if environ is None else environ
        create = env.get("COUNTERPART_CREATE_TABLES")
        return cls(
            database_url=env.get("COUNTERPART_DATABASE_URL") or DEFAULT_DATABASE_URL,
            create_tables=None if not create else create.lower() in {"1", "true", "yes", "y"},
            cache_size=_int(env, "COUNTERPART_CACHE_SIZE", cls.cache_size),
            postgres_pool_size=_int(env, "COUNTERPART_POSTGRES_POOL_SIZE", cls.postgres_pool_size),
            postgres_connect_timeout=_int(
                env, "COUNTERPART_POSTGRES_CONNECT_TIMEOUT", cls.postgres_connect_timeout
            ),
            signing_key_file=env.get("COUNTERPART_SIGNING_KEY_FILE") or None,
            signing_key=env.get("COUNTERPART_SIGNING_KEY") or None,
            trusted_keys=tuple(
                path for path in env.get("COUNTERPART_TRUSTED_KEYS", "").split(os.pathsep) if path
            ),
            checkpoint_every_events=_int(
                env, "COUNTERPART_CHECKPOINT_EVERY_EVENTS", cls.checkpoint_every_events
            ),
            checkpoint_every_seconds=_int(
                env, "COUNTERPART_CHECKPOINT_EVERY_SECONDS", cls.checkpoint_every_seconds
            ),
        )

    @property
    def is_postgres(self) -> bool:
        """Whether the ledger lives in PostgreSQL."""
        return self.database_url.startswith(("postgresql://", "postgres://"))


def _int(env: Mapping[str, str], key: str, default: int) -> int:
    raw = env.get(key)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        msg = f"{key} must be a whole number, not {raw!r}"
        raise ValueError(msg) from None
