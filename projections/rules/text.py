"""Values as the API shows them: decimals without needless digits, dates, UTC times."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal


def decimal_text(value: Decimal | None) -> str | None:
    """A decimal as docs/api.md shows it: a string, no needless exponent or trailing zeros."""
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return "0" if text in {"-0", "0"} else text


def day(value: date | None) -> str | None:
    """A date as ``YYYY-MM-DD``."""
    return None if value is None else value.isoformat()


def moment(value: datetime | None) -> str | None:
    """A time as ISO-8601 UTC with microseconds: fixed width, so text order is time order."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
