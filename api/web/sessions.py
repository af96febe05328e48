"""Web sessions and one-time sign-in links, kept in the database so every process agrees."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from uuid import UUID

from projections.rules.text import moment
from projections.runtime.runner import SETUP_LOCK
from projections.runtime.store import Cursor, ReadStore

SESSIONS, LINKS = "cp_web_sessions", "cp_signin_links"
LINK_LIFETIME = timedelta(minutes=15)
"""How long a sign-in link from ``counterpart actors signin-link`` can be used (once)."""


def digest(secret: str) -> str:
    """What is stored of a session id or a link code: its SHA-256 (never the secret)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class LinkRefusal(Enum):
    """Why a sign-in link did not sign anyone in."""

    UNKNOWN = "This sign-in link is not one Counterpart issued."
    USED = "This sign-in link was already used; each link signs in once."
    EXPIRED = "This sign-in link has expired (links are valid for 15 minutes)."


@dataclass(frozen=True)
class Session:
    """A signed-in browser: who, the CSRF token its forms carry, and when it ends."""

    actor_id: UUID
    csrf: str
    expires_at: str


@dataclass(frozen=True)
class Opened:
    """A new session: the cookie value (shown to the browser only) and the session."""

    cookie: str
    session: Session


@dataclass(frozen=True)
class SignIns:
    """Sessions and sign-in links in the read store's database.

    A link is spent by one conditional UPDATE, so a link used on one server process is spent
    on all of them; sessions are rows, so any process serves a signed-in browser.
    """

    store: ReadStore
    session_lifetime: timedelta = timedelta(hours=12)

    def create(self) -> None:
        """The two tables (idempotent; every process and the command line may call it)."""
        with self.store.transaction() as cursor:
            if self.store.dialect == "postgres":  # several processes may start at once
                cursor.execute("SELECT pg_advisory_xact_lock(?)", (SETUP_LOCK,))
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {SESSIONS} ("
                "session_hash TEXT PRIMARY KEY, actor_id TEXT NOT NULL, csrf TEXT NOT NULL, "
                "created_at TEXT NOT NULL, expires_at TEXT NOT NULL)"
            )
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {LINKS} ("
                "code_hash TEXT PRIMARY KEY, actor_id TEXT NOT NULL, "
                "created_at TEXT NOT NULL, expires_at TEXT NOT NULL, used_at TEXT)"
            )

    def issue_link(self, actor_id: UUID, now: datetime) -> str:
        """A new one-time sign-in code for an actor, valid for ``LINK_LIFETIME`` from ``now``."""
        code = secrets.token_urlsafe(32)
        with self.store.transaction() as cursor:
            cursor.execute(
                f"INSERT INTO {LINKS} (code_hash, actor_id, created_at, expires_at) "
                "VALUES (?, ?, ?, ?)",
                (digest(code), str(actor_id), moment(now), moment(now + LINK_LIFETIME)),
            )
        return code

    def link_holder(self, code: str, now: datetime) -> UUID | LinkRefusal:
        """Whom a code would sign in (without spending it), or why it would not."""
        with self.store.reading() as cursor:
            return _holder(cursor, code, now)

    def spend_link(self, code: str, now: datetime) -> UUID | LinkRefusal:
        """Spend a code: the actor it signs in, once; afterwards (or after expiry) a refusal."""
        with self.store.transaction() as cursor:
            cursor.execute(
                f"UPDATE {LINKS} SET used_at = ? "
                "WHERE code_hash = ? AND used_at IS NULL AND expires_at > ? RETURNING actor_id",
                (moment(now), digest(code), moment(now)),
            )
            row = cursor.fetchone()
            if row is not None:
                return UUID(row[0])
            return _holder(cursor, code, now)

    def open(self, actor_id: UUID, now: datetime) -> Opened:
        """A new session for an actor (and expired sessions and links cleared away)."""
        cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        expires = moment(now + self.session_lifetime) or ""
        with self.store.transaction() as cursor:
            cursor.execute(f"DELETE FROM {SESSIONS} WHERE expires_at <= ?", (moment(now),))
            cursor.execute(f"DELETE FROM {LINKS} WHERE expires_at <= ?", (moment(now),))
            cursor.execute(
                f"INSERT INTO {SESSIONS} VALUES (?, ?, ?, ?, ?)",
                (digest(cookie), str(actor_id), csrf, moment(now), expires),
            )
        return Opened(cookie, Session(actor_id, csrf, expires))

    def find(self, cursor: Cursor, cookie: str, now: datetime) -> Session | None:
        """The live session a cookie belongs to, or None (unknown, signed out or expired)."""
        cursor.execute(
            f"SELECT actor_id, csrf, expires_at FROM {SESSIONS} "
            "WHERE session_hash = ? AND expires_at > ?",
            (digest(cookie), moment(now)),
        )
        row = cursor.fetchone()
        return None if row is None else Session(UUID(row[0]), str(row[1]), str(row[2]))

    def close(self, cookie: str) -> None:
        """Sign out: the session ends on every process."""
        with self.store.transaction() as cursor:
            cursor.execute(f"DELETE FROM {SESSIONS} WHERE session_hash = ?", (digest(cookie),))


def _holder(cursor: Cursor, code: str, now: datetime) -> UUID | LinkRefusal:
    cursor.execute(
        f"SELECT actor_id, expires_at, used_at FROM {LINKS} WHERE code_hash = ?", (digest(code),)
    )
    row = cursor.fetchone()
    if row is None:
        return LinkRefusal.UNKNOWN
    if row[2] is not None:
        return LinkRefusal.USED
    if str(row[1]) <= (moment(now) or ""):
        return LinkRefusal.EXPIRED
    return UUID(row[0])
