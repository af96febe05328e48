"""What every ``counterpart`` command shares: the settings, the opened ledger, errors, parsing."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Annotated, Any, NoReturn
from uuid import UUID

import typer

from ledger.application import Counterpart
from ledger.domain import LedgerError, Role
from ledger.settings import Settings
from projections.runtime.notifications import NotifySettings
from projections.runtime.registry import all_projections
from projections.runtime.runner import DEFAULT_BATCH, Runner
from projections.runtime.store import open_store

QUIET_LAG = 5000
"""Below this many events to catch up, read commands show no progress bar."""

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


class State:
    """Options shared by every command."""

    settings: Settings = Settings()


STATE = State()


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
        settings = settings.replaced(database_url=database_url)
    STATE.settings = settings


def server_url() -> str:
    """The address people open (``COUNTERPART_PUBLIC_URL``, as in e-mails), without a
    trailing slash: printed in sign-in links and by the demo."""
    return NotifySettings.from_env().public_url.rstrip("/")


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


@contextmanager
def caught_up() -> Iterator[Runner]:
    """A runner whose read models have caught up with the ledger (a progress bar if long)."""
    with running() as runner:
        catch_up(runner)
        yield runner


def catch_up(runner: Runner) -> None:
    """Bring every read model up to date, with a progress bar when there is much to do."""
    runner.setup()
    lag = max((s.lag for s in runner.status()), default=0)
    with progress(lag, "catching up the read models", shown=lag >= QUIET_LAG) as advance:
        runner.catch_up(on_batch=advance)


@contextmanager
def progress(length: int, label: str, *, shown: bool = True) -> Iterator[Callable[[int], None]]:
    """A progress bar on standard error (or nothing), advanced by the function it yields."""
    if not shown:
        yield lambda _: None
        return
    with typer.progressbar(length=length, label=label, file=sys.stderr) as bar:
        yield bar.update


@contextmanager
def refusals() -> Iterator[None]:
    """A command the ledger refuses ends as one line on stderr and exit code 1."""
    try:
        yield
    except LedgerError as error:
        fail(str(error))


def fail(message: str) -> NoReturn:
    """Print one clear line and exit non-zero."""
    typer.echo(f"counterpart: error: {message}", err=True)
    raise typer.Exit(code=1)


def parse_uuid(text: str, what: str) -> UUID:
    """A UUID from the command line, or one clear error."""
    try:
        return UUID(text)
    except ValueError:
        fail(f"{what} must be a UUID like 3f1c2a9e-6b0d-4c55-9a43-0e2f6f1d7b21, not {text!r}")


def parse_role(text: str) -> Role:
    """A role from the command line, or one clear error."""
    try:
        return Role(text.strip().lower())
    except ValueError:
        known = ", ".join(role.value for role in Role)
        fail(f"unknown role {text!r} (one of {known})")


def parse_day(text: str, what: str) -> date:
    """A YYYY-MM-DD date from the command line, or one clear error."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"{what} must be a date YYYY-MM-DD, not {text!r}")


def echo_json(value: Any) -> None:
    """Print a JSON document on one line."""
    typer.echo(json.dumps(value))


def all_pages(page: Callable[[str | None], list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Every row of an id-ordered listing, page by page."""
    rows: list[dict[str, Any]] = []
    after: str | None = None
    while batch := page(after):
        rows.extend(batch)
        after = batch[-1]["id"]
    return rows
