"""Settings of the HTTP server, read from ``COUNTERPART_*`` environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

MODES = ("embedded", "external")


@dataclass(frozen=True)
class ServerSettings:
    """How the server hosts projections, limits requests and waits for its own writes.

    ``projections``: ``embedded`` runs the projection runner on a thread of every server
    process (the zero-set-up default); ``external`` leaves it to ``counterpart projections run``
    worker processes (several API processes on PostgreSQL).
    """

    projections: str = "embedded"
    max_body_bytes: int = 64 * 1024
    read_your_writes_timeout: float = 5.0
    poll_interval: float = 0.1
    request_timeout: float = 15.0
    """Seconds after which a request that has not answered gets 503 (docs/reliability.md)."""
    coverage_target: float = 0.9
    """The leadership target for the share of partnerships with an active plan (0 to 1]."""
    token_cache_seconds: float = 1.0
    """How long a caller's token, once found valid, is known without a read (docs/api.md);
    a revoke answered by another process is honoured here within this time."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ServerSettings:
        """Settings from the environment (defaults otherwise)."""
        env = os.environ if environ is None else environ
        mode = env.get("COUNTERPART_PROJECTIONS") or cls.projections
        if mode not in MODES:
            msg = f"COUNTERPART_PROJECTIONS must be one of {', '.join(MODES)}, not {mode!r}"
            raise ValueError(msg)
        return cls(
            projections=mode,
            max_body_bytes=int(_number(env, "COUNTERPART_MAX_BODY_BYTES", cls.max_body_bytes)),
            read_your_writes_timeout=_number(
                env, "COUNTERPART_READ_YOUR_WRITES_TIMEOUT", cls.read_your_writes_timeout
            ),
            poll_interval=_number(env, "COUNTERPART_POLL_INTERVAL", cls.poll_interval),
            request_timeout=_number(env, "COUNTERPART_REQUEST_TIMEOUT", cls.request_timeout),
            coverage_target=_share(env, "COUNTERPART_COVERAGE_TARGET", cls.coverage_target),
            token_cache_seconds=_seconds(
                env, "COUNTERPART_TOKEN_CACHE_SECONDS", cls.token_cache_seconds
            ),
        )


def _number(env: Mapping[str, str], key: str, default: float) -> float:
    raw = env.get(key)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        msg = f"{key} must be a number, not {raw!r}"
        raise ValueError(msg) from None
    if not value > 0:
        msg = f"{key} must be positive, not {raw!r}"
        raise ValueError(msg)
    return value


def _seconds(env: Mapping[str, str], key: str, default: float) -> float:
    """Seconds, 0 allowed (off)."""
    raw = env.get(key)
    if raw is not None and raw.strip() in {"0", "0.0"}:
        return 0.0
    return _number(env, key, default)


def _share(env: Mapping[str, str], key: str, default: float) -> float:
    value = _number(env, key, default)
    if value > 1:
        msg = f"{key} must be a share between 0 and 1, not {env.get(key)!r}"
        raise ValueError(msg)
    return value
