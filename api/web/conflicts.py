"""What changed on a plan since a version, in words: the conflict page tells a person who
did what after the form they sent was rendered."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from api.services import Services
from ledger.domain import Plan
from projections.models.directory import actor
from projections.models.plan_history import plan_history

WORDS = {
    "Drafted": "drafted the plan",
    "MetricProposed": "proposed the metric “{spec_name}”",
    "MetricRevised": "revised “{spec_name}”",
    "MetricAgreed": "agreed to “{metric}”",
    "Committed": "committed the {side} side to terms version {terms_version}",
    "Activated": "activated the plan (both sides committed)",
    "ProgressReported": "reported {value} on “{metric}” as of {as_of}",
    "ReviewRecorded": "recorded the review held on {held_on}",
    "AdjustmentProposed": "proposed to {kind} “{metric}”",
    "AdjustmentAccepted": "accepted an adjustment",
    "AdjustmentRejected": "rejected an adjustment",
    "AdjustmentWithdrawn": "withdrew an adjustment",
    "Closed": "closed the plan",
}


def changes_since(services: Services, plan: Plan, version: int) -> list[str]:
    """What happened to the plan after a version, in words: who did what, when."""
    names = {str(m.id): m.name for m in plan.metrics.values()}
    services.catch_up()  # the history shows the change that made the form stale
    with services.reading() as cursor:
        events = plan_history(cursor, services.app.transcoder, plan.id, limit=10_000)
        told = []
        for e in (e for e in events if e["version"] > version):
            who = actor(cursor, UUID(e["actor"]["id"])) if e["actor"]["id"] else None
            data = e["data"]
            fields = {
                **{k: v for k, v in data.items() if isinstance(v, str | int)},
                "spec_name": (data.get("spec") or {}).get("name", "a metric"),
                "metric": names.get(str(data.get("metric_id")), "a metric"),
                "kind": str(data.get("kind", "change")).replace("_", " "),
            }
            words = str(WORDS.get(e["type"], e["type"])).format_map(_Missing(fields))
            person = who["name"] if who else "Someone"
            side = f" ({e['actor']['side']} side)" if e["actor"]["side"] else ""
            told.append(f"{e['recorded_at'][:16].replace('T', ' ')} UTC — {person}{side} {words}.")
    return told


class _Missing(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "…"
