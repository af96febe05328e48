"""Real servers on loopback for tests and benchmarks: a free port, a process serving on it until
the block ends (started, polled until ready, then terminated), or uvicorn on a thread of this
process (so that a test moves the app's clock)."""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx
import uvicorn

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class Served:
    """A server process and the base URL it answers on."""

    url: str
    process: subprocess.Popen[Any]


@contextmanager
def serving(
    command: Callable[[int], list[str]],
    *,
    ready: str = "/readyz",
    env: dict[str, str] | None = None,
    output: IO[Any] | int | None = subprocess.DEVNULL,
    timeout: float = 60.0,
    describe: Callable[[], str] = lambda: "",
) -> Iterator[Served]:
    """Start ``command(port)`` on a free loopback port, wait until ``GET ready`` answers 200,
    yield it, and terminate it afterwards (if it still runs). ``describe`` adds what to say
    when it does not start (e.g. the end of its log)."""
    port = free_port()
    process = subprocess.Popen(
        command(port),
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=output,
        stderr=subprocess.STDOUT if output is not subprocess.DEVNULL else subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{base}{ready}", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                msg = f"the server did not become ready: {describe()}"
                raise RuntimeError(msg)
            time.sleep(0.1)
        yield Served(base, process)
    finally:
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:  # busy past its shutdown: never leave it running
            process.kill()
            process.wait(timeout=30)
            raise


@contextmanager
def in_process(app: Any, **config: Any) -> Iterator[str]:
    """A real uvicorn serving ``app`` on a thread of this process; its base URL. Leaving the
    block stops it as SIGTERM would (open requests are waited for)."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **config)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            msg = "the in-process server did not start"
            raise RuntimeError(msg)
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=60)
