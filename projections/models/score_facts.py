"""The score facts read model: each plan's facts, stored so any date's score needs no replay."""

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
from projections.rules import facts
from projections.runtime.runner import Positioned
from projections.runtime.store import Cursor, Where

TABLE = "cp_score_facts"
REPORTS = "cp_score_reports"


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
        """The facts table, indexed by partner."""
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {TABLE} ("
            "plan_id TEXT PRIMARY KEY, partner_id TEXT NOT NULL, period_end TEXT NOT NULL, "
            "activated_at TEXT, position BIGINT NOT NULL, facts TEXT NOT NULL)"
        )
        cursor.execute(f"CREATE INDEX IF NOT EXISTS {TABLE}_partner ON {TABLE} (partner_id)")
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {REPORTS} ("
            "position BIGINT PRIMARY KEY, plan_id TEXT NOT NULL, metric_id TEXT NOT NULL, "
            "value TEXT NOT NULL, as_of TEXT NOT NULL, recorded_at TEXT NOT NULL)"
        )
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {REPORTS}_plan ON {REPORTS} (plan_id, position)"
        )

    def drop(self, cursor: Cursor) -> None:
        """Drop the tables."""
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")
        cursor.execute(f"DROP TABLE IF EXISTS {REPORTS}")

    def process(self, cursor: Cursor, batch: Sequence[Positioned]) -> None:
        """Insert each report; add other plan events' facts; write each touched plan once."""
        plans: dict[UUID, facts.PlanFacts] = {}
        positions: dict[UUID, int] = {}
        reports: list[tuple[Any, ...]] = []
        for item in batch:
            event = item.event
            if not isinstance(event, Plan.Event):
                continue
            plan_id = event.originator_id
            if isinstance(event, Plan.ProgressReported):
                reports.append(
                    (
                        item.position,
                        str(plan_id),
                        str(event.metric_id),
                        str(event.value),
                        event.as_of.isoformat(),
                        event.timestamp.isoformat(),
                    )
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
        cursor.insert_many(
            REPORTS, ("position", "plan_id", "metric_id", "value", "as_of", "recorded_at"), reports
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
        """Add the stored reports of these plans (keyed by id text) to their metrics."""
        ids = sorted(plans)
        for start in range(0, len(ids), 500):
            where = Where()
            where.within("plan_id", ids[start : start + 500])
            cursor.execute(
                f"SELECT plan_id, metric_id, value, as_of, recorded_at, position FROM {REPORTS} "
                f"{where.sql}ORDER BY position",
                where.params,
            )
            for plan_id, metric_id, value, as_of, recorded_at, position in cursor.fetchall():
                plans[str(plan_id)].metrics[metric_id].reports.append(
                    facts.ReportFact(
                        Decimal(value),
                        date.fromisoformat(as_of),
                        datetime.fromisoformat(recorded_at),
                        int(position),
                    )
                )

    def decode(self, text: str) -> facts.PlanFacts:
        """Facts from their stored text."""
        decoded = self.transcoder.decode(text.encode("utf-8"))
        if not isinstance(decoded, facts.PlanFacts):
            msg = "stored score facts did not decode as plan facts"
            raise TypeError(msg)
        return decoded
