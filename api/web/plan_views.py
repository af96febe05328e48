"""What the plan page and its history show, read with the same queries, rules and scope checks
as the JSON API (the other pages are in api/web/views.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode
from uuid import UUID

from api.auth import Principal
from api.errors import Problem
from api.reads import (
    FACTS,
    current_plan,
    jsonable,
    past_plan,
    read_visible,
    require_visible,
    today,
)
from api.services import Services
from api.web.explain import COMPONENT_HELP, COMPONENT_TITLES, item_met, item_reason
from api.web.views import SIDES, names_of, request_subject
from ledger.domain import NotFound, Side
from projections.models.directory import partners
from projections.models.plan_history import plan_history
from projections.models.plan_view import JSON
from projections.rules.accountability import plan_accountability
from projections.rules.facts import AGREE_METRIC, PlanFacts
from projections.rules.scoring import (
    activation,
    side_score,
)
from projections.rules.series import MAX_POINTS, series_days

HISTORY_PAGE = 30
"""History events shown per page of the plan page (newest first)."""


def moment_of(as_of: str) -> datetime:
    """``YYYY-MM-DD`` (the end of that day) or an ISO-8601 time, in UTC; 422 otherwise."""
    text = as_of.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time.max, tzinfo=UTC)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        msg = f"as_of: {as_of!r} is not a date (YYYY-MM-DD) or an ISO-8601 time"
        raise Problem(422, msg) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def plan_page(
    services: Services,
    principal: Principal,
    plan_id: UUID,
    version: int | None = None,
    as_of: str | None = None,
    *,
    history_before: int | None = None,
) -> JSON:
    """A plan now or in the past: terms, commitments, scores explained, trend, and its
    history newest first, HISTORY_PAGE events at a time (``history_before``: a version)."""
    if version is not None and as_of:
        raise Problem(422, "ask for either a date or a version, not both")
    past = version is not None or bool(as_of)
    if not past:
        document = current_plan(services, principal, plan_id)
        day = today(services)
    else:
        current = require_visible(services, principal, plan_id)
        if as_of:
            when = moment_of(as_of)
            plan = services.app.plan_as_of(plan_id, when)
        elif version is not None and 1 <= version <= current:
            plan = services.app.get_plan(plan_id, version)
        else:
            raise NotFound(f"plan {plan_id} has {current} events, not {version}")
        document = past_plan(services, plan)
        day = plan.modified_on.date() if not as_of else min(when.date(), today(services))
    facts = read_visible(services, principal, plan_id, lambda c: FACTS.load(c, plan_id))
    with services.reading() as cursor:
        events = plan_history(cursor, services.app.transcoder, plan_id, limit=10_000)
        latest_version = events[-1]["version"] if events else document["version"]
        events = [e for e in events if e["version"] <= document["version"]]
        people = names_of(cursor, _actor_ids(document, events))
        partner = partners(cursor, partner_ids=[UUID(document["partner_id"])], limit=1)
    accountability = plan_accountability(facts, day)
    names = {m["id"]: m["name"] for m in document["metrics"]}
    names.update({a["id"]: names.get(a["metric_id"], "a metric") for a in document["adjustments"]})
    sides = {}
    for side in SIDES:
        scored = accountability["sides"][side]
        sides[side] = {
            "score": scored["score"],
            "components": [
                {
                    "name": name,
                    "title": COMPONENT_TITLES[name],
                    "help": COMPONENT_HELP[name],
                    **component,
                    "reasons": [
                        {
                            "text": item_reason(name, item, names),
                            "met": item_met(name, item),
                            "event_ids": item["event_ids"],
                        }
                        for item in component["items"]
                    ],
                }
                for name, component in scored["components"].items()
            ],
            "raise": raise_it(document, facts, Side(side), day),
            "metrics": [m for m in document["metrics"] if m["owner_side"] == side],
        }
    return {
        "plan": document,
        "partner": partner[0] if partner else None,
        "as_of": day,
        "past": past,
        "asked": {"version": version, "as_of": as_of},
        "latest_version": latest_version,
        "sides": sides,
        "people": people,
        "metric_names": names,
        **history_page(plan_id, events, version, as_of, history_before),
        "trend": plan_trend(facts, day),
    }


def raise_it(document: JSON, facts: PlanFacts, side: Side, day: date) -> list[str]:
    """What would raise a side's score: its open items on this plan."""
    todo = []
    names = {m["id"]: m["name"] for m in document["metrics"]}
    for request in facts.requests:
        if request.side is side and request.is_open:
            subject = request_subject(facts, request.kind, str(request.subject_id))
            verb = "agree to" if request.kind == AGREE_METRIC else "answer the change to"
            todo.append(
                f"Answer the other side: {verb} {subject} (asked {request.opened_at:%Y-%m-%d})"
            )
    if document["status"] == "draft":
        metrics = document["metrics"]
        agreed = metrics and all(all(m["agreed_by"].values()) for m in metrics)
        if agreed and document["commitments"][side.value] is None:
            todo.append("Commit to the plan's terms")
    if document["status"] == "active":
        for metric in document["metrics"]:
            if metric["owner_side"] != side.value or metric["status"] == "retired":
                continue
            if metric["pace"] in {"at_risk", "off_track"}:
                pace = metric["pace"].replace("_", " ")
                todo.append(
                    f"{names[metric['id']]} is {pace}: deliver towards {metric['target']} "
                    f"{metric['unit']} by {metric['due_date']} and report progress"
                )
            elif metric["pace"] == "on_track":
                todo.append(
                    f"Keep reporting progress on {names[metric['id']]} every "
                    f"{document['report_every_days']} days"
                )
        todo.append(f"Attend a review every {document['review_every_days']} days")
    return todo


def plan_trend(facts: PlanFacts, day: date) -> list[JSON]:
    """Each side's score every 7 days back from the day to the plan's activation (the points
    of ``GET /v1/plans/{id}/accountability/series``)."""
    activated = activation(facts, day)
    if activated is None:
        return []
    start = max(activated, day - timedelta(days=7 * (MAX_POINTS - 1)))
    points = []
    for when in series_days(start, day, 7):
        scores = {s.value: side_score(facts, s, when).score for s in Side}
        points.append({"as_of": when.isoformat(), **jsonable(scores)})
    return points


def history_page(
    plan_id: UUID,
    events: list[JSON],
    version: int | None,
    as_of: str | None,
    before: int | None,
) -> JSON:
    """One page of the history, newest first; the link to the older page (None on the last);
    and, for every event, the link that shows it (on this page or the one holding it)."""
    newest = events[::-1]
    shown = [e for e in newest if before is None or e["version"] < before][:HISTORY_PAGE]
    older = shown[-1]["version"] if shown and shown[-1] is not newest[-1] else None
    kept = {"version": version, "as_of": as_of}
    base = f"/plans/{plan_id}?" + urlencode({k: v for k, v in kept.items() if v})
    on_page = {e["position"] for e in shown}
    links = {}
    for e in events:
        anchor = f"#event-{e['position']}"
        if e["position"] in on_page:
            links[e["position"]] = anchor
        else:
            start = newest.index(e) // HISTORY_PAGE * HISTORY_PAGE
            first = newest[start]["version"] + 1
            links[e["position"]] = f"{base}&history_before={first}{anchor}".replace("?&", "?")
    return {
        "events": shown,
        "events_total": len(events),
        "older_href": None
        if older is None
        else f"{base}&history_before={older}".replace("?&", "?"),
        "newest_href": base.rstrip("?") if before is not None else None,
        "event_links": links,
    }


def _actor_ids(document: JSON, events: list[JSON]) -> set[str]:
    ids = {e["actor"]["id"] for e in events if e["actor"]["id"]}
    ids |= {c["actor_id"] for c in document["commitments"].values() if c}
    ids |= {a for r in document["reviews"] for a in r["attendee_ids"]}
    return ids
