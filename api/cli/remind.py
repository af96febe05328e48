"""``counterpart remind``: one reminder pass (what it sent, or what it would send)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from api.cli.common import JsonOption, catch_up, echo_json, fail, parse_day, running
from api.observability import configure_logging
from projections.runtime.mail import MailConfigError
from projections.runtime.notifications import NotifySettings, reminder_pass


def remind(
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="The day to run the pass for, YYYY-MM-DD (default: today)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Send nothing; print what would be sent.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """E-mail what is due: inbox items within two days of act_by (or new ones without it),
    and on Mondays the weekly digests. Each e-mail goes out once, whatever the number of
    passes or processes. Needs COUNTERPART_SMTP_URL (console: prints them) unless --dry-run."""
    configure_logging()  # console: mail and failures go to the log on standard error
    day = parse_day(as_of, "--as-of") if as_of else datetime.now(UTC).date()
    try:
        settings = NotifySettings.from_env()
    except (MailConfigError, ValueError) as error:
        fail(str(error))
    if settings.smtp_url is None and not dry_run:
        fail("no COUNTERPART_SMTP_URL is set, so no e-mail can be sent (try --dry-run)")
    with running() as runner:
        catch_up(runner)
        one_pass = reminder_pass(runner.store, settings, lambda: datetime.now(UTC))
        mails = one_pass.run(day, dry_run=dry_run)
    if as_json:
        echo_json(
            {"as_of": day.isoformat(), "dry_run": dry_run, "emails": [m.view() for m in mails]}
        )
        return
    verb = "would send" if dry_run else "sent"
    typer.echo(f"{verb} {len(mails)} e-mail{'s' * (len(mails) != 1)} for {day.isoformat()}")
    for mail in mails:
        typer.echo(f"  {mail.kind:<9}  {mail.recipient.email:<32}  {mail.subject}")
