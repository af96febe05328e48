"""Create (or bring up to date) the storage the ledger needs: the explicit ``db upgrade`` step."""

from __future__ import annotations

from ledger.application import Counterpart
from ledger.integrity import chain_store
from ledger.persistence import ensure_schema
from ledger.settings import Settings


def upgrade(settings: Settings) -> int:
    """Create the schema (PostgreSQL) and the event, chain, checkpoint, snapshot and tracking
    tables if missing; chain the events of a ledger recorded before the chain existed.

    Returns how many such events were chained (0 for any ledger that has a chain already).
    """
    if settings.is_postgres:
        ensure_schema(settings)
    app = Counterpart(settings.replaced(create_tables=True))
    try:
        return chain_store(app.recorder).link_legacy_events()
    finally:
        app.close()
