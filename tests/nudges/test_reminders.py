"""Reminders by e-mail, sent to a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from api.services import Services
from projections.rules.reminders import Links
from projections.runtime.mail import mailer_from
from projections.runtime.reminders import ReminderPass
from tests.api.world import World, a_draft_plan, an_agreed_plan, created, with_proposed_metrics
from tests.nudges.smtp import Inbox, an_smtp_server

ROOT = Path(__file__).resolve().parents[2]
MONDAY = date(2026, 1, 5)
PUBLIC = "https://counterpart.vendor.example"


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[str, Inbox]]:
    """One SMTP server for the module."""
    with an_smtp_server() as server:
        yield server


def a_pass(world: World, smtp_url: str) -> ReminderPass:
    """A reminder pass of the world's server, mailing through the SMTP server."""
    services: Services = world.client.app.state.services  # type: ignore[attr-defined]
    services.catch_up()
    mailer = mailer_from(smtp_url)
    return ReminderPass(
        services.store, mailer, "counterpart@vendor.example", Links(PUBLIC), world.clock.now
    )


def about(mails: list[EmailMessage], title: str) -> list[EmailMessage]:
    """The mails whose subject names the plan title."""
    return [m for m in mails if title in str(m["Subject"])]


def a_title() -> str:
    """A plan title no other test uses."""
    return f"Plan {uuid.uuid4().hex[:8]}"


def test_an_item_is_mailed_once_when_its_act_by_is_two_days_away(
    nudging_world: World, smtp: tuple[str, Inbox]
) -> None:
    world, (url, inbox) = nudging_world, smtp
    title = a_title()
    plan = with_proposed_metrics(world, a_draft_plan(world, title=title))
    today = world.clock.now().date()
    reminders = a_pass(world, url)
    assert about([p.subject for p in reminders.run(today + timedelta(days=2))], title) == []  # type: ignore[arg-type]
    sent = reminders.run(today + timedelta(days=3))
    assert sorted(p.recipient.email for p in sent if title in p.subject) == [
        "max.manager@example.com",
        "pat.partner@example.com",
    ]
    again = reminders.run(today + timedelta(days=4))
    assert [p for p in again if title in p.subject] == []
    mails = about(inbox.received(), title)
    assert len(mails) == 2
    to_contact = next(m for m in mails if m["To"] == "pat.partner@example.com")
    text = to_contact.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    html = to_contact.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    act_by = (today + timedelta(days=5)).isoformat()
    assert f"by {act_by}" in text
    assert "responsiveness" in text
    assert f"{PUBLIC}/plans/{plan.id}" in text
    assert f"POST {PUBLIC}/v1/plans/{plan.id}/metrics/{plan.vendor_metric}/agree" in text
    assert f'href="{PUBLIC}/plans/{plan.id}"' in html
    assert to_contact["From"] == "counterpart@vendor.example"


def test_an_item_without_act_by_is_mailed_when_it_first_appears(
    nudging_world: World, smtp: tuple[str, Inbox]
) -> None:
    world, (url, inbox) = nudging_world, smtp
    title = a_title()
    an_agreed_plan(world, title=title)
    reminders = a_pass(world, url)
    sent = [p for p in reminders.run(world.clock.now().date()) if title in p.subject]
    assert sorted(p.item.kind for p in sent if p.item) == ["commit", "commit"]
    assert [p for p in reminders.run(world.clock.now().date()) if title in p.subject] == []
    assert len(about(inbox.received(), title)) == 2


def test_an_actor_who_turned_reminders_off_gets_none(
    nudging_world: World, smtp: tuple[str, Inbox]
) -> None:
    world, (url, _) = nudging_world, smtp
    assert created(world.contact.get("/v1/me/notifications"), 200) == {
        "email": {"reminders": True, "digest": True}
    }
    off = {"email": {"reminders": False, "digest": True}}
    assert created(world.contact.put("/v1/me/notifications", off), 200) == off
    assert created(world.contact.get("/v1/me/notifications"), 200) == off
    bad = world.contact.put("/v1/me/notifications", {"email": {"reminders": "maybe"}})
    assert bad.status_code == 422
    title = a_title()
    an_agreed_plan(world, title=title)
    sent = [p for p in a_pass(world, url).run(world.clock.now().date()) if title in p.subject]
    assert [p.recipient.email for p in sent] == ["max.manager@example.com"]
    on = {"email": {"reminders": True, "digest": True}}
    created(world.contact.put("/v1/me/notifications", on), 200)


def test_weekly_digests_go_out_on_mondays_once(
    nudging_world: World, smtp: tuple[str, Inbox]
) -> None:
    world, (url, inbox) = nudging_world, smtp
    reminders = a_pass(world, url)
    monday = world.clock.now().date() + timedelta(days=7 - world.clock.now().weekday())
    digests = [p for p in reminders.run(monday) if p.kind in {"digest", "portfolio"}]
    assert sorted((p.kind, p.recipient.email) for p in digests) == [
        ("digest", "max.manager@example.com"),
        ("digest", "olga.manager@example.com"),
        ("digest", "otto.outsider@example.com"),
        ("digest", "pat.partner@example.com"),
        ("portfolio", "lee.leader@example.com"),
    ]
    assert [p for p in reminders.run(monday) if p.kind != "item"] == []
    assert [p for p in reminders.run(monday + timedelta(days=1)) if p.kind != "item"] == []
    leader = next(m for m in inbox.received() if m["To"] == "lee.leader@example.com")
    text = leader.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "Partnerships" in text
    assert "Mean vendor score" in text


def test_without_a_mail_server_nothing_is_sent_but_a_dry_run_still_plans(
    nudging_world: World,
) -> None:
    world = nudging_world
    title = a_title()
    an_agreed_plan(world, title=title)
    services: Services = world.client.app.state.services  # type: ignore[attr-defined]
    services.catch_up()
    silent = ReminderPass(services.store, None, "x@y.example", Links(PUBLIC), world.clock.now)
    today = world.clock.now().date()
    assert [p for p in silent.run(today) if title in p.subject] == []
    assert len([p for p in silent.run(today, dry_run=True) if title in p.subject]) == 2


def test_the_remind_command_prints_what_it_would_send_and_sends_to_the_console(
    nudging_world: World,
) -> None:
    world = nudging_world
    title = a_title()
    an_agreed_plan(world, title=title)
    world.plan(a_draft_plan(world))  # let the projections catch up
    env = {"COUNTERPART_DATABASE_URL": world.settings.database_url, "PATH": "/usr/bin:/bin"}
    day = world.clock.now().date().isoformat()

    def remind(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "api.cli", "remind", "--as-of", day, *args],
            cwd=ROOT,
            env={**env, **extra},
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )

    dry = remind("--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    assert title in dry.stdout
    missing = remind()
    assert missing.returncode == 1
    assert "COUNTERPART_SMTP_URL" in missing.stderr
    console = remind(COUNTERPART_SMTP_URL="console:")
    assert console.returncode == 0, console.stderr
    assert title in console.stdout
    assert title in console.stderr  # the message itself, in the log
    again = remind("--json", COUNTERPART_SMTP_URL="console:")
    assert again.returncode == 0, again.stderr
    assert title not in again.stdout  # never twice


def test_people_whose_tokens_were_revoked_get_no_email(
    nudging_world: World, smtp: tuple[str, Inbox]
) -> None:
    world, (url, _) = nudging_world, smtp
    leaving = created(
        world.admin.post(
            "/v1/actors",
            {
                "name": "Lea Leaving",
                "email": "lea@acme.example",
                "role": "partner",
                "partner_id": world.partner,
            },
        )
    )
    title = a_title()
    an_agreed_plan(world, title=title)
    reminders = a_pass(world, url)
    planned = [p.recipient.email for p in reminders.plan(world.clock.now().date())]
    assert "lea@acme.example" in planned
    created(world.admin.post(f"/v1/actors/{leaving['id']}/revoke"), 200)
    reminders = a_pass(world, url)
    planned = [p.recipient.email for p in reminders.plan(world.clock.now().date())]
    assert "lea@acme.example" not in planned
