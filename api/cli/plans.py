"""``counterpart history`` and ``counterpart score``: one plan's events and its score."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from api.cli.common import JsonOption, caught_up, echo_json, fail, parse_day, parse_uuid
from projections.models.plan_history import plan_history
from projections.models.score_facts import ScoreFacts
from projections.rules.accountability import plan_accountability


def history(
    plan_id: Annotated[str, typer.Argument(help="The plan's id.")],
    as_json: JsonOption = False,
) -> None:
    """Show a plan's events, oldest first: position, version, time, type, actor and data."""
    chosen = parse_uuid(plan_id, "PLAN_ID")
    entries: list[dict[str, Any]] = []
    with caught_up() as runner, runner.store.transaction() as cursor:
        transcoder = runner.app.transcoder
        while page := plan_history(
            cursor, transcoder, chosen, after=entries[-1]["position"] if entries else 0
        ):
            entries.extend(page)
    if not entries:
        fail(f"no plan with id {chosen}")
    if as_json:
        echo_json(entries)
        return
    typer.echo(f"{'position':>8}  {'v':>3}  {'recorded_at':<27}  {'type':<20}  {'actor':<16}  data")
    for entry in entries:
        actor = entry["actor"]
        who = f"{actor['role']}/{actor['side'] or '-'}"
        data = json.dumps(entry["data"])
        data = data if len(data) <= 70 else data[:67] + "..."
        typer.echo(
            f"{entry['position']:>8}  {entry['version']:>3}  {entry['recorded_at']:<27}  "
            f"{entry['type']:<20}  {who:<16}  {data}"
        )


def score(
    plan_id: Annotated[str, typer.Argument(help="The plan's id.")],
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="The day to score as of, YYYY-MM-DD (default: today, UTC)."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the full Accountability document as JSON.")
    ] = False,
) -> None:
    """Show a plan's accountability score per side, with its components (docs/scoring.md)."""
    chosen = parse_uuid(plan_id, "PLAN_ID")
    day = datetime.now(UTC).date() if as_of is None else parse_day(as_of, "--as-of")
    with caught_up() as runner, runner.store.transaction() as cursor:
        facts = ScoreFacts().load(cursor, chosen)
    if facts is None:
        fail(f"no plan with id {chosen}")
    document = plan_accountability(facts, day)
    if as_json:
        echo_json(document)
        return
    sides = document["sides"]
    typer.echo(f"Plan {document['plan_id']} as of {document['as_of']} (rule version 1)")
    typer.echo(f"{'':<22}{'vendor':>16}{'partner':>16}")
    typer.echo(f"{'score':<22}" + "".join(f"{_score_text(sides[s]['score']):>16}" for s in sides))
    for name in sides["vendor"]["components"]:
        cells = [_component_text(sides[s]["components"][name]) for s in sides]
        weight = sides["vendor"]["components"][name]["weight"]
        typer.echo(f"{f'{name} (x{weight})':<22}" + "".join(f"{c:>16}" for c in cells))
    typer.echo("(values 0 to 1, met/total in brackets; --json shows every item and its events)")


def _score_text(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _component_text(component: dict[str, Any]) -> str:
    value = component["value"]
    if value is None:
        return "n/a"
    return f"{value:.4f} ({component['met']}/{component['total']})"
