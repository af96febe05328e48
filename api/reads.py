"""Plan documents as responses: read model rows plus the pace of each metric for today."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

from api.auth import Principal, can_see, sees
from api.deps import Result
from api.services import Services
from ledger.domain import NotFound, Plan
from projections.models.plan_state import plan_document, plan_header
from projections.models.plan_view import JSON, plan_view
from projections.models.score_facts import ScoreFacts
from projections.rules.facts import PlanFacts
from projections.rules.live_pace import paces
from projections.rules.scoring import pace
from projections.runtime.store import Cursor

FACTS = ScoreFacts()
T = TypeVar("T")


def today(services: Services) -> date:
    """The server's current date (UTC)."""
    return services.app.clock.now().date()


def with_paces(document: JSON, facts: PlanFacts | None, as_of: date) -> JSON:
    """Fill in each metric's pace as of a date (null without facts or before activation)."""
    for metric in document["metrics"]:
        found = None if facts is None else facts.metrics.get(metric["id"])
        value = None if found is None or facts is None else pace(found, facts, as_of)
        metric["pace"] = None if value is None else value.value
    return document


def etag(document: JSON) -> dict[str, str]:
    """The ETag header of a plan document."""
    return {"ETag": f'"{document["version"]}"'}


def current_plan(services: Services, principal: Principal, plan_id: UUID) -> JSON:
    """The plan now, with paces for today (after any write answered before this read).

    Rendered from the ledger's cached plan when this process holds the stored version (as a
    command's answer is: the same document, no read model to wait for); from the read models
    otherwise.
    """
    as_of = today(services)
    kept = services.app.read_kept_plan(
        plan_id,
        lambda plan, partner: (
            plan.partner_id,
            None if partner is None else partner.manager_id,
            live(plan, as_of),
        ),
    )
    if kept is not None:
        partner_id, manager_id, document = kept
        if manager_id is not None or principal.role != "manager":
            visible = sees(principal, partner_id, manager_id)  # the ledger's current partner
        else:
            with services.reading() as cursor:
                visible = can_see(cursor, principal, partner_id)
        if visible:
            return document
        msg = f"plan {plan_id} not found"
        raise NotFound(msg)

    def read(cursor: Cursor) -> tuple[JSON, PlanFacts | None] | None:
        document = plan_document(cursor, plan_id)
        return None if document is None else (document, FACTS.load(cursor, plan_id))

    document, facts = read_visible(services, principal, plan_id, read)
    return with_paces(document, facts, as_of)


def read_visible(
    services: Services, principal: Principal, plan_id: UUID, read: Callable[[Cursor], T | None]
) -> T:
    """What ``read`` reads about a plan the caller may see, in the same read transaction as
    the check that they may; 404 otherwise (or if ``read`` finds nothing).

    If the ledger holds a later version of the plan than the read models (a command answered
    a moment ago, perhaps by another process), the projections are waited for and the read
    is made again, so a read after a write sees it.
    """

    def attempt() -> tuple[tuple[UUID, int] | None, T | None]:
        with services.reading() as cursor:
            header = plan_header(cursor, plan_id)
            if header is None or not can_see(cursor, principal, header[0]):
                return header, None
            return header, read(cursor)

    header, found = attempt()
    latest = services.app.stored_version(plan_id)
    if latest is not None and (header is None or latest > header[1]):
        services.catch_up()
        header, found = attempt()
    if found is None:
        msg = f"plan {plan_id} not found"
        raise NotFound(msg)
    return found


def require_visible(services: Services, principal: Principal, plan_id: UUID) -> int:
    """404 unless the plan exists and the caller may see it; its current version (after any
    write answered before this read)."""

    def version(cursor: Cursor) -> int | None:
        header = plan_header(cursor, plan_id)
        return None if header is None else header[1]

    return read_visible(services, principal, plan_id, version)


def past_plan(services: Services, plan: Plan) -> JSON:
    """A plan replayed to an earlier version, with paces as of that version's day."""
    document = plan_view(plan)
    with services.reading() as cursor:
        facts = FACTS.load(cursor, plan.id)
    return with_paces(document, facts, plan.modified_on.date())


def plan_result(services: Services, plan: Plan) -> Result:
    """A command's response: the plan as the command left it, rendered from the aggregate
    it saves (read-your-writes without waiting for the projections), with paces as of the
    day the command was recorded."""
    body = live(plan, plan.modified_on.date())
    return Result(body, etag(body))


def live(plan: Plan, as_of: date) -> JSON:
    """The plan document of an aggregate, with paces as of a date."""
    body = plan_view(plan)
    found = paces(plan, as_of)
    for metric in body["metrics"]:
        metric["pace"] = found.get(metric["id"])
    return body


def plans_with_paces(cursor: Cursor, documents: list[JSON], as_of: date) -> list[JSON]:
    """Documents of a page, each with paces (facts loaded in two queries)."""
    facts = FACTS.load_many(cursor, [UUID(d["id"]) for d in documents])
    return [with_paces(d, facts.get(d["id"]), as_of) for d in documents]


def jsonable(value: Any) -> Any:
    """Scores as JSON numbers: Decimals become floats, recursively."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    return value
