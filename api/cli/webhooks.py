"""``counterpart webhooks``: subscribe endpoints, list them and their deliveries, retry one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from api.cli.common import JsonOption, echo_json, fail, running
from projections.models import webhook_outbox as outbox
from projections.rules.webhooks import EndpointRefused, check_event_types, check_url
from projections.runtime.notifications import NotifySettings
from projections.runtime.webhook_sender import check_endpoint

app = typer.Typer(
    help="Webhook endpoints: subscribe one, list them, see deliveries, retry a delivery.",
    no_args_is_help=True,
)


@app.command("add")
def webhooks_add(
    url: Annotated[str, typer.Option("--url", help="Where to POST the events (http or https).")],
    event_types: Annotated[
        list[str],
        typer.Option(
            "--event-type",
            help='An event type such as plan.activated (repeat the option), or "*" for all.',
        ),
    ],
    description: Annotated[
        str | None, typer.Option("--description", help="What the endpoint is for.")
    ] = None,
) -> None:
    """Subscribe an endpoint; prints it as JSON with its secret (shown only now)."""
    try:
        checked = check_url(url)
        check_endpoint(checked, allow_private=NotifySettings.from_env().webhooks_allow_private)
        types = check_event_types(event_types)
    except (EndpointRefused, ValueError) as error:
        fail(str(error))
    with running() as runner:
        runner.setup()
        created = outbox.create_endpoint(
            runner.store,
            checked,
            types,
            description,
            now=datetime.now(UTC),
            head=runner.app.head_position(),
        )
    echo_json({**created.view(), "secret": created.secret})


@app.command("list")
def webhooks_list(as_json: JsonOption = False) -> None:
    """List every endpoint (without secrets)."""
    with running() as runner:
        runner.setup()
        with runner.store.reading() as cursor:
            found = [e.view() for e in outbox.endpoints(cursor, limit=1_000_000)]
    if as_json:
        echo_json(found)
        return
    typer.echo(f"{'id':<36}  {'status':<8}  {'events':<24}  url")
    for row in found:
        events = ",".join(row["event_types"])
        typer.echo(f"{row['id']:<36}  {row['status']:<8}  {events[:24]:<24}  {row['url']}")


@app.command("deliveries")
def webhooks_deliveries(
    webhook_id: Annotated[str, typer.Argument(help="The endpoint's id.")],
    status: Annotated[
        str | None, typer.Option("--status", help="pending, delivered or failed.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=100_000)] = 50,
    as_json: JsonOption = False,
) -> None:
    """An endpoint's messages in ledger order: attempts, status, the last answer."""
    if status is not None and status not in outbox.STATUSES:
        fail(f"--status must be one of {', '.join(outbox.STATUSES)}, not {status!r}")
    with running() as runner:
        runner.setup()
        with runner.store.reading() as cursor:
            if outbox.endpoint(cursor, webhook_id) is None:
                fail(f"no webhook endpoint {webhook_id!r}")
            rows = outbox.deliveries(cursor, webhook_id, status, limit=limit)
    if as_json:
        echo_json(rows)
        return
    typer.echo(f"{'id':<36}  {'position':>8}  {'event':<20}  {'status':<9}  tries  last")
    for row in rows:
        last = row["last_error"] or (row["last_status_code"] or "")
        typer.echo(
            f"{row['id']:<36}  {row['position']:>8}  {row['event_type']:<20}  "
            f"{row['status']:<9}  {row['attempts']:>5}  {last}"
        )


@app.command("retry")
def webhooks_retry(
    webhook_id: Annotated[str, typer.Argument(help="The endpoint's id.")],
    delivery_id: Annotated[str, typer.Argument(help="The delivery's id (its webhook-id).")],
) -> None:
    """Queue a delivery again at once (a failed one gets a fresh day of retries)."""
    with running() as runner:
        runner.setup()
        queued = outbox.retry(runner.store, webhook_id, delivery_id, datetime.now(UTC))
    if queued is None:
        fail(f"no delivery {delivery_id!r} of webhook {webhook_id!r}")
    echo_json(queued)
