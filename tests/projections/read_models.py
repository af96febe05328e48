"""Every read model's rows, to compare what a service left with what a rebuild makes."""

from __future__ import annotations

from ledger.settings import Settings
from projections.models.directory import ACTORS, PARTNERS, TOKENS
from projections.models.plan_history import TABLE as HISTORY
from projections.models.plan_state import TABLE as STATE
from projections.models.score_facts import REPORTS
from projections.models.score_facts import TABLE as FACTS
from projections.runtime.runner import TRACKING_TABLE
from projections.runtime.store import open_store

READ_MODEL_TABLES = {
    STATE: "plan_id",
    FACTS: "plan_id",
    REPORTS: "position",
    HISTORY: "position",
    ACTORS: "actor_id",
    PARTNERS: "partner_id",
    TOKENS: "token_hash",
}
"""Each read model table and the key that orders its rows."""


def dump_read_models(settings: Settings) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every read model table in key order (blobs as bytes), and the tracking
    positions."""
    store = open_store(settings)
    try:
        with store.transaction() as cursor:
            tables = {}
            for table, key in READ_MODEL_TABLES.items():
                cursor.execute(f"SELECT * FROM {table} ORDER BY {key}")  # noqa: S608 (constants)
                tables[table] = [
                    tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
                    for row in cursor.fetchall()
                ]
            cursor.execute(f"SELECT name, position FROM {TRACKING_TABLE} ORDER BY name")  # noqa: S608
            tables[TRACKING_TABLE] = [tuple(row) for row in cursor.fetchall()]
            return tables
    finally:
        store.close()
