"""One reminder pass: read who may get e-mail and what waits on them, then send each e-mail
not sent before (claimed first, so no e-mail goes out twice, also across processes)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import structlog

from ledger.domain import Side
from projections.models import notifications
from projections.models.directory import TOKENS, actors, partners
from projections.models.inbox import FACTS, side_inbox
from projections.models.notifications import Preferences
from projections.rules import reminders as rules
from projections.rules.portfolio import portfolio
from projections.rules.reminders import Links, Planned, Recipient
from projections.rules.rollups import partnership_score
from projections.runtime.mail import Mail, Mailer, compose
from projections.runtime.store import Cursor, ReadStore

LOGGER = "counterpart.reminders"
ACTING = {"manager": Side.VENDOR, "partner": Side.PARTNER}
ALL = 1_000_000


def _everyone(cursor: Cursor) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    after = None
    while page := actors(cursor, after=after, limit=500):
        found += page
        after = page[-1]["id"]
    return found


def _with_tokens(cursor: Cursor) -> set[str]:
    """Actors who hold at least one token not revoked (revoked people get no e-mail)."""
    cursor.execute(f"SELECT DISTINCT actor_id FROM {TOKENS} WHERE revoked = 0")
    return {str(row[0]) for row in cursor.fetchall()}


def _scope(cursor: Cursor, person: dict[str, Any]) -> list[tuple[UUID, str]]:
    """(partner id, name) of the partnerships a manager or partner contact acts in."""
    if person["role"] == "manager":
        owned = partners(cursor, manager_id=UUID(person["id"]), limit=ALL)
    elif person["partner_id"] is not None:
        owned = partners(cursor, partner_ids=[UUID(person["partner_id"])], limit=ALL)
    else:
        owned = []
    return [(UUID(p["id"]), str(p["name"])) for p in owned]


class ReminderPass:
    """Works out and sends the e-mails of one day (see ``projections.rules.reminders``)."""

    def __init__(
        self,
        store: ReadStore,
        mailer: Mailer | None,
        sender: str,
        links: Links,
        now: Callable[[], datetime],
    ) -> None:
        self.store = store
        self.mailer = mailer
        self.sender = sender
        self.links = links
        self.now = now
        self._log = structlog.get_logger(LOGGER)

    def plan(self, today: date) -> list[Planned]:
        """Every e-mail due ``today`` that has not been sent before."""
        planned: list[Planned] = []
        digest_day = rules.is_digest_day(today)
        with self.store.reading() as cursor:
            chosen = notifications.all_preferences(cursor)
            figures: tuple[dict[str, Any], dict[str, Any]] | None = None
            reachable = _with_tokens(cursor)
            for person in _everyone(cursor):
                if person["id"] not in reachable:
                    continue
                recipient = Recipient(person["id"], person["name"], person["email"], person["role"])
                prefs = chosen.get(recipient.id, Preferences())
                side = ACTING.get(person["role"])
                if side is not None:
                    planned += self._for_actor(
                        cursor,
                        person=person,
                        recipient=recipient,
                        side=side,
                        prefs=prefs,
                        today=today,
                    )
                elif person["role"] == "leader" and digest_day and prefs.digest:
                    if figures is None:
                        figures = self._portfolio(cursor, today)
                    planned.append(rules.portfolio_digest(recipient, *figures, self.links, today))
            done = notifications.recorded_keys(cursor, [p.key for p in planned])
        return [p for p in planned if p.key not in done]

    def _for_actor(
        self,
        cursor: Cursor,
        *,
        person: dict[str, Any],
        recipient: Recipient,
        side: Side,
        prefs: Preferences,
        today: date,
    ) -> list[Planned]:
        if not (prefs.reminders or (prefs.digest and rules.is_digest_day(today))):
            return []
        scope = _scope(cursor, person)
        items = side_inbox(cursor, [p for p, _ in scope], side, today)
        planned = []
        if prefs.reminders:
            planned += [
                rules.reminder(recipient, item, self.links, today)
                for item in items
                if rules.due_for_reminder(item, today)
            ]
        if prefs.digest and rules.is_digest_day(today):
            scores: list[tuple[str, Decimal | None, Decimal | None]] = []
            before = rules.week_before(today)
            for partner_id, name in scope:
                plans = FACTS.of_partner(cursor, partner_id)
                scores.append(
                    (
                        name,
                        partnership_score(plans, side, today).score,
                        partnership_score(plans, side, before).score,
                    )
                )
            planned.append(rules.digest(recipient, items, scores, self.links, today))
        return planned

    @staticmethod
    def _portfolio(cursor: Cursor, today: date) -> tuple[dict[str, Any], dict[str, Any]]:
        every = partners(cursor, limit=ALL)
        facts = {UUID(p["id"]): FACTS.of_partner(cursor, UUID(p["id"])) for p in every}
        return portfolio(facts, today), portfolio(facts, rules.week_before(today))

    def run(self, today: date, *, dry_run: bool = False) -> list[Planned]:
        """Send the day's e-mails (or, with ``dry_run``, only say which); those sent."""
        if dry_run:
            return self.plan(today)
        if self.mailer is None:  # no e-mail is configured: nothing to work out
            return []
        planned = self.plan(today)
        sent = []
        for mail in planned:
            claim_id = uuid.uuid4().hex
            taken = notifications.claim(
                self.store,
                mail.key,
                actor_id=mail.recipient.id,
                kind=mail.kind,
                subject=mail.subject,
                claim_id=claim_id,
                now=self.now(),
            )
            if not taken:
                continue  # another pass (perhaps in another process) has it
            message = compose(
                Mail(mail.recipient.email, mail.subject, mail.text, mail.html), self.sender
            )
            try:
                self.mailer.send(message)
            except Exception as error:  # the mail server refused or is away: try next pass
                notifications.release(self.store, mail.key, claim_id)
                self._log.warning(
                    "reminder_not_sent", key=mail.key, error=f"{type(error).__name__}: {error}"
                )
                continue
            notifications.mark_sent(self.store, mail.key, claim_id, self.now())
            self._log.info("reminder_sent", key=mail.key, to=mail.recipient.email, kind=mail.kind)
            sent.append(mail)
        return sent
