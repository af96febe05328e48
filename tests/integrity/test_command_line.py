"""The auditor's commands: keys generate, checkpoint, verify (with exit codes), export
--verifiable and verify-export, which checks a file offline and rejects any alteration."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ledger.application import Counterpart
from ledger.clock import SimulatedClock
from ledger.settings import Settings
from tests.builders import a_world, an_active_plan_in, fill_ledger
from tests.integrity.tamper import Intruder

ROOT = Path(__file__).resolve().parents[2]


def counterpart(
    *args: str, key: Path | None = None, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    """Run the command line to completion (with the signing key configured, if given)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COUNTERPART_")}
    if key is not None:
        env["COUNTERPART_SIGNING_KEY_FILE"] = str(key)
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**env, "PYTHONPATH": str(ROOT)},
    )


@pytest.fixture
def key(tmp_path: Path) -> Path:
    """A signing key made by `counterpart keys generate`."""
    path = tmp_path / "signing.pem"
    made = counterpart("keys", "generate", "--out", str(path))
    assert made.returncode == 0, made.stderr
    assert path.stat().st_mode & 0o777 == 0o600
    assert Path(f"{path}.pub").read_text().startswith("-----BEGIN PUBLIC KEY-----")
    return path


@pytest.fixture
def url(settings: Settings, clock: SimulatedClock) -> str:
    """A ledger with two partnerships' plans and some reports."""
    app = Counterpart(settings, clock)
    world = a_world(app, clock)
    an_active_plan_in(world)
    fill_ledger(app, clock, plans=2, reports=5)
    app.close()
    return settings.database_url


def test_keys_generate_refuses_to_overwrite_a_key(key: Path) -> None:
    again = counterpart("keys", "generate", "--out", str(key))
    assert again.returncode == 1
    assert "exists already" in again.stderr
    assert counterpart("keys", "generate", "--out", str(key), "--if-missing").returncode == 0


def test_verify_says_ok_and_exits_zero_on_an_untouched_ledger(url: str, key: Path) -> None:
    signed = counterpart("--database-url", url, "checkpoint", "--json", key=key)
    assert signed.returncode == 0, signed.stderr
    checked = counterpart("--database-url", url, "verify", "--json", key=key)
    assert checked.returncode == 0, checked.stderr
    verdict = json.loads(checked.stdout)
    assert verdict["ok"] is True
    assert verdict["checkpoints_checked"] == 1
    assert verdict["checked"] == json.loads(signed.stdout)["position"]


def test_verify_exits_one_and_names_the_position_of_a_changed_event(
    url: str, key: Path, settings: Settings
) -> None:
    Intruder(settings).change_one_byte(9)
    checked = counterpart("--database-url", url, "verify", key=key)
    assert checked.returncode == 1
    assert "TAMPERED at position 9 (payload_changed)" in checked.stdout


def test_a_kept_checkpoint_file_catches_a_rewrite_the_database_hides(
    url: str, key: Path, settings: Settings, tmp_path: Path
) -> None:
    kept = tmp_path / "kept.json"
    signed = counterpart("--database-url", url, "checkpoint", "--json", key=key)
    kept.write_text(signed.stdout)
    intruder = Intruder(settings)
    intruder.change_one_byte(9)
    intruder.rewrite_chain_from(9)
    intruder.run("DELETE FROM cp_checkpoints")
    assert counterpart("--database-url", url, "verify", key=key).returncode == 0
    checked = counterpart(
        "--database-url", url, "verify", "--from-checkpoint", str(kept), "--json", key=key
    )
    assert checked.returncode == 1
    assert json.loads(checked.stdout)["problem"] == "checkpoint_mismatch"


def test_verify_export_accepts_the_genuine_file_with_no_database(
    url: str, key: Path, tmp_path: Path
) -> None:
    file = tmp_path / "ledger.jsonl"
    exported = counterpart(
        "--database-url", url, "export", "--verifiable", "-o", str(file), key=key
    )
    assert exported.returncode == 0, exported.stderr
    offline = tmp_path / "elsewhere"
    offline.mkdir()
    checked = counterpart(
        "verify-export", str(file), "--public-key", f"{key}.pub", "--json", cwd=offline
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    verdict = json.loads(checked.stdout)
    assert verdict["ok"] is True
    assert verdict["events"] == len(file.read_text().splitlines()) - 3
    assert not list(offline.iterdir()), "the offline check created files (a database?)"


def _tampered(file: Path, change: str) -> None:
    lines = file.read_text().splitlines()
    events = [i for i, line in enumerate(lines) if json.loads(line)["kind"] == "event"]
    target = events[len(events) // 2]
    record = json.loads(lines[target])
    if change == "data":
        stored = json.loads(record["stored"])
        stored["value"] = {"_type_": "decimal_str", "_data_": "999999"}
        record["stored"] = json.dumps(stored, separators=(",", ":"))
    elif change == "readable":
        record["recorded_at"] = "2020-01-01T00:00:00.000000Z"
    if change in {"data", "readable"}:
        lines[target] = json.dumps(record)
    elif change == "dropped":
        del lines[target]
    elif change == "swapped":
        lines[target], lines[target + 1] = lines[target + 1], lines[target]
    elif change == "resigned":
        checkpoint = json.loads(lines[-1])
        checkpoint["signature"] = "00" * 64
        lines[-1] = json.dumps(checkpoint)
    elif change == "truncated":
        del lines[-1]
    file.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize(
    "change", ["data", "readable", "dropped", "swapped", "resigned", "truncated"]
)
def test_verify_export_rejects_a_tampered_file(
    url: str, key: Path, tmp_path: Path, change: str
) -> None:
    file = tmp_path / "ledger.jsonl"
    exported = counterpart(
        "--database-url", url, "export", "--verifiable", "-o", str(file), key=key
    )
    assert exported.returncode == 0, exported.stderr
    _tampered(file, change)
    checked = counterpart("verify-export", str(file), "--public-key", f"{key}.pub")
    assert checked.returncode == 1, checked.stdout
    assert checked.stdout.startswith("REJECTED at line"), checked.stdout


def test_a_partnership_export_holds_only_its_events_and_verifies_against_the_same_checkpoint(
    url: str, key: Path, tmp_path: Path
) -> None:
    whole = tmp_path / "ledger.jsonl"
    counterpart("--database-url", url, "export", "--verifiable", "-o", str(whole), key=key)
    listed = counterpart("--database-url", url, "partners", "list", "--json")
    partner = json.loads(listed.stdout)[0]["id"]
    mine = tmp_path / "partner.jsonl"
    exported = counterpart(
        "--database-url",
        url,
        "export",
        "--verifiable",
        "--partner",
        partner,
        "-o",
        str(mine),
        key=key,
    )
    assert exported.returncode == 0, exported.stderr
    records = [json.loads(line) for line in mine.read_text().splitlines()]
    events = [r for r in records if r["kind"] == "event"]
    assert events, "the partnership has events"
    assert {r["kind"] for r in records} == {"header", "start", "event", "link", "checkpoint"}
    everything = [json.loads(line) for line in whole.read_text().splitlines()]
    assert records[-1] == everything[-1], "the same signed checkpoint"
    plans = {e["originator_id"] for e in events} - {partner}
    for event in events:
        assert event["originator_id"] == partner or event["originator_id"] in plans
    drafted = [e for e in everything if e["kind"] == "event" and e["type"] == "Plan.Drafted"]
    assert plans == {e["originator_id"] for e in drafted if e["data"]["partner_id"] == partner}
    checked = counterpart("verify-export", str(mine), "--public-key", f"{key}.pub", "--json")
    assert checked.returncode == 0, checked.stdout
    _tampered(mine, "data")
    assert counterpart("verify-export", str(mine), "--public-key", f"{key}.pub").returncode == 1


def test_export_verifiable_without_any_checkpoint_or_key_is_one_clear_error(url: str) -> None:
    exported = counterpart("--database-url", url, "export", "--verifiable")
    assert exported.returncode == 1
    assert exported.stderr.startswith("counterpart: error: no signed checkpoint")
