"""Settings of the HTTP server, read from ``COUNTERPART_*`` environment variables."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ledger.settings import EnvironmentSettings


class ServerSettings(EnvironmentSettings):
    """How the server hosts projections, limits requests and waits for its own writes.

    ``projections``: ``embedded`` runs the projection runner on a thread of every server
    process (the zero-set-up default); ``external`` leaves it to ``counterpart projections run``
    worker processes (several API processes on PostgreSQL).
    """

    projections: Literal["embedded", "external"] = "embedded"
    max_body_bytes: int = Field(64 * 1024, gt=0)
    read_your_writes_timeout: float = Field(5.0, gt=0)
    poll_interval: float = Field(0.1, gt=0)
    request_timeout: float = Field(15.0, gt=0)
    """Seconds after which a request that has not answered gets 503 (docs/reliability.md)."""
    coverage_target: float = Field(0.9, gt=0, le=1)
    """The leadership target for the share of partnerships with an active plan (0 to 1]."""
    token_cache_seconds: float = Field(1.0, ge=0)
    """How long a caller's token, once found valid, is known without a read (docs/api.md);
    a revoke answered by another process is honoured here within this time (0: off)."""
