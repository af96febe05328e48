"""Per-actor e-mail preferences, the record of every reminder sent (each key once), and the
answers to webhook requests sent with an Idempotency-Key.

No ledger event changes these tables (preferences are settings, not accountability); they
are kept beside the read models so that ``counterpart db upgrade`` and every process create
them, and a rebuild of the read models never touches them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from projections.rules.text import moment
from projections.runtime.runner import Positioned
from projections.runtime.store import Cursor, ReadStore

PREFERENCES = "cp_notification_preferences"
SENT = "cp_reminders_sent"
REQUESTS = "cp_webhook_requests"
SENDING, SENT_STATUS = "sending", "sent"


@dataclass(frozen=True)
class Preferences:
    """Whether an actor gets item reminders and weekly digests by e-mail (default: both)."""

    reminders: bool = True
    digest: bool = True

    def view(self) -> dict[str, dict[str, bool]]:
        """As ``GET /v1/me/notifications`` shows them."""
        return {"email": {"reminders": self.reminders, "digest": self.digest}}


class NotificationTables:
    """The tables of preferences and sent reminders, created with the read models."""

    name = "notifications"

    def create(self, cursor: Cursor, dialect: str) -> None:
        """The preferences and sent-reminders tables."""
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {PREFERENCES} ("
            "actor_id TEXT PRIMARY KEY, reminders INTEGER NOT NULL, digest INTEGER NOT NULL, "
            "updated_at TEXT NOT NULL)"
        )
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {SENT} ("
            "reminder_key TEXT PRIMARY KEY, actor_id TEXT NOT NULL, kind TEXT NOT NULL, "
            "claim_id TEXT NOT NULL, status TEXT NOT NULL, claimed_at TEXT NOT NULL, "
            "sent_at TEXT, subject TEXT NOT NULL)"
        )
        cursor.execute(f"CREATE INDEX IF NOT EXISTS {SENT}_actor ON {SENT} (actor_id)")
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {REQUESTS} ("
            "actor_id TEXT NOT NULL, idempotency_key TEXT NOT NULL, fingerprint TEXT NOT NULL, "
            "claim_id TEXT NOT NULL, status INTEGER NOT NULL, body TEXT, "
            "PRIMARY KEY (actor_id, idempotency_key))"
        )

    def drop(self, cursor: Cursor) -> None:
        """Keep both tables: they are not rebuilt from the ledger."""

    def process(self, cursor: Cursor, batch: Sequence[Positioned]) -> None:
        """No event changes these tables."""


def preferences(cursor: Cursor, actor_id: str) -> Preferences:
    """An actor's preferences (both on unless they said otherwise)."""
    cursor.execute(f"SELECT reminders, digest FROM {PREFERENCES} WHERE actor_id = ?", (actor_id,))
    row = cursor.fetchone()
    return Preferences() if row is None else Preferences(bool(row[0]), bool(row[1]))


def all_preferences(cursor: Cursor) -> dict[str, Preferences]:
    """Every stored preference, by actor id (actors not listed have the defaults)."""
    cursor.execute(f"SELECT actor_id, reminders, digest FROM {PREFERENCES}")
    return {str(a): Preferences(bool(r), bool(d)) for a, r, d in cursor.fetchall()}


def set_preferences(store: ReadStore, actor_id: str, chosen: Preferences, now: datetime) -> None:
    """Store an actor's preferences."""
    with store.transaction() as cursor:
        cursor.execute(
            f"INSERT INTO {PREFERENCES} (actor_id, reminders, digest, updated_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (actor_id) DO UPDATE SET "
            "reminders = excluded.reminders, digest = excluded.digest, "
            "updated_at = excluded.updated_at",
            (actor_id, int(chosen.reminders), int(chosen.digest), moment(now)),
        )


def recorded_keys(cursor: Cursor, keys: Sequence[str]) -> set[str]:
    """Those of these keys whose e-mail was sent or is being sent."""
    found: set[str] = set()
    ordered = sorted(set(keys))
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        cursor.execute(f"SELECT reminder_key FROM {SENT} WHERE reminder_key IN ({marks})", chunk)
        found.update(str(row[0]) for row in cursor.fetchall())
    return found


def claim(
    store: ReadStore,
    key: str,
    *,
    actor_id: str,
    kind: str,
    subject: str,
    claim_id: str,
    now: datetime,
) -> bool:
    """Take the right to send the e-mail with this key; False if it was taken before (by this
    or any process), so that no e-mail is ever sent twice."""
    with store.transaction() as cursor:
        cursor.execute(
            f"INSERT INTO {SENT} (reminder_key, actor_id, kind, claim_id, status, claimed_at, "
            "subject) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (reminder_key) DO NOTHING",
            (key, actor_id, kind, claim_id, SENDING, moment(now), subject),
        )
        cursor.execute(f"SELECT claim_id FROM {SENT} WHERE reminder_key = ?", (key,))
        row = cursor.fetchone()
    return row is not None and row[0] == claim_id


def mark_sent(store: ReadStore, key: str, claim_id: str, now: datetime) -> None:
    """The e-mail was handed to the mail server."""
    with store.transaction() as cursor:
        cursor.execute(
            f"UPDATE {SENT} SET status = ?, sent_at = ? WHERE reminder_key = ? AND claim_id = ?",
            (SENT_STATUS, moment(now), key, claim_id),
        )


def release(store: ReadStore, key: str, claim_id: str) -> None:
    """Sending failed before the mail server took it: the next pass tries again."""
    with store.transaction() as cursor:
        cursor.execute(
            f"DELETE FROM {SENT} WHERE reminder_key = ? AND claim_id = ?", (key, claim_id)
        )


def sent_count(cursor: Cursor) -> int:
    """How many reminders were sent, ever (for the metrics)."""
    cursor.execute(f"SELECT COUNT(*) FROM {SENT} WHERE status = ?", (SENT_STATUS,))
    row = cursor.fetchone()
    return 0 if row is None else int(row[0])


@dataclass(frozen=True)
class KeptRequest:
    """A webhook request made with an Idempotency-Key: its fingerprint and, once answered,
    its status and body (status 0: still being answered)."""

    fingerprint: str
    claim_id: str
    status: int
    body: str | None


def reserve_request(
    store: ReadStore, actor_id: str, key: str, fingerprint: str, claim_id: str
) -> KeptRequest:
    """Take the key for this request, or find who took it first (and what they answered)."""
    with store.transaction() as cursor:
        cursor.execute(
            f"INSERT INTO {REQUESTS} (actor_id, idempotency_key, fingerprint, claim_id, status) "
            "VALUES (?, ?, ?, ?, 0) ON CONFLICT (actor_id, idempotency_key) DO NOTHING",
            (actor_id, key, fingerprint, claim_id),
        )
        cursor.execute(
            f"SELECT fingerprint, claim_id, status, body FROM {REQUESTS} "
            "WHERE actor_id = ? AND idempotency_key = ?",
            (actor_id, key),
        )
        row = cursor.fetchone()
    if row is None:  # pragma: no cover (just inserted)
        raise LookupError(key)
    return KeptRequest(str(row[0]), str(row[1]), int(row[2]), row[3])


def answer_request(
    store: ReadStore, actor_id: str, key: str, claim_id: str, *, status: int, body: str
) -> None:
    """Keep the answer a repeat of the key gets."""
    with store.transaction() as cursor:
        cursor.execute(
            f"UPDATE {REQUESTS} SET status = ?, body = ? "
            "WHERE actor_id = ? AND idempotency_key = ? AND claim_id = ?",
            (status, body, actor_id, key, claim_id),
        )


def release_request(store: ReadStore, actor_id: str, key: str, claim_id: str) -> None:
    """The request was refused or failed: the key is free again."""
    with store.transaction() as cursor:
        cursor.execute(
            f"DELETE FROM {REQUESTS} WHERE actor_id = ? AND idempotency_key = ? AND claim_id = ?",
            (actor_id, key, claim_id),
        )
