"""``counterpart actors``: register people, list them, issue and revoke their tokens."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

import typer

from api.cli.common import (
    JsonOption,
    all_pages,
    caught_up,
    echo_json,
    fail,
    parse_role,
    parse_uuid,
    refusals,
    running,
    server_url,
)
from api.views import actor_view
from api.web.sessions import SignIns
from ledger.commands import IssueToken, RegisterActor, RevokeTokens
from projections.models.directory import actor, actors
from projections.runtime.store import ReadStore

app = typer.Typer(
    help="People who use Counterpart: register them, list them, issue and revoke tokens.",
    no_args_is_help=True,
)


@app.command("add")
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
        done = runner.app.handle(RegisterActor(name, email, chosen, partner))
    echo_json({**actor_view(done.aggregate), "token": done.result})


@app.command("list")
def actors_list(as_json: JsonOption = False) -> None:
    """List every actor (from the directory read model, caught up first)."""
    with caught_up() as runner, runner.store.transaction() as cursor:
        rows = all_pages(lambda after: actors(cursor, after=after, limit=500))
    if as_json:
        echo_json(rows)
        return
    typer.echo(f"{'id':<36}  {'role':<8}  {'name':<24}  {'email':<36}  partner")
    for row in rows:
        typer.echo(
            f"{row['id']:<36}  {row['role']:<8}  {row['name'][:24]:<24}  "
            f"{row['email'][:36]:<36}  {row['partner_id'] or '-'}"
        )


@app.command("token")
def actors_token(
    actor_id: Annotated[str, typer.Argument(help="The actor's id.")],
) -> None:
    """Issue a new token to an actor and print it as JSON; older tokens stay valid."""
    chosen = parse_uuid(actor_id, "ACTOR_ID")
    with running() as runner, refusals():
        done = runner.app.handle(IssueToken(chosen))
    echo_json({"token": done.result})


@app.command("revoke")
def actors_revoke(
    actor_id: Annotated[str, typer.Argument(help="The actor's id.")],
) -> None:
    """Revoke every token of an actor: none of them works any more."""
    chosen = parse_uuid(actor_id, "ACTOR_ID")
    with running() as runner, refusals():
        actor = runner.app.handle(RevokeTokens(chosen)).aggregate
    echo_json({"id": str(actor.id), "name": actor.name, "revoked": True})


def signin_url(store: ReadStore, actor_id: UUID) -> str:
    """A one-time web sign-in link for an actor (valid 15 minutes, works once)."""
    sign_ins = SignIns(store)
    sign_ins.create()
    code = sign_ins.issue_link(actor_id, datetime.now(UTC))
    return f"{server_url()}/signin/{code}"


@app.command("signin-link")
def actors_signin_link(
    actor_id: Annotated[str, typer.Argument(help="The actor's id.")],
    as_json: JsonOption = False,
) -> None:
    """Make a one-time link that signs an actor in to the web workspace.

    The link is valid for 15 minutes and works once (on any server process); send it to the
    person by a channel you trust. It signs in only while the actor holds an unrevoked token.
    """
    chosen = parse_uuid(actor_id, "ACTOR_ID")
    with caught_up() as runner:
        with runner.store.reading() as cursor:
            found = actor(cursor, chosen)
        if found is None:
            fail(f"actor {chosen} not found")
        url = signin_url(runner.store, chosen)
    if as_json:
        echo_json({"actor_id": str(chosen), "url": url, "valid_minutes": 15})
        return
    typer.echo(f"Sign-in link for {found['name']} ({found['role']}), valid 15 minutes, once:")
    typer.echo(f"  {url}")
