"""The plan history read model: every plan event with its position, actor and data.

Each row keeps the event's state exactly as the ledger stored it; queries turn it into plain
JSON when they read it (catch-up stays fast, and the history shows the data as stored).

It answers a plan's history (oldest first) and the audit index: who proposed, revised,
agreed or committed to which terms, or accepted which adjustment, when, by actor, partner
and time range.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Transcoder

from ledger.domain import Plan
from projections.models.plan_view import ENVELOPE, JSON, plain
from projections.rules.text import moment
from projections.runtime.runner import Positioned
from projections.runtime.store import Cursor, Where

TABLE = "cp_plan_history"
COLUMN_NAMES = (
    "position",
    "plan_id",
    "version",
    "partner_id",
    "type",
    "recorded_at",
    "actor_id",
    "actor_side",
    "actor_role",
    "request_id",
    "data",
)
AUDITED = (
    "MetricProposed",
    "MetricRevised",
    "MetricAgreed",
    "Committed",
    "Activated",
    "AdjustmentAccepted",
)


class PlanHistory:
    """One row per plan event."""

    name = "plan_history"

    def create(self, cursor: Cursor, dialect: str) -> None:
        """The history table, indexed for plan histories and audit searches."""
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {TABLE} ("
            "position BIGINT PRIMARY KEY, plan_id TEXT NOT NULL, version INTEGER NOT NULL, "
            "partner_id TEXT NOT NULL, type TEXT NOT NULL, recorded_at TEXT NOT NULL, "
            "actor_id TEXT NOT NULL, actor_side TEXT, actor_role TEXT NOT NULL, "
            "request_id TEXT, data TEXT NOT NULL, UNIQUE (plan_id, version))"
        )
        cursor.execute(f"CREATE INDEX IF NOT EXISTS {TABLE}_audit ON {TABLE} (type, recorded_at)")

    def drop(self, cursor: Cursor) -> None:
        """Drop the table."""
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")

    def process(self, cursor: Cursor, batch: Sequence[Positioned]) -> None:
        """Insert one row per plan event."""
        events = [item for item in batch if isinstance(item.event, Plan.Event)]
        partners = {
            i.event.originator_id: str(i.event.partner_id)
            for i in events
            if isinstance(i.event, Plan.Drafted)
        }
        partners.update(
            self._partners_of(cursor, {i.event.originator_id for i in events} - set(partners))
        )
        rows = []
        for item in events:
            event = item.event
            plan_id = event.originator_id
            if plan_id not in partners:
                msg = f"plan {plan_id} has events but no draft: the projection skipped one"
                raise LookupError(msg)
            actor = event.actor
            rows.append(
                (
                    item.position,
                    str(plan_id),
                    event.originator_version,
                    partners[plan_id],
                    type(event).__name__,
                    moment(event.timestamp),
                    str(actor.id),
                    None if actor.side is None else actor.side.value,
                    actor.role.value,
                    event.request_id,
                    item.stored.decode("utf-8"),
                )
            )
        cursor.insert_many(TABLE, COLUMN_NAMES, rows)

    @staticmethod
    def _partners_of(cursor: Cursor, plan_ids: set[UUID]) -> dict[UUID, str]:
        """The partner of each of these plans, from their drafted rows."""
        partners: dict[UUID, str] = {}
        ids = sorted(plan_ids)
        for start in range(0, len(ids), 500):
            where = Where()
            where.add("version = 1")
            where.within("plan_id", ids[start : start + 500])
            cursor.execute(f"SELECT plan_id, partner_id FROM {TABLE} {where.sql}", where.params)
            partners.update({UUID(plan): str(partner) for plan, partner in cursor.fetchall()})
        return partners


COLUMNS = "position, plan_id, version, type, recorded_at, actor_id, actor_side, actor_role, data"


def _entry(row: Sequence[Any], transcoder: Transcoder) -> JSON:
    position, plan_id, version, kind, recorded_at, actor_id, side, role, stored = row
    fields = transcoder.decode(stored.encode("utf-8"))
    data = {k: plain(v) for k, v in fields.items() if k not in ENVELOPE}
    return {
        "position": int(position),
        "plan_id": plan_id,
        "version": int(version),
        "type": kind,
        "recorded_at": recorded_at,
        "actor": {"id": actor_id, "side": side, "role": role},
        "data": data,
    }


def plan_history(
    cursor: Cursor, transcoder: Transcoder, plan_id: UUID, after: int = 0, limit: int = 500
) -> list[JSON]:
    """A plan's events, oldest first, after a position."""
    cursor.execute(
        f"SELECT {COLUMNS} FROM {TABLE} WHERE plan_id = ? AND position > ? "
        "ORDER BY position LIMIT ?",
        (str(plan_id), after, limit),
    )
    return [_entry(row, transcoder) for row in cursor.fetchall()]


def audit_entries(
    cursor: Cursor,
    transcoder: Transcoder,
    *,
    actor_id: UUID | None = None,
    partner_ids: Sequence[UUID] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    after: int = 0,
    limit: int = 500,
) -> list[JSON]:
    """Who proposed, revised, agreed or committed to which terms (or accepted which change)."""
    where = Where()
    where.add(f"type IN ({', '.join('?' for _ in AUDITED)})", *AUDITED)
    where.add("position > ?", after)
    if actor_id is not None:
        where.add("actor_id = ?", str(actor_id))
    if partner_ids is not None and not where.within("partner_id", partner_ids):
        return []
    if since is not None:
        where.add("recorded_at >= ?", moment(since))
    if until is not None:
        where.add("recorded_at <= ?", moment(until))
    cursor.execute(
        f"SELECT {COLUMNS}, partner_id FROM {TABLE} {where.sql}ORDER BY position LIMIT ?",
        (*where.params, limit),
    )
    return [{**_entry(row[:-1], transcoder), "partner_id": row[-1]} for row in cursor.fetchall()]
