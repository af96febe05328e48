"""The web workspace's pages at a portfolio's size: /portfolio and /plans/{id} latency.

Loads the demo (`counterpart demo --partners N`: two plans per partnership) into a fresh
ledger, serves it with `counterpart serve` (real uvicorn on loopback), signs in through the
token form like a browser, and times each page one request at a time, next to the JSON route
it is built from (measured in the same run, as the baseline). The goal: both pages served in
300 ms or less at the 95th percentile at 20,000 plans.

    .venv/bin/python bench/web.py --partners 10000 --backend sqlite
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path

import httpx
from _support import backends, ledger_store, machine, percentile

from ledger.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the browser tests' server helpers
from tests.web.site import cli, serving

GOAL_MS = 300.0


def signed_in(base: str, token: str) -> httpx.Client:
    """A client holding a session cookie, got through the sign-in form."""
    client = httpx.Client(base_url=base, timeout=120)
    form = client.get("/signin").text
    found = re.search(r'name="csrf" value="([^"]+)"', form)
    if found is None:
        msg = "the sign-in page carries no CSRF token"
        raise RuntimeError(msg)
    answer = client.post("/signin", data={"token": token, "csrf": found.group(1), "next": "/"})
    if answer.status_code != 303:
        msg = f"signing in answered {answer.status_code}"
        raise RuntimeError(msg)
    return client


def timed(client: httpx.Client, paths: list[str], requests: int) -> list[float]:
    """Milliseconds of ``requests`` sequential GETs, cycling over the paths (after one warm-up
    request each). A request that fails (say, 503 at the server's request timeout) counts
    with its time and is reported."""
    for path in paths:
        client.get(path)
    samples, failed = [], 0
    for n in range(requests):
        started = time.perf_counter()
        answer = client.get(paths[n % len(paths)])
        samples.append((time.perf_counter() - started) * 1000)
        failed += answer.status_code != 200
    if failed:
        print(f"  {failed} of {requests} requests of {paths[0]} failed (503: request timeout)")
    return samples


def line(name: str, samples: list[float], baseline: list[float] | None = None) -> str:
    """p50, p95 and max of a sample, and its p95 against the baseline's."""
    p50, p95 = percentile(samples, 50), percentile(samples, 95)
    text = f"  {name:<34} p50 {p50:8.1f} ms  p95 {p95:8.1f} ms  max {max(samples):8.1f} ms"
    if baseline is not None:
        text += f"  ({p95 / percentile(baseline, 95):.2f}x the JSON route's p95)"
    return text


def measure(settings: Settings, partners: int, requests: int, directory: Path) -> None:
    """Load the demo (unless the ledger holds it already), serve it, time the pages and
    their JSON routes."""
    started = time.perf_counter()
    loaded = json.loads(cli(settings, "demo", "--partners", str(partners), "--if-empty", "--json"))
    if loaded["loaded"]:
        counts = loaded["counts"]
        print(
            f"  demo: {counts['partners']} partnerships, {counts['plans']} plans, "
            f"{counts['events']} events, loaded in {time.perf_counter() - started:.0f} s"
        )
    else:
        print("  the ledger holds the demo already (--database-url)")
    tokens = loaded["tokens"]
    with serving(settings, directory / "server.log") as base:
        api = httpx.Client(
            base_url=base, timeout=120, headers={"Authorization": f"Bearer {tokens['leader']}"}
        )
        plans = api.get("/v1/plans", params={"status": "active", "limit": 20}).json()["items"]
        plan_paths = [f"/plans/{p['id']}" for p in plans]
        web = signed_in(base, tokens["leader"])
        started = time.perf_counter()
        web.get("/portfolio")
        parts = 0
        while "Computing the weekly figures" in web.get("/portfolio/trend").text:
            parts += 1
        print(
            f"  first view of the portfolio with its 26-week trend: "
            f"{time.perf_counter() - started:.1f} s ({parts + 1} trend requests)"
        )
        few = max(10, requests // 5)  # the portfolio is the slow one: fewer samples
        portfolio_api = timed(api, ["/v1/portfolio"], few)
        portfolio_page = timed(web, ["/portfolio"], few)
        plan_api = timed(api, [f"/v1{p}" for p in plan_paths], requests)
        plan_page = timed(web, plan_paths, requests)
    print(line("GET /v1/portfolio (baseline)", portfolio_api))
    print(line("GET /portfolio", portfolio_page, portfolio_api))
    print(line("GET /v1/plans/{id} (baseline)", plan_api))
    print(line("GET /plans/{id}", plan_page, plan_api))
    for name, samples in (("/portfolio", portfolio_page), ("/plans/{id}", plan_page)):
        p95 = percentile(samples, 95)
        verdict = "meets" if p95 <= GOAL_MS else "misses"
        print(f"  {name}: p95 {p95:.0f} ms {verdict} the {GOAL_MS:.0f} ms goal")


def main() -> None:
    """Parse the arguments and run on each backend asked for."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--partners", type=int, default=10_000, help="two plans each")
    parser.add_argument("--requests", type=int, default=100, help="per plan page sample")
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="sqlite")
    parser.add_argument(
        "--database-url", help="a ledger that holds the demo already (measured, not changed)"
    )
    parser.add_argument(
        "--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test", help="server"
    )
    args = parser.parse_args()
    print(f"bench/web.py: {machine()}")
    if args.database_url:
        with tempfile.TemporaryDirectory(prefix="counterpart-web-") as directory:
            settings = Settings(database_url=args.database_url)
            measure(settings, args.partners, args.requests, Path(directory))
        return
    for backend in backends(args.backend):
        print(f"{backend}, {args.partners} partnerships:")
        with (
            ledger_store(backend, args.postgres_url) as settings,
            tempfile.TemporaryDirectory(prefix="counterpart-web-") as directory,
        ):
            measure(settings, args.partners, args.requests, Path(directory))


if __name__ == "__main__":
    main()
