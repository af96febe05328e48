"""The ``counterpart`` command line, assembled from one module per command group."""

from __future__ import annotations

import sys

import typer
from typer._click.exceptions import ClickException, NoArgsIsHelpError  # typer's own click

from api.cli import actors, audit, common, db, demo, export, partners, plans, read_models, serve
from ledger.domain import LedgerError

cli = typer.Typer(
    name="counterpart",
    help="Counterpart, the mutual accountability ledger for channel sales.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
cli.callback()(common.configure)
cli.add_typer(db.app, name="db")
cli.add_typer(read_models.app, name="projections")
cli.add_typer(actors.app, name="actors")
cli.add_typer(partners.app, name="partners")
cli.add_typer(audit.keys_cli, name="keys")
cli.command("demo")(demo.demo)
cli.command("export")(export.export)
cli.command("history")(plans.history)
cli.command("score")(plans.score)
cli.command("serve")(serve.serve)
cli.command("verify")(audit.verify)
cli.command("checkpoint")(audit.checkpoint)
cli.command("verify-export")(audit.verify_export_file)


def main() -> None:
    """Entry point of the ``counterpart`` console script: errors are one line, exit non-zero."""
    try:
        code = cli(standalone_mode=False)
    except NoArgsIsHelpError as error:
        error.show()
        sys.exit(error.exit_code)
    except ClickException as error:  # usage errors: one line, click's exit code (2)
        typer.echo(f"counterpart: error: {error.format_message()} (see --help)", err=True)
        sys.exit(error.exit_code)
    except (KeyboardInterrupt, typer.Abort):
        typer.echo("counterpart: interrupted", err=True)
        sys.exit(130)
    except LedgerError as error:
        typer.echo(f"counterpart: error: {error}", err=True)
        sys.exit(1)
    except (ValueError, OSError, LookupError) as error:
        typer.echo(f"counterpart: error: {error}", err=True)
        sys.exit(1)
    except Exception as error:  # library errors (database unreachable, missing tables)
        typer.echo(f"counterpart: error: {type(error).__name__}: {error}", err=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
