"""Create (or bring up to date) the storage the ledger needs: the explicit ``db upgrade`` step."""

from __future__ import annotations

from dataclasses import replace

from ledger.application import Counterpart
from ledger.persistence import ensure_schema
from ledger.settings import Settings


def upgrade(settings: Settings) -> None:
    """Create the schema (PostgreSQL) and the event, snapshot and tracking tables if missing."""
    if settings.is_postgres:
        ensure_schema(settings)
    app = Counterpart(replace(settings, create_tables=True))
    app.close()
