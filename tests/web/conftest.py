"""Fixtures of the browser tests: one served demo and one browser per module and backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests.conftest import BACKENDS
from tests.web.site import Site, a_browser, a_served_demo


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the module."""
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
