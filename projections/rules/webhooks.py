"""The webhook contract as pure functions: event types, filters, signatures, retry delays and
which addresses an endpoint may point to (docs/notifications.md)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import random
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from ledger.domain import Actor, Partner, Plan

EVENT_TYPES: dict[type, str] = {
    Plan.Drafted: "plan.drafted",
    Plan.MetricProposed: "metric.proposed",
    Plan.MetricRevised: "metric.revised",
    Plan.MetricAgreed: "metric.agreed",
    Plan.Committed: "plan.committed",
    Plan.Activated: "plan.activated",
    Plan.ProgressReported: "progress.reported",
    Plan.ReviewRecorded: "review.recorded",
    Plan.AdjustmentProposed: "adjustment.proposed",
    Plan.AdjustmentAccepted: "adjustment.accepted",
    Plan.AdjustmentRejected: "adjustment.rejected",
    Plan.AdjustmentWithdrawn: "adjustment.withdrawn",
    Plan.Closed: "plan.closed",
    Actor.Registered: "actor.registered",
    Actor.TokenIssued: "actor.token_issued",
    Actor.TokensRevoked: "actor.tokens_revoked",
    Partner.Registered: "partner.registered",
    Partner.ManagerReassigned: "partner.manager_reassigned",
}
"""Each ledger event's webhook type, ``noun.past_tense``."""
ALL = "*"
HIDDEN_FIELDS = frozenset({"token_hash", "token_hashes"})
"""Event fields never sent to an endpoint (hashes of credentials)."""
SECRET_PREFIX = "whsec_"  # noqa: S105 (the prefix of every secret, not a secret)
MAX_URL = 2000
MAX_DESCRIPTION = 500


class EndpointRefused(ValueError):
    """An endpoint URL the service will not deliver to."""


def event_type(event: object) -> str | None:
    """The webhook type of a ledger event (None for an event kind that is not published)."""
    return EVENT_TYPES.get(type(event))


def matches(event_types: list[str], kind: str) -> bool:
    """Whether an endpoint's filter selects events of this type."""
    return ALL in event_types or kind in event_types


def check_event_types(event_types: list[str]) -> list[str]:
    """A filter of known event types (or ``["*"]``), without repeats; else ``ValueError``."""
    known = set(EVENT_TYPES.values())
    chosen = list(dict.fromkeys(event_types))
    if not chosen:
        msg = 'event_types must list at least one event type (or ["*"] for every event)'
        raise ValueError(msg)
    unknown = [t for t in chosen if t != ALL and t not in known]
    if unknown:
        msg = f"unknown event type {unknown[0]!r}; known: {', '.join(sorted(known))}"
        raise ValueError(msg)
    return chosen


def new_secret() -> str:
    """A signing secret: ``whsec_`` and the base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The bytes that key the HMAC: the base64 part of the secret, decoded."""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """One Standard Webhooks signature: ``v1,`` and the base64 HMAC-SHA256 of id.timestamp.body."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signatures(secrets_in_use: list[str], message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header: one signature per secret in use, space-separated."""
    return " ".join(signature(s, message_id, timestamp, body) for s in secrets_in_use)


def retry_delay(
    attempts: int, first: float, cap: float, rng: random.Random | None = None
) -> timedelta:
    """The pause after the ``attempts``-th failed attempt: doubling from ``first`` up to
    ``cap`` seconds, with ±25 % jitter so that many failing messages spread out."""
    base = min(cap, first * 2 ** max(0, attempts - 1))
    jitter = (rng or random).uniform(0.75, 1.25)
    return timedelta(seconds=base * jitter)


def check_url(url: str) -> str:
    """An endpoint URL: absolute http(s) with a host, of bounded length; else refused."""
    text = url.strip()
    if len(text) > MAX_URL:
        msg = f"url must be at most {MAX_URL} characters"
        raise EndpointRefused(msg)
    parts = urlsplit(text)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        msg = "url must be an absolute http:// or https:// URL with a host"
        raise EndpointRefused(msg)
    if parts.username or parts.password:
        msg = "url must not carry a user name or password; authenticate with the signature"
        raise EndpointRefused(msg)
    try:
        _ = parts.port
    except ValueError:
        msg = "url has an invalid port"
        raise EndpointRefused(msg) from None
    return text


def private_address(address: str) -> bool:
    """Whether an IP address is loopback, private, link-local or otherwise not public."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def check_addresses(host: str, addresses: list[str], *, allow_private: bool) -> None:
    """Refuse a host that resolves to no address, or to any non-public one (unless allowed)."""
    if not addresses:
        msg = f"the host {host!r} does not resolve to any address"
        raise EndpointRefused(msg)
    if allow_private:
        return
    for address in addresses:
        if private_address(address):
            msg = (
                f"the host {host!r} resolves to {address}, a loopback, private or link-local "
                "address; set COUNTERPART_WEBHOOKS_ALLOW_PRIVATE=true to allow it"
            )
            raise EndpointRefused(msg)
