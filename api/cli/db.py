"""``counterpart db``: set up the database."""

from __future__ import annotations

import typer

from api.cli.common import STATE, running
from ledger.upgrade import upgrade

app = typer.Typer(help="Set up the database.", no_args_is_help=True)


@app.command("upgrade")
def db_upgrade() -> None:
    """Create the schema, the event tables and the read model tables (safe to run again).

    A ledger recorded before the hash chain existed has its events chained, once.
    """
    linked = upgrade(STATE.settings)
    with running() as runner:
        runner.setup()
    if linked:
        typer.echo(f"chained {linked} events recorded before the hash chain existed")
    typer.echo("database is up to date")
