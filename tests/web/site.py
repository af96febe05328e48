"""A demo served by real uvicorn processes on loopback, and a browser to look at it with."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, BrowserContext, Page, Response, sync_playwright

from ledger.settings import Settings
from tests.conftest import a_fresh_ledger
from tests.support import loopback

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@dataclass
class Site:
    """The demo's ledger, its tokens and the servers that serve it."""

    settings: Settings
    tokens: dict[str, str]
    urls: list[str]
    ids: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """The first server."""
        return self.urls[0]

    def api(self, role: str, method: str, path: str, server: int = 0, **kwargs: Any) -> Any:
        """A JSON API call as one of the demo's actors."""
        response = httpx.request(
            method,
            self.urls[server] + path,
            headers={"Authorization": f"Bearer {self.tokens[role]}"},
            timeout=30,
            **kwargs,
        )
        response.raise_for_status()
        return response.json()


def cli(settings: Settings, *args: str) -> str:
    """Run the ``counterpart`` command on the ledger; its standard output."""
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "--database-url", settings.database_url, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return done.stdout


@contextmanager
def serving(settings: Settings, log: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """``counterpart serve`` on a free loopback port until the block ends."""

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
            "--log-level",
            "warning",
        ]

    with (
        log.open("w") as out,
        loopback.serving(
            command, env=env, output=out, describe=lambda: log.read_text()[-2000:]
        ) as served,
    ):
        yield served.url


@contextmanager
def a_served_demo(
    backend: str,
    directory: Path,
    *,
    servers: int = 1,
    partners: int = 4,
    managers: int = 2,
    env: dict[str, str] | None = None,
) -> Iterator[Site]:
    """A small demo on a fresh ledger, served by ``servers`` processes (all on one ledger)."""
    with a_fresh_ledger(backend, directory) as settings, ExitStack() as stack:
        loaded = json.loads(
            cli(
                settings, "demo", "--partners", str(partners), "--managers", str(managers), "--json"
            )
        )
        urls = [
            stack.enter_context(serving(settings, directory / f"server-{n}.log", env))
            for n in range(servers)
        ]
        site = Site(settings, loaded["tokens"], urls)
        site.ids = demo_ids(site)
        yield site


def demo_ids(site: Site) -> dict[str, Any]:
    """Ids the tests visit: the partner contact's partnership and plans, another's, a manager."""
    me = site.api("partner", "GET", "/v1/me")
    manager = site.api("manager", "GET", "/v1/me")
    mine = site.api("partner", "GET", "/v1/plans")["items"]
    every = site.api("leader", "GET", "/v1/plans?limit=500")["items"]
    active = next(p for p in mine if p["status"] == "active")
    other = next(p for p in every if p["partner_id"] != me["partner_id"])
    managed = site.api("manager", "GET", "/v1/partners")["items"]
    return {
        "partner_id": me["partner_id"],
        "manager_id": manager["id"],
        "active_plan": active,
        "other_plan": other,
        "other_partner_id": other["partner_id"],
        "managed_partner_id": managed[0]["id"],
    }


def status_of(response: Response | None) -> int:
    """The HTTP status of a page the browser opened."""
    assert response is not None
    return response.status


@contextmanager
def a_browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


def signed_in(
    browser: Browser, site: Site, role: str, viewport: dict[str, int] | None = None, server: int = 0
) -> tuple[BrowserContext, Page]:
    """A browser context signed in with the role's token through the sign-in form."""
    context = browser.new_context(viewport=viewport or DESKTOP)
    page = context.new_page()
    page.goto(site.urls[server] + "/signin")
    page.fill("#token", site.tokens[role])
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return context, page
