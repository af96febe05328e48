"""The roll-up read model: each partnership's figures and the portfolio's, kept per date.

As of a date only events recorded by its end count (docs/scoring.md), so a kept figure stays
true until an event recorded on or before its date is appended. The score facts projection
tells this model, in its own transaction, which partnerships changed and on which recorded
days (``changed``); reads fill the dates they miss and keep them. docs/projections.md.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from ledger.domain import Partner, Plan
from ledger.domain.rules import recorded_on
from projections.rules.portfolio import PartnershipDay
from projections.runtime.runner import TRACKING_TABLE, Positioned
from projections.runtime.store import Cursor, Where

RULES = 1
FACTS = "cp_score_facts"
"""Bumped when a rule behind the kept figures changes: the tables are then new ones."""
VERSIONS = "cp_rollup_partners"
"""Per partnership with plans: the ledger position of the last event about its plans."""
DAYS = f"cp_partnership_days_{RULES}"
"""Per partnership and date: its figures, and the version they were computed from."""
CHANGES = f"cp_rollup_changes_{RULES}"
"""Per recorded day: the position of the last plan or partnership event recorded that day."""
PORTFOLIO = f"cp_portfolio_days_{RULES}"
"""Per date: the portfolio's figures, and the ledger position they were computed at."""
MANAGER_DAYS = f"cp_manager_days_{RULES}"
"""Per manager and date: the manager's roll-up (JSON), and the position it was computed at."""
EVERY_DAY = "0000-00-00"
"""The change day of a reassignment or a registration for the managers' roll-ups (which use
today's ownership whatever the date): before every date, so it ends every kept one; the
portfolio's do not look at it."""
LEADERS_DAYS = f"cp_leaders_days_{RULES}"
"""Per date: a view over every partnership's figures (the portfolio page's managers table,
score spread and attention list; JSON), and the position it was computed at."""
PLAN_DAYS = f"cp_plan_days_{RULES}"
"""Per plan and date: each side's score and the accountability document, and their version
(the version of the plan's partnership)."""
DAY_COLUMNS = (
    "partner_id, as_of, position, vendor, partner, flags, paces, waiting, attention, current_plan"
)
TRACKED = ("score_facts", "directory")
"""The projections the roll-ups are read from (the version of a portfolio is their minimum)."""


def create(cursor: Cursor, versions_from: tuple[str, str]) -> None:
    """The tables (created with the score facts, dropped and rebuilt with them); a new table
    of versions starts from the facts already stored (``versions_from``: the facts table and
    the report slots table), so a store from before this model needs no rebuild."""
    facts, slots = versions_from
    cursor.execute(
        f"CREATE TABLE IF NOT EXISTS {VERSIONS} (partner_id TEXT PRIMARY KEY, "
        "position BIGINT NOT NULL)"
    )
    cursor.execute(f"SELECT count(*) FROM {VERSIONS}")
    row = cursor.fetchone()
    if row is not None and int(row[0]) == 0:
        cursor.execute(
            f"INSERT INTO {VERSIONS} (partner_id, position) SELECT partner_id, max(position) "
            f"FROM (SELECT partner_id, position FROM {facts} UNION ALL SELECT f.partner_id, "
            f"s.position FROM {slots} s JOIN {facts} f ON f.plan_id = s.plan_id) AS known "
            "GROUP BY partner_id"
        )
    cursor.execute(
        f"CREATE TABLE IF NOT EXISTS {DAYS} (partner_id TEXT NOT NULL, as_of TEXT NOT NULL, "
        "position BIGINT NOT NULL, vendor TEXT, partner TEXT, flags TEXT NOT NULL, "
        "paces TEXT NOT NULL, waiting TEXT NOT NULL, attention TEXT NOT NULL, "
        "current_plan TEXT, PRIMARY KEY (as_of, partner_id))"
    )
    cursor.execute(f"CREATE INDEX IF NOT EXISTS {DAYS}_by_partner ON {DAYS} (partner_id, as_of)")
    cursor.execute(
        f"CREATE TABLE IF NOT EXISTS {CHANGES} (day TEXT PRIMARY KEY, position BIGINT NOT NULL)"
    )
    cursor.execute(
        f"CREATE TABLE IF NOT EXISTS {PLAN_DAYS} (plan_id TEXT NOT NULL, as_of TEXT NOT NULL, "
        "partner_id TEXT NOT NULL, position BIGINT NOT NULL, vendor TEXT, partner TEXT, "
        "accountability TEXT NOT NULL, PRIMARY KEY (plan_id, as_of))"
    )
    cursor.execute(
        f"CREATE INDEX IF NOT EXISTS {PLAN_DAYS}_by_partner ON {PLAN_DAYS} (partner_id, as_of)"
    )
    cursor.execute(
        f"CREATE TABLE IF NOT EXISTS {MANAGER_DAYS} (manager_id TEXT NOT NULL, "
        "as_of TEXT NOT NULL, position BIGINT NOT NULL, figures TEXT NOT NULL, "
        "PRIMARY KEY (manager_id, as_of))"
    )
    for table in (PORTFOLIO, LEADERS_DAYS):
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {table} (as_of TEXT PRIMARY KEY, "
            "position BIGINT NOT NULL, figures TEXT NOT NULL)"
        )


def drop(cursor: Cursor) -> None:
    """Drop the tables."""
    for table in (VERSIONS, DAYS, PLAN_DAYS, CHANGES, PORTFOLIO, MANAGER_DAYS, LEADERS_DAYS):
        cursor.execute(f"DROP TABLE IF EXISTS {table}")


# ------------------------------------------------------------- the projection's side


def changed(
    cursor: Cursor, batch: Sequence[Positioned], partner_of: Mapping[UUID, UUID | None]
) -> None:
    """After a batch: each touched partnership's new version, its figures as of the first
    recorded day of its events and after dropped (those before still hold and take the new
    version), and each recorded day's last position (which ends the portfolios kept for it
    and after)."""
    touched: dict[str, tuple[date, int]] = {}
    days: dict[str, int] = {}
    for item in batch:
        event = item.event
        if isinstance(event, Plan.Event):
            partner_id = partner_of.get(event.originator_id)
            if partner_id is None:
                continue
            day = recorded_on(event.timestamp)
            first = touched.get(str(partner_id), (day, 0))[0]
            touched[str(partner_id)] = (min(first, day), item.position)
        elif isinstance(event, Partner.Registered):
            day = recorded_on(event.timestamp)
            days[EVERY_DAY] = item.position  # a manager's partnerships are today's
        elif isinstance(event, Partner.ManagerReassigned):
            days[EVERY_DAY] = item.position  # ownership is today's for every date
            continue
        else:
            continue
        days[day.isoformat()] = item.position
    if not touched and not days:
        return
    cursor.executemany(
        f"INSERT INTO {VERSIONS} (partner_id, position) VALUES (?, ?) ON CONFLICT (partner_id) "
        "DO UPDATE SET position = excluded.position",
        [(p, position) for p, (_, position) in touched.items()],
    )
    for table in (DAYS, PLAN_DAYS):
        kept = _kept_for(cursor, table, sorted(touched))  # none, while catching up
        cursor.executemany(
            f"DELETE FROM {table} WHERE partner_id = ? AND as_of >= ?",
            [(p, touched[p][0].isoformat()) for p in kept],
        )
        cursor.executemany(
            f"UPDATE {table} SET position = ? WHERE partner_id = ? AND as_of < ?",
            [(touched[p][1], p, touched[p][0].isoformat()) for p in kept],
        )
    cursor.executemany(
        f"INSERT INTO {CHANGES} (day, position) VALUES (?, ?) ON CONFLICT (day) "
        "DO UPDATE SET position = excluded.position",
        sorted(days.items()),
    )
    for table in (MANAGER_DAYS, LEADERS_DAYS):  # they follow ownership too
        cursor.execute(f"DELETE FROM {table} WHERE as_of >= ?", (min(days),))
    recorded = [day for day in days if day != EVERY_DAY]
    if recorded:
        cursor.execute(f"DELETE FROM {PORTFOLIO} WHERE as_of >= ?", (min(recorded),))


def _kept_for(cursor: Cursor, table: str, partner_ids: list[str]) -> list[str]:
    """Those of the partnerships that have rows kept in the table."""
    found: list[str] = []
    for start in range(0, len(partner_ids), 500):
        where = Where()
        where.within("partner_id", partner_ids[start : start + 500])
        cursor.execute(f"SELECT DISTINCT partner_id FROM {table} {where.sql}", where.params)
        found += [str(p) for (p,) in cursor.fetchall()]
    return found


# ------------------------------------------------------------------------ reading


def version(cursor: Cursor) -> int:
    """The position every roll-up source has reached (read before what is computed from it)."""
    where = Where()
    where.within("name", list(TRACKED))
    cursor.execute(f"SELECT min(position) FROM {TRACKING_TABLE} {where.sql}", where.params)
    row = cursor.fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def kept_portfolio(
    cursor: Cursor, as_of: date, manager_id: UUID | None = None
) -> dict[str, Any] | None:
    """The portfolio's (or a manager's) figures kept for a date, unless an event recorded by
    then (or a reassignment) came after."""
    text = kept_text(cursor, as_of, manager_id)
    if text is None:
        return None
    figures: dict[str, Any] = json.loads(text)
    return figures


def kept_text(
    cursor: Cursor, as_of: date, manager_id: UUID | None = None, *, leaders: bool = False
) -> str | None:
    """``kept_portfolio``'s figures as the JSON text they are kept as (a JSON object); with
    ``leaders``, the leaders' view kept for the date (which follows ownership)."""
    table, where, ownership = (
        (LEADERS_DAYS, "", "")
        if leaders
        else (PORTFOLIO, "", f" AND c.day <> '{EVERY_DAY}'")
        if manager_id is None
        else (MANAGER_DAYS, "manager_id = ? AND ", "")
    )
    cursor.execute(
        f"SELECT figures FROM {table} p WHERE {where}as_of = ? AND NOT EXISTS (SELECT 1 FROM "
        f"{CHANGES} c WHERE c.day <= p.as_of AND c.position > p.position{ownership})",
        (*([] if manager_id is None else [str(manager_id)]), as_of.isoformat()),
    )
    row = cursor.fetchone()
    return None if row is None else str(row[0])


def kept_days(
    cursor: Cursor, as_of: date, partner_ids: Sequence[UUID] | None = None
) -> tuple[dict[UUID, PartnershipDay], dict[UUID, int]]:
    """The partnerships' figures kept for a date (all, or these), and the versions of those
    with plans whose figures are missing or out of date."""
    where = Where()
    if partner_ids is not None and not where.within("v.partner_id", [str(p) for p in partner_ids]):
        return {}, {}
    cursor.execute(
        f"SELECT v.partner_id, v.position, d.position, d.vendor, d.partner, d.flags, d.paces, "
        f"d.waiting, d.attention, d.current_plan FROM {VERSIONS} v LEFT JOIN {DAYS} d "
        f"ON d.as_of = ? AND d.partner_id = v.partner_id {where.sql}",
        (as_of.isoformat(), *where.params),
    )
    kept: dict[UUID, PartnershipDay] = {}
    missing: dict[UUID, int] = {}
    for partner_id, wanted, position, *figures in cursor.fetchall():
        if position is None or int(position) != int(wanted):
            missing[UUID(partner_id)] = int(wanted)
        else:
            kept[UUID(partner_id)] = _decoded(figures)
    return kept, missing


def keep_days(cursor: Cursor, as_of: date, days: Mapping[UUID, tuple[int, PartnershipDay]]) -> None:
    """Keep partnerships' figures for a date (a newer version already kept stays)."""
    cursor.executemany(
        f"INSERT INTO {DAYS} ({DAY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (as_of, partner_id) DO UPDATE SET position = excluded.position, "
        "vendor = excluded.vendor, partner = excluded.partner, flags = excluded.flags, "
        "paces = excluded.paces, waiting = excluded.waiting, attention = excluded.attention, "
        f"current_plan = excluded.current_plan WHERE excluded.position >= {DAYS}.position",
        [
            (str(p), as_of.isoformat(), position, *_encoded(day))
            for p, (position, day) in days.items()
        ],
    )


def plan_version(cursor: Cursor, plan_id: UUID) -> tuple[str, int] | None:
    """A plan's partnership and the version of what is kept about its plans (None: no
    facts)."""
    cursor.execute(
        f"SELECT f.partner_id, v.position FROM {FACTS} f JOIN {VERSIONS} v "
        "ON v.partner_id = f.partner_id WHERE f.plan_id = ?",
        (str(plan_id),),
    )
    row = cursor.fetchone()
    return None if row is None else (str(row[0]), int(row[1]))


def kept_plan_days(
    cursor: Cursor, plan_id: UUID, position: int, dates: Sequence[date], *, documents: bool
) -> dict[date, tuple[str | None, str | None, str | None]]:
    """Per date kept at this version: the vendor's and the partner's score (decimal text) and,
    with ``documents``, the accountability document (JSON text)."""
    where = Where()
    where.add("plan_id = ?", str(plan_id))
    where.add("position = ?", position)
    where.within("as_of", [d.isoformat() for d in dates])
    column = "accountability" if documents else "NULL"
    cursor.execute(
        f"SELECT as_of, vendor, partner, {column} FROM {PLAN_DAYS} {where.sql}", where.params
    )
    return {date.fromisoformat(d): (v, p, a) for d, v, p, a in cursor.fetchall()}


def keep_plan_days(
    cursor: Cursor,
    plan_id: UUID,
    partner_id: str,
    position: int,
    days: Mapping[date, tuple[str | None, str | None, str]],
) -> None:
    """Keep a plan's scores and documents for some dates (a newer version kept stays)."""
    cursor.executemany(
        f"INSERT INTO {PLAN_DAYS} (plan_id, as_of, partner_id, position, vendor, partner, "
        "accountability) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (plan_id, as_of) DO UPDATE "
        "SET position = excluded.position, vendor = excluded.vendor, "
        "partner = excluded.partner, accountability = excluded.accountability "
        f"WHERE excluded.position >= {PLAN_DAYS}.position",
        [
            (str(plan_id), day.isoformat(), partner_id, position, *kept)
            for day, kept in days.items()
        ],
    )


def keep_portfolio(cursor: Cursor, as_of: date, position: int, figures: dict[str, Any]) -> None:
    """Keep the portfolio's figures for a date, computed at a position."""
    cursor.execute(
        f"INSERT INTO {PORTFOLIO} (as_of, position, figures) VALUES (?, ?, ?) "
        "ON CONFLICT (as_of) DO UPDATE SET position = excluded.position, "
        f"figures = excluded.figures WHERE excluded.position >= {PORTFOLIO}.position",
        (as_of.isoformat(), position, json.dumps(figures)),
    )


def keep_leaders(cursor: Cursor, as_of: date, position: int, figures: str) -> None:
    """Keep the leaders' view (its JSON text) for a date, computed at a position."""
    cursor.execute(
        f"INSERT INTO {LEADERS_DAYS} (as_of, position, figures) VALUES (?, ?, ?) "
        "ON CONFLICT (as_of) DO UPDATE SET position = excluded.position, "
        f"figures = excluded.figures WHERE excluded.position >= {LEADERS_DAYS}.position",
        (as_of.isoformat(), position, figures),
    )


def keep_manager(
    cursor: Cursor, manager_id: UUID, as_of: date, position: int, figures: str
) -> None:
    """Keep a manager's roll-up (its JSON text, as a response gives it) for a date, computed
    at a position."""
    cursor.execute(
        f"INSERT INTO {MANAGER_DAYS} (manager_id, as_of, position, figures) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (manager_id, as_of) DO UPDATE SET position = excluded.position, "
        f"figures = excluded.figures WHERE excluded.position >= {MANAGER_DAYS}.position",
        (str(manager_id), as_of.isoformat(), position, figures),
    )


def _encoded(day: PartnershipDay) -> tuple[Any, ...]:
    return (
        None if day.vendor is None else str(day.vendor),
        None if day.partner is None else str(day.partner),
        ",".join(sorted(day.flags)),
        ",".join(map(str, day.paces)),
        ",".join(map(str, day.waiting)),
        json.dumps(day.attention),
        day.current_plan_id,
    )


def _decoded(row: Sequence[Any]) -> PartnershipDay:
    vendor, partner, flags, paces, waiting, attention, current = row
    on, at_risk, off = (int(n) for n in str(paces).split(","))
    vendor_waiting, partner_waiting = (int(n) for n in str(waiting).split(","))
    return PartnershipDay(
        vendor=None if vendor is None else Decimal(vendor),
        partner=None if partner is None else Decimal(partner),
        flags=frozenset(f for f in str(flags).split(",") if f),
        paces=(on, at_risk, off),
        waiting=(vendor_waiting, partner_waiting),
        attention=json.loads(attention),
        current_plan_id=None if current is None else str(current),
    )
