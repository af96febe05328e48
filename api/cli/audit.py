"""The ``counterpart`` commands of tamper evidence: keys, verify, checkpoint, verify-export."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from api.cli.common import STATE, JsonOption, echo_json, fail, progress, running
from api.integrity import Integrity, NoCheckpoint, renderer
from ledger.integrity import Checkpoint, KeyFileError, Keyring, Signer
from ledger.integrity.export import verify_export
from ledger.integrity.parallel import default_workers, processes
from ledger.transcodings import ledger_transcoder

keys_cli = typer.Typer(
    help="The Ed25519 key that signs checkpoints: generate one, show its public half.",
    no_args_is_help=True,
)

PARALLEL_FROM = 200_000
"""Ledgers at least this long are verified by one process per core (below, starting the
processes costs more than it saves)."""

PublicKeyOption = Annotated[
    Path | None,
    typer.Option(
        "--public-key",
        help="Also trust this public key (PEM file), e.g. one the auditor keeps.",
        exists=False,
    ),
]


@contextmanager
def integrity() -> Iterator[Integrity]:
    """The ledger's integrity services; a key that cannot be read is one clear error."""
    with running() as runner:
        try:
            opened = Integrity.open(runner.app, STATE.settings)
        except KeyFileError as error:
            fail(str(error))
        yield opened


def _keyring(path: Path | None) -> Keyring | None:
    if path is None:
        return None
    try:
        return Keyring.from_file(path)
    except KeyFileError as error:
        fail(str(error))


# -------------------------------------------------------------------- keys


@keys_cli.command("generate")
def keys_generate(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Where to write the private key (PEM).")
    ] = Path("counterpart-signing.pem"),
    if_missing: Annotated[
        bool, typer.Option("--if-missing", help="Do nothing if the key file exists already.")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing key file.")] = False,
) -> None:
    """Generate an Ed25519 signing key (mode 600) and its public key (OUT.pub).

    Point the server at it with COUNTERPART_SIGNING_KEY_FILE=OUT; give OUT.pub to auditors.
    """
    public = out.with_name(out.name + ".pub")
    if out.exists():
        if if_missing:
            typer.echo(f"{out} exists already; kept", err=True)
            return
        if not force:
            fail(f"{out} exists already (use --force to replace it, or --if-missing)")
    signer = Signer.generate()
    try:
        descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(signer.private_pem())
        public.write_text(_public_pem(signer), encoding="ascii")
    except OSError as error:
        fail(f"cannot write the key: {error.strerror or error}")
    typer.echo(f"wrote the signing key {out} (key id {signer.key_id}) and its public key {public}")
    typer.echo(f"serve with: COUNTERPART_SIGNING_KEY_FILE={out} counterpart serve")


@keys_cli.command("show")
def keys_show(as_json: JsonOption = False) -> None:
    """Show the configured signing key's id and public key (PEM)."""
    with integrity() as audit:
        if audit.signer is None:
            fail("no signing key is configured (set COUNTERPART_SIGNING_KEY_FILE)")
        pem = _public_pem(audit.signer)
        if as_json:
            echo_json({"key_id": audit.signer.key_id, "algorithm": "Ed25519", "public_key": pem})
        else:
            typer.echo(f"key id {audit.signer.key_id} (Ed25519)\n{pem}", nl=False)


def _public_pem(signer: Signer) -> str:
    from ledger.integrity.signing import public_pem  # noqa: PLC0415 (one use)

    return public_pem(signer.public_key)


# ---------------------------------------------------------------- verify


def verify(
    from_checkpoint: Annotated[
        Path | None,
        typer.Option(
            "--from-checkpoint",
            help="A checkpoint (JSON) kept outside the database, checked against the ledger too.",
        ),
    ] = None,
    public_key: PublicKeyOption = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            max=64,
            help="Processes that hash in parallel (default: one per core for ledgers of "
            f"{PARALLEL_FROM:,} events or more, else 1).",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Recompute the hash chain over every event; check the links and every signed checkpoint.

    Exit code 0 when the ledger is intact, 1 when it is not (with the first bad position and
    what is wrong: payload changed, event missing, event inserted, order changed, checkpoint
    signature invalid or not matching).
    """
    extra = [_read_checkpoint(from_checkpoint)] if from_checkpoint is not None else []
    keyring = _keyring(public_key)
    with integrity() as audit:
        head = audit.store.max_notification_id() or 0
        if workers is None:
            workers = default_workers() if head >= PARALLEL_FROM else 1
        runner = processes(STATE.settings, workers) if workers > 1 else None
        with progress(head, "verifying", shown=not as_json) as advance:
            verdict = audit.verify(extra, keyring, advance, runner)
    if as_json:
        echo_json(verdict.as_dict())
    elif verdict.ok:
        typer.echo(f"ok: {verdict.detail}")
    else:
        typer.echo(
            f"TAMPERED at position {verdict.first_bad_position} ({verdict.problem}): "
            f"{verdict.detail} ({verdict.checked} events checked before it)"
        )
    if not verdict.ok:
        raise typer.Exit(code=1)


def _read_checkpoint(path: Path) -> Checkpoint:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        fail(f"cannot read the checkpoint {path}: {error}")
    try:
        data = json.loads(text)
        if isinstance(data, dict):
            data = {k: v for k, v in data.items() if k != "kind"}
        return Checkpoint.from_dict(data)
    except ValueError as error:
        fail(f"{path} is not a checkpoint: {error}")


# ------------------------------------------------------------ checkpoint


def checkpoint(as_json: JsonOption = False) -> None:
    """Sign the chain's head now with the configured key, and print the checkpoint (JSON).

    Keep the printed line somewhere the database's operators cannot reach: `counterpart verify
    --from-checkpoint FILE` later proves that nothing up to it was rewritten.
    """
    with integrity() as audit:
        try:
            issued = audit.issue()
        except NoCheckpoint as error:
            fail(str(error))
    if as_json:
        echo_json(issued.as_dict())
    else:
        typer.echo(json.dumps(issued.as_dict(), indent=2))


# --------------------------------------------------------- verify-export


def verify_export_file(
    file: Annotated[Path, typer.Argument(help="A file written by `export --verifiable`.")],
    public_key: Annotated[
        Path,
        typer.Option("--public-key", help="The ledger's public key (PEM), e.g. from keys show."),
    ],
    as_json: JsonOption = False,
) -> None:
    """Check a verifiable export offline: no database, only the file and the public key.

    Exit code 0 when every event matches its hash and the chain matches the signed checkpoint.
    """
    keyring = _keyring(public_key) or Keyring()
    try:
        with file.open("rb") as lines:
            verdict = verify_export(lines, keyring, renderer(ledger_transcoder()))
    except OSError as error:
        fail(f"cannot read {file}: {error.strerror or error}")
    if as_json:
        echo_json(verdict.as_dict())
    elif verdict.ok:
        typer.echo(f"ok: {verdict.detail}")
    else:
        where = f"line {verdict.first_bad_line}"
        if verdict.first_bad_position is not None:
            where += f", position {verdict.first_bad_position}"
        typer.echo(f"REJECTED at {where}: {verdict.detail}")
    if not verdict.ok:
        raise typer.Exit(code=1)
