"""The inbox of a side across partnerships: the rules of ``projections.rules.inbox`` applied
to the stored score facts and plan titles of those partnerships."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from uuid import UUID

from ledger.domain import Side
from projections.models.plan_state import plan_documents
from projections.models.score_facts import ScoreFacts
from projections.rules.inbox import InboxItem, in_order, plan_inbox
from projections.runtime.store import Cursor

FACTS = ScoreFacts()
PAGE = 500


def open_plans(cursor: Cursor, partner_ids: Sequence[UUID], as_of: date) -> list[tuple[str, str]]:
    """(plan id, title) of the partnerships' plans that were not closed by ``as_of``."""
    found: list[tuple[str, str]] = []
    after = None
    while True:
        page = plan_documents(cursor, partner_ids=partner_ids, after=after, limit=PAGE)
        for document in page:
            closed = document.get("closed_at")
            if closed is None or closed[:10] > as_of.isoformat():
                found.append((str(document["id"]), str(document["title"])))
        if len(page) < PAGE:
            return found
        after = str(page[-1]["id"])


def side_inbox(
    cursor: Cursor, partner_ids: Sequence[UUID], side: Side, as_of: date
) -> list[InboxItem]:
    """What is waiting on ``side`` in these partnerships as of the end of ``as_of``, in order."""
    if not partner_ids:
        return []
    plans = open_plans(cursor, partner_ids, as_of)
    facts = FACTS.load_many(cursor, [UUID(plan_id) for plan_id, _ in plans])
    items = []
    for plan_id, title in plans:
        found = facts.get(plan_id)
        if found is None:
            continue
        items += [i for i in plan_inbox(found, title, as_of) if i.side is side]
    return in_order(items)
