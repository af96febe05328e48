"""The one settings object of the ledger, read from ``COUNTERPART_*`` environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Any, Self

from pydantic import Field, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

DEFAULT_DATABASE_URL = "sqlite:///counterpart.db"
PREFIX = "COUNTERPART_"


class SettingsError(ValueError):
    """A ``COUNTERPART_*`` variable holds a value its setting cannot take."""


class EnvironmentSettings(BaseSettings):
    """Settings declared once: read from ``COUNTERPART_<NAME>`` variables by ``from_env``, or
    given in code (the constructor reads no environment, so a test or a benchmark gets exactly
    what it wrote). Every value is validated either way; an empty variable counts as unset."""

    model_config = SettingsConfigDict(
        env_prefix=PREFIX, frozen=True, extra="ignore", env_ignore_empty=True
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Only what the code passes: ``from_env`` reads the variables itself."""
        return (init_settings,)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        """Settings from the environment (defaults otherwise); a bad value raises
        SettingsError naming the variable, what is wrong and the value given."""
        values = _Variables(cls, os.environ if environ is None else environ)()
        try:
            return cls(**values)
        except ValidationError as error:
            raise SettingsError(described(error)) from None

    def replaced(self, **changes: Any) -> Self:
        """A validated copy with some settings changed."""
        try:
            return type(self)(**{**dict(self), **changes})
        except ValidationError as error:
            raise SettingsError(described(error)) from None

    @classmethod
    def variables(cls) -> list[str]:
        """The environment variables of these settings."""
        return [variable(name) for name in cls.model_fields]


def variable(name: str) -> str:
    """The environment variable of a setting."""
    return f"{PREFIX}{name.upper()}"


def described(error: ValidationError) -> str:
    """``COUNTERPART_CACHE_SIZE: Input should be a valid integer, not 'many'`` (each error)."""
    return "; ".join(
        f"{variable(str(e['loc'][0])) if e['loc'] else 'settings'}: {e['msg']}, not {e['input']!r}"
        for e in error.errors(include_url=False)
    )


class _Variables(EnvSettingsSource):
    """The library's environment source, reading a given mapping instead of os.environ."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._given = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {
            key.lower(): value
            for key, value in self._given.items()
            if key.startswith(PREFIX) and value.strip()
        }

    def prepare_field_value(
        self, field_name: str, field: FieldInfo, value: Any, value_is_complex: bool
    ) -> Any:
        return value.strip() if isinstance(value, str) else value


class Settings(EnvironmentSettings):
    """Where the ledger is stored and how the store is used.

    ``database_url`` is ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db``,
    ``sqlite:///file:NAME?mode=memory&cache=shared`` (tests) or
    ``postgresql://user[:password]@host[:port]/dbname[?schema=NAME]``.
    ``create_tables`` defaults to yes on SQLite and no on PostgreSQL, where tables are
    created by the explicit ``counterpart db upgrade`` step.

    Checkpoints are signed with the Ed25519 key in ``signing_key_file`` (a PEM file) or
    ``signing_key`` (the PEM text itself); verifiers also trust the public keys in the PEM
    files of ``trusted_keys`` (earlier keys, after a rotation; separated by ``os.pathsep``).
    See docs/integrity.md.
    """

    database_url: str = DEFAULT_DATABASE_URL
    create_tables: bool | None = None
    cache_size: int = Field(1000, ge=0)
    postgres_pool_size: int = Field(5, gt=0)
    postgres_connect_timeout: int = Field(5, gt=0)
    signing_key_file: str | None = None
    signing_key: str | None = None
    trusted_keys: Annotated[tuple[str, ...], NoDecode] = ()
    checkpoint_every_events: int = Field(1000, gt=0)
    checkpoint_every_seconds: int = Field(60, gt=0)

    @field_validator("trusted_keys", mode="before")
    @classmethod
    def _paths(cls, value: Any) -> Any:
        """``a.pem:b.pem`` from the environment: the paths, empty ones left out."""
        if isinstance(value, str):
            return tuple(path for path in value.split(os.pathsep) if path)
        return value

    @property
    def is_postgres(self) -> bool:
        """Whether the ledger lives in PostgreSQL."""
        return self.database_url.startswith(("postgresql://", "postgres://"))
