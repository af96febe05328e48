"""The webhook sender: claims due outbox messages and POSTs them, signed, with httpx.

Bounded concurrency (a few messages at a time, each on a thread of a small pool), a 10 s
timeout, no redirects, the endpoint's resolved addresses checked before every attempt, and
retries with growing, jittered pauses for at least a day before a message is ``failed``.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx
import structlog

from projections.models import webhook_outbox as outbox
from projections.rules.webhooks import EndpointRefused, check_addresses, retry_delay, signatures
from projections.runtime.store import Cursor, ReadStore

LOGGER = "counterpart.webhooks"
TIMEOUT = 10.0
LEASE = 30.0
"""Seconds a claimed message is a sender's alone (well over the timeout, so that no two
processes ever send one message at once; a sender killed mid-way delays its messages by
this much)."""
USER_AGENT = "Counterpart-Webhooks/1"
CLAIM = 4
"""A round claims this many messages per thread (each plan's next message at most)."""


@dataclass(frozen=True)
class RetryPolicy:
    """Pauses between attempts (doubling from ``first`` to ``cap`` seconds, jittered) and how
    long a message is retried before it is ``failed``."""

    first: float = 5.0
    cap: float = 3600.0
    retry_for: float = 86_400.0


def resolve(host: str) -> list[str]:
    """Every address a host name resolves to (an IP literal resolves to itself)."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except socket.gaierror:
        return []
    return sorted({str(info[4][0]) for info in infos})


def check_endpoint(url: str, *, allow_private: bool) -> None:
    """Refuse an endpoint whose host resolves to nothing, or to a non-public address."""
    host = urlsplit(url).hostname or ""
    check_addresses(host, resolve(host), allow_private=allow_private)


@dataclass(frozen=True)
class Outcome:
    """What one attempt gave: a status code (None if no answer) and an error text."""

    ok: bool
    status_code: int | None
    error: str


class WebhookSender:
    """Delivers the outbox's due messages; ``run_once`` is one round, ``run_forever`` a loop."""

    def __init__(
        self,
        store: ReadStore,
        now: Callable[[], datetime],
        *,
        allow_private: bool = False,
        concurrency: int = 8,
        policy: RetryPolicy | None = None,
        on_outcome: Callable[[str], None] | None = None,
        lease: float = LEASE,
    ) -> None:
        self.store = store
        self.lease = timedelta(seconds=lease)
        self.now = now
        self.allow_private = allow_private
        self.concurrency = concurrency
        self.policy = policy or RetryPolicy()
        self.on_outcome = on_outcome
        self.owner = f"{socket.gethostname()}:{uuid.uuid4().hex[:12]}"
        self._client = httpx.Client(
            timeout=TIMEOUT,
            follow_redirects=False,
            headers={"user-agent": USER_AGENT, "content-type": "application/json"},
            limits=httpx.Limits(max_connections=concurrency),
        )
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="webhooks")
        self._stopping = threading.Event()
        self._log = structlog.get_logger(LOGGER)

    def run_once(self) -> int:
        """Claim one round of due messages, send them (in parallel, over HTTP only), then
        record every outcome in one transaction; how many were attempted."""
        if not outbox.anything_pending(self.store):
            return 0
        messages = outbox.claim(
            self.store, self.owner, self.now(), self.lease, CLAIM * self.concurrency
        )
        if not messages:
            return 0
        with self.store.reading() as cursor:
            endpoints = {m.endpoint_id: outbox.endpoint(cursor, m.endpoint_id) for m in messages}
        answers = list(
            self._pool.map(lambda m: self._attempt(m, endpoints[m.endpoint_id]), messages)
        )
        now = self.now()
        outcomes = [
            self._outcome(m, answer, now) for m, answer in zip(messages, answers, strict=True)
        ]
        outbox.record(self.store, self.owner, outcomes, now)
        for outcome in outcomes:
            self._report(outcome)
        return len(messages)

    def drain(self, rounds: int = 1000) -> int:
        """Send rounds until nothing is due (or ``rounds`` rounds); messages attempted."""
        total = 0
        for _ in range(rounds):
            sent = self.run_once()
            if not sent:
                break
            total += sent
        return total

    def run_forever(self, idle: float = 0.2) -> None:
        """Send due messages until stopped, pausing ``idle`` seconds when none is due."""
        while not self._stopping.is_set():
            if not self.run_once():
                self._stopping.wait(idle)

    def stop(self) -> None:
        """Ask ``run_forever`` to return after its current round."""
        self._stopping.set()

    def close(self) -> None:
        """Release the HTTP client and the threads."""
        self._pool.shutdown(wait=True)
        self._client.close()

    # --------------------------------------------------------------- sending

    def _outcome(self, message: outbox.Message, answer: Outcome, now: datetime) -> outbox.Attempted:
        """Delivered, or when to try again (None: failed, after a day of retries)."""
        if answer.ok:
            return outbox.Attempted(message, True, answer.status_code, "", None)
        first = (
            datetime.fromisoformat(message.first_attempt_at) if message.first_attempt_at else now
        )
        give_up = now - first >= timedelta(seconds=self.policy.retry_for)
        pause = retry_delay(message.attempts + 1, self.policy.first, self.policy.cap)
        return outbox.Attempted(
            message, False, answer.status_code, answer.error, None if give_up else now + pause
        )

    def _report(self, outcome: outbox.Attempted) -> None:
        if outcome.delivered:
            result = "delivered"
        else:
            result = "retrying" if outcome.next_attempt is not None else "failed"
        if self.on_outcome is not None:
            self.on_outcome(result)
        self._log.info(
            "webhook_attempt",
            message_id=outcome.message.id,
            endpoint=outcome.message.endpoint_id,
            position=outcome.message.position,
            status_code=outcome.status_code,
            outcome=result,
            error=outcome.error or None,
        )

    def _attempt(self, message: outbox.Message, endpoint: outbox.Endpoint | None) -> Outcome:
        if endpoint is None:  # pragma: no cover (endpoints are never deleted)
            return Outcome(ok=False, status_code=None, error="the endpoint is gone")
        try:
            check_endpoint(endpoint.url, allow_private=self.allow_private)
        except EndpointRefused as refused:
            return Outcome(ok=False, status_code=None, error=f"refused: {refused}")
        now = self.now()
        timestamp = int(time.time())  # the receiver checks it against its own (real) clock
        headers = {
            "webhook-id": message.id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signatures(
                endpoint.secrets_at(now), message.id, timestamp, message.body
            ),
        }
        try:
            response = self._client.post(endpoint.url, content=message.body, headers=headers)
        except httpx.TimeoutException:
            return Outcome(ok=False, status_code=None, error=f"no answer within {TIMEOUT:g} s")
        except httpx.HTTPError as error:
            return Outcome(ok=False, status_code=None, error=f"{type(error).__name__}: {error}")
        if 200 <= response.status_code < 300:
            return Outcome(ok=True, status_code=response.status_code, error="")
        if response.is_redirect:
            why = f"redirect to {response.headers.get('location', '?')} (not followed)"
        else:
            why = f"answered {response.status_code}"
        return Outcome(ok=False, status_code=response.status_code, error=why)


def delivery_lag(cursor: Cursor, head: int) -> int:
    """Positions the webhooks are behind the ledger's head (for the metrics)."""
    return outbox.lag(cursor, head)
