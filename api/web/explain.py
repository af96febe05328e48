"""Score items in words: why each point of a side's score is what it is."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from projections.rules.scoring import DELIVERY, REPORTING, RESPONSIVENESS, REVIEWS

COMPONENT_TITLES = {
    DELIVERY: "Delivery",
    REPORTING: "Reporting discipline",
    REVIEWS: "Review participation",
    RESPONSIVENESS: "Responsiveness",
}
COMPONENT_HELP = {
    DELIVERY: "how much of each metric due so far the side delivered",
    REPORTING: "reporting windows with at least one progress report",
    REVIEWS: "review windows with a review this side attended",
    RESPONSIVENESS: "how quickly the side answered the other side's requests",
}
REQUESTS = {"agree_metric": "agree to", "answer_adjustment": "answer an adjustment of"}


def percent(value: str | float | None) -> str:
    """A share as a whole percentage, or a dash."""
    if value is None:
        return "—"
    return f"{float(Fraction(str(value))) * 100:.0f}%"


def item_reason(component: str, item: dict[str, Any], names: dict[str, str]) -> str:
    """One item of a component, as a sentence a person reads."""
    if component == DELIVERY:
        got = item["value"]
        counted = (
            f"{got} reported as of {item['as_of']}" if got is not None else "no report counted"
        )
        return (
            f"{item['name']}: {counted} against a target of {item['target']} due "
            f"{item['due_date']}, so {percent(item['attainment'])} delivered"
        )
    if component == REPORTING:
        name = names.get(item["metric_id"], "a metric")
        done = "reported in this window" if item["met"] else "no report recorded in this window"
        return f"{name}, {item['window_start']} to {item['window_end']}: {done}"
    if component == REVIEWS:
        done = "a review this side attended" if item["met"] else "no review this side attended"
        return f"{item['window_start']} to {item['window_end']}: {done}"
    if component == RESPONSIVENESS:
        what = REQUESTS.get(item["kind"], item["kind"])
        subject = names.get(item["subject_id"], "a metric")
        days = float(Fraction(item["days"]))
        opened = item["opened_at"][:10]
        credit = {"1": "full credit", "1/2": "half credit"}.get(item["credit"], "no credit")
        if item["state"] == "answered":
            return (
                f"Asked on {opened} to {what} {subject}: answered after {days:.1f} days, {credit}"
            )
        if item["state"] == "superseded":
            return f"Asked on {opened} to {what} {subject}: open {days:.1f} days before it lapsed"
        return f"Asked on {opened} to {what} {subject}: unanswered for {days:.1f} days, no credit"
    return str(item)


def item_met(component: str, item: dict[str, Any]) -> bool:
    """Whether an item earned its full share."""
    if component == DELIVERY:
        return Fraction(item["attainment"]) == 1
    if component == RESPONSIVENESS:
        return str(item["credit"]) == "1"
    return bool(item["met"])
