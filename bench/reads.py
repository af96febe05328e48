"""Reads that stay fast: a plan's reads after 0, 300 and 1,500 extra reports, and the series.

One ``counterpart`` server (uvicorn, one worker, embedded projections) per backend, three
active plans of one partnership whose vendor metric got 0, 300 and 1,500 extra progress
reports (through the application, before the server starts). ``wrk`` with 4 connections drives
each read in interleaved rounds, so a noisy neighbour slows every plan alike. Printed per
backend, side by side:

- ``GET /v1/plans/{id}`` and ``GET /v1/plans/{id}/accountability`` per second after 0, 300
  and 1,500 extra reports, and the 1,500 / 0 ratio (goal: at least 0.8 for both routes);
- ``GET /v1/plans/{id}/accountability/series`` (26 weekly points) and ``GET
  /v1/portfolio/series`` on this small portfolio: median and p99 of sequential requests (the
  plan series' goal is at most 20 ms);
- ``GET /v1/plans/{id}`` against the peer read (``bench/peer.py``'s read, same backend);
- the roll-ups at scale (``bench/rollups.py``: portfolio, manager and partner roll-ups at each
  ``--partners`` size, the portfolio series, the score query with 4 clients, the server's
  memory), on demo portfolios generated once and kept for later runs.

    .venv/bin/python bench/reads.py [--backend sqlite|postgres|both] [--rounds 3] [--seconds 5]
        [--partners 1000 [10000]] [--no-peer]
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import httpx
import peer
import rollups
from _support import DEFAULT_POSTGRES_URL, active_plans, backends, ledger_store, machine, percentile
from peer import LUA_PLAIN, ROOT, Rates, lua, uvicorn, wrk

from ledger.application import Counterpart
from ledger.domain import Role
from ledger.settings import Settings
from tests.support import shortcuts

EXTRA = (0, 300, 1_500)
GROWTH_GOAL = 0.8
PLAN_SERIES_GOAL = 0.020
ROUTES = {"plan": "/v1/plans/{plan_id}", "accountability": "/v1/plans/{plan_id}/accountability"}


def a_portfolio(settings: Settings) -> tuple[dict[int, UUID], str]:
    """Three active plans, their vendor metrics reported on 0, 300 and 1,500 times more."""
    fixture = active_plans(settings, len(EXTRA))
    app = Counterpart(settings)
    try:
        today = datetime.now(UTC).date()
        for (plan_id, metric_id), extra in zip(fixture.plans, EXTRA, strict=True):
            for n in range(extra):
                shortcuts.report_progress(
                    app,
                    plan_id,
                    metric_id,
                    value=Decimal(n % 40),
                    as_of=today - timedelta(days=n % 9),
                    actor_id=fixture.manager,
                )
    finally:
        app.close()
    return {extra: plan for extra, (plan, _) in zip(EXTRA, fixture.plans, strict=True)}, (
        fixture.token
    )


def latencies(base: str, path: str, token: str, count: int = 60) -> list[float]:
    """Seconds each of ``count`` sequential GETs took (after two warm-ups)."""
    headers = {"Authorization": f"Bearer {token}"}
    samples = []
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        for n in range(count + 2):
            started = time.perf_counter()
            response = client.get(path)
            elapsed = time.perf_counter() - started
            response.raise_for_status()
            if n >= 2:
                samples.append(elapsed)
    return samples


def run(settings: Settings, rounds: int, seconds: int) -> tuple[Rates, dict[str, list[float]]]:
    """The server on one backend: read rates per plan, then the series' latencies."""
    print("  setting up 3 plans and 1,800 extra reports ...", flush=True)
    plans, token = a_portfolio(settings)
    scripts = {
        (route, extra): lua(LUA_PLAIN, path=path.format(plan_id=plans[extra]), token=token)
        for route, path in ROUTES.items()
        for extra in EXTRA
    }
    rates = Rates()
    env = {"COUNTERPART_DATABASE_URL": settings.database_url}
    try:
        with uvicorn("api.app:create_app", env, ROOT, "/readyz") as base:
            for script in scripts.values():  # warm up: caches, connections, catch-up
                wrk(base, script, 1)
            for n in range(rounds):
                order = list(scripts.items())
                if n % 2:
                    order.reverse()
                for (route, extra), script in order:
                    rate, failed = wrk(base, script, seconds)
                    rates.add(route, str(extra), rate, failed)
                print(f"  round {n + 1}/{rounds} done", flush=True)
            series = {
                "plan series, 26 weekly points": latencies(
                    base, f"/v1/plans/{plans[EXTRA[-1]]}/accountability/series", token
                ),
                "portfolio series, 26 weekly points": latencies(
                    base, "/v1/portfolio/series", leader_token(settings)
                ),
            }
    finally:
        for path in scripts.values():
            Path(path).unlink(missing_ok=True)
    return rates, series


def leader_token(settings: Settings) -> str:
    """A leader's token (registered by the operator, as ``counterpart actors add`` does)."""
    app = Counterpart(settings)
    try:
        _, token = shortcuts.register_actor(
            app, name=f"Lee Leader {time.time_ns()}", email="lee@vendor.example", role=Role.LEADER
        )
        return token
    finally:
        app.close()


def report(backend: str, rates: Rates, series: dict[str, list[float]]) -> bool:
    """Print the figures and the goals; whether every goal is met."""
    met = True
    print(f"\n  {backend}: requests/s with 4 connections (median of rounds)")
    print(f"  {'route':<16}" + "".join(f"{f'{e:,} extra':>14}" for e in EXTRA) + f"{'ratio':>10}")
    for route in ROUTES:
        figures = [rates.median(route, str(e)) for e in EXTRA]
        ratio = figures[-1] / figures[0]
        ok = ratio >= GROWTH_GOAL
        met &= ok
        failed = sum(rates.failures[(route, str(e))] for e in EXTRA)
        print(
            f"  {route:<16}"
            + "".join(f"{f:>14.0f}" for f in figures)
            + f"{ratio:>10.2f}  (goal >= {GROWTH_GOAL}: {'met' if ok else 'NOT met'})"
            + (f"  {failed} failed" if failed else "")
        )
    for name, samples in series.items():
        p50, p99 = statistics.median(samples), percentile(samples, 99)
        line = f"  {name:<36} p50 {p50 * 1000:7.1f} ms   p99 {p99 * 1000:7.1f} ms"
        if name.startswith("plan"):
            ok = p99 <= PLAN_SERIES_GOAL
            met &= ok
            line += f"  (goal <= 20 ms: {'met' if ok else 'NOT met'})"
        print(line)
    return met


def main() -> None:
    """Run on the chosen backends and print the figures side by side."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="both", choices=["sqlite", "postgres", "both"])
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--partners", type=int, nargs="*", default=[1000])
    parser.add_argument("--no-peer", action="store_true", help="skip the peer comparison")
    parser.add_argument(
        "--layout",
        choices=("embedded", "external"),
        default="embedded",
        help="Counterpart's projections against the peer (bench/peer.py --layout)",
    )
    args = parser.parse_args()
    print("Counterpart reads (bench/reads.py)")
    print(machine())
    results = []
    for backend in backends(args.backend):
        print(f"\n{backend}:", flush=True)
        with ledger_store(backend, args.postgres_url) as settings:
            results.append((backend, *run(settings, args.rounds, args.seconds)))
    peers = []
    if not args.no_peer:
        for backend in backends(args.backend):
            print(f"\n{backend}, against the peer:", flush=True)
            with (
                ledger_store(backend, args.postgres_url) as ours,
                ledger_store(backend, args.postgres_url) as theirs,
            ):
                peers.append(
                    (backend, peer.run(ours, theirs.database_url, 1, args.seconds, args.layout))
                )
    scale = rollups.measure(args.backend, args.postgres_url, args.partners, 3, 100)
    for backend, rates, series in results:
        report(backend, rates, series)
    for backend, rates in peers:
        ratio = rates.median("counterpart", "read") / (rates.median("peer", "read") or 1.0)
        print(
            f"  {backend}: GET /v1/plans/{{id}} / peer read {ratio:.2f} (goal >= 0.6), "
            f"projections {args.layout}"
        )
    if scale:
        rollups.report(scale)


if __name__ == "__main__":
    main()
