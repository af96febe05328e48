"""Which e-mails a reminder pass sends, and what each one says (pure: no I/O).

- An inbox item is e-mailed once per (actor, item, act_by) to each actor of the side that can
  act on it, when its ``act_by`` is at most two days away (items without ``act_by``: as soon
  as they appear).
- On Mondays each manager and partner contact gets a digest of their open items and their
  side's score change over the week; leaders get the portfolio's figures and their change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from html import escape
from typing import Any

from projections.rules.inbox import InboxItem

REMIND_DAYS = 2
ITEM, DIGEST, PORTFOLIO = "item", "digest", "portfolio"


@dataclass(frozen=True)
class Recipient:
    """Someone who may get e-mail: their id, name, address and role."""

    id: str
    name: str
    email: str
    role: str


@dataclass(frozen=True)
class Links:
    """Where the e-mails point: the web workspace and the API, under one public address."""

    base: str

    def page(self, plan_id: object) -> str:
        """The plan's web page."""
        return f"{self.base.rstrip('/')}/plans/{plan_id}"

    def call(self, method: str, path: str) -> str:
        """The API call, as a line a person can copy."""
        return f"{method} {self.base.rstrip('/')}{path}"

    @property
    def home(self) -> str:
        """The workspace's home page (the inbox)."""
        return f"{self.base.rstrip('/')}/"


@dataclass(frozen=True)
class Planned:
    """One e-mail a pass will send: to whom, its once-only key, and its text."""

    kind: str
    recipient: Recipient
    key: str
    subject: str
    text: str
    html: str
    item: InboxItem | None = None

    def view(self) -> dict[str, Any]:
        """The e-mail as ``counterpart remind --json`` prints it."""
        return {
            "kind": self.kind,
            "to": self.recipient.email,
            "actor_id": self.recipient.id,
            "key": self.key,
            "subject": self.subject,
            "item": None if self.item is None else self.item.view(),
        }


def due_for_reminder(item: InboxItem, today: date) -> bool:
    """Whether an item is to be e-mailed today: act_by at most two days away, or none."""
    return item.act_by is None or (item.act_by - today).days <= REMIND_DAYS


def reminder_key(recipient: Recipient, item: InboxItem) -> str:
    """The once-only key of an item's reminder: actor, item and act_by."""
    act_by = "" if item.act_by is None else item.act_by.isoformat()
    return f"{ITEM}:{recipient.id}:{item.key}:{act_by}"


def digest_key(kind: str, recipient: Recipient, day: date) -> str:
    """The once-only key of a weekly digest: its kind, the actor and the ISO week."""
    year, week, _ = day.isocalendar()
    return f"{kind}:{recipient.id}:{year}-W{week:02d}"


def is_digest_day(day: date) -> bool:
    """Digests go out on Mondays."""
    return day.weekday() == 0


def _what(item: InboxItem) -> str:
    return "no deadline" if item.act_by is None else f"by {item.act_by.isoformat()}"


def _protects(item: InboxItem) -> str:
    component = item.component or "no score component"
    return f"{component}: {item.detail}" if item.component else item.detail


def reminder(recipient: Recipient, item: InboxItem, links: Links, today: date) -> Planned:
    """The e-mail about one inbox item: what waits, by when, what it protects, where to act."""
    when = _what(item)
    subject = f"[Counterpart] {item.title} ({when})"
    page, call = links.page(item.plan_id), links.call(item.method, item.path)
    text = (
        f"Hello {recipient.name},\n\n"
        f"Waiting on your side since {item.waiting_since:%Y-%m-%d}: {item.title}.\n"
        f"Act {when}.\n"
        f"It protects {_protects(item)}.\n\n"
        f"Open the plan: {page}\n"
        f"Or call the API: {call}\n\n"
        f"Your inbox: {links.home} (GET /v1/me/inbox)\n"
        "You get this e-mail because reminders are on for you; turn them off with "
        'PUT /v1/me/notifications {"email": {"reminders": false}}.\n'
    )
    html = (
        f"<p>Hello {escape(recipient.name)},</p>"
        f"<p>Waiting on your side since {item.waiting_since:%Y-%m-%d}: "
        f"<strong>{escape(item.title)}</strong>.</p>"
        f"<p>Act <strong>{escape(when)}</strong>. It protects {escape(_protects(item))}.</p>"
        f'<p><a href="{escape(page)}">Open the plan</a> or call the API: '
        f"<code>{escape(call)}</code></p>"
        f'<p><a href="{escape(links.home)}">Your inbox</a></p>'
    )
    return Planned(ITEM, recipient, reminder_key(recipient, item), subject, text, html, item)


def _score_text(value: Decimal | None) -> str:
    return "no score" if value is None else str(value)


def _change(now: Decimal | None, before: Decimal | None) -> str:
    if now is None or before is None:
        return f"{_score_text(now)} (a week ago: {_score_text(before)})"
    delta = now - before
    sign = "+" if delta > 0 else ""
    return f"{now} ({sign}{delta} since a week ago)"


def digest(
    recipient: Recipient,
    items: list[InboxItem],
    scores: list[tuple[str, Decimal | None, Decimal | None]],
    links: Links,
    today: date,
) -> Planned:
    """The weekly digest: the actor's open items, and their side's score per partnership."""
    subject = f"[Counterpart] Your week: {len(items)} open item{'s' * (len(items) != 1)}"
    lines = [f"Hello {recipient.name},", "", f"Open items as of {today.isoformat()}:"]
    html = [f"<p>Hello {escape(recipient.name)},</p>", f"<p>Open items as of {today}:</p><ul>"]
    for item in items:
        lines.append(f"- {item.title} ({_what(item)}; protects {item.component or 'nothing'})")
        lines.append(f"  {links.page(item.plan_id)}  ·  {links.call(item.method, item.path)}")
        html.append(
            f'<li><a href="{escape(links.page(item.plan_id))}">{escape(item.title)}</a> '
            f"({escape(_what(item))}; protects {escape(item.component or 'nothing')})</li>"
        )
    if not items:
        lines.append("- nothing is waiting on your side")
        html.append("<li>nothing is waiting on your side</li>")
    html.append("</ul><p>Your side's score by partnership:</p><ul>")
    lines += ["", "Your side's score by partnership:"]
    for name, now, before in scores:
        lines.append(f"- {name}: {_change(now, before)}")
        html.append(f"<li>{escape(name)}: {escape(_change(now, before))}</li>")
    lines += ["", f"Your inbox: {links.home} (GET /v1/me/inbox)"]
    html.append(f'</ul><p><a href="{escape(links.home)}">Your inbox</a></p>')
    return Planned(
        DIGEST,
        recipient,
        digest_key(DIGEST, recipient, today),
        subject,
        "\n".join(lines) + "\n",
        "".join(html),
    )


def portfolio_digest(
    recipient: Recipient, now: dict[str, Any], before: dict[str, Any], links: Links, today: date
) -> Planned:
    """The leaders' weekly portfolio digest: the leadership figures and their weekly change."""
    subject = f"[Counterpart] Portfolio week of {today.isoformat()}"
    rows: list[tuple[str, str]] = [("Partnerships", f"{now['partnerships']}")]
    for name, label in (
        ("active_plan", "With an active plan both sides committed to"),
        ("all_metrics_agreed", "All metrics agreed by both sides"),
        ("reviewed_recently", "Reviewed within the review cadence"),
    ):
        rows.append((label, f"{now[name]['count']} (a week ago: {before[name]['count']})"))
    for side in ("vendor", "partner"):
        rows.append(
            (f"Mean {side} score", _change(now["mean_score"][side], before["mean_score"][side]))
        )
    paces = now["plans_by_pace"]
    rows.append(
        ("Plans by pace", ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in paces.items()))
    )
    text = "\n".join(
        [f"Hello {recipient.name},", "", f"The portfolio as of {today.isoformat()}:"]
        + [f"- {label}: {value}" for label, value in rows]
        + ["", f"Portfolio: {links.base.rstrip('/')}/portfolio (GET /v1/portfolio)"]
    )
    html = (
        f"<p>Hello {escape(recipient.name)},</p><p>The portfolio as of {today}:</p><table>"
        + "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
        + f'</table><p><a href="{escape(links.base.rstrip("/"))}/portfolio">Portfolio</a></p>'
    )
    return Planned(
        PORTFOLIO, recipient, digest_key(PORTFOLIO, recipient, today), subject, text + "\n", html
    )


def week_before(day: date) -> date:
    """The day a digest compares with."""
    return day - timedelta(days=7)
