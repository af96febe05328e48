"""`counterpart serve` is a real uvicorn server: it answers on loopback and stops cleanly."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from ledger.application import Counterpart
from ledger.domain import Role
from ledger.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_serve_answers_over_http_and_logs_one_json_line_per_request(
    settings: Settings, tmp_path: Path
) -> None:
    """Health, an authenticated call with a request id, one log line each, clean SIGTERM."""
    app = Counterpart(settings)
    admin, token = app.register_actor(name="Ada", email="ada@vendor.example", role=Role.ADMIN)
    app.close()
    port = free_port()
    log = (tmp_path / "server.log").open("w+")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "api.cli",
            "--database-url",
            settings.database_url,
            "serve",
            "--port",
            str(port),
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None, "the server exited"
            assert time.monotonic() < deadline, "the server did not become ready"
            time.sleep(0.1)
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
        server.send_signal(signal.SIGTERM)
        code = server.wait(30)
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
