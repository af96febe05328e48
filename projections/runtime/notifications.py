"""The nudges' background work wherever projections run (the embedded server, the worker):
the webhook sender and the periodic reminder pass, each on a thread, with their settings."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

import structlog
from pydantic import Field, field_validator

from ledger.settings import EnvironmentSettings
from projections.rules.reminders import Links
from projections.runtime.embedded import UNAVAILABLE
from projections.runtime.mail import mailer_from
from projections.runtime.reminders import ReminderPass
from projections.runtime.store import ReadStore
from projections.runtime.webhook_sender import LEASE, RetryPolicy, WebhookSender

LOGGER = "counterpart.notifications"


class NotifySettings(EnvironmentSettings):
    """E-mail and webhook settings, from ``COUNTERPART_*`` variables (docs/notifications.md)."""

    smtp_url: str | None = None
    mail_from: str = "Counterpart <counterpart@localhost>"
    public_url: str = "http://127.0.0.1:8000"
    remind_every: float = Field(900.0, gt=0)
    webhooks_allow_private: bool = False
    webhooks_concurrency: int = Field(8, gt=0)
    webhooks_retry_first: float = Field(5.0, gt=0)
    webhooks_retry_cap: float = Field(3600.0, gt=0)
    webhooks_retry_for: float = Field(86_400.0, gt=0)
    webhooks_lease: float = Field(LEASE, gt=0)

    @field_validator("smtp_url")
    @classmethod
    def _mailer(cls, value: str | None) -> str | None:
        """A malformed URL is refused at start, not at the first mail."""
        mailer_from(value)
        return value

    @property
    def retry_policy(self) -> RetryPolicy:
        """How deliveries are retried."""
        return RetryPolicy(
            self.webhooks_retry_first, self.webhooks_retry_cap, self.webhooks_retry_for
        )


def reminder_pass(
    store: ReadStore, settings: NotifySettings, now: Callable[[], datetime]
) -> ReminderPass:
    """A reminder pass configured by the settings."""
    return ReminderPass(
        store, mailer_from(settings.smtp_url), settings.mail_from, Links(settings.public_url), now
    )


class Notifications:
    """Delivers webhooks and runs a reminder pass every ``remind_every`` seconds."""

    def __init__(
        self,
        store: ReadStore,
        settings: NotifySettings,
        now: Callable[[], datetime],
        *,
        on_delivery: Callable[[str], None] | None = None,
        on_reminder: Callable[[str], None] | None = None,
        idle: float = 0.1,
    ) -> None:
        self.settings = settings
        self.now = now
        self.idle = idle
        self.on_reminder = on_reminder
        self.sender = WebhookSender(
            store,
            now,
            allow_private=settings.webhooks_allow_private,
            concurrency=settings.webhooks_concurrency,
            policy=settings.retry_policy,
            on_outcome=on_delivery,
            lease=settings.webhooks_lease,
        )
        self.reminders = reminder_pass(store, settings, now)
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._log = structlog.get_logger(LOGGER)

    def start(self) -> None:
        """Start the sender's and the reminders' threads."""
        for name, target in (("webhooks", self._deliver), ("reminders", self._remind)):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def _deliver(self) -> None:
        pause = self.idle
        while not self._stopping.is_set():
            try:
                if self.sender.run_once():
                    pause = self.idle
                    continue
            except UNAVAILABLE as error:  # the database is away: try again a little later
                self._log.warning("webhooks_paused", error=type(error).__name__)
                pause = min(pause * 2, 1.0)
            except Exception:  # a bug must not stop deliveries for good: logged, retried
                self._log.exception("webhooks_round_failed")
                pause = 1.0
            self._stopping.wait(pause)

    def _remind(self) -> None:
        while not self._stopping.is_set():
            try:
                if self.reminders.mailer is None:  # no e-mail configured: nothing to do
                    return
                sent = self.reminders.run(self.now().date())
                for mail in sent:
                    if self.on_reminder is not None:
                        self.on_reminder(mail.kind)
            except Exception:  # logged; the next pass tries again
                self._log.exception("reminder_pass_failed")
            self._stopping.wait(self.settings.remind_every)

    def stop(self, timeout: float = 15.0) -> None:
        """Stop both threads (the sender finishes the messages it is sending)."""
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout)
        self.sender.close()
