"""Idempotency-Key: the first response to a key is kept and given again to a repeat of it.

A key is reserved before the command runs (so a concurrent repeat waits its turn rather than
running twice), and the response is recorded once the command has succeeded. A command that
fails stores nothing, and neither does its key: the client may send it again.

A reservation names the request id that every attempt of the command records on its events
and the ledger's head when it was made. If the server dies after the command's events were
stored but before its response was recorded, a retry that takes over the expired reservation
first looks for events with that request id after that head: found, the command is answered
from them and not run again (docs/reliability.md, "Idempotency across crashes").
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

from api.errors import Problem
from projections.runtime.runner import SETUP_LOCK
from projections.runtime.store import Cursor, ReadStore

TABLE = "cp_idempotency"
MAX_KEY_LENGTH = 200
COLUMNS = "fingerprint, request_id, started_at, status, body, headers, ledger_head, attempt"
ADDED_COLUMNS = {"ledger_head": "BIGINT", "attempt": "TEXT"}
"""Columns added after the table's first version (added to an existing table on start)."""


@dataclass(frozen=True)
class Recorded:
    """The first response to a key."""

    status: int
    body: Any
    headers: dict[str, str]


@dataclass(frozen=True)
class Reservation:
    """A key reserved by this request, to be completed or released.

    ``request_id`` is the id the command records on its events: this request's own, or, when
    this request took over the reservation of an attempt that never answered (``recovering``),
    that first attempt's, so every attempt of one command records the same id. ``ledger_head``
    is the ledger's last position when the key was first reserved: the command's events, if
    any attempt stored them, come after it.
    """

    actor_id: str
    key: str
    started_at: float
    request_id: str
    ledger_head: int | None = None
    recovering: bool = False


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


def ledger_head_query(dialect: str, events_table: str) -> str:
    """SQL for the ledger's last position, read in the same statement that reserves a key."""
    if not events_table.replace("_", "").isalnum():
        msg = f"unexpected events table name {events_table!r}"
        raise ValueError(msg)
    column = "notification_id" if dialect == "postgres" else "rowid"
    return f"SELECT COALESCE(MAX({column}), 0) FROM {events_table}"


class Idempotency:
    """Keys and first responses, kept in the ledger's database (so they survive restarts)."""

    def __init__(
        self, store: ReadStore, lease_seconds: float = 30.0, head_query: str | None = None
    ) -> None:
        self.store = store
        self.lease_seconds = lease_seconds
        self.head = f"({head_query})" if head_query else "NULL"

    def create(self) -> None:
        """The keys table (and the columns later versions added to it)."""
        with self.store.transaction() as cursor:
            if self.store.dialect == "postgres":  # several processes may start at once
                cursor.execute("SELECT pg_advisory_xact_lock(?)", (SETUP_LOCK,))
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {TABLE} ("
                "actor_id TEXT NOT NULL, idempotency_key TEXT NOT NULL, "
                "fingerprint TEXT NOT NULL, request_id TEXT, started_at DOUBLE PRECISION "
                "NOT NULL, status INTEGER, body TEXT, headers TEXT, "
                "ledger_head BIGINT, attempt TEXT, "
                "PRIMARY KEY (actor_id, idempotency_key))"
            )
            if self.store.dialect == "postgres":
                for column, kind in ADDED_COLUMNS.items():
                    cursor.execute(f"ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS {column} {kind}")
            else:
                cursor.execute(f"PRAGMA table_info({TABLE})")
                present = {str(row[1]) for row in cursor.fetchall()}
                for column, kind in ADDED_COLUMNS.items():
                    if column not in present:
                        cursor.execute(f"ALTER TABLE {TABLE} ADD COLUMN {column} {kind}")

    def begin(
        self, actor_id: str, key: str, print_: str, request_id: str
    ) -> Recorded | Reservation:
        """The recorded response to a repeat, or a reservation for a first request.

        A key used with another body answers 422; a repeat that arrives while the first is
        still running answers 409 with ``Retry-After``. A repeat that arrives after the first
        attempt's lease ran out without a response takes the reservation over
        (``Reservation.recovering``): the caller must look for that attempt's events first.
        """
        now = time.time()
        with self.store.transaction() as cursor:
            cursor.execute(
                f"INSERT INTO {TABLE} (actor_id, idempotency_key, fingerprint, request_id, "
                f"started_at, ledger_head, attempt) VALUES (?, ?, ?, ?, ?, {self.head}, ?) "
                "ON CONFLICT (actor_id, idempotency_key) DO NOTHING",
                (actor_id, key, print_, request_id, now, request_id),
            )
            row = self._row(cursor, actor_id, key)
        if row is None:  # pragma: no cover - the row was just written in this transaction
            msg = "the idempotency key could not be reserved; retry"
            raise Problem(503, msg, headers={"Retry-After": "1"})
        stored_print, stored_request, started_at, status, body, headers, head, attempt = row
        if stored_print != print_:
            msg = (
                "this Idempotency-Key was already used for a different request; "
                "use a new key for a new command"
            )
            raise Problem(422, msg, slug="idempotency-key-reused", title="Idempotency-Key reused")
        if status is not None:
            return Recorded(int(status), json.loads(body), json.loads(headers or "{}"))
        head = None if head is None else int(head)
        if attempt == request_id and started_at == now:
            return Reservation(actor_id, key, now, request_id, head)
        expired = now - float(started_at) > self.lease_seconds
        if expired and self._take_over(actor_id, key, float(started_at), request_id, now):
            first = str(stored_request or request_id)
            return Reservation(actor_id, key, now, first, head, recovering=True)
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
        """Claim the lease of a key whose last attempt never answered (its server stopped).

        Only the lease moves: the request id and ledger head of the first attempt stay, so
        the events of any earlier attempt can still be found.
        """
        with self.store.transaction() as cursor:
            cursor.execute(
                f"UPDATE {TABLE} SET attempt = ?, started_at = ? "
                "WHERE actor_id = ? AND idempotency_key = ? AND started_at = ? "
                "AND status IS NULL",
                (request_id, now, actor_id, key, started_at),
            )
            row = self._row(cursor, actor_id, key)
        return row is not None and row[7] == request_id and row[2] == now

    @staticmethod
    def _row(cursor: Cursor, actor_id: str, key: str) -> tuple[Any, ...] | None:
        cursor.execute(
            f"SELECT {COLUMNS} FROM {TABLE} WHERE actor_id = ? AND idempotency_key = ?",
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
                "AND status IS NULL AND started_at = ?",
                (reservation.actor_id, reservation.key, reservation.started_at),
            )

    def abandon(self, reservation: Reservation) -> None:
        """Give up the lease of a request that stored its command but could not answer.

        The key stays reserved (its command was applied), and the next repeat takes it over
        at once and answers from the stored events instead of waiting for the lease to end.
        """
        with self.store.transaction() as cursor:
            cursor.execute(
                f"UPDATE {TABLE} SET started_at = 0 WHERE actor_id = ? AND idempotency_key = ? "
                "AND status IS NULL AND started_at = ?",
                (reservation.actor_id, reservation.key, reservation.started_at),
            )
