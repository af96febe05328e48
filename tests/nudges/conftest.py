"""Fixtures of the nudges' tests: the API tests' servers and worlds, on each backend."""

from __future__ import annotations

from tests.api.conftest import client, module_settings, shared_world, world

__all__ = ["client", "module_settings", "shared_world", "world"]
