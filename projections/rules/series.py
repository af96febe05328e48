"""The dates of a score series: every ``every`` days back from its last date, oldest first."""

from __future__ import annotations

from datetime import date, timedelta

MAX_POINTS = 200
DEFAULT_POINTS = 26


def series_days(start: date | None, end: date, every: int) -> list[date]:
    """``end``, ``end - every``, … down to ``start`` (default: 26 points), oldest first.

    The last point is always ``end``, so a series ending today ends with today's figure.
    Raises ``ValueError`` when ``start`` is after ``end``, ``every`` is below 1, or the range
    holds more than ``MAX_POINTS`` points.
    """
    if every < 1:
        msg = "every: must be at least 1 day"
        raise ValueError(msg)
    if start is None:
        start = end - timedelta(days=every * (DEFAULT_POINTS - 1))
    if start > end:
        msg = "from: must be on or before to"
        raise ValueError(msg)
    count = (end - start).days // every + 1
    if count > MAX_POINTS:
        msg = (
            f"from, to, every: {count} points asked, at most {MAX_POINTS}; "
            "narrow the range or widen every"
        )
        raise ValueError(msg)
    return [end - timedelta(days=every * k) for k in range(count - 1, -1, -1)]
