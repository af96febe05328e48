"""The webhook outbox: endpoints, and one message per (endpoint, ledger event) to deliver.

The outbox is a projection: the runner hands it the ledger's events in global order and
commits its tracking position in the same transaction as the messages it enqueues, so no
event is skipped and none is enqueued twice (a message's id is derived from its endpoint and
position, and enqueuing is ``ON CONFLICT DO NOTHING``, so even a rebuild adds no duplicate).

Endpoints are created, enabled and disabled in a transaction that locks the outbox's tracking
row: an endpoint receives exactly the matching events after the position the outbox had
reached when it was created (or enabled). Senders claim due messages with a lease, so two
processes never send the same message at once; a message waits while an earlier message of
the same endpoint and plan is pending, so each plan's events arrive in ledger order.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper

from ledger.domain import Actor, Partner, Plan
from projections.models.plan_view import ENVELOPE, plain
from projections.rules.text import moment
from projections.rules.webhooks import (
    HIDDEN_FIELDS,
    event_type,
    matches,
    new_secret,
)
from projections.runtime.runner import TRACKING_TABLE, Positioned
from projections.runtime.store import Cursor, ReadStore

ENDPOINTS = "cp_webhooks"
MESSAGES = "cp_webhook_messages"
PLANS = "cp_webhook_plans"
NAME = "webhook_outbox"
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
STATUSES = (PENDING, DELIVERED, FAILED)
ACTIVE, DISABLED = "active", "disabled"
ROTATION_OVERLAP = timedelta(hours=24)
"""How long the previous secret keeps signing after a rotation."""
MESSAGE_IDS = uuid.UUID("5b0f3c55-7e62-4f0e-9d8e-1c7a4b2e9f10")
"""The namespace of message ids (uuid5 of endpoint and position)."""


def message_id(endpoint_id: str, position: int) -> str:
    """The ``webhook-id`` of an event's message to an endpoint: the same on every attempt."""
    return "msg_" + uuid.uuid5(MESSAGE_IDS, f"{endpoint_id}:{position}").hex


@dataclass(frozen=True)
class Endpoint:
    """A subscription: where to POST which events, signed with which secrets."""

    id: str
    url: str
    event_types: list[str]
    description: str | None
    status: str
    created_at: str
    created_position: int
    secret: str
    previous_secret: str | None
    previous_until: str | None

    def view(self) -> dict[str, Any]:
        """The endpoint as the API shows it (never its secret)."""
        return {
            "id": self.id,
            "url": self.url,
            "event_types": list(self.event_types),
            "description": self.description,
            "status": self.status,
            "created_at": self.created_at,
        }

    def secrets_at(self, now: datetime) -> list[str]:
        """The secrets that sign at ``now``: the current one, and the previous one for 24 h."""
        keys = [self.secret]
        if (
            self.previous_secret
            and self.previous_until
            and (moment(now) or "") < self.previous_until
        ):
            keys.append(self.previous_secret)
        return keys


@dataclass(frozen=True)
class Message:
    """A message claimed for sending: where, what, and how many attempts so far."""

    id: str
    endpoint_id: str
    position: int
    event_type: str
    body: bytes
    attempts: int
    first_attempt_at: str | None


ENDPOINT_COLUMNS = (
    "webhook_id, url, event_types, description, status, created_at, created_position, "
    "secret, previous_secret, previous_until"
)
DELIVERY_COLUMNS = (
    "message_id, event_type, position, attempts, status, last_status_code, last_error, "
    "next_attempt_at, delivered_at"
)


def _endpoint(row: Sequence[Any]) -> Endpoint:
    return Endpoint(
        id=row[0],
        url=row[1],
        event_types=json.loads(row[2]),
        description=row[3],
        status=row[4],
        created_at=row[5],
        created_position=int(row[6]),
        secret=row[7],
        previous_secret=row[8],
        previous_until=row[9],
    )


def delivery_view(row: Sequence[Any]) -> dict[str, Any]:
    """A message as ``GET /v1/webhooks/{id}/deliveries`` lists it."""
    return {
        "id": row[0],
        "event_type": row[1],
        "position": int(row[2]),
        "attempts": int(row[3]),
        "status": row[4],
        "last_status_code": None if row[5] is None else int(row[5]),
        "last_error": row[6],
        "next_attempt_at": row[7] if row[4] == PENDING else None,
        "delivered_at": row[8],
    }


class WebhookOutbox:
    """The projection that enqueues a message per matching endpoint for each ledger event."""

    name = NAME

    def __init__(self, mapper: Mapper[UUID]) -> None:
        self.mapper = mapper

    def create(self, cursor: Cursor, dialect: str) -> None:
        """The endpoints, messages and plan-partner tables."""
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {ENDPOINTS} ("
            "webhook_id TEXT PRIMARY KEY, url TEXT NOT NULL, event_types TEXT NOT NULL, "
            "description TEXT, status TEXT NOT NULL, created_at TEXT NOT NULL, "
            "created_position BIGINT NOT NULL, secret TEXT NOT NULL, previous_secret TEXT, "
            "previous_until TEXT)"
        )
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {MESSAGES} ("
            "message_id TEXT PRIMARY KEY, webhook_id TEXT NOT NULL, position BIGINT NOT NULL, "
            "stream TEXT NOT NULL, event_type TEXT NOT NULL, body TEXT NOT NULL, "
            "status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, "
            "next_attempt_at TEXT NOT NULL, first_attempt_at TEXT, last_status_code INTEGER, "
            "last_error TEXT, delivered_at TEXT, lease_until TEXT, lease_owner TEXT, "
            "created_at TEXT NOT NULL, UNIQUE (webhook_id, position))"
        )
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {MESSAGES}_due ON {MESSAGES} (status, next_attempt_at)"
        )
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {MESSAGES}_stream "
            f"ON {MESSAGES} (webhook_id, stream, status, position)"
        )
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {PLANS} ("
            "plan_id TEXT PRIMARY KEY, partner_id TEXT NOT NULL)"
        )

    def drop(self, cursor: Cursor) -> None:
        """Keep everything: endpoints and messages are not rebuilt from the ledger, and a
        replay from position 0 enqueues nothing that is already enqueued."""

    def process(self, cursor: Cursor, batch: Sequence[Positioned]) -> None:
        """Enqueue a message for every active endpoint whose filter matches each event."""
        drafted = [
            (str(i.event.originator_id), str(i.event.partner_id))
            for i in batch
            if isinstance(i.event, Plan.Drafted)
        ]
        cursor.executemany(
            f"INSERT INTO {PLANS} (plan_id, partner_id) VALUES (?, ?) "
            "ON CONFLICT (plan_id) DO NOTHING",
            drafted,
        )
        cursor.execute(
            f"SELECT webhook_id, event_types, created_position FROM {ENDPOINTS} WHERE status = ?",
            (ACTIVE,),
        )
        endpoints = [(e, json.loads(types), int(p)) for e, types, p in cursor.fetchall()]
        if not endpoints:
            return
        partners = self._partners(cursor, batch)
        rows = []
        for item in batch:
            kind = event_type(item.event)
            if kind is None:
                continue
            targets = [e for e, types, p in endpoints if p < item.position and matches(types, kind)]
            if not targets:
                continue
            stream, body, at = self._body(item, kind, partners)
            for endpoint_id in targets:
                rows.append(
                    (
                        message_id(endpoint_id, item.position),
                        endpoint_id,
                        item.position,
                        stream,
                        kind,
                        body,
                        PENDING,
                        at,
                        at,
                    )
                )
        cursor.executemany(
            f"INSERT INTO {MESSAGES} (message_id, webhook_id, position, stream, event_type, body, "
            "status, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (message_id) DO NOTHING",
            rows,
        )

    @staticmethod
    def _partners(cursor: Cursor, batch: Sequence[Positioned]) -> dict[str, str]:
        """The partner of every plan with an event in the batch."""
        ids = sorted({str(i.event.originator_id) for i in batch if isinstance(i.event, Plan.Event)})
        found: dict[str, str] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            cursor.execute(
                f"SELECT plan_id, partner_id FROM {PLANS} WHERE plan_id IN ({marks})", chunk
            )
            found.update({str(p): str(q) for p, q in cursor.fetchall()})
        return found

    def _body(self, item: Positioned, kind: str, partners: dict[str, str]) -> tuple[str, str, str]:
        """(stream, JSON body, recorded time) of an event's message."""
        event = item.event
        fields = self.mapper.transcoder.decode(item.stored) if item.stored else {}
        data = {
            k: plain(v) for k, v in fields.items() if k not in ENVELOPE and k not in HIDDEN_FIELDS
        }
        aggregate = str(event.originator_id)
        plan_id = aggregate if isinstance(event, Plan.Event) else None
        if isinstance(event, Plan.Event):
            partner_id: str | None = partners.get(aggregate)
        elif isinstance(event, Partner.Event):
            partner_id = aggregate
        elif isinstance(event, Actor.Registered) and event.partner_id is not None:
            partner_id = str(event.partner_id)
        else:
            partner_id = None
        actor = event.actor
        recorded = moment(event.timestamp) or ""
        history = {
            "position": item.position,
            "version": event.originator_version,
            "type": type(event).__name__,
            "recorded_at": recorded,
            "actor": {
                "id": str(actor.id),
                "side": None if actor.side is None else actor.side.value,
                "role": actor.role.value,
            },
            "data": data,
        }
        body = {
            "type": kind,
            "timestamp": recorded,
            "data": {
                "position": item.position,
                "plan_id": plan_id,
                "partner_id": partner_id,
                "event": history,
            },
        }
        return aggregate, json.dumps(body, separators=(",", ":")), recorded


# ----------------------------------------------------------------- endpoints


def _lock_outbox(cursor: Cursor, dialect: str) -> int:
    """Lock the outbox's tracking row until the transaction ends; its position.

    The runner locks the same row before each batch, so an endpoint created or switched on
    in this transaction takes effect exactly after this position (SQLite's BEGIN IMMEDIATE
    already serialises every writer).
    """
    lock = " FOR UPDATE" if dialect == "postgres" else ""
    cursor.execute(f"SELECT position FROM {TRACKING_TABLE} WHERE name = ?{lock}", (NAME,))
    row = cursor.fetchone()
    if row is None:
        msg = "the webhook outbox is not set up: run `counterpart db upgrade`"
        raise LookupError(msg)
    return int(row[0])


def create_endpoint(
    store: ReadStore,
    url: str,
    event_types: list[str],
    description: str | None,
    *,
    now: datetime,
    head: int,
) -> Endpoint:
    """A new active endpoint, with a fresh secret, receiving the events recorded after the
    ledger's ``head`` as read just before (and after whatever the outbox already passed)."""
    endpoint_id = str(uuid.uuid4())
    with store.transaction() as cursor:
        position = max(head, _lock_outbox(cursor, store.dialect))
        cursor.execute(
            f"INSERT INTO {ENDPOINTS} ({ENDPOINT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                endpoint_id,
                url,
                json.dumps(event_types),
                description,
                ACTIVE,
                moment(now),
                position,
                new_secret(),
                None,
                None,
            ),
        )
        found = endpoint(cursor, endpoint_id)
    if found is None:  # pragma: no cover (just inserted)
        raise LookupError(endpoint_id)
    return found


def endpoint(cursor: Cursor, endpoint_id: str) -> Endpoint | None:
    """One endpoint, or None."""
    cursor.execute(
        f"SELECT {ENDPOINT_COLUMNS} FROM {ENDPOINTS} WHERE webhook_id = ?", (endpoint_id,)
    )
    row = cursor.fetchone()
    return None if row is None else _endpoint(row)


def endpoints(cursor: Cursor, after: str | None = None, limit: int = 500) -> list[Endpoint]:
    """Endpoints in id order, after a cursor id."""
    cursor.execute(
        f"SELECT {ENDPOINT_COLUMNS} FROM {ENDPOINTS} WHERE webhook_id > ? "
        "ORDER BY webhook_id LIMIT ?",
        (after or "", limit),
    )
    return [_endpoint(row) for row in cursor.fetchall()]


def set_status(store: ReadStore, endpoint_id: str, status: str, head: int) -> Endpoint | None:
    """Enable or disable an endpoint (ordered with the outbox's batches); None if unknown.

    Enabling an endpoint that was disabled makes it receive the events recorded after the
    ledger's ``head`` (events recorded while it was disabled are not enqueued for it).
    """
    with store.transaction() as cursor:
        position = max(head, _lock_outbox(cursor, store.dialect))
        found = endpoint(cursor, endpoint_id)
        if found is None or found.status == status:
            return found
        if status == ACTIVE:
            cursor.execute(
                f"UPDATE {ENDPOINTS} SET status = ?, created_position = ? WHERE webhook_id = ?",
                (status, position, endpoint_id),
            )
        else:
            cursor.execute(
                f"UPDATE {ENDPOINTS} SET status = ? WHERE webhook_id = ?", (status, endpoint_id)
            )
        return endpoint(cursor, endpoint_id)


def rotate_secret(store: ReadStore, endpoint_id: str, now: datetime) -> Endpoint | None:
    """A new secret; the previous one keeps signing alongside it for 24 hours."""
    with store.transaction() as cursor:
        found = endpoint(cursor, endpoint_id)
        if found is None:
            return None
        cursor.execute(
            f"UPDATE {ENDPOINTS} SET secret = ?, previous_secret = ?, previous_until = ? "
            "WHERE webhook_id = ?",
            (new_secret(), found.secret, moment(now + ROTATION_OVERLAP), endpoint_id),
        )
        return endpoint(cursor, endpoint_id)


# ---------------------------------------------------------------- deliveries


def deliveries(
    cursor: Cursor,
    endpoint_id: str,
    status: str | None = None,
    after: int = 0,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """An endpoint's messages in ledger order, optionally of one status, after a position."""
    where = "webhook_id = ? AND position > ?"
    params: list[Any] = [endpoint_id, after]
    if status is not None:
        where += " AND status = ?"
        params.append(status)
    cursor.execute(
        f"SELECT {DELIVERY_COLUMNS} FROM {MESSAGES} WHERE {where} ORDER BY position LIMIT ?",
        (*params, limit),
    )
    return [delivery_view(row) for row in cursor.fetchall()]


def retry(
    store: ReadStore, endpoint_id: str, delivery_id: str, now: datetime
) -> dict[str, Any] | None:
    """Queue a message again at once (a failed one gets a fresh day of retries); None if unknown."""
    with store.transaction() as cursor:
        cursor.execute(
            f"UPDATE {MESSAGES} SET status = ?, next_attempt_at = ?, first_attempt_at = "
            f"CASE WHEN status = ? THEN NULL ELSE first_attempt_at END "
            "WHERE webhook_id = ? AND message_id = ?",
            (PENDING, moment(now), FAILED, endpoint_id, delivery_id),
        )
        cursor.execute(
            f"SELECT {DELIVERY_COLUMNS} FROM {MESSAGES} WHERE webhook_id = ? AND message_id = ?",
            (endpoint_id, delivery_id),
        )
        row = cursor.fetchone()
    return None if row is None else delivery_view(row)


def anything_pending(store: ReadStore) -> bool:
    """Whether any message waits to be sent (a cheap look before claiming)."""
    with store.reading() as cursor:
        cursor.execute(f"SELECT 1 FROM {MESSAGES} WHERE status = ? LIMIT 1", (PENDING,))
        return cursor.fetchone() is not None


def claim(
    store: ReadStore, owner: str, now: datetime, lease: timedelta, limit: int
) -> list[Message]:
    """Take up to ``limit`` due messages for ``owner`` until ``now + lease``.

    A message is due when pending, its next attempt has come, no sender holds a lease on it,
    its endpoint is active, and no earlier message of the same endpoint and plan is pending.
    """
    at = moment(now) or ""
    skip = " FOR UPDATE OF m SKIP LOCKED" if store.dialect == "postgres" else ""
    with store.transaction() as cursor:
        cursor.execute(
            f"SELECT m.message_id, m.webhook_id, m.position, m.event_type, m.body, m.attempts, "
            f"m.first_attempt_at FROM {MESSAGES} m JOIN {ENDPOINTS} w "
            "ON w.webhook_id = m.webhook_id AND w.status = ? "
            "WHERE m.status = ? AND m.next_attempt_at <= ? "
            "AND (m.lease_until IS NULL OR m.lease_until < ?) "
            f"AND NOT EXISTS (SELECT 1 FROM {MESSAGES} e WHERE e.webhook_id = m.webhook_id "
            "AND e.stream = m.stream AND e.status = ? AND e.position < m.position) "
            f"ORDER BY m.position LIMIT ?{skip}",
            (ACTIVE, PENDING, at, at, PENDING, limit),
        )
        rows = cursor.fetchall()
        cursor.executemany(
            f"UPDATE {MESSAGES} SET lease_until = ?, lease_owner = ? WHERE message_id = ?",
            [(moment(now + lease), owner, row[0]) for row in rows],
        )
    return [
        Message(r[0], r[1], int(r[2]), r[3], str(r[4]).encode("utf-8"), int(r[5]), r[6])
        for r in rows
    ]


@dataclass(frozen=True)
class Attempted:
    """The outcome of one attempt: delivered (a 2xx), or retried at ``next_attempt``, or
    failed for good (``next_attempt`` None)."""

    message: Message
    delivered: bool
    status_code: int | None
    error: str
    next_attempt: datetime | None


def record(store: ReadStore, owner: str, outcomes: Sequence[Attempted], now: datetime) -> None:
    """Record a round's attempts in one transaction (only messages this owner still leases)."""
    at = moment(now)
    done = [
        (DELIVERED, o.status_code, at, at, o.message.id, owner) for o in outcomes if o.delivered
    ]
    again = [
        (
            PENDING if o.next_attempt is not None else FAILED,
            o.status_code,
            o.error[:500],
            moment(o.next_attempt or now),
            at,
            o.message.id,
            owner,
        )
        for o in outcomes
        if not o.delivered
    ]
    with store.transaction() as cursor:
        cursor.executemany(
            f"UPDATE {MESSAGES} SET status = ?, attempts = attempts + 1, last_status_code = ?, "
            "last_error = NULL, delivered_at = ?, "
            "first_attempt_at = COALESCE(first_attempt_at, ?), "
            "lease_until = NULL, lease_owner = NULL WHERE message_id = ? AND lease_owner = ?",
            done,
        )
        cursor.executemany(
            f"UPDATE {MESSAGES} SET status = ?, attempts = attempts + 1, last_status_code = ?, "
            "last_error = ?, next_attempt_at = ?, "
            "first_attempt_at = COALESCE(first_attempt_at, ?), "
            "lease_until = NULL, lease_owner = NULL WHERE message_id = ? AND lease_owner = ?",
            again,
        )


def lag(cursor: Cursor, head: int) -> int:
    """Positions between the ledger's head and the oldest event not yet delivered everywhere."""
    cursor.execute(f"SELECT MIN(position) FROM {MESSAGES} WHERE status = ?", (PENDING,))
    row = cursor.fetchone()
    if row is not None and row[0] is not None:
        return max(0, head - int(row[0]) + 1)
    cursor.execute(f"SELECT position FROM {TRACKING_TABLE} WHERE name = ?", (NAME,))
    tracked = cursor.fetchone()
    return max(0, head - (int(tracked[0]) if tracked else 0))
