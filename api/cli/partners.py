"""``counterpart partners``: partner organisations, each owned by one channel manager."""

from __future__ import annotations

from typing import Annotated

import typer

from api.cli.common import (
    JsonOption,
    all_pages,
    caught_up,
    echo_json,
    parse_uuid,
    refusals,
    running,
)
from api.views import partner_view
from ledger.commands import RegisterPartner
from projections.models.directory import partners

app = typer.Typer(
    help="Partner organisations, each owned by one channel manager.", no_args_is_help=True
)


@app.command("add")
def partners_add(
    name: Annotated[str, typer.Option("--name", help="The partner organisation's name.")],
    manager_id: Annotated[
        str, typer.Option("--manager-id", help="The channel manager who owns the partnership.")
    ],
) -> None:
    """Register a partner organisation and print it as JSON."""
    manager = parse_uuid(manager_id, "--manager-id")
    with running() as runner, refusals():
        done = runner.app.handle(RegisterPartner(name, manager))
    echo_json(partner_view(done.aggregate))


@app.command("list")
def partners_list(as_json: JsonOption = False) -> None:
    """List every partner organisation with its manager."""
    with caught_up() as runner, runner.store.transaction() as cursor:
        rows = all_pages(lambda after: partners(cursor, after=after, limit=500))
    if as_json:
        echo_json(rows)
        return
    typer.echo(f"{'id':<36}  {'name':<32}  manager")
    for row in rows:
        typer.echo(f"{row['id']:<36}  {row['name'][:32]:<32}  {row['manager_id']}")
