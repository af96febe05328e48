"""Fixtures of the browser tests: one browser for the run, one served demo per module and
backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests.conftest import BACKENDS
from tests.web.site import Site, a_browser, a_served_demo


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the whole run (each test opens its own contexts)."""
    with a_browser() as launched:
        yield launched


@pytest.fixture(scope="module", params=BACKENDS)
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    """The demo served by one process, on each backend."""
    directory: Path = tmp_path_factory.mktemp(f"web-{request.param}")
    with a_served_demo(request.param, directory) as served:
        yield served
