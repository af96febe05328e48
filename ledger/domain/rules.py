"""Rules of form shared by the plan's commands: SMART terms, bounded texts, sane amounts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from ledger.domain.errors import InvalidInput
from ledger.domain.values import Direction, MetricSpec

MAX_SHORT_TEXT = 200
MAX_LONG_TEXT = 5000
MAX_URL = 2000
MAX_OBJECTIVES = 20
MAX_PERIOD_DAYS = 366
MAX_CADENCE_DAYS = 366
MAX_GRACE_DAYS = 30
MAX_AMOUNT = Decimal(10) ** 15


def required_text(value: str, what: str, limit: int = MAX_SHORT_TEXT) -> str:
    """A trimmed, non-empty text of bounded length."""
    text = value.strip()
    if not text:
        msg = f"{what} must not be empty"
        raise InvalidInput(msg)
    if len(text) > limit:
        msg = f"{what} must be at most {limit} characters"
        raise InvalidInput(msg)
    return text


def optional_text(value: str | None, what: str, limit: int = MAX_LONG_TEXT) -> str | None:
    """A trimmed text of bounded length, or None when absent or blank."""
    if value is None or not value.strip():
        return None
    return required_text(value, what, limit)


def evidence_link(value: str | None) -> str | None:
    """An optional http(s) link to evidence."""
    link = optional_text(value, "evidence_url", MAX_URL)
    if link is not None and not link.lower().startswith(("http://", "https://")):
        msg = "evidence_url must be an http:// or https:// link"
        raise InvalidInput(msg)
    return link


def amount(value: Decimal, what: str) -> Decimal:
    """A finite decimal of sane magnitude."""
    if not value.is_finite():
        msg = f"{what} must be a finite number"
        raise InvalidInput(msg)
    if abs(value) >= MAX_AMOUNT:
        msg = f"{what} must be smaller than 10^15 in magnitude"
        raise InvalidInput(msg)
    return value


def positive_amount(value: Decimal, what: str) -> Decimal:
    """A finite decimal greater than zero."""
    if amount(value, what) <= 0:
        msg = f"{what} must be greater than 0"
        raise InvalidInput(msg)
    return value


def day_count(value: int, what: str, minimum: int, maximum: int) -> int:
    """A whole number of days within bounds."""
    if isinstance(value, bool) or not minimum <= value <= maximum:
        msg = f"{what} must be a whole number of days from {minimum} to {maximum}"
        raise InvalidInput(msg)
    return value


def check_period(start: date, end: date) -> None:
    """A plan period ends after it starts and lasts at most a year."""
    if end <= start:
        msg = f"period_end ({end}) must be after period_start ({start})"
        raise InvalidInput(msg)
    if end - start > timedelta(days=MAX_PERIOD_DAYS):
        msg = f"a plan period lasts at most {MAX_PERIOD_DAYS} days"
        raise InvalidInput(msg)


def within_period(day: date, start: date, end: date, what: str) -> date:
    """A date inside the plan period (both ends included)."""
    if not start <= day <= end:
        msg = f"{what} ({day}) must be inside the plan period {start} to {end}"
        raise InvalidInput(msg)
    return day


def smart(spec: MetricSpec, start: date, end: date) -> MetricSpec:
    """Check a metric's terms are SMART and return them with trimmed texts.

    Specific (name, description), measurable (unit, positive target), time-bound (due date
    inside the period). Attainable and relevant are what the other side's agreement attests.
    """
    positive_amount(spec.target, "target")
    within_period(spec.due_date, start, end, "due_date")
    return MetricSpec(
        owner_side=spec.owner_side,
        kind=spec.kind,
        name=required_text(spec.name, "name"),
        description=required_text(spec.description, "description", MAX_LONG_TEXT),
        unit=required_text(spec.unit, "unit"),
        direction=spec.direction,
        target=spec.target,
        due_date=spec.due_date,
        objective=optional_text(spec.objective, "objective", MAX_SHORT_TEXT),
    )


def attainment(direction: Direction, target: Decimal, value: Decimal | None) -> Fraction:
    """How far a reported value attains its target, exactly, from 0 to 1 (docs/scoring.md)."""
    if value is None:
        return Fraction(0)
    v, t = Fraction(value), Fraction(target)
    if direction is Direction.AT_LEAST:
        return max(Fraction(0), min(Fraction(1), v / t))
    return Fraction(1) if v <= t else t / v


def recorded_on(moment: datetime) -> date:
    """The UTC calendar date of a recorded time."""
    return moment.astimezone(UTC).date()


def counts_for_delivery(
    as_of: date, recorded_at: datetime, due_date: date, grace_days: int
) -> bool:
    """Whether a report may decide a metric's delivery: as of the due date or earlier, and
    recorded at most ``grace_days`` after it. Of those, the deciding report is the latest by
    ``as_of``, then by recording order (docs/scoring.md, "Delivery")."""
    return as_of <= due_date and recorded_on(recorded_at) <= due_date + timedelta(days=grace_days)
