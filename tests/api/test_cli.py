"""The counterpart command line: projections, actors, partners, demo, export, history, score."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from typer.testing import CliRunner, Result

from api.cli import cli
from ledger.application import Counterpart
from ledger.clock import SimulatedClock
from ledger.settings import Settings
from ledger.tokens import hash_token
from projections.models.directory import actor_by_token_hash
from projections.models.score_facts import ScoreFacts
from projections.rules.accountability import plan_accountability
from projections.runtime.registry import all_projections
from projections.runtime.runner import Runner
from projections.runtime.store import open_store
from tests.builders import a_world, an_active_plan_in
from tests.support import shortcuts

ROOT = Path(__file__).resolve().parents[2]


def counterpart(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the command line to completion."""
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_status_shows_the_lag_until_the_projections_have_run(
    settings: Settings, clock: SimulatedClock
) -> None:
    """Every projection starts at 0 with the whole ledger as lag; after a run, lag 0."""
    app = Counterpart(settings, clock)
    an_active_plan_in(a_world(app, clock))
    head = app.recorder.max_notification_id()
    app.close()
    url = settings.database_url
    assert counterpart("--database-url", url, "db", "upgrade").returncode == 0
    before = counterpart("--database-url", url, "projections", "status", "--json")
    assert before.returncode == 0, before.stderr
    rows = json.loads(before.stdout)
    assert {r["name"] for r in rows} == {
        "directory",
        "plan_state",
        "score_facts",
        "plan_history",
        "webhook_outbox",
        "notifications",
    }
    assert {(r["position"], r["lag"]) for r in rows} == {(0, head)}
    ran = counterpart("--database-url", url, "projections", "run", "--once")
    assert ran.returncode == 0, ran.stderr
    assert f"processed {head} events" in ran.stdout
    after = json.loads(counterpart("--database-url", url, "projections", "status", "--json").stdout)
    assert {(r["position"], r["lag"]) for r in after} == {(head, 0)}
    rebuilt = counterpart("--database-url", url, "projections", "rebuild", "plan_state")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert f"rebuilt plan_state from {head} events" in rebuilt.stdout


def test_errors_are_one_clear_line_and_a_non_zero_exit(tmp_path: Path) -> None:
    """An unknown projection, an unusable URL: one line on stderr, exit code 1."""
    url = f"sqlite:///{tmp_path}/cli.db"
    unknown = counterpart("--database-url", url, "projections", "rebuild", "nope")
    assert unknown.returncode == 1
    assert unknown.stderr.strip().splitlines() == [
        "counterpart: error: no projection named 'nope' (known: directory, plan_state, "
        "score_facts, plan_history, webhook_outbox, notifications)"
    ]
    memory = counterpart("--database-url", "sqlite:///:memory:", "projections", "status")
    assert memory.returncode == 1
    assert len(memory.stderr.strip().splitlines()) == 1
    assert ":memory:" in memory.stderr


def test_every_command_has_help() -> None:
    """--help works at every level."""
    for args in (
        [],
        ["db"],
        ["projections"],
        ["projections", "rebuild"],
        ["projections", "run"],
        ["projections", "status"],
        ["db", "upgrade"],
    ):
        shown = counterpart(*args, "--help")
        assert shown.returncode == 0, shown.stderr
        assert "Usage" in shown.stdout


# ------------------------------------------------------------------ in process

runner = CliRunner()


def invoke(settings: Settings, *args: str) -> Result:
    """Run a command in this process against the ledger of ``settings``."""
    return runner.invoke(cli, ["--database-url", settings.database_url, *args])


def head_of(settings: Settings) -> int:
    """How many events the ledger holds."""
    app = Counterpart(settings)
    try:
        return app.recorder.max_notification_id() or 0
    finally:
        app.close()


def authenticated(settings: Settings, token: str) -> dict[str, Any] | None:
    """The actor a token authenticates once the read models caught up (None: it does not)."""
    app = Counterpart(settings)
    store = open_store(settings)
    try:
        projections = Runner(app, store, all_projections(app))
        projections.setup()
        projections.catch_up()
        with store.transaction() as cursor:
            return actor_by_token_hash(cursor, hash_token(token))
    finally:
        store.close()
        app.close()


def one_error_line(result: Result) -> str:
    """The single line a failed command printed on stderr (exit code 1, nothing on stdout)."""
    assert result.exit_code == 1, (result.stdout, result.stderr, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("counterpart: error: ")
    assert result.stdout == ""
    return lines[0]


def test_actors_and_partners_are_added_listed_and_tokens_issued_and_revoked(
    settings: Settings,
) -> None:
    """add prints POST /v1/actors' body with a working token; revoke stops every token."""
    added = invoke(
        settings, "actors", "add", "--role", "admin", "--name", "Ada", "--email", "a@x.io"
    )
    assert added.exit_code == 0, added.stderr
    admin = json.loads(added.stdout)
    assert list(admin) == ["id", "name", "email", "role", "side", "partner_id", "token"]
    assert (admin["role"], admin["side"], admin["partner_id"]) == ("admin", "vendor", None)
    assert authenticated(settings, admin["token"])["id"] == admin["id"]  # type: ignore[index]
    manager = json.loads(
        invoke(
            settings, "actors", "add", "--role", "manager", "--name", "Max", "--email", "m@x.io"
        ).stdout
    )
    made = invoke(settings, "partners", "add", "--name", "Acme", "--manager-id", manager["id"])
    assert made.exit_code == 0, made.stderr
    partner = json.loads(made.stdout)
    assert partner == {"id": partner["id"], "name": "Acme", "manager_id": manager["id"]}
    contact = json.loads(
        invoke(
            settings, "actors", "add", "--role", "PARTNER", "--name", "Pat", "--email", "p@x.io",
            "--partner-id", partner["id"],
        ).stdout
    )  # fmt: skip
    assert (contact["role"], contact["side"], contact["partner_id"]) == (
        "partner",
        "partner",
        partner["id"],
    )
    listed = json.loads(invoke(settings, "actors", "list", "--json").stdout)
    assert {a["id"] for a in listed} == {admin["id"], manager["id"], contact["id"]}
    assert all("token" not in a for a in listed)
    table = invoke(settings, "actors", "list")
    assert table.exit_code == 0
    assert "p@x.io" in table.stdout
    assert json.loads(invoke(settings, "partners", "list", "--json").stdout) == [partner]
    assert "Acme" in invoke(settings, "partners", "list").stdout

    issued = invoke(settings, "actors", "token", contact["id"])
    assert issued.exit_code == 0, issued.stderr
    token = json.loads(issued.stdout)["token"]
    assert authenticated(settings, token)["id"] == contact["id"]  # type: ignore[index]
    revoked = invoke(settings, "actors", "revoke", contact["id"])
    assert revoked.exit_code == 0, revoked.stderr
    assert json.loads(revoked.stdout) == {"id": contact["id"], "name": "Pat", "revoked": True}
    assert authenticated(settings, token) is None
    assert authenticated(settings, contact["token"]) is None


BAD_INPUT = {
    "malformed partner id": (
        ["actors", "add", "--role", "partner", "--name", "P", "--email", "p@x.io",
         "--partner-id", "nope"],
        "--partner-id must be a UUID",
    ),
    "unknown role": (
        ["actors", "add", "--role", "boss", "--name", "B", "--email", "b@x.io"],
        "unknown role 'boss' (one of admin, leader, manager, partner, auditor)",
    ),
    "unknown partner": (
        ["actors", "add", "--role", "partner", "--name", "P", "--email", "p@x.io",
         "--partner-id", "6f1c2a9e-6b0d-4c55-9a43-0e2f6f1d7b21"],
        "no partner with id 6f1c2a9e-6b0d-4c55-9a43-0e2f6f1d7b21",
    ),
    "partner contact without a partner": (
        ["actors", "add", "--role", "partner", "--name", "P", "--email", "p@x.io"],
        "partner_id is required",
    ),
    "bad email": (
        ["actors", "add", "--role", "leader", "--name", "L", "--email", "not-an-email"],
        "is not an email address",
    ),
    "unknown manager": (
        ["partners", "add", "--name", "Acme", "--manager-id",
         "6f1c2a9e-6b0d-4c55-9a43-0e2f6f1d7b21"],
        "manager_id: no actor with id",
    ),
    "malformed manager id": (
        ["partners", "add", "--name", "Acme", "--manager-id", "42"],
        "--manager-id must be a UUID",
    ),
    "token for an unknown actor": (
        ["actors", "token", "6f1c2a9e-6b0d-4c55-9a43-0e2f6f1d7b21"],
        "actor 6f1c2a9e-6b0d-4c55-9a43-0e2f6f1d7b21 not found",
    ),
    "revoke a malformed id": (["actors", "revoke", "x"], "ACTOR_ID must be a UUID"),
    "history of an unknown plan": (
        ["history", "6f1c2a9e-6b0d-4c55-9a43-0e2f6f1d7b21"],
        "no plan with id 6f1c2a9e-6b0d-4c55-9a43-0e2f6f1d7b21",
    ),
    "history of a malformed id": (["history", "plan-1"], "PLAN_ID must be a UUID"),
    "score of an unknown plan": (
        ["score", "6f1c2a9e-6b0d-4c55-9a43-0e2f6f1d7b21"],
        "no plan with id 6f1c2a9e-6b0d-4c55-9a43-0e2f6f1d7b21",
    ),
    "score on a bad date": (
        ["score", "6f1c2a9e-6b0d-4c55-9a43-0e2f6f1d7b21", "--as-of", "2026-02-30"],
        "--as-of must be a date YYYY-MM-DD, not '2026-02-30'",
    ),
    "demo of no partners": (["demo", "--partners", "0"], "must be at least 1"),
    "serve on a bad port": (["serve", "--port", "70000"], "--port must be from 1 to 65535"),
    "serve at a bad log level": (["serve", "--log-level", "loud"], "unknown --log-level 'loud'"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_is_one_clear_line_exit_code_1_and_stores_nothing(
    settings: Settings, clock: SimulatedClock, case: str
) -> None:
    """Malformed ids, unknown roles and ids, bad dates, refused commands: one line, exit 1."""
    app = Counterpart(settings, clock)
    a_world(app, clock)
    app.close()
    before = head_of(settings)
    args, message = BAD_INPUT[case]
    line = one_error_line(invoke(settings, *args))
    assert message in line
    assert head_of(settings) == before


def test_demo_loads_an_empty_ledger_and_prints_tokens_the_url_and_a_curl_example(
    settings: Settings,
) -> None:
    """Tokens that authenticate; a second run refuses; --if-empty prints fresh tokens."""
    loaded = invoke(settings, "demo", "--partners", "3")
    assert loaded.exit_code == 0, (loaded.stderr, loaded.exception)
    out = loaded.stdout
    assert "Loaded the demo:" in out
    assert "3 partners, 6 plans" in out
    assert "http://127.0.0.1:8000" in out
    tokens = list(dict.fromkeys(re.findall(r"cp_[A-Za-z0-9_-]{43}", out)))
    assert len(tokens) == 3
    assert f'curl -H "Authorization: Bearer {tokens[0]}" http://127.0.0.1:8000/v1/plans' in out
    roles = [authenticated(settings, t)["role"] for t in tokens]  # type: ignore[index]
    assert roles == ["leader", "manager", "partner"]

    head = head_of(settings)
    again = invoke(settings, "demo")
    assert "the demo loads only into an empty ledger" in one_error_line(again)
    assert head_of(settings) == head

    reprinted = invoke(settings, "demo", "--if-empty")
    assert reprinted.exit_code == 0, reprinted.stderr
    assert "already loaded" in reprinted.stdout
    fresh = list(dict.fromkeys(re.findall(r"cp_[A-Za-z0-9_-]{43}", reprinted.stdout)))
    assert len(fresh) == 3
    assert not set(fresh) & set(tokens)
    assert [authenticated(settings, t)["role"] for t in fresh] == roles  # type: ignore[index]
    assert "curl -H" in reprinted.stdout


def test_demo_if_empty_on_a_ledger_without_demo_actors_says_so_and_prints_no_tokens(
    tmp_path: Path,
) -> None:
    """Data but no demo: exit 0, a clear sentence, nothing issued (SQLite)."""
    settings = Settings(database_url=f"sqlite:///{tmp_path}/other.db")
    invoke(settings, "actors", "add", "--role", "admin", "--name", "Ada", "--email", "a@x.io")
    head = head_of(settings)
    shown = invoke(settings, "demo", "--if-empty")
    assert shown.exit_code == 0, shown.stderr
    assert "no demo actors" in shown.stdout
    assert "cp_" not in shown.stdout
    assert head_of(settings) == head
    as_json = json.loads(invoke(settings, "demo", "--if-empty", "--json").stdout)
    assert as_json == {
        "loaded": False,
        "tokens": {},
        "signin_links": {},
        "url": "http://127.0.0.1:8000",
    }


def test_printed_links_use_the_public_url_people_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Behind a proxy or on another port, the demo's address and its sign-in links are
    ``COUNTERPART_PUBLIC_URL``'s, as the e-mails' links are."""
    monkeypatch.setenv("COUNTERPART_PUBLIC_URL", "https://counterpart.example.com/")
    settings = Settings(database_url=f"sqlite:///{tmp_path}/public.db")
    loaded = invoke(settings, "demo", "--partners", "1", "--json")
    assert loaded.exit_code == 0, loaded.stderr
    shown = json.loads(loaded.stdout)
    assert shown["url"] == "https://counterpart.example.com"
    links = list(shown["signin_links"].values())
    assert links
    assert all(link.startswith("https://counterpart.example.com/signin/") for link in links)


def test_export_writes_every_event_as_json_lines_in_global_order_in_batches(
    settings: Settings, clock: SimulatedClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """position 1..N, ids, versions, types, recorded times, actors, plain data; to a file too."""
    app = Counterpart(settings, clock)
    w = a_world(app, clock)
    plan_id, _ = an_active_plan_in(w)
    head = app.recorder.max_notification_id() or 0
    app.close()
    monkeypatch.setattr("api.cli.export.EXPORT_BATCH", 4)
    shown = invoke(settings, "export")
    assert shown.exit_code == 0, shown.stderr
    lines = [json.loads(line) for line in shown.stdout.splitlines()]
    assert [e["position"] for e in lines] == list(range(1, head + 1))
    assert lines[0]["type"] == "Actor.Registered"
    assert lines[0]["data"]["email"] == "ada@vendor.example"
    assert lines[0]["actor"] == {"id": str(UUID(int=0)), "side": None, "role": "admin"}
    plan_events = [e for e in lines if e["originator_id"] == str(plan_id)]
    assert [e["version"] for e in plan_events] == list(range(1, len(plan_events) + 1))
    assert plan_events[0]["type"] == "Plan.Drafted"
    assert plan_events[1]["data"]["spec"]["target"] == "4"
    envelope = {"position", "originator_id", "version", "type", "recorded_at", "data"}
    assert all(set(e) >= envelope for e in lines)
    target = tmp_path / "ledger.jsonl"
    written = invoke(settings, "export", "--output", str(target))
    assert written.exit_code == 0, written.stderr
    assert written.stdout == ""
    assert f"exported {head} events to {target}" in written.stderr
    assert target.read_text(encoding="utf-8") == shown.stdout
    nowhere = invoke(settings, "export", "--output", str(tmp_path / "missing" / "x.jsonl"))
    assert "cannot write" in one_error_line(nowhere)


def test_history_and_score_show_a_plans_events_and_accountability(
    settings: Settings, clock: SimulatedClock
) -> None:
    """history lists the plan's events; score gives docs/api.md's Accountability as of a day."""
    app = Counterpart(settings, clock)
    w = a_world(app, clock)
    plan_id, metrics = an_active_plan_in(w)
    w.days(20)
    shortcuts.report_progress(
        app,
        plan_id,
        metrics.partner,
        value=Decimal(7),
        as_of=clock.now().date(),
        actor_id=w.contact,
    )
    app.close()
    events = json.loads(invoke(settings, "history", str(plan_id), "--json").stdout)
    assert [e["version"] for e in events] == list(range(1, 10))
    assert events[-1]["type"] == "ProgressReported"
    assert events[-1]["data"]["value"] == "7"
    table = invoke(settings, "history", str(plan_id))
    assert table.exit_code == 0
    assert "Activated" in table.stdout
    assert "partner/partner" in table.stdout

    as_of = "2026-02-10"
    scored = invoke(settings, "score", str(plan_id), "--as-of", as_of, "--json")
    assert scored.exit_code == 0, scored.stderr
    document = json.loads(scored.stdout)
    app = Counterpart(settings)
    store = open_store(settings)
    try:
        with store.transaction() as cursor:
            facts = ScoreFacts().load(cursor, plan_id)
    finally:
        store.close()
        app.close()
    assert facts is not None
    assert document == plan_accountability(facts, date.fromisoformat(as_of))
    readable = invoke(settings, "score", str(plan_id), "--as-of", as_of)
    assert readable.exit_code == 0
    assert f"as of {as_of}" in readable.stdout
    for name in ("score", "delivery", "reporting", "reviews", "responsiveness"):
        assert name in readable.stdout


@pytest.mark.parametrize(
    "command",
    [
        ["actors"], ["actors", "add"], ["actors", "list"], ["actors", "token"],
        ["actors", "revoke"], ["partners"], ["partners", "add"], ["partners", "list"],
        ["demo"], ["export"], ["history"], ["score"], ["serve"],
    ],
)  # fmt: skip
def test_every_new_command_explains_itself_with_help(command: list[str]) -> None:
    """--help on each command: usage and a description, exit 0."""
    shown = runner.invoke(cli, [*command, "--help"])
    assert shown.exit_code == 0, shown.stderr
    assert "Usage" in shown.stdout
    assert len(shown.stdout.splitlines()) > 5


def test_usage_errors_of_the_console_script_are_one_line(tmp_path: Path) -> None:
    """A missing option or a non-number: one line on stderr (click's exit code 2)."""
    url = f"sqlite:///{tmp_path}/cli.db"
    missing = counterpart("--database-url", url, "actors", "add", "--name", "X")
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines() == [
        "counterpart: error: Missing option '--role'. (see --help)"
    ]
    not_a_number = counterpart("--database-url", url, "demo", "--partners", "many")
    assert not_a_number.returncode == 2
    assert len(not_a_number.stderr.strip().splitlines()) == 1
    refused = counterpart("--database-url", url, "actors", "token", str(UUID(int=5)))
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        f"counterpart: error: actor {UUID(int=5)} not found"
    ]
