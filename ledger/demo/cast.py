"""Who plays the demo: the partnerships' profiles, the metric templates, names and dates."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import time
from decimal import Decimal

from ledger.domain import (
    Direction,
    MetricKind,
    Side,
)

DEMO_DOMAIN = "demo.counterpart.example"
DEMO_DAYS = 180
"""Simulated days: the demo starts this many days before today and ends yesterday."""

ADMIN_EMAIL = f"admin@{DEMO_DOMAIN}"
LEADER_EMAIL = f"leader@{DEMO_DOMAIN}"
AUDITOR_EMAIL = f"auditor@{DEMO_DOMAIN}"
MANAGER_EMAIL = f"manager-1@{DEMO_DOMAIN}"
CONTACT_EMAIL = f"contact-1-1@{DEMO_DOMAIN}"
"""The first contact of the first partnership, which the first manager owns."""
PRINTED = {LEADER_EMAIL: "leader", MANAGER_EMAIL: "manager", CONTACT_EMAIL: "partner"}
"""The demo actors whose tokens are printed, by email, with their role."""

PERIOD_DAYS = 90
PREVIOUS_START, CURRENT_START = 7, 100  # day numbers of the two quarters' first days
PREVIOUS_TALKS, CURRENT_TALKS = 1, 88  # when drafting begins (staggered over five days)
DUE_OFFSETS = {"mid": 45, "late": 65, "end": 85}  # days after the period starts
WORK_STARTS_AT = time(8)
MAX_TICKS_PER_DAY = 50_000  # seconds the clock moves on per command, at most, in a day
SAVE_CHUNK = 500  # plans saved per transaction

Process = Iterator[int]
"""A simulated process: it runs until it yields the day on which it wants to run again."""


@dataclass(frozen=True)
class Habits:
    """How one side of a partnership behaves."""

    answer_days: int  # days it takes to answer the other side's requests
    report_every: int  # days between progress reports
    report_lag: int  # days between a report's as_of date and its recording
    attainment: float  # share of each target the side reaches by the due date
    attends: bool  # whether the side turns up to reviews


@dataclass(frozen=True)
class Profile:
    """A partnership's behaviour over both quarters."""

    name: str
    vendor: Habits
    partner: Habits
    review_every: int
    adjustments: str | None = None  # "negotiated", "ignored" or "answered_late"
    stuck: bool = False  # the current quarter's plan never leaves draft
    leader_attends: bool = False


PROFILES: tuple[Profile, ...] = (
    Profile(
        "diligent",
        vendor=Habits(1, 10, 0, 1.05, attends=True),
        partner=Habits(1, 10, 0, 1.05, attends=True),
        review_every=27,
        leader_attends=True,
    ),
    Profile(
        "partner_reports_late",
        vendor=Habits(2, 10, 0, 1.0, attends=True),
        partner=Habits(3, 20, 9, 0.8, attends=True),
        review_every=28,
    ),
    Profile(
        "manager_skips_reviews",
        vendor=Habits(2, 14, 1, 0.9, attends=False),
        partner=Habits(1, 10, 0, 1.0, attends=True),
        review_every=30,
    ),
    Profile(
        "adjustments_negotiated",
        vendor=Habits(2, 12, 0, 0.95, attends=True),
        partner=Habits(2, 12, 0, 0.95, attends=True),
        review_every=28,
        adjustments="negotiated",
        leader_attends=True,
    ),
    Profile(
        "stuck_in_draft",
        vendor=Habits(3, 14, 1, 0.85, attends=True),
        partner=Habits(4, 14, 2, 0.8, attends=True),
        review_every=35,
        stuck=True,
    ),
    Profile(
        "partner_ignores_requests",
        vendor=Habits(1, 10, 0, 1.0, attends=True),
        partner=Habits(13, 16, 2, 0.6, attends=True),
        review_every=30,
        adjustments="ignored",
    ),
    Profile(
        "vendor_neglects",
        vendor=Habits(8, 30, 6, 0.45, attends=False),
        partner=Habits(1, 10, 0, 1.0, attends=True),
        review_every=40,
        adjustments="answered_late",
    ),
    Profile(
        "struggling_both_ways",
        vendor=Habits(6, 18, 2, 0.7, attends=True),
        partner=Habits(7, 18, 3, 0.65, attends=True),
        review_every=45,
    ),
)


@dataclass(frozen=True)
class MetricTemplate:
    """A metric a plan may carry; its target is picked per plan."""

    owner: Side
    kind: MetricKind
    name: str
    description: str
    unit: str
    direction: Direction
    targets: tuple[int, ...]
    due: str
    step: Decimal  # reported values are multiples of this


TEMPLATES = {
    "enablement": MetricTemplate(
        Side.VENDOR,
        MetricKind.ACTIVITY,
        "Enablement sessions",
        "Run hands-on enablement sessions for the partner's sellers",
        "sessions",
        Direction.AT_LEAST,
        (4, 5, 6, 8),
        "mid",
        Decimal(1),
    ),
    "campaigns": MetricTemplate(
        Side.VENDOR,
        MetricKind.ACTIVITY,
        "Joint marketing campaigns",
        "Fund and co-run demand generation campaigns with the partner",
        "campaigns",
        Direction.AT_LEAST,
        (2, 3, 4),
        "end",
        Decimal(1),
    ),
    "turnaround": MetricTemplate(
        Side.VENDOR,
        MetricKind.RESULT,
        "Deal registration turnaround",
        "Approve or decline the partner's deal registrations quickly (average)",
        "hours",
        Direction.AT_MOST,
        (24, 48, 72),
        "end",
        Decimal("0.1"),
    ),
    "certifications": MetricTemplate(
        Side.PARTNER,
        MetricKind.ACTIVITY,
        "Certified sales engineers",
        "Certify sales engineers on the vendor's current product line",
        "engineers",
        Direction.AT_LEAST,
        (3, 4, 5, 6),
        "late",
        Decimal(1),
    ),
    "opportunities": MetricTemplate(
        Side.PARTNER,
        MetricKind.RESULT,
        "Qualified opportunities",
        "Register qualified opportunities in the deal registration portal",
        "opportunities",
        Direction.AT_LEAST,
        (15, 20, 25, 30, 40),
        "end",
        Decimal(1),
    ),
    "pipeline": MetricTemplate(
        Side.PARTNER,
        MetricKind.RESULT,
        "Pipeline value",
        "Grow the qualified pipeline sourced by the partner",
        "USD",
        Direction.AT_LEAST,
        (250_000, 400_000, 600_000, 900_000),
        "end",
        Decimal(1000),
    ),
}

COMPANIES = (
    "Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Wayne", "Stark", "Tyrell",
    "Cyberdyne", "Wonka", "Soylent", "Aperture", "Oscorp", "Massive Dynamic", "Pied Piper",
    "Gekko", "Monarch", "Nakatomi", "Sirius", "Blue Sun", "Prestige", "Dunder", "Bluth",
)  # fmt: skip
TRADES = ("Networks", "Systems", "Cloud", "Data", "Consulting", "Security", "Integration")
FIRST_NAMES = (
    "Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jon", "Kemi",
    "Liam", "Mara", "Nils", "Omar", "Priya", "Quinn", "Rosa", "Sami", "Tara", "Umar", "Vera",
)  # fmt: skip
LAST_NAMES = (
    "Adams", "Baker", "Costa", "Dubois", "Evans", "Fischer", "Garcia", "Haddad", "Ito", "Jensen",
    "Kowalski", "Lopez", "Moreau", "Nowak", "Okafor", "Patel", "Rossi", "Silva", "Tanaka",
)  # fmt: skip
