"""Pydantic models of docs/api.md: request bodies (validated at the edge) and response documents."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from projections.rules.webhooks import EVENT_TYPES

EARLIEST = date(1970, 1, 1)
LATEST = date(2199, 12, 31)
MAX_DIGITS = 30
# What a decimal given as a string looks like (documented; the parser also trims spaces).
DECIMAL_PATTERN = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"


def _text(value: str) -> str:
    """Texts must be storable anywhere: no NUL characters, no lone surrogates."""
    if "\x00" in value:
        msg = "must not contain NUL characters"
        raise ValueError(msg)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        msg = "must be valid Unicode text"
        raise ValueError(msg) from None
    return value


def _decimal(value: Any) -> Decimal:
    """A JSON number or a numeric string as an exact, finite decimal of sane size."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        msg = "must be a number or a numeric string"
        raise ValueError(msg)
    if isinstance(value, float):
        if not math.isfinite(value):
            msg = "must be a finite number"
            raise ValueError(msg)
        value = repr(value)  # the shortest text that reads back as the same float
    if isinstance(value, str) and len(value.strip()) > 64:
        msg = "is too long to be a sensible number"
        raise ValueError(msg)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        msg = "must be a number or a numeric string such as '12.5'"
        raise ValueError(msg) from None
    if not number.is_finite():
        msg = "must be a finite number"
        raise ValueError(msg)
    digits = number.as_tuple()
    exponent = digits.exponent if isinstance(digits.exponent, int) else 0
    if len(digits.digits) > MAX_DIGITS or not -MAX_DIGITS <= exponent <= MAX_DIGITS:
        msg = f"must have at most {MAX_DIGITS} significant digits and a sane magnitude"
        raise ValueError(msg)
    return number


def _in_range(value: date) -> date:
    if not EARLIEST <= value <= LATEST:
        msg = f"must be between {EARLIEST} and {LATEST}"
        raise ValueError(msg)
    return value


def _moment(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        moment = value.astimezone(UTC)
    except OverflowError:  # year 1 east of UTC, or year 9999 west of it
        msg = f"must be between {EARLIEST} and {LATEST}"
        raise ValueError(msg) from None
    _in_range(moment.date())
    return moment


Text = Annotated[str, AfterValidator(_text)]
ShortText = Annotated[str, Field(max_length=200), AfterValidator(_text)]
LongText = Annotated[str, Field(max_length=5000), AfterValidator(_text)]
Url = Annotated[str, Field(max_length=2000), AfterValidator(_text)]
Amount = Annotated[
    Decimal,
    BeforeValidator(_decimal),
    Field(
        description='A decimal, as a JSON number or a string (exact): 20, 12.5 or "12.5".',
        json_schema_extra={
            "anyOf": [
                {"type": "number"},
                {"type": "string", "maxLength": 64, "pattern": DECIMAL_PATTERN},
            ]
        },
    ),
]
Day = Annotated[date, AfterValidator(_in_range), Field(description="YYYY-MM-DD")]
Moment = Annotated[datetime, AfterValidator(_moment)]
Role = Literal["admin", "leader", "manager", "partner", "auditor"]
SideName = Literal["vendor", "partner"]


class Body(BaseModel):
    """Request bodies: unknown fields are refused, so typos do not pass silently."""

    model_config = ConfigDict(extra="forbid")


# ------------------------------------------------------------------ requests


class ActorIn(Body):
    """Register an actor."""

    name: ShortText
    email: ShortText
    role: Role
    partner_id: UUID | None = None

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"name": "Dana Reyes", "email": "dana@vendor.example", "role": "manager"},
            ]
        },
    )


class PartnerIn(Body):
    """Register a partner organisation owned by a channel manager."""

    name: ShortText
    manager_id: UUID


class PlanIn(Body):
    """Draft a plan."""

    partner_id: UUID
    title: ShortText
    period_start: Day
    period_end: Day
    objectives: Annotated[list[ShortText], Field(max_length=20)] = Field(default_factory=list)
    report_every_days: Annotated[int, Field(ge=1, le=366)] = 14
    review_every_days: Annotated[int, Field(ge=1, le=366)] = 30
    grace_days: Annotated[int, Field(ge=0, le=30)] = 3

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "partner_id": "6f1c2a34-8d0e-4b7a-9a51-0c3d2e1f4a5b",
                    "title": "Q1 joint business plan",
                    "period_start": "2026-01-05",
                    "period_end": "2026-04-04",
                    "objectives": ["Double qualified opportunities"],
                }
            ]
        },
    )


class MetricIn(Body):
    """Propose or revise a metric."""

    owner_side: SideName
    kind: Literal["activity", "result"]
    name: ShortText
    description: LongText
    unit: ShortText
    direction: Literal["at_least", "at_most"]
    target: Amount
    due_date: Day
    objective: ShortText | None = None

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "owner_side": "partner",
                    "kind": "result",
                    "name": "Qualified opportunities",
                    "description": "Register qualified opportunities in deal registration",
                    "unit": "opportunities",
                    "direction": "at_least",
                    "target": "20",
                    "due_date": "2026-03-31",
                }
            ]
        },
    )


class ProgressIn(Body):
    """Report a metric's value as of a date."""

    value: Amount
    as_of: Day
    note: LongText | None = None
    evidence_url: Url | None = None


class ReviewIn(Body):
    """Record a review meeting."""

    held_on: Day
    attendee_ids: Annotated[list[UUID], Field(min_length=1, max_length=50)]
    notes: LongText | None = None
    decisions: LongText | None = None


class AdjustmentIn(Body):
    """Propose a change to a metric of an active plan."""

    metric_id: UUID
    kind: Literal["change_target", "change_due_date", "retire"]
    new_target: Amount | None = None
    new_due_date: Day | None = None
    reason: LongText


class ReasonIn(Body):
    """An optional reason for answering or withdrawing an adjustment."""

    reason: LongText | None = None


class CloseIn(Body):
    """An optional summary when closing a plan."""

    summary: LongText | None = None


# ----------------------------------------------------------------- responses


class ActorOut(BaseModel):
    """An actor (``token`` only in the response that issued it)."""

    id: UUID
    name: str
    email: str
    role: Role
    side: SideName | None
    partner_id: UUID | None


class ActorWithToken(ActorOut):
    """A newly registered actor with its first token (shown only here).

    A replay of the same request under the same Idempotency-Key answers ``token: null``:
    tokens are kept only as hashes, so they cannot be shown twice.
    """

    token: str | None


class TokenOut(BaseModel):
    """A newly issued token (shown only here; null on an idempotent replay)."""

    token: str | None


class PartnerOut(BaseModel):
    """A partner organisation."""

    id: UUID
    name: str
    manager_id: UUID


class Metric(BaseModel):
    """A metric of a plan."""

    id: UUID
    owner_side: SideName
    kind: Literal["activity", "result"]
    name: str
    description: str
    unit: str
    direction: Literal["at_least", "at_most"]
    target: str
    due_date: date
    objective: str | None
    status: Literal["proposed", "agreed", "retired"]
    agreed_by: dict[SideName, bool]
    latest_value: str | None
    latest_as_of: date | None
    pace: Literal["on_track", "at_risk", "off_track", "met", "missed"] | None


class Commitment(BaseModel):
    """A side's commitment to the plan's terms."""

    actor_id: UUID
    committed_at: datetime
    terms_version: int


class Adjustment(BaseModel):
    """A proposed change to a metric's terms."""

    id: UUID
    metric_id: UUID
    kind: Literal["change_target", "change_due_date", "retire"]
    new_target: str | None
    new_due_date: date | None
    reason: str
    proposed_by_side: SideName
    status: Literal["proposed", "accepted", "rejected", "withdrawn"]


class Review(BaseModel):
    """A review meeting."""

    id: UUID
    held_on: date
    attendee_ids: list[UUID]
    notes: str | None
    decisions: str | None


class Plan(BaseModel):
    """A plan (docs/api.md's Plan)."""

    id: UUID
    partner_id: UUID
    title: str
    status: Literal["draft", "active", "closed"]
    version: int
    period_start: date
    period_end: date
    report_every_days: int
    review_every_days: int
    grace_days: int
    objectives: list[str]
    activated_at: datetime | None
    closed_at: datetime | None
    metrics: list[Metric]
    commitments: dict[SideName, Commitment | None]
    adjustments: list[Adjustment]
    reviews: list[Review]


class PlanList(BaseModel):
    """A page of plans."""

    items: list[Plan]
    next_cursor: str | None


class PartnerList(BaseModel):
    """A page of partners."""

    items: list[PartnerOut]
    next_cursor: str | None


class EventActor(BaseModel):
    """Who acted: id, side and role."""

    id: UUID
    side: SideName | None
    role: Role


class Event(BaseModel):
    """One event of a plan's history."""

    position: int
    version: int
    type: str
    recorded_at: datetime
    actor: EventActor
    data: dict[str, Any]


class EventList(BaseModel):
    """A page of events, oldest first."""

    items: list[Event]
    next_cursor: str | None


class Component(BaseModel):
    """One component of a side's score."""

    value: float | None
    weight: float
    met: int
    total: int
    items: list[dict[str, Any]]


class HistoryEntry(BaseModel):
    """One entry of a side's accountability history."""

    recorded_at: datetime
    kind: str
    summary: str
    event_position: int | None


class SideScore(BaseModel):
    """A side's score, its components and its accountability history."""

    score: float | None
    components: dict[str, Component]
    history: list[HistoryEntry]


class SideScores(BaseModel):
    """The vendor's and the partner's score."""

    vendor: SideScore
    partner: SideScore


class Accountability(BaseModel):
    """Both sides' scores of a plan as of a date."""

    plan_id: UUID
    as_of: date
    rule_version: int
    sides: SideScores


class PartnershipSide(BaseModel):
    """A side's partnership score and the plans behind it."""

    score: float | None
    plans: list[dict[str, Any]]


class PartnershipSides(BaseModel):
    """The vendor's and the partner's partnership score."""

    vendor: PartnershipSide
    partner: PartnershipSide


class PartnerAccountability(BaseModel):
    """A partnership's scores per side."""

    partner_id: UUID
    as_of: date
    sides: PartnershipSides


class ManagerAccountability(BaseModel):
    """A channel manager's score over the partnerships they own."""

    manager_id: UUID
    as_of: date
    score: float | None
    partners: list[dict[str, Any]]


class Share(BaseModel):
    """A count of partnerships and its share of all partnerships."""

    count: int
    share: float | None


class Portfolio(BaseModel):
    """The leadership figures of docs/scoring.md."""

    as_of: date
    partnerships: int
    active_plan: Share
    metrics_on_both_sides: Share
    all_metrics_agreed: Share
    reviewed_recently: Share
    mean_score: dict[SideName, float | None]
    plans_by_pace: dict[str, int]
    coverage_target: float


class AuditEntry(BaseModel):
    """Who proposed, agreed, committed to or changed which terms, and when."""

    position: int
    plan_id: UUID
    partner_id: UUID
    version: int
    type: str
    recorded_at: datetime
    actor: EventActor
    data: dict[str, Any]


class AuditList(BaseModel):
    """A page of audit entries, oldest first."""

    items: list[AuditEntry]
    next_cursor: str | None


class ProblemOut(BaseModel):
    """An RFC 9457 problem."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[dict[str, Any]] | None = None


class Health(BaseModel):
    """Liveness or readiness."""

    status: Literal["ok", "not ready"]
    checks: dict[str, Any] = Field(default_factory=dict)


class Verification(BaseModel):
    """The outcome of recomputing the hash chain (GET /v1/audit/verify)."""

    ok: bool
    checked: int = Field(description="Events whose hashes were recomputed and matched.")
    first_bad_position: int | None = Field(
        description="The first position where the record disagrees with its chain, or null."
    )
    detail: str
    problem: (
        Literal[
            "payload_changed",
            "event_missing",
            "event_inserted",
            "order_changed",
            "chain_altered",
            "checkpoint_signature_invalid",
            "checkpoint_mismatch",
        ]
        | None
    ) = None
    checkpoints_checked: int = 0
    head: int = Field(0, description="The last position in the ledger when verification began.")
    last_checkpoint: int | None = None

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "ok": False,
                    "checked": 16,
                    "first_bad_position": 17,
                    "detail": "the data of … v3 at position 17 is not what was recorded",
                    "problem": "payload_changed",
                    "checkpoints_checked": 0,
                    "head": 1933,
                    "last_checkpoint": 1933,
                }
            ]
        }
    )


class SignedCheckpoint(BaseModel):
    """An Ed25519 signature over the chain hash at a position (docs/integrity.md)."""

    position: int
    chain_hash: str = Field(description="64 hex digits: the chain hash after that position.")
    issued_at: str
    key_id: str = Field(description="First 16 bytes of SHA-256 of the raw public key, in hex.")
    signature: str = Field(description="The Ed25519 signature, 128 hex digits.")


class PublicKey(BaseModel):
    """The public key that checks the ledger's checkpoints."""

    key_id: str
    algorithm: Literal["Ed25519"]
    public_key: str = Field(description="PEM (SubjectPublicKeyInfo).")


# ------------------------------------------------- inbox, notifications, webhooks


class AtStake(BaseModel):
    """Which score component an inbox item protects, and how."""

    component: Literal["delivery", "reporting", "reviews", "responsiveness"] | None
    detail: str


class Action(BaseModel):
    """The API call that clears an inbox item."""

    method: str
    path: str


class InboxItem(BaseModel):
    """One thing waiting on the caller's side."""

    kind: Literal[
        "agree_metric",
        "answer_adjustment",
        "commit",
        "report_progress",
        "record_review",
        "close_plan",
    ]
    key: str = Field(description="Identifies the item across days (kind, plan, subject, window).")
    side: SideName
    plan_id: UUID
    partner_id: UUID
    metric_id: UUID | None
    adjustment_id: UUID | None
    title: str
    waiting_since: datetime
    act_by: date | None = Field(
        description="The last day to act and keep the component at full credit (null: no "
        "deadline); for requests, act before waiting_since + 5 days."
    )
    at_stake: AtStake
    action: Action


class Inbox(BaseModel):
    """The caller's inbox as of a date, sorted by act_by (nulls last)."""

    as_of: date
    items: list[InboxItem]


class WebhookIn(Body):
    """Subscribe an endpoint to ledger events."""

    url: Annotated[str, Field(max_length=2000), AfterValidator(_text)]
    event_types: Annotated[list[ShortText], Field(min_length=1, max_length=100)] = Field(
        description='Event types, or ["*"] for every event. The types: '
        + ", ".join(f"`{t}`" for t in EVENT_TYPES.values())
        + "."
    )
    description: Annotated[str, Field(max_length=500), AfterValidator(_text)] | None = None

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "url": "https://hooks.partner.example/counterpart",
                    "event_types": ["plan.activated", "progress.reported"],
                    "description": "CRM sync",
                }
            ]
        },
    )


class Webhook(BaseModel):
    """An endpoint (its secret is never shown again)."""

    id: UUID
    url: str
    event_types: list[str]
    description: str | None
    status: Literal["active", "disabled"]
    created_at: datetime


class WebhookWithSecret(Webhook):
    """An endpoint just created or whose secret was just rotated, with the secret."""

    secret: str = Field(description="whsec_ and the base64 of 32 random bytes; shown only here.")


class WebhookList(BaseModel):
    """A page of endpoints."""

    items: list[Webhook]
    next_cursor: str | None


class Delivery(BaseModel):
    """One message to an endpoint: one ledger event, with its attempts."""

    id: str = Field(description="The webhook-id header of every attempt.")
    event_type: str
    position: int
    attempts: int
    status: Literal["pending", "delivered", "failed"]
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None


class DeliveryList(BaseModel):
    """A page of an endpoint's messages, in ledger order."""

    items: list[Delivery]
    next_cursor: str | None


class EmailPreferences(Body):
    """Which e-mails the caller gets."""

    reminders: bool = True
    digest: bool = True


class NotificationPreferences(Body):
    """The caller's notification preferences."""

    email: EmailPreferences


# ------------------------------------------------------------------ score series (reads)


class ScorePoint(BaseModel):
    """Each side's score as of one date (null where none)."""

    as_of: date
    vendor: float | None
    partner: float | None


class AccountabilitySeries(BaseModel):
    """A plan's scores every ``every`` days, oldest first."""

    plan_id: UUID
    every: int
    points: list[ScorePoint]


class PortfolioPoint(BaseModel):
    """The leadership figures as of one date."""

    as_of: date
    partnerships: int
    active_plan_share: float | None
    all_metrics_agreed_share: float | None
    reviewed_recently_share: float | None
    mean_score: dict[SideName, float | None]


class PortfolioSeries(BaseModel):
    """The leadership figures every ``every`` days, oldest first, and the coverage target."""

    every: int
    coverage_target: float
    points: list[PortfolioPoint]
