"""One settings object, translated to the library's persistence environment."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from api.config import ServerSettings
from ledger.persistence import ConfigurationError, library_env, postgres_parts
from ledger.settings import DEFAULT_DATABASE_URL, EnvironmentSettings, Settings, SettingsError
from projections.runtime.notifications import NotifySettings
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


SETTINGS_CLASSES = [Settings, ServerSettings, NotifySettings]
LEFT_TO_THE_COMMAND_LINE = {"COUNTERPART_WORKER_METRICS_PORT", "COUNTERPART_WORKER_METRICS_HOST"}
"""Read by typer options of `counterpart projections run` (their envvar), not by a class."""


@pytest.mark.parametrize("kind", SETTINGS_CLASSES)
def test_settings_built_in_code_read_no_environment(
    kind: type[EnvironmentSettings], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A test or benchmark gets exactly the settings it wrote, whatever the shell exports."""
    for name in kind.variables():
        monkeypatch.setenv(name, "not-a-value")
    assert kind() == kind.model_construct()


@pytest.mark.parametrize(
    ("kind", "name", "value"),
    [
        (Settings, "COUNTERPART_POSTGRES_POOL_SIZE", "0"),
        (Settings, "COUNTERPART_CREATE_TABLES", "perhaps"),
        (ServerSettings, "COUNTERPART_PROJECTIONS", "sideways"),
        (ServerSettings, "COUNTERPART_COVERAGE_TARGET", "1.5"),
        (ServerSettings, "COUNTERPART_REQUEST_TIMEOUT", "soon"),
        (NotifySettings, "COUNTERPART_WEBHOOKS_LEASE", "-1"),
        (NotifySettings, "COUNTERPART_SMTP_URL", "ftp://mail"),
    ],
)
def test_a_value_a_setting_cannot_take_is_refused_naming_the_variable_and_the_value(
    kind: type[EnvironmentSettings], name: str, value: str
) -> None:
    with pytest.raises(SettingsError) as refused:
        kind.from_env({name: value})
    assert name in str(refused.value)
    assert repr(value) in str(refused.value)


def test_an_empty_variable_counts_as_unset_and_a_copy_is_validated_too() -> None:
    settings = Settings.from_env({"COUNTERPART_DATABASE_URL": "", "COUNTERPART_CACHE_SIZE": " "})
    assert settings == Settings()
    assert settings.replaced(cache_size=0).cache_size == 0
    with pytest.raises(SettingsError, match="COUNTERPART_CACHE_SIZE"):
        settings.replaced(cache_size=-1)
    assert Settings.from_env({"COUNTERPART_TRUSTED_KEYS": "a.pem:b.pem"}).trusted_keys == (
        "a.pem",
        "b.pem",
    )


def test_every_variable_is_documented_in_the_operations_guide() -> None:
    """docs/operations.md has a row for each variable a settings class reads, and no row for
    a variable nothing reads."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text()
    documented = set(re.findall(r"^\| `(COUNTERPART_[A-Z_]+)`", text, re.MULTILINE))
    declared = {name for kind in SETTINGS_CLASSES for name in kind.variables()}
    assert documented == declared | LEFT_TO_THE_COMMAND_LINE
