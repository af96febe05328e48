"""One settings object, translated to the library's persistence environment."""

from __future__ import annotations

import pytest

from ledger.persistence import ConfigurationError, library_env, postgres_parts
from ledger.settings import DEFAULT_DATABASE_URL, Settings
from tests import conftest


def test_the_default_ledger_is_a_sqlite_file_in_the_working_directory() -> None:
    """No configuration at all: ./counterpart.db, tables created on first use."""
    settings = Settings.from_env({})
    assert settings.database_url == DEFAULT_DATABASE_URL
    env = library_env(settings)
    assert env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite"
    assert env["SQLITE_DBNAME"] == "counterpart.db"
    assert env["CREATE_TABLE"] == "y"


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("sqlite:///data/ledger.db", "data/ledger.db"),
        ("sqlite:////var/lib/counterpart/ledger.db", "/var/lib/counterpart/ledger.db"),
        ("sqlite:///file:t1?mode=memory&cache=shared", "file:t1?mode=memory&cache=shared"),
    ],
)
def test_sqlite_urls_name_a_relative_or_absolute_file(url: str, name: str) -> None:
    """Three slashes then a relative path, four for an absolute one (as SQLAlchemy does)."""
    assert library_env(Settings(database_url=url))["SQLITE_DBNAME"] == name


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///:memory:",
        "sqlite:///file:x?mode=memory",
        "sqlite:///",
        "mysql://x/y",
        "postgresql://host-only",
        "postgresql://u@h:notaport/db",
        "postgresql://u@h/db?sslmode=x",
        "postgresql://u@h/db?schema=bad-name",
    ],
)
def test_unusable_database_urls_are_refused_with_a_clear_error(url: str) -> None:
    """A private :memory: database, an unknown scheme or a malformed URL is a clear error."""
    with pytest.raises(ConfigurationError):
        library_env(Settings(database_url=url))


def test_postgresql_urls_translate_to_the_library_settings() -> None:
    """User, password, host, port, database and schema; tables only when asked."""
    settings = Settings(
        database_url="postgresql://alice:s%40cret@db.internal:6543/ledger?schema=cp"
    )
    env = library_env(settings)
    assert env["PERSISTENCE_MODULE"] == "eventsourcing.postgres"
    assert (env["POSTGRES_USER"], env["POSTGRES_PASSWORD"]) == ("alice", "s@cret")
    assert (env["POSTGRES_HOST"], env["POSTGRES_PORT"]) == ("db.internal", "6543")
    assert (env["POSTGRES_DBNAME"], env["POSTGRES_SCHEMA"]) == ("ledger", "cp")
    assert env["CREATE_TABLE"] == "n"
    assert "POSTGRES_ENABLE_DB_FUNCTIONS" not in env
    assert postgres_parts("postgres://bob@localhost/x")["port"] == "5432"


def test_settings_come_from_counterpart_environment_variables() -> None:
    """COUNTERPART_DATABASE_URL and friends; a bad number is a clear error."""
    settings = Settings.from_env(
        {
            "COUNTERPART_DATABASE_URL": "postgresql://u@h/db",
            "COUNTERPART_CREATE_TABLES": "yes",
            "COUNTERPART_CACHE_SIZE": "0",
        }
    )
    assert settings.is_postgres
    assert settings.create_tables is True
    assert "AGGREGATE_CACHE_MAXSIZE" not in library_env(settings)
    with pytest.raises(ValueError, match="COUNTERPART_CACHE_SIZE"):
        Settings.from_env({"COUNTERPART_CACHE_SIZE": "many"})


def test_postgres_tests_fail_rather_than_skip_under_ci_when_the_server_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Under CI=true an unreachable PostgreSQL is a failure; elsewhere it is a skip."""
    monkeypatch.setattr(conftest, "POSTGRES_URL", "postgresql://postgres@127.0.0.1:9/none")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="required under CI"):
        conftest.postgres_or_skip()
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception):
        conftest.postgres_or_skip()
