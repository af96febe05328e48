"""CPU time of a process tree, read from /proc: where a server's per-request cost goes.

Linux only (the benchmarks' machines). A server's *event loop* is the main thread of each of
its processes (uvicorn runs the ASGI stack there); *other threads* are the thread pool that runs
routes and the embedded projections. PostgreSQL's CPU is that of every ``postgres`` process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK")
MEANINGFUL = 0.05
"""CPU seconds below which a part is left out of a reading (background work, not the load)."""


def _stat(path: Path) -> list[str] | None:
    """The fields after the command name of a /proc stat file (None if it went away)."""
    try:
        text = path.read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return text.rsplit(")", 1)[1].split()


def _seconds(fields: list[str]) -> float:
    """User plus system CPU seconds of a stat line."""
    return (int(fields[11]) + int(fields[12])) / TICKS


def descendants(root: int) -> list[int]:
    """``root`` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit() and (fields := _stat(entry / "stat")) is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def postgres_pids() -> list[int]:
    """Every process whose command is ``postgres`` (the server and its backends)."""
    pids = []
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except (FileNotFoundError, ProcessLookupError, PermissionError):
                continue
    return pids


@dataclass(frozen=True)
class Reading:
    """CPU seconds so far: the API's event-loop threads and its other threads, a separate
    projection worker, and PostgreSQL."""

    loop: float
    other: float
    projector: float
    postgres: float

    def __sub__(self, earlier: Reading) -> Reading:
        return Reading(
            self.loop - earlier.loop,
            self.other - earlier.other,
            self.projector - earlier.projector,
            self.postgres - earlier.postgres,
        )

    def per(self, requests: int) -> str:
        """Milliseconds per request, one figure per part."""
        parts = [f"API event loop {self.loop / requests * 1000:.2f}"]
        parts.append(f"API other threads {self.other / requests * 1000:.2f}")
        if self.projector >= MEANINGFUL:
            parts.append(f"projection worker {self.projector / requests * 1000:.2f}")
        if self.postgres >= MEANINGFUL:
            parts.append(f"PostgreSQL {self.postgres / requests * 1000:.2f}")
        return ", ".join(parts) + " ms CPU per request"


def _tree(root: int) -> tuple[float, float]:
    """CPU seconds of a process tree: its processes' main threads, and their other threads."""
    main = other = 0.0
    for pid in descendants(root):
        for task in (PROC / str(pid) / "task").glob("*"):
            if (fields := _stat(task / "stat")) is not None:
                if int(task.name) == pid:
                    main += _seconds(fields)
                else:
                    other += _seconds(fields)
    return main, other


def read(api: int, projector: int | None = None) -> Reading:
    """CPU seconds so far of the API server's process tree, a projection worker and
    PostgreSQL."""
    loop, other = _tree(api)
    projecting = sum(_tree(projector)) if projector is not None else 0.0
    postgres = 0.0
    for pid in postgres_pids():
        if (fields := _stat(PROC / str(pid) / "stat")) is not None:
            postgres += _seconds(fields)
    return Reading(loop, other, projecting, postgres)
