"""Translate the settings into the eventsourcing library's persistence environment."""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

import psycopg
from psycopg import sql

from ledger.settings import Settings

SQLITE_PREFIX = "sqlite:///"
POSTGRES_OPTIONS = {"schema"}


class ConfigurationError(ValueError):
    """The configured database URL cannot be used."""


def library_env(settings: Settings) -> dict[str, str]:
    """The eventsourcing environment for the configured database."""
    if settings.database_url.startswith(SQLITE_PREFIX):
        env = _sqlite_env(settings.database_url)
        create = True if settings.create_tables is None else settings.create_tables
    elif settings.is_postgres:
        env = _postgres_env(settings)
        create = bool(settings.create_tables)
    else:
        msg = (
            f"unsupported database URL {settings.database_url!r}: use sqlite:///path.db "
            "or postgresql://user@host:port/dbname"
        )
        raise ConfigurationError(msg)
    env["CREATE_TABLE"] = "y" if create else "n"
    if settings.cache_size > 0:
        env["AGGREGATE_CACHE_MAXSIZE"] = str(settings.cache_size)
    return env


def _sqlite_env(url: str) -> dict[str, str]:
    name = url[len(SQLITE_PREFIX) :]
    if not name:
        msg = "the SQLite URL names no file: use sqlite:///path/to/file.db"
        raise ConfigurationError(msg)
    if name == ":memory:" or name.startswith(":memory:"):
        msg = (
            "a private :memory: database is not shared between threads; use a file or "
            "sqlite:///file:NAME?mode=memory&cache=shared"
        )
        raise ConfigurationError(msg)
    if "mode=memory" in name and "cache=shared" not in name:
        msg = "an in-memory SQLite database needs cache=shared to be seen by every thread"
        raise ConfigurationError(msg)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": name,
        "SQLITE_LOCK_TIMEOUT": "10",
        "APPLICATION_RECORDER_TOPIC": "ledger.integrity.sqlite_recorder:ChainedSQLiteRecorder",
    }


def postgres_parts(url: str) -> dict[str, str]:
    """The connection parts of a PostgreSQL URL: user, password, host, port, dbname, schema."""
    parts = urlsplit(url)
    options = parse_qs(parts.query)
    unknown = set(options) - POSTGRES_OPTIONS
    if unknown:
        msg = f"unknown PostgreSQL URL option(s) {sorted(unknown)}; supported: schema"
        raise ConfigurationError(msg)
    dbname = unquote(parts.path.lstrip("/"))
    if not dbname or not parts.hostname or not parts.username:
        msg = "a PostgreSQL URL names a user, a host and a database: postgresql://user@host/db"
        raise ConfigurationError(msg)
    try:
        port = parts.port or 5432
    except ValueError:
        msg = f"the port in {url!r} is not a number"
        raise ConfigurationError(msg) from None
    schema = options.get("schema", [""])[0]
    if schema and not schema.replace("_", "").isalnum():
        msg = f"schema {schema!r} must be letters, digits and underscores"
        raise ConfigurationError(msg)
    return {
        "user": unquote(parts.username),
        "password": unquote(parts.password or ""),
        "host": parts.hostname,
        "port": str(port),
        "dbname": dbname,
        "schema": schema,
    }


def _postgres_env(settings: Settings) -> dict[str, str]:
    parts = postgres_parts(settings.database_url)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": parts["dbname"],
        "POSTGRES_HOST": parts["host"],
        "POSTGRES_PORT": parts["port"],
        "POSTGRES_USER": parts["user"],
        "POSTGRES_PASSWORD": parts["password"],
        "POSTGRES_SCHEMA": parts["schema"],
        "POSTGRES_POOL_SIZE": str(settings.postgres_pool_size),
        "POSTGRES_CONNECT_TIMEOUT": str(settings.postgres_connect_timeout),
        "POSTGRES_PRE_PING": "y",
        "APPLICATION_RECORDER_TOPIC": "ledger.integrity.postgres_recorder:ChainedPostgresRecorder",
        # Never POSTGRES_ENABLE_DB_FUNCTIONS: the table lock keeps notification order gap-free.
    }


def connect_postgres(settings: Settings) -> psycopg.Connection[tuple[object, ...]]:
    """A plain autocommit connection to the configured PostgreSQL database."""
    parts = postgres_parts(settings.database_url)
    return psycopg.connect(
        dbname=parts["dbname"],
        host=parts["host"],
        port=int(parts["port"]),
        user=parts["user"],
        password=parts["password"] or None,
        connect_timeout=settings.postgres_connect_timeout,
        autocommit=True,
    )


def ensure_schema(settings: Settings) -> None:
    """Create the PostgreSQL schema named in the URL, if any (part of ``db upgrade``)."""
    schema = postgres_parts(settings.database_url)["schema"]
    if not schema:
        return
    with connect_postgres(settings) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
