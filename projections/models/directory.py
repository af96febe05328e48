"""The directory read model: actors, partners (with their managers) and token hashes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from ledger.domain import Actor, Partner
from projections.models.plan_view import JSON
from projections.rules.text import moment
from projections.runtime.runner import Positioned
from projections.runtime.store import Cursor, Where

ACTORS, PARTNERS, TOKENS = "cp_actors", "cp_partners", "cp_tokens"


class Directory:
    """Who is who: actors by id and token hash, partners by id and manager."""

    name = "directory"

    def create(self, cursor: Cursor, dialect: str) -> None:
        """The actors, partners and tokens tables."""
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {ACTORS} ("
            "actor_id TEXT PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL, "
            "role TEXT NOT NULL, side TEXT, partner_id TEXT, registered_at TEXT NOT NULL)"
        )
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {PARTNERS} ("
            "partner_id TEXT PRIMARY KEY, name TEXT NOT NULL, manager_id TEXT NOT NULL, "
            "registered_at TEXT NOT NULL)"
        )
        cursor.execute(f"CREATE INDEX IF NOT EXISTS {PARTNERS}_manager ON {PARTNERS} (manager_id)")
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {TOKENS} ("
            "token_hash TEXT PRIMARY KEY, actor_id TEXT NOT NULL, revoked INTEGER NOT NULL)"
        )

    def drop(self, cursor: Cursor) -> None:
        """Drop the tables."""
        for table in (ACTORS, PARTNERS, TOKENS):
            cursor.execute(f"DROP TABLE IF EXISTS {table}")

    def process(self, cursor: Cursor, batch: Sequence[Positioned]) -> None:
        """Apply actor and partner events in order."""
        for item in batch:
            event = item.event
            if isinstance(event, Actor.Registered):
                cursor.execute(
                    f"INSERT INTO {ACTORS} VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        str(event.originator_id),
                        event.name,
                        event.email,
                        event.role.value,
                        None if event.side is None else event.side.value,
                        None if event.partner_id is None else str(event.partner_id),
                        moment(event.timestamp),
                    ),
                )
            elif isinstance(event, Actor.TokenIssued):
                cursor.execute(
                    f"INSERT INTO {TOKENS} VALUES (?, ?, 0)",
                    (event.token_hash, str(event.originator_id)),
                )
            elif isinstance(event, Actor.TokensRevoked):
                cursor.executemany(
                    f"UPDATE {TOKENS} SET revoked = 1 WHERE token_hash = ?",
                    [(h,) for h in event.token_hashes],
                )
            elif isinstance(event, Partner.Registered):
                cursor.execute(
                    f"INSERT INTO {PARTNERS} VALUES (?, ?, ?, ?)",
                    (
                        str(event.originator_id),
                        event.name,
                        str(event.manager_id),
                        moment(event.timestamp),
                    ),
                )
            elif isinstance(event, Partner.ManagerReassigned):
                cursor.execute(
                    f"UPDATE {PARTNERS} SET manager_id = ? WHERE partner_id = ?",
                    (str(event.manager_id), str(event.originator_id)),
                )


ACTOR_COLUMNS = "actor_id, name, email, role, side, partner_id"


def _actor(row: Sequence[Any]) -> JSON:
    actor_id, name, email, role, side, partner_id = row
    return {
        "id": actor_id,
        "name": name,
        "email": email,
        "role": role,
        "side": side,
        "partner_id": partner_id,
    }


def actor_by_token_hash(cursor: Cursor, token_hash: str) -> JSON | None:
    """The actor holding a token (by its hash), unless the token was revoked."""
    cursor.execute(
        f"SELECT {', '.join('a.' + c for c in ACTOR_COLUMNS.split(', '))} "
        f"FROM {TOKENS} t JOIN {ACTORS} a ON a.actor_id = t.actor_id "
        "WHERE t.token_hash = ? AND t.revoked = 0",
        (token_hash,),
    )
    row = cursor.fetchone()
    return None if row is None else _actor(row)


def holds_live_token(cursor: Cursor, actor_id: UUID) -> bool:
    """Whether the actor holds at least one token that was not revoked."""
    cursor.execute(
        f"SELECT 1 FROM {TOKENS} WHERE actor_id = ? AND revoked = 0 LIMIT 1", (str(actor_id),)
    )
    return cursor.fetchone() is not None


def manages(cursor: Cursor, manager_id: UUID, partner_id: UUID) -> bool:
    """Whether the manager owns the partnership now."""
    cursor.execute(
        f"SELECT 1 FROM {PARTNERS} WHERE partner_id = ? AND manager_id = ?",
        (str(partner_id), str(manager_id)),
    )
    return cursor.fetchone() is not None


def actor(cursor: Cursor, actor_id: UUID) -> JSON | None:
    """One actor by id, or None."""
    cursor.execute(f"SELECT {ACTOR_COLUMNS} FROM {ACTORS} WHERE actor_id = ?", (str(actor_id),))
    row = cursor.fetchone()
    return None if row is None else _actor(row)


def actors(cursor: Cursor, *, after: str | None = None, limit: int = 50) -> list[JSON]:
    """Actors in id order, after a cursor id."""
    cursor.execute(
        f"SELECT {ACTOR_COLUMNS} FROM {ACTORS} WHERE actor_id > ? ORDER BY actor_id LIMIT ?",
        (after or "", limit),
    )
    return [_actor(row) for row in cursor.fetchall()]


def partners(
    cursor: Cursor,
    *,
    manager_id: UUID | None = None,
    partner_ids: Sequence[UUID] | None = None,
    after: str | None = None,
    limit: int = 50,
) -> list[JSON]:
    """Partners in id order, optionally of one manager or among some ids."""
    where = Where()
    where.add("partner_id > ?", after or "")
    if manager_id is not None:
        where.add("manager_id = ?", str(manager_id))
    if partner_ids is not None and not where.within("partner_id", partner_ids):
        return []
    cursor.execute(
        f"SELECT partner_id, name, manager_id FROM {PARTNERS} {where.sql}"
        "ORDER BY partner_id LIMIT ?",
        (*where.params, limit),
    )
    return [{"id": p, "name": n, "manager_id": m} for p, n, m in cursor.fetchall()]


def partnerships_by_registration(cursor: Cursor) -> list[tuple[UUID, str]]:
    """Every partner's id and registration time (ISO text), in id order."""
    cursor.execute(f"SELECT partner_id, registered_at FROM {PARTNERS} ORDER BY partner_id")
    return [(UUID(p), str(at)) for p, at in cursor.fetchall()]


def manager_ids(cursor: Cursor) -> list[UUID]:
    """The managers who own at least one partnership, in id order."""
    cursor.execute(f"SELECT DISTINCT manager_id FROM {PARTNERS} ORDER BY manager_id")
    return [UUID(m) for (m,) in cursor.fetchall() if m is not None]


def attendable(cursor: Cursor, partner_id: UUID) -> list[JSON]:
    """Who may attend a partnership's reviews: its manager, its contacts, the vendor's leaders
    (managers first, then contacts, then leaders, each by name)."""
    cursor.execute(
        f"SELECT {ACTOR_COLUMNS} FROM {ACTORS} "
        f"WHERE actor_id = (SELECT manager_id FROM {PARTNERS} WHERE partner_id = ?) "
        "OR (role = 'partner' AND partner_id = ?) OR role = 'leader' "
        "ORDER BY CASE role WHEN 'manager' THEN 0 WHEN 'partner' THEN 1 ELSE 2 END, name",
        (str(partner_id), str(partner_id)),
    )
    return [_actor(row) for row in cursor.fetchall()]


def actors_in_role(cursor: Cursor, role: str, *, limit: int = 500) -> list[JSON]:
    """Actors of one role by name (say, the managers a partnership can be handed to)."""
    cursor.execute(
        f"SELECT {ACTOR_COLUMNS} FROM {ACTORS} WHERE role = ? ORDER BY name, actor_id LIMIT ?",
        (role, limit),
    )
    return [_actor(row) for row in cursor.fetchall()]
