"""The plan state read model: every plan's current state and its API document, by id."""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper

from ledger.domain import Plan
from projections.models.plan_view import JSON, plan_view
from projections.runtime.runner import Positioned
from projections.runtime.store import Cursor, Where

TABLE = "cp_plan_state"


class PlanState:
    """One row per plan: partner, status, version, the encoded state and the API document."""

    name = "plan_state"

    def __init__(self, mapper: Mapper[UUID], cache_size: int = 5000) -> None:
        self.mapper = mapper
        self.cache_size = cache_size
        self._cache: OrderedDict[UUID, Plan] = OrderedDict()

    def create(self, cursor: Cursor, dialect: str) -> None:
        """The plan state table and its partner/status index."""
        blob = "BYTEA" if dialect == "postgres" else "BLOB"
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {TABLE} ("
            "plan_id TEXT PRIMARY KEY, partner_id TEXT NOT NULL, status TEXT NOT NULL, "
            "version INTEGER NOT NULL, position BIGINT NOT NULL, "
            f"state {blob} NOT NULL, document TEXT NOT NULL)"
        )
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {TABLE}_partner ON {TABLE} (partner_id, status, plan_id)"
        )

    def drop(self, cursor: Cursor) -> None:
        """Drop the table (and forget the plans kept in memory)."""
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")
        self._cache.clear()

    def process(self, cursor: Cursor, batch: Sequence[Positioned]) -> None:
        """Apply the batch's plan events to each plan once, then write each plan's row once."""
        events = [item for item in batch if isinstance(item.event, Plan.Event)]
        drafted = {i.event.originator_id for i in events if isinstance(i.event, Plan.Drafted)}
        plans = self._load(cursor, {i.event.originator_id for i in events} - drafted)
        positions: dict[UUID, int] = {}
        for item in events:
            event = item.event
            plan_id = event.originator_id
            if isinstance(event, Plan.Drafted):
                plans[plan_id] = _as_plan(event.mutate(None), plan_id)
            elif plan_id in plans:
                event.mutate(plans[plan_id])  # refuses a gap or a repeat in the plan's versions
            else:
                msg = f"plan {plan_id} has events but no drafted row: the projection skipped one"
                raise LookupError(msg)
            positions[plan_id] = item.position
        rows = [self._row(plan, positions[plan_id]) for plan_id, plan in plans.items()]
        cursor.executemany(
            f"INSERT INTO {TABLE} "
            "(plan_id, partner_id, status, version, position, state, document) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (plan_id) DO UPDATE SET "
            "partner_id = excluded.partner_id, status = excluded.status, "
            "version = excluded.version, position = excluded.position, "
            "state = excluded.state, document = excluded.document",
            rows,
        )
        self._keep(plans)

    def _load(self, cursor: Cursor, plan_ids: set[UUID]) -> dict[UUID, Plan]:
        """The stored plans among these ids, in a few queries per few hundred ids.

        Plans this projection wrote before are kept in memory; one is used only if its
        version is the stored row's version (a batch rolled back leaves it ahead: reloaded).
        """
        plans: dict[UUID, Plan] = {}
        ids = sorted(plan_ids)
        for start in range(0, len(ids), 500):
            where = Where()
            where.within("plan_id", ids[start : start + 500])
            cursor.execute(f"SELECT plan_id, version FROM {TABLE} {where.sql}", where.params)
            missing = []
            for plan_id, version in cursor.fetchall():
                kept = self._cache.get(UUID(plan_id))
                if kept is not None and kept.version == int(version):
                    plans[kept.id] = kept
                else:
                    missing.append(plan_id)
            if not missing:
                continue
            where = Where()
            where.within("plan_id", missing)
            cursor.execute(f"SELECT plan_id, state FROM {TABLE} {where.sql}", where.params)
            for plan_id, state in cursor.fetchall():
                fields = self.mapper.transcoder.decode(bytes(state))
                fields["_pending_events"] = []
                plan = object.__new__(Plan)
                plan.__dict__.update(fields)
                plans[UUID(plan_id)] = plan
        return plans

    def _keep(self, plans: dict[UUID, Plan]) -> None:
        """Remember the plans just written, forgetting the least recently written."""
        for plan_id, plan in plans.items():
            self._cache[plan_id] = plan
            self._cache.move_to_end(plan_id)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    def _row(self, plan: Plan, position: int) -> tuple[Any, ...]:
        # The aggregate's own state, encoded like a snapshot's but without a snapshot's
        # wall-clock timestamp, so that a rebuild writes exactly the same bytes.
        state = self.mapper.transcoder.encode(
            {k: v for k, v in vars(plan).items() if k != "_pending_events"}
        )
        return (
            str(plan.id),
            str(plan.partner_id),
            plan.status.value,
            plan.version,
            position,
            state,
            json.dumps(plan_view(plan), separators=(",", ":")),
        )


def _as_plan(aggregate: object, plan_id: UUID) -> Plan:
    if not isinstance(aggregate, Plan):
        msg = f"plan {plan_id} did not rebuild as a plan"
        raise TypeError(msg)
    return aggregate


def plan_document(cursor: Cursor, plan_id: UUID) -> JSON | None:
    """A plan's API document from the read model, or None."""
    cursor.execute(f"SELECT document FROM {TABLE} WHERE plan_id = ?", (str(plan_id),))
    row = cursor.fetchone()
    if row is None:
        return None
    document: JSON = json.loads(row[0])
    return document


def plan_header(cursor: Cursor, plan_id: UUID) -> tuple[UUID, int] | None:
    """A plan's partner and version from the read model (no document parsed), or None."""
    cursor.execute(f"SELECT partner_id, version FROM {TABLE} WHERE plan_id = ?", (str(plan_id),))
    row = cursor.fetchone()
    return None if row is None else (UUID(row[0]), int(row[1]))


def plan_documents(
    cursor: Cursor,
    *,
    partner_ids: Sequence[UUID] | None = None,
    status: str | None = None,
    after: str | None = None,
    limit: int = 50,
) -> list[JSON]:
    """Plans in id order, optionally of some partners and of one status, after a cursor id."""
    where = Where()
    if partner_ids is not None and not where.within("partner_id", partner_ids):
        return []
    if status is not None:
        where.add("status = ?", status)
    if after is not None:
        where.add("plan_id > ?", after)
    cursor.execute(
        f"SELECT document FROM {TABLE} {where.sql}ORDER BY plan_id LIMIT ?", (*where.params, limit)
    )
    return [json.loads(row[0]) for row in cursor.fetchall()]


def plans_stamp(cursor: Cursor, partner_ids: Sequence[UUID] | None) -> str:
    """A stamp that moves whenever a plan of these partnerships (None: any) is drafted or
    changes: their count and the sum of their versions (a version only grows)."""
    where = Where()
    if partner_ids is not None and not where.within("partner_id", partner_ids):
        return "0:0"
    cursor.execute(
        f"SELECT COUNT(*), COALESCE(SUM(version), 0) FROM {TABLE} {where.sql}", where.params
    )
    row = cursor.fetchone()
    return "0:0" if row is None else f"{int(row[0])}:{int(row[1])}"
