"""The nudges' background work wherever projections run (the embedded server, the worker):
the webhook sender and the periodic reminder pass, each on a thread, with their settings."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

import structlog

from projections.rules.reminders import Links
from projections.runtime.embedded import UNAVAILABLE
from projections.runtime.mail import mailer_from
from projections.runtime.reminders import ReminderPass
from projections.runtime.store import ReadStore
from projections.runtime.webhook_sender import LEASE, RetryPolicy, WebhookSender

LOGGER = "counterpart.notifications"
TRUE = {"1", "true", "yes", "y", "on"}


@dataclass(frozen=True)
class NotifySettings:
    """E-mail and webhook settings, from ``COUNTERPART_*`` variables (docs/notifications.md)."""

    smtp_url: str | None = None
    mail_from: str = "Counterpart <counterpart@localhost>"
    public_url: str = "http://127.0.0.1:8000"
    remind_every: float = 900.0
    webhooks_allow_private: bool = False
    webhook_concurrency: int = 8
    webhook_retry_first: float = 5.0
    webhook_retry_cap: float = 3600.0
    webhook_retry_for: float = 86_400.0
    webhook_lease: float = LEASE

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> NotifySettings:
        """Settings from the environment (defaults otherwise); a bad value raises ValueError."""
        env = os.environ if environ is None else environ
        settings = cls(
            smtp_url=env.get("COUNTERPART_SMTP_URL") or None,
            mail_from=env.get("COUNTERPART_MAIL_FROM") or cls.mail_from,
            public_url=env.get("COUNTERPART_PUBLIC_URL") or cls.public_url,
            remind_every=_seconds(env, "COUNTERPART_REMIND_EVERY", cls.remind_every),
            webhooks_allow_private=(env.get("COUNTERPART_WEBHOOKS_ALLOW_PRIVATE") or "").lower()
            in TRUE,
            webhook_concurrency=int(
                _seconds(env, "COUNTERPART_WEBHOOKS_CONCURRENCY", cls.webhook_concurrency)
            ),
            webhook_retry_first=_seconds(
                env, "COUNTERPART_WEBHOOKS_RETRY_FIRST", cls.webhook_retry_first
            ),
            webhook_retry_cap=_seconds(
                env, "COUNTERPART_WEBHOOKS_RETRY_CAP", cls.webhook_retry_cap
            ),
            webhook_retry_for=_seconds(
                env, "COUNTERPART_WEBHOOKS_RETRY_FOR", cls.webhook_retry_for
            ),
            webhook_lease=_seconds(env, "COUNTERPART_WEBHOOKS_LEASE", cls.webhook_lease),
        )
        mailer_from(settings.smtp_url)  # refuse a malformed URL at start, not at the first mail
        return settings

    @property
    def retry_policy(self) -> RetryPolicy:
        """How deliveries are retried."""
        return RetryPolicy(self.webhook_retry_first, self.webhook_retry_cap, self.webhook_retry_for)


def _seconds(env: Mapping[str, str], key: str, default: float) -> float:
    raw = env.get(key)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        msg = f"{key} must be a number, not {raw!r}"
        raise ValueError(msg) from None
    if not value > 0:
        msg = f"{key} must be positive, not {raw!r}"
        raise ValueError(msg)
    return value


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
            concurrency=settings.webhook_concurrency,
            policy=settings.retry_policy,
            on_outcome=on_delivery,
            lease=settings.webhook_lease,
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
