"""Idempotency-Key: the first response to a key is kept and given again to a repeat of it.

A key is reserved before the command runs (so a concurrent repeat waits its turn rather than
running twice), and the response is recorded once the command has succeeded. A command that
fails stores nothing, and neither does its key: the client may send it again.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

from api.errors import Problem
from projections.runner import SETUP_LOCK
from projections.store import Cursor, ReadStore

TABLE = "cp_idempotency"
MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class Recorded:
    """The first response to a key."""

    status: int
    body: Any
    headers: dict[str, str]


@dataclass(frozen=True)
class Reservation:
    """A key reserved by this request, to be completed or released."""

    actor_id: str
    key: str
    started_at: float


def fingerprint(method: str, path: str, body: Any) -> str:
    """What makes two requests "the same": method, path and the body as validated."""
    text = json.dumps([method, path, body], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_key(key: str) -> str:
    """A key is 1 to 200 printable ASCII characters."""
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not all(" " < c <= "~" for c in key):
        msg = f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable ASCII characters"
        raise Problem(422, msg, errors=[{"loc": ["header", "Idempotency-Key"], "msg": msg}])
    return key


class Idempotency:
    """Keys and first responses, kept in the ledger's database (so they survive restarts)."""

    def __init__(self, store: ReadStore, lease_seconds: float = 30.0) -> None:
        self.store = store
        self.lease_seconds = lease_seconds

    def create(self) -> None:
        """The keys table."""
        with self.store.transaction() as cursor:
            if self.store.dialect == "postgres":  # several processes may start at once
                cursor.execute("SELECT pg_advisory_xact_lock(?)", (SETUP_LOCK,))
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {TABLE} ("
                "actor_id TEXT NOT NULL, idempotency_key TEXT NOT NULL, "
                "fingerprint TEXT NOT NULL, request_id TEXT, started_at DOUBLE PRECISION "
                "NOT NULL, status INTEGER, body TEXT, headers TEXT, "
                "PRIMARY KEY (actor_id, idempotency_key))"
            )

    def begin(
        self, actor_id: str, key: str, print_: str, request_id: str
    ) -> Recorded | Reservation:
        """The recorded response to a repeat, or a reservation for a first request.

        A key used with another body answers 422; a repeat that arrives while the first is
        still running answers 409 with ``Retry-After``.
        """
        now = time.time()
        with self.store.transaction() as cursor:
            cursor.execute(
                f"INSERT INTO {TABLE} (actor_id, idempotency_key, fingerprint, request_id, "
                "started_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (actor_id, idempotency_key) DO NOTHING",
                (actor_id, key, print_, request_id, now),
            )
            row = self._row(cursor, actor_id, key)
        if row is None:  # pragma: no cover - the row was just written in this transaction
            msg = "the idempotency key could not be reserved; retry"
            raise Problem(503, msg, headers={"Retry-After": "1"})
        stored_print, stored_request, started_at, status, body, headers = row
        if stored_print != print_:
            msg = (
                "this Idempotency-Key was already used for a different request; "
                "use a new key for a new command"
            )
            raise Problem(422, msg, slug="idempotency-key-reused", title="Idempotency-Key reused")
        if status is not None:
            return Recorded(int(status), json.loads(body), json.loads(headers or "{}"))
        if stored_request == request_id and started_at == now:
            return Reservation(actor_id, key, now)
        if now - float(started_at) > self.lease_seconds and self._take_over(
            actor_id, key, float(started_at), request_id, now
        ):
            return Reservation(actor_id, key, now)
        msg = (
            "a request with this Idempotency-Key is still being processed; "
            "retry shortly to receive its response"
        )
        raise Problem(
            409,
            msg,
            slug="idempotency-key-in-progress",
            title="Request in progress",
            headers={"Retry-After": "1"},
            retry=True,
        )

    def _take_over(
        self, actor_id: str, key: str, started_at: float, request_id: str, now: float
    ) -> bool:
        """Reserve a key whose first request never finished (its server stopped)."""
        with self.store.transaction() as cursor:
            cursor.execute(
                f"UPDATE {TABLE} SET request_id = ?, started_at = ? "
                "WHERE actor_id = ? AND idempotency_key = ? AND started_at = ? "
                "AND status IS NULL",
                (request_id, now, actor_id, key, started_at),
            )
            row = self._row(cursor, actor_id, key)
        return row is not None and row[1] == request_id and row[2] == now

    @staticmethod
    def _row(cursor: Cursor, actor_id: str, key: str) -> tuple[Any, ...] | None:
        cursor.execute(
            f"SELECT fingerprint, request_id, started_at, status, body, headers FROM {TABLE} "
            "WHERE actor_id = ? AND idempotency_key = ?",
            (actor_id, key),
        )
        return cursor.fetchone()

    def complete(self, reservation: Reservation, recorded: Recorded) -> None:
        """Keep the first response for repeats of the key."""
        with self.store.transaction() as cursor:
            cursor.execute(
                f"UPDATE {TABLE} SET status = ?, body = ?, headers = ? "
                "WHERE actor_id = ? AND idempotency_key = ?",
                (
                    recorded.status,
                    json.dumps(recorded.body, separators=(",", ":")),
                    json.dumps(recorded.headers),
                    reservation.actor_id,
                    reservation.key,
                ),
            )

    def release(self, reservation: Reservation) -> None:
        """Forget a key whose request failed: nothing was stored, the key may be used again."""
        with self.store.transaction() as cursor:
            cursor.execute(
                f"DELETE FROM {TABLE} WHERE actor_id = ? AND idempotency_key = ? "
                "AND status IS NULL",
                (reservation.actor_id, reservation.key),
            )
