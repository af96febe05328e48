"""The ``counterpart`` command line: database, read models, actors, partners, demo, export."""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from types import FrameType
from typing import Annotated, Any, NoReturn, TextIO
from uuid import UUID

import typer
from typer._click.exceptions import ClickException, NoArgsIsHelpError  # typer's own click

from api.demo import DEMO_DAYS, DemoActor, demo_clock, fresh_tokens, load_demo
from api.integrity import Integrity, NoCheckpoint, renderer
from api.views import actor_view, partner_view
from ledger.application import Counterpart
from ledger.domain import LedgerError, Role
from ledger.integrity import KeyFileError, chain_store, signer_from
from ledger.integrity.export import ExportError
from ledger.settings import Settings
from ledger.upgrade import upgrade
from projections.models.directory import actors, partners
from projections.models.plan_history import plan_history
from projections.models.score_facts import ScoreFacts
from projections.rules.accountability import plan_accountability
from projections.runtime.registry import all_projections
from projections.runtime.runner import DEFAULT_BATCH, Runner
from projections.runtime.store import open_store

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
actors_cli = typer.Typer(
    help="People who use Counterpart: register them, list them, issue and revoke tokens.",
    no_args_is_help=True,
)
partners_cli = typer.Typer(
    help="Partner organisations, each owned by one channel manager.", no_args_is_help=True
)
cli.add_typer(db_cli, name="db")
cli.add_typer(projections_cli, name="projections")
cli.add_typer(actors_cli, name="actors")
cli.add_typer(partners_cli, name="partners")

SERVER_URL = "http://127.0.0.1:8000"
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")
EXPORT_BATCH = 1000
QUIET_LAG = 5000
"""Below this many events to catch up, read commands show no progress bar."""

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


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


@contextmanager
def caught_up() -> Iterator[Runner]:
    """A runner whose read models have caught up with the ledger (a progress bar if long)."""
    with running() as runner:
        runner.setup()
        lag = max((s.lag for s in runner.status()), default=0)
        with progress(lag, "catching up the read models", shown=lag >= QUIET_LAG) as advance:
            runner.catch_up(on_batch=advance)
        yield runner


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


# ---------------------------------------------------------------- database


@db_cli.command("upgrade")
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


# ------------------------------------------------------------- projections


@projections_cli.command("status")
def projections_status(as_json: JsonOption = False) -> None:
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
        try:
            audit = Integrity.open(runner.app, STATE.settings)
        except KeyFileError as error:
            fail(str(error))
        audit.start_notary()  # signed checkpoints are issued where the projections run
        signing = "" if audit.signer is None else f", signing checkpoints as {audit.signer.key_id}"
        typer.echo(f"following the ledger{signing}; Ctrl-C to stop", err=True)
        try:
            runner.run_forever(poll_interval)
        finally:
            audit.stop()


# ------------------------------------------------------------------ actors


@actors_cli.command("add")
def actors_add(
    role: Annotated[
        str, typer.Option("--role", help="admin, leader, manager, partner or auditor.")
    ],
    name: Annotated[str, typer.Option("--name", help="The person's name.")],
    email: Annotated[str, typer.Option("--email", help="The person's email address.")],
    partner_id: Annotated[
        str | None,
        typer.Option("--partner-id", help="Their partner organisation (only for --role partner)."),
    ] = None,
) -> None:
    """Register an actor and print it as JSON with its first token (shown only here).

    The first admin is registered this way; the operator at the command line acts as admin.
    """
    chosen = parse_role(role)
    partner = None if partner_id is None else parse_uuid(partner_id, "--partner-id")
    with running() as runner, refusals():
        actor, token = runner.app.register_actor(
            name=name, email=email, role=chosen, partner_id=partner
        )
    echo_json({**actor_view(actor), "token": token})


@actors_cli.command("list")
def actors_list(as_json: JsonOption = False) -> None:
    """List every actor (from the directory read model, caught up first)."""
    with caught_up() as runner, runner.store.transaction() as cursor:
        rows = _all_pages(lambda after: actors(cursor, after=after, limit=500))
    if as_json:
        echo_json(rows)
        return
    typer.echo(f"{'id':<36}  {'role':<8}  {'name':<24}  {'email':<36}  partner")
    for row in rows:
        typer.echo(
            f"{row['id']:<36}  {row['role']:<8}  {row['name'][:24]:<24}  "
            f"{row['email'][:36]:<36}  {row['partner_id'] or '-'}"
        )


@actors_cli.command("token")
def actors_token(
    actor_id: Annotated[str, typer.Argument(help="The actor's id.")],
) -> None:
    """Issue a new token to an actor and print it as JSON; older tokens stay valid."""
    chosen = parse_uuid(actor_id, "ACTOR_ID")
    with running() as runner, refusals():
        token = runner.app.issue_token(chosen)
    echo_json({"token": token})


@actors_cli.command("revoke")
def actors_revoke(
    actor_id: Annotated[str, typer.Argument(help="The actor's id.")],
) -> None:
    """Revoke every token of an actor: none of them works any more."""
    chosen = parse_uuid(actor_id, "ACTOR_ID")
    with running() as runner, refusals():
        actor = runner.app.revoke_tokens(chosen)
    echo_json({"id": str(actor.id), "name": actor.name, "revoked": True})


def _all_pages(page: Callable[[str | None], list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Every row of an id-ordered listing, page by page."""
    rows: list[dict[str, Any]] = []
    after: str | None = None
    while batch := page(after):
        rows.extend(batch)
        after = batch[-1]["id"]
    return rows


# ---------------------------------------------------------------- partners


@partners_cli.command("add")
def partners_add(
    name: Annotated[str, typer.Option("--name", help="The partner organisation's name.")],
    manager_id: Annotated[
        str, typer.Option("--manager-id", help="The channel manager who owns the partnership.")
    ],
) -> None:
    """Register a partner organisation and print it as JSON."""
    manager = parse_uuid(manager_id, "--manager-id")
    with running() as runner, refusals():
        partner = runner.app.register_partner(name=name, manager_id=manager)
    echo_json(partner_view(partner))


@partners_cli.command("list")
def partners_list(as_json: JsonOption = False) -> None:
    """List every partner organisation with its manager."""
    with caught_up() as runner, runner.store.transaction() as cursor:
        rows = _all_pages(lambda after: partners(cursor, after=after, limit=500))
    if as_json:
        echo_json(rows)
        return
    typer.echo(f"{'id':<36}  {'name':<32}  manager")
    for row in rows:
        typer.echo(f"{row['id']:<36}  {row['name'][:32]:<32}  {row['manager_id']}")


# -------------------------------------------------------------------- demo


@cli.command("demo")
def demo(
    partner_count: Annotated[
        int,
        typer.Option("--partners", help="Partner organisations to simulate, each with two plans."),
    ] = 24,
    managers: Annotated[
        int, typer.Option("--managers", help="Channel managers who own the partnerships.")
    ] = 3,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same story.")] = 7,
    if_empty: Annotated[
        bool,
        typer.Option(
            "--if-empty",
            help="On a ledger that already holds data, do not fail: print fresh tokens for "
            "the demo's actors instead.",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Load a demo into an empty ledger and print tokens to try the API with.

    The demo simulates the last 180 days of a vendor's channel: managers and partners with
    a closed plan for last quarter and an active one for this quarter, behaving well or
    badly in different ways, so that the scores spread. Loading is refused on a ledger that
    holds anything, unless --if-empty is given.
    """
    if partner_count < 1 or managers < 1:
        fail("--partners and --managers must be at least 1")
    with running() as runner:
        runner.setup()
        head = runner.app.recorder.max_notification_id() or 0
        if head and not if_empty:
            fail(
                f"the ledger already holds {head} events; the demo loads only into an empty "
                "ledger (--if-empty prints fresh tokens for a demo loaded before)"
            )
        if head:
            lag = max((s.lag for s in runner.status()), default=0)
            with progress(lag, "catching up the read models", shown=lag >= QUIET_LAG) as bar:
                runner.catch_up(on_batch=bar)
            with refusals():
                tokens = fresh_tokens(runner.app, runner.store)
            _print_already_loaded(tokens, as_json=as_json)
            return
    clock = demo_clock()
    app = Counterpart(STATE.settings, clock)
    store = open_store(STATE.settings)
    try:
        with progress(DEMO_DAYS, f"simulating {DEMO_DAYS} days") as advance:
            result = load_demo(
                app,
                clock,
                partners=partner_count,
                managers=managers,
                seed=seed,
                on_progress=advance,
            )
        runner = Runner(app, store, all_projections(app))
        runner.setup()
        with progress(result.events, "building the read models") as advance:
            runner.catch_up(on_batch=advance)
    finally:
        store.close()
        app.close()
    counts = {
        "actors": result.actors,
        "partners": result.partners,
        "plans": result.plans,
        "events": result.events,
    }
    if as_json:
        echo_json(
            {
                "loaded": True,
                "counts": counts,
                "first_day": result.first_day.isoformat(),
                "last_day": result.last_day.isoformat(),
                "tokens": result.tokens,
                "url": SERVER_URL,
            }
        )
        return
    typer.echo(
        f"Loaded the demo: {result.actors} actors, {result.partners} partners, "
        f"{result.plans} plans, {result.events} events, simulated from "
        f"{result.first_day} to {result.last_day}."
    )
    _print_tokens(result.printed, "shown once; `counterpart demo --if-empty` issues new ones")


def _print_already_loaded(tokens: list[DemoActor], *, as_json: bool) -> None:
    if as_json:
        echo_json({"loaded": False, "tokens": {t.role: t.token for t in tokens}, "url": SERVER_URL})
        return
    if not tokens:
        typer.echo("The ledger already holds data, but no demo actors: no tokens to print.")
        return
    typer.echo("The demo is already loaded; fresh tokens were issued for its actors.")
    _print_tokens(tokens, "older tokens stay valid until revoked")


def _print_tokens(tokens: list[DemoActor], note: str) -> None:
    typer.echo(f"\nLog in with these bearer tokens ({note}):")
    for actor in tokens:
        typer.echo(f"  {actor.role:<8} {actor.name} <{actor.email}>")
        typer.echo(f"           {actor.token}")
    typer.echo(
        f"\nThe API is served on {SERVER_URL} by `counterpart serve` "
        f"(interactive docs: {SERVER_URL}/docs). Try:"
    )
    typer.echo(f'  curl -H "Authorization: Bearer {tokens[0].token}" {SERVER_URL}/v1/plans')


# ------------------------------------------------------------------ export


@cli.command("export")
def export(
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write to this file (default: standard output)."),
    ] = None,
    verifiable: Annotated[
        bool,
        typer.Option(
            "--verifiable",
            help="Add each event's stored bytes and hashes and a signed checkpoint, for "
            "`counterpart verify-export` (see docs/integrity.md).",
        ),
    ] = False,
    partner: Annotated[
        str | None,
        typer.Option(
            "--partner",
            help="With --verifiable: only this partnership's events, plus the hashes of the "
            "others, checkable against the same checkpoint.",
        ),
    ] = None,
) -> None:
    """Export every event as JSON Lines, in the ledger's global order.

    One object per line: position, originator_id, version, type, recorded_at, actor,
    request_id and data (the event's fields as plain JSON). Events are read in batches,
    never all at once; the export stops at the last event recorded when it began (with
    --verifiable: at the checkpoint, issued now when a signing key is configured).
    """
    if partner is not None and not verifiable:
        fail("--partner needs --verifiable")
    partner_id = parse_uuid(partner, "--partner") if partner is not None else None
    with running() as runner:
        if verifiable:
            lines = _verifiable_lines(runner.app, partner_id, output)
        else:
            lines = _plain_lines(runner.app, output)
        try:
            with _output(output) as out:
                written = sum(1 for line in lines if out.write(json.dumps(line) + "\n"))
        except OSError as error:
            fail(f"cannot write {output}: {error.strerror or error}")
    if output is not None:
        what = f"{written} lines" if verifiable else f"{written} events"
        typer.echo(f"exported {what} to {output}", err=True)


def _plain_lines(app: Counterpart, output: Path | None) -> Iterator[dict[str, Any]]:
    store = chain_store(app.recorder)
    render = renderer(app.mapper.transcoder)
    head = app.recorder.max_notification_id() or 0
    with progress(head, "exporting", shown=output is not None) as advance:
        after = 0
        while after < head:
            batch = store.select_raw_events(after, head, EXPORT_BATCH)
            if not batch:
                break
            yield from (render(event) for event in batch)
            after = batch[-1][0]
            advance(len(batch))


def _verifiable_lines(
    app: Counterpart, partner_id: UUID | None, output: Path | None
) -> Iterator[dict[str, Any]]:
    try:
        audit = Integrity.open(app, STATE.settings)
        checkpoint = audit.covering()
    except (KeyFileError, NoCheckpoint) as error:
        fail(str(error))
    with progress(checkpoint.position, "exporting", shown=output is not None) as advance:
        try:
            yield from audit.export(partner_id, advance, checkpoint)
        except ExportError as error:
            fail(str(error))


@contextmanager
def _output(path: Path | None) -> Iterator[TextIO]:
    if path is None:
        yield sys.stdout
        return
    with path.open("w", encoding="utf-8") as file:
        yield file


# ----------------------------------------------------------- plan queries


@cli.command("history")
def history(
    plan_id: Annotated[str, typer.Argument(help="The plan's id.")],
    as_json: JsonOption = False,
) -> None:
    """Show a plan's events, oldest first: position, version, time, type, actor and data."""
    chosen = parse_uuid(plan_id, "PLAN_ID")
    entries: list[dict[str, Any]] = []
    with caught_up() as runner, runner.store.transaction() as cursor:
        transcoder = runner.app.mapper.transcoder
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


@cli.command("score")
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
    """Show a plan's accountability score per side, with its components (SCORING.md)."""
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


# ------------------------------------------------------------------- serve


@cli.command("serve")
def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option("--workers", help="Server processes (each runs the API).")
    ] = 1,
    log_level: Annotated[
        str, typer.Option("--log-level", help="critical, error, warning, info, debug or trace.")
    ] = "info",
) -> None:
    """Serve the HTTP API (uvicorn) on the configured ledger until stopped (Ctrl-C)."""
    if not 0 < port < 65536:
        fail(f"--port must be from 1 to 65535, not {port}")
    if workers < 1:
        fail(f"--workers must be at least 1, not {workers}")
    if log_level.lower() not in LOG_LEVELS:
        fail(f"unknown --log-level {log_level!r} (one of {', '.join(LOG_LEVELS)})")
    try:
        signer = signer_from(STATE.settings)
    except KeyFileError as error:
        fail(str(error))
    os.environ["COUNTERPART_DATABASE_URL"] = STATE.settings.database_url  # reaches the workers
    url = f"http://{host}:{port}"
    typer.echo(f"Counterpart serves on {url} (interactive docs: {url}/docs); Ctrl-C to stop")
    if signer is None:
        typer.echo("no signing key configured: the chain is kept, no checkpoints are signed")
    else:
        typer.echo(f"checkpoints are signed with key {signer.key_id} (docs/integrity.md)")
    import uvicorn  # noqa: PLC0415 (only the server needs it; every other command starts faster)

    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level.lower(),
        access_log=False,  # the app logs one structured line per request itself
    )


# -------------------------------------------------------------- entry point


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


from api import cli_audit  # noqa: E402, F401 (registers keys, verify, checkpoint, verify-export)

if __name__ == "__main__":
    # Run the module proper (``api.cli``), on which every command module registered itself.
    from api.cli import main as registered_main

    registered_main()
