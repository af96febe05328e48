"""Roll-ups at scale: the portfolio, a manager's and a partner's roll-up, the series, memory.

The portfolio comes from ``counterpart demo --partners N`` (two plans per partner), generated
once per backend and parameters and kept for the next runs: a SQLite file under
``$COUNTERPART_BENCH_CACHE`` (default ``/tmp/counterpart-bench-cache``) and a PostgreSQL schema
``bench_demo_p{N}_m{M}_s{seed}`` (drop it, or delete the file, to generate it again). One
``counterpart`` server (uvicorn, one worker, embedded projections) per backend serves it:

- ``GET /v1/portfolio``, ``GET /v1/managers/{id}/accountability`` (the manager with the most
  partnerships) and ``GET /v1/partners/{id}/accountability``: p50 and p99 with 1 and 2
  clients, after one warm-up read (which fills the day's kept roll-ups);
- ``counterpart projections warm`` first (timed): the roll-ups of today and of the 25
  weekly dates before it computed ahead, as a worker does (kept ones are not recomputed);
- ``GET /v1/portfolio/series`` with 26 weekly points (first read, then kept) and
  ``GET /v1/plans/{id}/accountability`` with 4 concurrent clients over many plans (the
  score query);
- the server's resident memory (VmRSS) after all that.

    .venv/bin/python bench/rollups.py [--backend both] [--partners 1000] [--count 100]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import cast
from urllib.parse import urlsplit

import httpx
import psycopg
from _support import DEFAULT_POSTGRES_URL, backends, machine, percentile
from peer import ROOT, uvicorn
from psycopg import sql

from ledger.settings import Settings
from ledger.upgrade import upgrade

CACHE = Path(
    os.environ.get(
        "COUNTERPART_BENCH_CACHE", str(Path(tempfile.gettempdir()) / "counterpart-bench-cache")
    )
)
ROLLUP_P50_GOAL, ROLLUP_P99_GOAL = 0.050, 0.150
PORTFOLIO_SERIES_GOAL = 1.0
SCORE_P99_GOAL = 0.025
RSS_GOAL = 1 << 30
SEED = 7


def dataset_key(partners: int, managers: int) -> str:
    """The name of a generated demo portfolio (its parameters)."""
    return f"bench_demo_p{partners}_m{managers}_s{SEED}"


@contextmanager
def a_demo(backend: str, postgres_url: str, partners: int, managers: int) -> Iterator[Settings]:
    """Settings for the demo portfolio of these parameters, generated if not kept yet."""
    key = dataset_key(partners, managers)
    if backend == "sqlite":
        CACHE.mkdir(parents=True, exist_ok=True)
        path = CACHE / f"{key}.db"
        settings = Settings(database_url=f"sqlite:///{path}")
        ready = path.exists() and (CACHE / f"{key}.done").exists()
    else:
        separator = "&" if urlsplit(postgres_url).query else "?"
        settings = Settings(database_url=f"{postgres_url}{separator}schema={key}")
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            row = conn.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s "
                "AND table_name = 'bench_done'",
                (key,),
            ).fetchone()
            ready = bool(row and row[0])
            if not ready:
                conn.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(key))
                )
    if not ready:
        generate(
            backend,
            settings=settings,
            partners=partners,
            managers=managers,
            postgres_url=postgres_url,
            key=key,
        )
    yield settings


def generate(
    backend: str, *, settings: Settings, partners: int, managers: int, postgres_url: str, key: str
) -> None:
    """Load the demo with ``counterpart demo`` and mark the data set complete."""
    if backend == "sqlite":
        for leftover in CACHE.glob(f"{key}.db*"):
            leftover.unlink()
    print(f"  generating the demo with {partners:,} partners (kept for later runs) ...", flush=True)
    started = time.monotonic()
    upgrade(settings)
    subprocess.run(  # noqa: S603 (our own CLI)
        [
            str(Path(sys.executable).with_name("counterpart")),
            "demo",
            "--partners",
            str(partners),
            "--managers",
            str(managers),
            "--seed",
            str(SEED),
            "--json",
        ],
        env={**os.environ, "COUNTERPART_DATABASE_URL": settings.database_url},
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    if backend == "sqlite":
        (CACHE / f"{key}.done").touch()
    else:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE TABLE {}.bench_done ()").format(sql.Identifier(key)))
    print(f"  generated in {time.monotonic() - started:,.0f} s", flush=True)


def samples(base: str, paths: list[str], token: str, clients: int, count: int) -> list[float]:
    """Seconds each GET took, ``clients`` clients each reading ``count`` times (round robin
    over ``paths``)."""
    found: list[float] = []
    lock = threading.Lock()

    def client(offset: int) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, headers=headers, timeout=120) as http:
            for n in range(count):
                started = time.perf_counter()
                response = http.get(paths[(offset + n) % len(paths)])
                elapsed = time.perf_counter() - started
                response.raise_for_status()
                with lock:
                    found.append(elapsed)

    threads = [threading.Thread(target=client, args=(k * 7,)) for k in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return found


def server_rss(port: str) -> int:
    """The resident memory in bytes of the uvicorn process listening on ``port``."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            status = (proc / "status").read_text()
        except OSError:
            continue
        if b"uvicorn" in cmdline and port.encode() in cmdline:
            for line in status.splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    return 0


def subjects(settings: Settings, token: str, base: str) -> tuple[str, str, list[str]]:
    """The manager with the most partnerships, a partner, and up to 200 plan ids."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=120) as http:
        partners: list[dict[str, str]] = []
        after: str | None = None
        while True:
            query = {"limit": 500, **({"cursor": after} if after else {})}
            body = http.get("/v1/partners", params=query).raise_for_status().json()
            partners += body["items"]
            after = body.get("next_cursor")
            if not after:
                break
        owned: dict[str, int] = {}
        for partner in partners:
            owned[partner["manager_id"]] = owned.get(partner["manager_id"], 0) + 1
        manager = max(owned, key=owned.__getitem__)
        plans = http.get("/v1/plans", params={"limit": 200, "status": "active"})
        plan_ids = [p["id"] for p in plans.raise_for_status().json()["items"]]
    return manager, partners[len(partners) // 2]["id"], plan_ids


def run(settings: Settings, count: int) -> dict[str, object]:
    """Serve the portfolio and measure its roll-ups, series, score query and memory."""
    from reads import leader_token  # noqa: PLC0415 (reads.py imports this module)

    token = leader_token(settings)
    env = {"COUNTERPART_DATABASE_URL": settings.database_url}
    figures: dict[str, object] = {}
    started = time.perf_counter()
    subprocess.run(  # noqa: S603 (our own CLI): what the worker computes ahead
        [str(Path(sys.executable).with_name("counterpart")), "projections", "warm"],
        env={**os.environ, **env},
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    figures["warm"] = time.perf_counter() - started
    with uvicorn("api.app:create_app", env, ROOT, "/readyz") as base:
        manager, partner, plan_ids = subjects(settings, token, base)
        routes = {
            "portfolio": ["/v1/portfolio"],
            "manager": [f"/v1/managers/{manager}/accountability"],
            "partner": [f"/v1/partners/{partner}/accountability"],
        }
        started = time.perf_counter()
        samples(base, ["/v1/portfolio/series"], token, 1, 1)
        figures["series first"] = time.perf_counter() - started
        figures["series kept"] = samples(base, ["/v1/portfolio/series"], token, 1, 10)
        for name, paths in routes.items():
            samples(base, paths, token, 1, 2)  # warm-up: the day's roll-ups are kept
            for clients in (1, 2):
                figures[f"{name} {clients}"] = samples(base, paths, token, clients, count)
        score_paths = [f"/v1/plans/{p}/accountability" for p in plan_ids]
        samples(base, score_paths, token, 1, len(score_paths))
        figures["score 4"] = samples(base, score_paths, token, 4, count)
        figures["rss"] = server_rss(base.rsplit(":", 1)[1])
    return figures


def report(results: list[tuple[str, int, dict[str, object]]]) -> None:
    """Print the figures of every backend and size side by side, with the goals."""

    def ms(value: float) -> str:
        return f"{value * 1000:8.1f}"

    print("\n  roll-ups (ms): p50 / p99 with 1 and 2 clients")
    header = "".join(f"{f'{b} {p * 2:,} plans':>30}" for b, p, _ in results)
    print(f"  {'':<24}{header}")
    for name in ("portfolio", "manager", "partner"):
        for clients in (1, 2):
            cells = ""
            for _, _, figures in results:
                found = cast("list[float]", figures[f"{name} {clients}"])
                cells += f"{ms(statistics.median(found))} /{ms(percentile(found, 99))}".rjust(30)
            print(f"  {f'{name}, {clients} client(s)':<24}{cells}")
    rows = {
        "computed ahead, 26 dates (s)": lambda f: f"{f['warm']:.1f}",
        "series, first read (s)": lambda f: f"{f['series first']:.2f}",
        "series, kept p50 (ms)": lambda f: ms(statistics.median(f["series kept"])),
        "score 4 clients p99 (ms)": lambda f: ms(percentile(f["score 4"], 99)),
        "server RSS (MiB)": lambda f: f"{f['rss'] / (1 << 20):.0f}",
    }
    for label, cell in rows.items():
        print(f"  {label:<24}" + "".join(f"{cell(f):>30}" for _, _, f in results))
    print(
        f"  goals: roll-ups at 20,000 plans p50 <= {ROLLUP_P50_GOAL * 1000:.0f} ms, p99 <= "
        f"{ROLLUP_P99_GOAL * 1000:.0f} ms (2 clients); portfolio series <= "
        f"{PORTFOLIO_SERIES_GOAL:.0f} s; score p99 (4 clients, 2,000 plans, SQLite) <= "
        f"{SCORE_P99_GOAL * 1000:.0f} ms; RSS <= 1 GiB"
    )


def measure(
    choice: str, postgres_url: str, sizes: list[int], managers: int, count: int
) -> list[tuple[str, int, dict[str, object]]]:
    """Every backend and size, each on its kept demo portfolio."""
    results = []
    for partners in sizes:
        for backend in backends(choice):
            print(f"\n{backend}, {partners:,} partners:", flush=True)
            with a_demo(backend, postgres_url, partners, managers) as settings:
                results.append((backend, partners, run(settings, count)))
    return results


def main() -> None:
    """Measure on the chosen backends and sizes and print the figures side by side."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="both", choices=["sqlite", "postgres", "both"])
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--partners", type=int, nargs="+", default=[1000])
    parser.add_argument("--managers", type=int, default=3)
    parser.add_argument("--count", type=int, default=100)
    args = parser.parse_args()
    print("Counterpart roll-ups (bench/rollups.py)")
    print(machine())
    report(measure(args.backend, args.postgres_url, args.partners, args.managers, args.count))


if __name__ == "__main__":
    main()
