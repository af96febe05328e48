"""`counterpart serve` is a real uvicorn server: it answers on loopback and stops cleanly."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

import httpx

from ledger.application import Counterpart
from ledger.domain import Role
from ledger.settings import Settings
from tests.support import shortcuts
from tests.support.loopback import serving

ROOT = Path(__file__).resolve().parents[2]


def test_serve_answers_over_http_and_logs_one_json_line_per_request(
    settings: Settings, tmp_path: Path
) -> None:
    """Health, an authenticated call with a request id, one log line each, clean SIGTERM."""
    app = Counterpart(settings)
    admin, token = shortcuts.register_actor(
        app, name="Ada", email="ada@vendor.example", role=Role.ADMIN
    )
    app.close()
    log = (tmp_path / "server.log").open("w+")

    def command(port: int) -> list[str]:
        return [
            sys.executable,
            "-m",
            "api.cli",
            "--database-url",
            settings.database_url,
            "serve",
            "--port",
            str(port),
        ]

    with serving(command, output=log) as served:
        base = served.url
        try:
            assert httpx.get(f"{base}/healthz").json()["status"] == "ok"
            me = httpx.get(
                f"{base}/v1/me",
                headers={"Authorization": f"Bearer {token}", "X-Request-ID": "trace-42"},
            )
            assert me.status_code == 200
            assert me.json()["id"] == str(admin.id)
            assert me.headers["x-request-id"] == "trace-42"
            unknown = httpx.get(f"{base}/v1/nowhere")
            assert unknown.status_code == 404
            assert unknown.headers["content-type"] == "application/problem+json"
        finally:
            served.process.send_signal(signal.SIGTERM)
            code = served.process.wait(30)
    # uvicorn shuts down gracefully, then re-raises the signal for the process manager to see
    assert code in {0, -signal.SIGTERM}
    log.seek(0)
    text = log.read()
    assert "Application shutdown complete" in text
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    mine = [line for line in lines if line.get("request_id") == "trace-42"]
    assert len(mine) == 1
    assert mine[0]["actor_id"] == str(admin.id)
    assert mine[0]["route"] == "/v1/me"
    assert mine[0]["status"] == 200
    assert mine[0]["method"] == "GET"
    assert mine[0]["duration_ms"] >= 0
