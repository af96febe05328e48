"""``counterpart projections``: follow the ledger, rebuild the read models, show their lag."""

from __future__ import annotations

import json
import signal
import sys
import time
from types import FrameType
from typing import Annotated

import typer
from prometheus_client import CollectorRegistry

from api.cli.common import STATE, JsonOption, fail, running
from api.integrity import Integrity
from api.nudge_metrics import NudgeMetrics, serve_metrics
from ledger.integrity import KeyFileError
from projections.rules.series import MAX_POINTS
from projections.runtime.day_turn import DayTurn, warm
from projections.runtime.notifications import Notifications, NotifySettings
from projections.runtime.runner import DEFAULT_BATCH

app = typer.Typer(
    help="Read models: follow the ledger, rebuild them, see how far behind they are.",
    no_args_is_help=True,
)


@app.command("status")
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


@app.command("rebuild")
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
        head = runner.app.head_position()
        for each in names:
            runner.reset(each)
        with typer.progressbar(length=head, label="rebuilding", file=sys.stderr) as bar:
            runner.catch_up(on_batch=bar.update)
    typer.echo(f"rebuilt {', '.join(names)} from {head} events")


@app.command("run")
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
    metrics_port: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=65_535,
            envvar="COUNTERPART_WORKER_METRICS_PORT",
            help="Serve the deliveries' and reminders' Prometheus metrics on this port "
            "(http://HOST:PORT/metrics; default: not served).",
        ),
    ] = None,
    metrics_host: Annotated[
        str,
        typer.Option(
            envvar="COUNTERPART_WORKER_METRICS_HOST", help="Address the metrics are served on."
        ),
    ] = "127.0.0.1",
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
        metrics = NudgeMetrics(CollectorRegistry())
        metrics.measure_lag(runner.app, runner.store)
        served = None
        if metrics_port is not None:
            try:
                served = serve_metrics(metrics.registry, metrics_host, metrics_port)
            except OSError as error:
                fail(f"cannot serve metrics on {metrics_host}:{metrics_port}: {error}")
        try:
            audit = Integrity.open(runner.app, STATE.settings)
        except KeyFileError as error:
            fail(str(error))
        audit.start_notary()  # signed checkpoints are issued where the projections run
        nudges = Notifications(
            runner.store,
            NotifySettings.from_env(),
            runner.app.clock.now,
            on_delivery=metrics.delivered,
            on_reminder=metrics.reminded,
        )
        nudges.start()  # webhooks are delivered and reminders sent where the projections run
        day_turn = DayTurn(runner)
        day_turn.start()  # each day's roll-ups are computed ahead where the projections run
        signing = "" if audit.signer is None else f", signing checkpoints as {audit.signer.key_id}"
        typer.echo(f"following the ledger{signing}; Ctrl-C to stop", err=True)
        if served is not None:
            typer.echo(f"metrics on http://{metrics_host}:{metrics_port}/metrics", err=True)
        try:
            runner.run_forever(poll_interval)
        finally:
            day_turn.stop()
            nudges.stop()
            audit.stop()
            if served is not None:
                served.shutdown()


@app.command("warm")
def projections_warm(
    every: Annotated[int, typer.Option(min=1, max=366, help="Days between dates.")] = 7,
    points: Annotated[int, typer.Option(min=1, max=MAX_POINTS, help="Dates to fill.")] = 26,
) -> None:
    """Compute ahead the roll-ups of today (the portfolio's, each manager's) and of the
    portfolio series' dates before it (what a first read of each would otherwise compute),
    and keep them: what the day turn does each day where the projections run."""
    with running() as runner:
        runner.setup()
        runner.catch_up()
        started = time.monotonic()
        days = warm(runner.store, runner.app.clock.now().date(), every=every, points=points)
    typer.echo(f"kept the roll-ups of {len(days)} dates in {time.monotonic() - started:.1f} s")
