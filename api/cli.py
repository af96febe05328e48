"""The ``counterpart`` command line: database set-up and the projections (more to come)."""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from types import FrameType
from typing import Annotated

import typer

from ledger.application import Counterpart
from ledger.settings import Settings
from ledger.upgrade import upgrade
from projections.registry import all_projections
from projections.runner import DEFAULT_BATCH, Runner
from projections.store import open_store

cli = typer.Typer(
    name="counterpart",
    help="Counterpart, the mutual accountability ledger for channel sales.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_cli = typer.Typer(help="Set up the database.", no_args_is_help=True)
projections_cli = typer.Typer(
    help="Read models: follow the ledger, rebuild them, see how far behind they are.",
    no_args_is_help=True,
)
cli.add_typer(db_cli, name="db")
cli.add_typer(projections_cli, name="projections")


class State:
    """Options shared by every command."""

    settings: Settings = Settings()


STATE = State()


@cli.callback()
def configure(
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            envvar="COUNTERPART_DATABASE_URL",
            help="sqlite:///path.db or postgresql://user@host:port/db[?schema=NAME] "
            "(default: sqlite:///counterpart.db).",
        ),
    ] = None,
) -> None:
    """Counterpart, the mutual accountability ledger for channel sales."""
    settings = Settings.from_env()
    if database_url:
        settings = replace(settings, database_url=database_url)
    STATE.settings = settings


@contextmanager
def running(batch_size: int = DEFAULT_BATCH) -> Iterator[Runner]:
    """The ledger, its read store and a runner over every projection, closed afterwards."""
    app = Counterpart(STATE.settings)
    store = open_store(STATE.settings)
    try:
        yield Runner(app, store, all_projections(app), batch_size=batch_size)
    finally:
        store.close()
        app.close()


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Create the schema, the event tables and the read model tables (safe to run again)."""
    upgrade(STATE.settings)
    with running() as runner:
        runner.setup()
    typer.echo("database is up to date")


@projections_cli.command("status")
def projections_status(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show each projection's position and how many events it has still to process."""
    with running() as runner:
        runner.setup()
        statuses = runner.status()
    if as_json:
        rows = [
            {"name": s.name, "position": s.position, "head": s.head, "lag": s.lag} for s in statuses
        ]
        typer.echo(json.dumps(rows))
        return
    typer.echo(f"{'projection':<16} {'position':>10} {'lag':>10}")
    for status in statuses:
        typer.echo(f"{status.name:<16} {status.position:>10} {status.lag:>10}")


@projections_cli.command("rebuild")
def projections_rebuild(
    name: Annotated[
        str | None, typer.Argument(help="One projection (default: every projection).")
    ] = None,
    batch_size: Annotated[
        int, typer.Option(min=1, max=100_000, help="Events per transaction.")
    ] = DEFAULT_BATCH,
) -> None:
    """Drop projections and rebuild them from the first event, with a progress bar."""
    with running(batch_size) as runner:
        runner.setup()
        names = [name] if name else list(runner.projections)
        unknown = [n for n in names if n not in runner.projections]
        if unknown:
            known = ", ".join(runner.projections)
            fail(f"no projection named {unknown[0]!r} (known: {known})")
        head = runner.app.recorder.max_notification_id() or 0
        for each in names:
            runner.reset(each)
        with typer.progressbar(length=head, label="rebuilding", file=sys.stderr) as bar:
            runner.catch_up(on_batch=bar.update)
    typer.echo(f"rebuilt {', '.join(names)} from {head} events")


@projections_cli.command("run")
def projections_run(
    poll_interval: Annotated[
        float, typer.Option(min=0.01, help="Seconds between polls when nothing is notified.")
    ] = 1.0,
    once: Annotated[
        bool, typer.Option("--once", help="Catch up with the ledger, then exit.")
    ] = False,
    batch_size: Annotated[
        int, typer.Option(min=1, max=100_000, help="Events per transaction.")
    ] = DEFAULT_BATCH,
) -> None:
    """Keep every projection up to date with the ledger until stopped (Ctrl-C, SIGTERM)."""
    with running(batch_size) as runner:
        runner.setup()
        if once:
            processed = runner.catch_up()
            typer.echo(f"processed {processed} events")
            return

        def stop(signum: int, frame: FrameType | None) -> None:
            runner.stop()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        typer.echo("following the ledger; Ctrl-C to stop", err=True)
        runner.run_forever(poll_interval)


def fail(message: str) -> None:
    """Print one clear line and exit non-zero."""
    typer.echo(f"counterpart: error: {message}", err=True)
    raise typer.Exit(code=1)


def main() -> None:
    """Entry point of the ``counterpart`` console script: errors are one line, exit 1."""
    try:
        cli()
    except KeyboardInterrupt:
        typer.echo("counterpart: interrupted", err=True)
        sys.exit(130)
    except (ValueError, OSError, LookupError) as error:
        typer.echo(f"counterpart: error: {error}", err=True)
        sys.exit(1)
    except Exception as error:  # library errors (database unreachable, missing tables)
        typer.echo(f"counterpart: error: {type(error).__name__}: {error}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
