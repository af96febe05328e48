"""Reads of the roll-ups as of a date that fill in, and keep, the figures not kept yet."""

from __future__ import annotations

import json
import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from ledger.domain import Side
from projections.models.directory import partners, partnerships_by_registration
from projections.models.rollup_days import (
    keep_days,
    keep_leaders,
    keep_manager,
    keep_plan_days,
    keep_portfolio,
    kept_days,
    kept_plan_days,
    kept_portfolio,
    kept_text,
    plan_version,
    version,
)
from projections.models.score_facts import ScoreFacts
from projections.rules.accountability import plan_accountability
from projections.rules.facts import PlanFacts
from projections.rules.portfolio import PartnershipDay, manager_of, partnership_day, portfolio_of
from projections.rules.scoring import end_of_day
from projections.rules.text import moment
from projections.runtime.store import Cursor, ReadStore

FILL_ALL_ABOVE = 200
"""Missing more partnerships than this, a read loads every plan's facts in one go."""

_FILLING: weakref.WeakKeyDictionary[ReadStore, threading.Lock] = weakref.WeakKeyDictionary()
_FILLING_GUARD = threading.Lock()


def filling(store: ReadStore) -> threading.Lock:
    """The lock a process takes to fill missing figures of a read store: one fill at a time,
    so that concurrent first reads of a day (say, requests a timeout has given up on, whose
    threads still run) compute it once, not once each with every plan's facts in memory."""
    with _FILLING_GUARD:
        lock = _FILLING.get(store)
        if lock is None:
            lock = _FILLING[store] = threading.Lock()
        return lock


@dataclass
class PlanRead:
    """What is kept about a plan for some dates, read in the caller's read transaction, and
    its facts when a date is missing."""

    plan_id: UUID
    partner_id: str
    position: int
    dates: list[date]
    kept: dict[date, tuple[str | None, str | None, str | None]]
    facts: PlanFacts | None


def plan_read(
    cursor: Cursor, facts: ScoreFacts, plan_id: UUID, dates: Sequence[date], *, documents: bool
) -> PlanRead | None:
    """A plan's kept scores (and documents) for these dates; None when it has no facts."""
    found = plan_version(cursor, plan_id)
    if found is None:
        return None
    partner_id, position = found
    kept = kept_plan_days(cursor, plan_id, position, dates, documents=documents)
    lacking = any(day not in kept for day in dates)
    plan = facts.load(cursor, plan_id) if lacking else None
    if lacking and plan is None:
        return None
    return PlanRead(plan_id, partner_id, position, list(dates), kept, plan)


def plan_days(
    store: ReadStore, read: PlanRead
) -> dict[date, tuple[str | None, str | None, str | None]]:
    """Every date's scores and document: the kept ones, the others computed and kept."""
    if read.facts is None:
        return read.kept
    computed: dict[date, tuple[str | None, str | None, str]] = {}
    for day in read.dates:
        if day in read.kept:
            continue
        document = plan_accountability(read.facts, day)
        vendor, partner = (document["sides"][s.value]["score"] for s in Side)
        computed[day] = (
            None if vendor is None else str(vendor),
            None if partner is None else str(partner),
            json.dumps(document, ensure_ascii=False, separators=(",", ":")),
        )
    with store.transaction() as cursor:
        keep_plan_days(cursor, read.plan_id, read.partner_id, read.position, computed)
    return {**read.kept, **computed}


class RollupDays:
    """Reads of the roll-ups as of a date, filling in (and keeping) what is not kept yet."""

    def __init__(self, store: ReadStore, facts: ScoreFacts | None = None) -> None:
        self.store = store
        self.facts = facts or ScoreFacts()

    def partnerships(
        self, as_of: date, partner_ids: Sequence[UUID] | None = None
    ) -> dict[UUID, PartnershipDay]:
        """The figures as of a date of every partnership with plans (or of these)."""
        return self._days([as_of], partner_ids)[as_of]

    def portfolio(self, as_of: date) -> dict[str, Any]:
        """The portfolio's figures as of a date (kept, or summed and kept)."""
        return self.portfolios([as_of])[0]

    def portfolios(self, dates: Sequence[date]) -> list[dict[str, Any]]:
        """The portfolio's figures as of each date (kept, or summed and kept; the facts of
        the partnerships missing on any of the dates are read once for all of them)."""
        with self.store.reading() as cursor:
            position = version(cursor)
            found = {day: kept_portfolio(cursor, day) for day in dates}
        missing = sorted({day for day, figures in found.items() if figures is None})
        if missing:
            days = self._days(missing, None)
            with self.store.reading() as cursor:
                registered = {day: registered_by(cursor, day) for day in missing}
            with self.store.transaction() as cursor:
                for day in missing:
                    figures = portfolio_of(registered[day], days[day], day)
                    found[day] = json.loads(json.dumps(figures, default=float))
                    keep_portfolio(cursor, day, position, found[day] or {})
        return [dict(found[day] or {}) for day in dates]

    def manager(self, manager_id: UUID, as_of: date) -> dict[str, Any]:
        """A manager's roll-up as of a date (``score`` and ``partners``, as JSON gives them),
        over the partnerships they own now: kept, or computed and kept."""
        figures: dict[str, Any] = json.loads(self.manager_text(manager_id, as_of))
        return figures

    def manager_text(self, manager_id: UUID, as_of: date) -> str:
        """``manager``'s roll-up as the JSON object text it is kept as (compact, not ASCII
        escaped: as a JSON response renders it), so that a read need not decode it."""
        with self.store.reading() as cursor:
            position = version(cursor)
            found = kept_text(cursor, as_of, manager_id)
            if found is not None:
                return found
            owned = [UUID(p["id"]) for p in partners(cursor, manager_id=manager_id, limit=10**9)]
        score, rows = manager_of(owned, self.partnerships(as_of, owned))
        figures = json.loads(json.dumps({"score": score, "partners": rows}, default=float))
        text = json.dumps(figures, ensure_ascii=False, separators=(",", ":"))
        with self.store.transaction() as cursor:
            keep_manager(cursor, manager_id, as_of, position, text)
        return text

    def leaders(
        self, as_of: date, view: Callable[[Mapping[UUID, PartnershipDay]], dict[str, Any]]
    ) -> dict[str, Any]:
        """A view over every partnership's figures as of a date (the portfolio page's
        managers table, spread and attention list), as JSON gives it: kept, or computed by
        ``view`` and kept. It is ended like a manager's roll-up (events recorded by the date,
        registrations and reassignments), so ``view`` may read ownership and names."""
        with self.store.reading() as cursor:
            position = version(cursor)
            found = kept_text(cursor, as_of, leaders=True)
        if found is not None:
            kept: dict[str, Any] = json.loads(found)
            return kept
        text = json.dumps(view(self.partnerships(as_of)), default=float)
        with self.store.transaction() as cursor:
            keep_leaders(cursor, as_of, position, text)
        figures: dict[str, Any] = json.loads(text)
        return figures

    def _days(
        self, dates: Sequence[date], partner_ids: Sequence[UUID] | None
    ) -> dict[date, dict[UUID, PartnershipDay]]:
        """Every partnership's figures (or these') as of each date, filling what is missing."""
        kept, missing = self._kept(dates, partner_ids)
        if not any(missing.values()):
            return kept
        with filling(self.store):
            kept, missing = self._kept(dates, partner_ids)  # another thread may have filled them
            wanted = sorted({p for lacking in missing.values() for p in lacking})
            if wanted:
                self._fill(kept, missing, wanted)
        return kept

    def _kept(
        self, dates: Sequence[date], partner_ids: Sequence[UUID] | None
    ) -> tuple[dict[date, dict[UUID, PartnershipDay]], dict[date, dict[UUID, int]]]:
        """The figures kept per date, and the partnerships missing (with their versions)."""
        kept: dict[date, dict[UUID, PartnershipDay]] = {}
        missing: dict[date, dict[UUID, int]] = {}
        with self.store.reading() as cursor:
            for day in dates:
                kept[day], missing[day] = kept_days(cursor, day, partner_ids)
        return kept, missing

    def _fill(
        self,
        kept: dict[date, dict[UUID, PartnershipDay]],
        missing: dict[date, dict[UUID, int]],
        wanted: list[UUID],
    ) -> None:
        """Compute and keep the missing figures (into ``kept``), from the wanted facts."""
        with self.store.reading() as cursor:
            plans = self._plans(cursor, wanted)
        for day, lacking in missing.items():
            filled = {p: (v, partnership_day(p, plans.get(p, []), day)) for p, v in lacking.items()}
            with self.store.transaction() as cursor:
                keep_days(cursor, day, filled)
            kept[day].update({p: figures for p, (_, figures) in filled.items()})

    def has_portfolio(self, as_of: date) -> bool:
        """Whether the portfolio's figures as of a date are kept (and still hold)."""
        with self.store.reading() as cursor:
            return kept_portfolio(cursor, as_of) is not None

    def _plans(self, cursor: Cursor, partner_ids: list[UUID]) -> dict[UUID, list[PlanFacts]]:
        """The plans' facts of these partnerships (every plan's when many are asked)."""
        if len(partner_ids) > FILL_ALL_ABOVE:
            wanted = set(partner_ids)
            found: dict[UUID, list[PlanFacts]] = {}
            for plan in self.facts.load_all(cursor):
                if plan.partner_id in wanted:
                    found.setdefault(plan.partner_id, []).append(plan)
            return found
        return {p: self.facts.of_partner(cursor, p) for p in partner_ids}


def registered_by(cursor: Cursor, as_of: date) -> list[UUID]:
    """The partnerships registered by the end of a day, in id order (the portfolio's order)."""
    horizon = moment(end_of_day(as_of)) or ""
    return [p for p, at in partnerships_by_registration(cursor) if at < horizon]
