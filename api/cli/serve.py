"""``counterpart serve``: the HTTP API under uvicorn."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from api.cli.common import STATE, fail
from ledger.integrity import KeyFileError, signer_from

LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")


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
