"""The score facts read model: each plan's facts, stored so any date's score needs no replay.

Reports are stored compact, one row per kept slot (``facts.slot_keys``): a plan's rows grow
with the days it was reported on, not with its number of reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Transcoding,
    UUIDAsHex,
)

from ledger.domain import Plan
from ledger.transcodings import DataclassAsDict, register_all
from projections.models import rollup_days
from projections.rules import facts
from projections.runtime.runner import TRACKING_TABLE, Positioned
from projections.runtime.store import Cursor, Where

TABLE = "cp_score_facts"
REPORTS = "cp_score_report_slots"
LEGACY_REPORTS = "cp_score_reports"
"""One row per report, before reports were kept compact: its presence asks for a rebuild."""
SLOT_COLUMNS = ("plan_id", "metric_id", "slot", "position", "value", "as_of", "recorded_at")


class FrozensetAsList(Transcoding):
    """A frozenset as a sorted list (by each member's repr, for a stable encoding)."""

    type = frozenset
    name = "frozenset"

    def encode(self, obj: frozenset[Any]) -> list[Any]:
        return sorted(obj, key=repr)

    def decode(self, data: list[Any]) -> frozenset[Any]:
        return frozenset(data)


def facts_transcoder() -> JSONTranscoder:
    """A JSON transcoder for plan facts (the ledger's types plus the facts' own)."""
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), FrozensetAsList()):
        transcoder.register(transcoding)
    register_all(transcoder)
    for name, cls in {
        "terms_fact": facts.TermsFact,
        "report_fact": facts.ReportFact,
        "report_slot": facts.ReportSlot,
        "metric_facts": facts.MetricFacts,
        "review_fact": facts.ReviewFact,
        "request_fact": facts.RequestFact,
        "adjustment_fact": facts.AdjustmentFact,
        "stance_fact": facts.StanceFact,
        "plan_facts": facts.PlanFacts,
    }.items():
        transcoder.register(DataclassAsDict(cls, name))
    return transcoder


class ScoreFacts:
    """Per plan: one row of facts (small, rewritten when terms, reviews or requests change),
    and one row per progress report (append-only, the bulk of a plan's events)."""

    name = "score_facts"

    def __init__(self) -> None:
        self.transcoder = facts_transcoder()

    def create(self, cursor: Cursor, dialect: str) -> None:
        """The facts table, indexed by partner, and the report slots by plan.

        A store from before compact reports (one row per report) is emptied and its tracking
        position set back to 0, so the runner rebuilds this read model from the first event.
        """
        if _exists(cursor, dialect, LEGACY_REPORTS):
            cursor.execute(f"DROP TABLE IF EXISTS {LEGACY_REPORTS}")
            cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")
            rollup_days.drop(cursor)
            cursor.execute(f"UPDATE {TRACKING_TABLE} SET position = 0 WHERE name = ?", (self.name,))
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {TABLE} ("
            "plan_id TEXT PRIMARY KEY, partner_id TEXT NOT NULL, period_end TEXT NOT NULL, "
            "activated_at TEXT, position BIGINT NOT NULL, facts TEXT NOT NULL)"
        )
        cursor.execute(f"CREATE INDEX IF NOT EXISTS {TABLE}_partner ON {TABLE} (partner_id)")
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {REPORTS} ("
            "plan_id TEXT NOT NULL, metric_id TEXT NOT NULL, slot TEXT NOT NULL, "
            "position BIGINT NOT NULL, value TEXT NOT NULL, as_of TEXT NOT NULL, "
            "recorded_at TEXT NOT NULL, count INTEGER NOT NULL, "
            "PRIMARY KEY (plan_id, metric_id, slot))"
        )
        rollup_days.create(cursor, (TABLE, REPORTS))

    def drop(self, cursor: Cursor) -> None:
        """Drop the tables."""
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")
        cursor.execute(f"DROP TABLE IF EXISTS {REPORTS}")
        rollup_days.drop(cursor)

    def process(self, cursor: Cursor, batch: Sequence[Positioned]) -> None:
        """Keep each report in its slots; add other plan events' facts; write each touched
        plan once."""
        plans: dict[UUID, facts.PlanFacts] = {}
        positions: dict[UUID, int] = {}
        slots: dict[tuple[str, str, str], facts.ReportSlot] = {}
        for item in batch:
            event = item.event
            if not isinstance(event, Plan.Event):
                continue
            plan_id = event.originator_id
            if isinstance(event, Plan.ProgressReported):
                report = facts.ReportFact(event.value, event.as_of, event.timestamp, item.position)
                first, last = facts.slot_keys(report)
                metric = (str(plan_id), str(event.metric_id))
                slots.setdefault((*metric, first), facts.ReportSlot(report, 0))
                before = slots.get((*metric, last))
                slots[(*metric, last)] = facts.ReportSlot(
                    report, 1 + (before.count if before else 0)
                )
                continue
            if isinstance(event, Plan.Drafted):
                plans[plan_id] = facts.PlanFacts.start(event)
            else:
                plan = plans.get(plan_id) or self._load_plan(cursor, plan_id)
                if plan is None:
                    msg = f"plan {plan_id} has events but no facts: the projection skipped one"
                    raise LookupError(msg)
                plan.apply(event, item.position)
                plans[plan_id] = plan
            positions[plan_id] = item.position
        cursor.executemany(
            f"INSERT INTO {TABLE} (plan_id, partner_id, period_end, activated_at, position, facts)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (plan_id) DO UPDATE SET "
            "activated_at = excluded.activated_at, position = excluded.position, "
            "facts = excluded.facts",
            [
                (
                    str(plan_id),
                    str(plan.partner_id),
                    plan.period_end.isoformat(),
                    None if plan.activated_at is None else plan.activated_at.isoformat(),
                    positions[plan_id],
                    self.transcoder.encode(plan).decode("utf-8"),
                )
                for plan_id, plan in plans.items()
            ],
        )
        self._keep(cursor, slots)
        rollup_days.changed(cursor, batch, self._partners(cursor, batch, plans))

    @staticmethod
    def _partners(
        cursor: Cursor, batch: Sequence[Positioned], plans: dict[UUID, facts.PlanFacts]
    ) -> dict[UUID, UUID | None]:
        """The partnership of each plan the batch is about (one query for those it only
        reported on)."""
        found: dict[UUID, UUID | None] = {p: plan.partner_id for p, plan in plans.items()}
        others = sorted(
            {str(i.event.originator_id) for i in batch if isinstance(i.event, Plan.Event)}
            - {str(p) for p in found}
        )
        for start in range(0, len(others), 500):
            where = Where()
            where.within("plan_id", others[start : start + 500])
            cursor.execute(f"SELECT plan_id, partner_id FROM {TABLE} {where.sql}", where.params)
            found.update({UUID(p): UUID(partner) for p, partner in cursor.fetchall()})
        return found

    @staticmethod
    def _keep(cursor: Cursor, slots: dict[tuple[str, str, str], facts.ReportSlot]) -> None:
        """A day's first report stays; the last report of a day and date replaces the one
        before and adds to its count (the batch's slots were gathered the same way)."""
        firsts: list[tuple[Any, ...]] = []
        lasts: list[tuple[Any, ...]] = []
        for (plan_id, metric_id, slot), kept in slots.items():
            report = kept.report
            row = (
                plan_id,
                metric_id,
                slot,
                report.event_id,
                str(report.value),
                report.as_of.isoformat(),
                report.recorded_at.isoformat(),
                kept.count,
            )
            (firsts if slot.endswith(facts.FIRST) else lasts).append(row)
        insert = (
            f"INSERT INTO {REPORTS} ({', '.join(SLOT_COLUMNS)}, count) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (plan_id, metric_id, slot) DO "
        )
        cursor.executemany(insert + "NOTHING", firsts)
        cursor.executemany(
            insert + "UPDATE SET position = excluded.position, value = excluded.value, "
            "as_of = excluded.as_of, recorded_at = excluded.recorded_at, "
            f"count = {REPORTS}.count + excluded.count",
            lasts,
        )

    def _load_plan(self, cursor: Cursor, plan_id: UUID) -> facts.PlanFacts | None:
        """A plan's stored facts without its reports (all that other events change)."""
        cursor.execute(f"SELECT facts FROM {TABLE} WHERE plan_id = ?", (str(plan_id),))
        row = cursor.fetchone()
        return None if row is None else self.decode(row[0])

    def load(self, cursor: Cursor, plan_id: UUID) -> facts.PlanFacts | None:
        """A plan's stored facts, reports included, or None."""
        plan = self._load_plan(cursor, plan_id)
        if plan is None:
            return None
        self._attach_reports(cursor, {str(plan_id): plan})
        return plan

    def load_many(self, cursor: Cursor, plan_ids: Sequence[UUID]) -> dict[str, facts.PlanFacts]:
        """The stored facts of these plans, keyed by id text (two queries per 500 plans)."""
        plans: dict[str, facts.PlanFacts] = {}
        ids = sorted({str(p) for p in plan_ids})
        for start in range(0, len(ids), 500):
            where = Where()
            where.within("plan_id", ids[start : start + 500])
            cursor.execute(f"SELECT plan_id, facts FROM {TABLE} {where.sql}", where.params)
            plans.update({str(p): self.decode(text) for p, text in cursor.fetchall()})
        self._attach_reports(cursor, plans)
        return plans

    def of_partner(self, cursor: Cursor, partner_id: UUID) -> list[facts.PlanFacts]:
        """The stored facts of every plan of a partner (two queries, whatever their number)."""
        cursor.execute(
            f"SELECT plan_id, facts FROM {TABLE} WHERE partner_id = ? ORDER BY plan_id",
            (str(partner_id),),
        )
        plans = {str(plan_id): self.decode(text) for plan_id, text in cursor.fetchall()}
        self._attach_reports(cursor, plans)
        return list(plans.values())

    def load_all(self, cursor: Cursor) -> list[facts.PlanFacts]:
        """The stored facts of every plan, in plan id order."""
        cursor.execute(f"SELECT plan_id, facts FROM {TABLE} ORDER BY plan_id")
        plans = {str(plan_id): self.decode(text) for plan_id, text in cursor.fetchall()}
        self._attach_reports(cursor, plans)
        return list(plans.values())

    @staticmethod
    def _attach_reports(cursor: Cursor, plans: dict[str, facts.PlanFacts]) -> None:
        """Add the kept report slots of these plans (keyed by id text) to their metrics."""
        ids = sorted(plans)
        for start in range(0, len(ids), 500):
            where = Where()
            where.within("plan_id", ids[start : start + 500])
            cursor.execute(
                f"SELECT {', '.join(SLOT_COLUMNS)}, count FROM {REPORTS} {where.sql}"
                "ORDER BY plan_id, metric_id, slot",
                where.params,
            )
            for plan_id, metric_id, slot, position, value, as_of, at, count in cursor.fetchall():
                report = facts.ReportFact(
                    Decimal(value),
                    date.fromisoformat(as_of),
                    datetime.fromisoformat(at),
                    int(position),
                )
                metric = plans[str(plan_id)].metrics[metric_id]
                metric.slots[slot] = facts.ReportSlot(report, int(count))

    def decode(self, text: str) -> facts.PlanFacts:
        """Facts from their stored text."""
        decoded = self.transcoder.decode(text.encode("utf-8"))
        if not isinstance(decoded, facts.PlanFacts):
            msg = "stored score facts did not decode as plan facts"
            raise TypeError(msg)
        return decoded


def _exists(cursor: Cursor, dialect: str, table: str) -> bool:
    """Whether a table exists in the read store."""
    if dialect == "postgres":
        cursor.execute("SELECT to_regclass(?) IS NOT NULL", (table,))
    else:
        cursor.execute("SELECT count(*) > 0 FROM sqlite_master WHERE name = ?", (table,))
    row = cursor.fetchone()
    return bool(row and row[0])
