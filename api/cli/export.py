"""``counterpart export``: every event as JSON Lines, plain or verifiable."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TextIO
from uuid import UUID

import typer

from api.cli.common import STATE, fail, parse_uuid, progress, running
from api.integrity import Integrity, NoCheckpoint, renderer
from ledger.application import Counterpart
from ledger.integrity import KeyFileError
from ledger.integrity.export import ExportError

EXPORT_BATCH = 1000


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
    store = app.chain()
    render = renderer(app.transcoder)
    head = app.head_position()
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
