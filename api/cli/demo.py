"""``counterpart demo``: load the simulated demo into an empty ledger and print its tokens."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import typer
from eventsourcing.persistence import Recording

from api.cli.actors import signin_url
from api.cli.common import STATE, catch_up, echo_json, fail, progress, refusals, running, server_url
from ledger.application import Counterpart
from ledger.commands import IssueToken
from ledger.demo import DEMO_DAYS, PRINTED, DemoActor, demo_clock, load_demo
from projections.models.directory import Directory, actors
from projections.runtime.registry import all_projections
from projections.runtime.runner import Positioned, Runner
from projections.runtime.store import ReadStore, open_store


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
        head = runner.app.head_position()
        if head and not if_empty:
            fail(
                f"the ledger already holds {head} events; the demo loads only into an empty "
                "ledger (--if-empty prints fresh tokens for a demo loaded before)"
            )
        if head:
            catch_up(runner)
            with refusals():
                tokens = fresh_tokens(runner.app, runner.store)
            links = {t.role: signin_url(runner.store, t.id) for t in tokens}
            _print_already_loaded(tokens, links, as_json=as_json)
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
        runner = Runner(app, store, all_projections(app), batch_size=CATCH_UP_BATCH)
        runner.setup()
        build_read_models(runner, result.recorded)
    finally:
        store.close()
        app.close()
    with running() as runner:
        links = {t.role: signin_url(runner.store, t.id) for t in result.printed}
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
                "signin_links": links,
                "url": server_url(),
            }
        )
        return
    typer.echo(
        f"Loaded the demo: {result.actors} actors, {result.partners} partners, "
        f"{result.plans} plans, {result.events} events, simulated from "
        f"{result.first_day} to {result.last_day}."
    )
    _print_tokens(
        result.printed, links, "shown once; `counterpart demo --if-empty` issues new ones"
    )


CATCH_UP_BATCH = 100_000
"""Events per transaction when the read models are built from the ledger (few large batches:
each batch writes every plan it touches once)."""


def build_read_models(runner: Runner, recorded: list[Recording[UUID]]) -> None:
    """Build every read model from the events the demo just recorded, with a progress bar.

    They are the whole ledger, in order, already in memory: each projection takes them in one
    transaction (every plan written once), and nothing is read back or decoded again. Should
    they not be the whole ledger (positions with gaps), the read models catch up from it.
    """
    positions = [r.notification.id for r in recorded]
    head = runner.app.head_position()
    whole = positions == list(range(1, head + 1))
    if not whole:
        with progress(head, "building the read models") as advance:
            runner.catch_up(on_batch=advance)
        return
    batch = [Positioned(r.notification.id, r.domain_event, r.notification.state) for r in recorded]
    with progress(len(batch) * len(runner.projections), "building the read models") as advance:
        runner.apply(batch, on_projection=advance)


def _print_already_loaded(tokens: list[DemoActor], links: dict[str, str], *, as_json: bool) -> None:
    if as_json:
        echo_json(
            {
                "loaded": False,
                "tokens": {t.role: t.token for t in tokens},
                "signin_links": links,
                "url": server_url(),
            }
        )
        return
    if not tokens:
        typer.echo("The ledger already holds data, but no demo actors: no tokens to print.")
        return
    typer.echo("The demo is already loaded; fresh tokens were issued for its actors.")
    _print_tokens(tokens, links, "older tokens stay valid until revoked")


def _print_tokens(tokens: list[DemoActor], links: dict[str, str], note: str) -> None:
    typer.echo(f"\nLog in with these bearer tokens ({note}), or open the web workspace with")
    typer.echo("the one-time sign-in links (each valid 15 minutes, once):")
    for actor in tokens:
        typer.echo(f"  {actor.role:<8} {actor.name} <{actor.email}>")
        typer.echo(f"           token: {actor.token}")
        if actor.role in links:
            typer.echo(f"           web:   {links[actor.role]}")
    typer.echo(
        f"\nThe API is served on {server_url()} by `counterpart serve` "
        f"(interactive docs: {server_url()}/docs). Try:"
    )
    typer.echo(f'  curl -H "Authorization: Bearer {tokens[0].token}" {server_url()}/v1/plans')


def fresh_tokens(app: Counterpart, store: ReadStore) -> list[DemoActor]:
    """New tokens for the demo's leader, manager and partner contact of a loaded demo.

    Tokens are stored only as hashes, so a later start cannot print the first ones; the demo
    actors are found in the directory read model by their emails. Empty: no demo actors.
    """
    runner = Runner(app, store, [Directory()])
    runner.setup()
    runner.catch_up()
    found: dict[str, DemoActor] = {}
    with store.transaction() as cursor:
        after: str | None = None
        while page := actors(cursor, after=after, limit=500):
            for row in page:
                role = PRINTED.get(row["email"])
                if role is not None and row["role"] == role:
                    found[role] = DemoActor(role, UUID(row["id"]), row["name"], row["email"], "")
            after = page[-1]["id"]
    return [
        DemoActor(a.role, a.id, a.name, a.email, app.handle(IssueToken(a.id)).result)
        for role in PRINTED.values()
        if (a := found.get(role)) is not None
    ]
