"""What a server process holds while it runs: the ledger, the read store, the projections."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from api.auth import KnownTokens
from api.config import ServerSettings
from api.integrity import Integrity
from api.web.sessions import SignIns
from ledger.application import Counterpart
from ledger.clock import Clock
from ledger.settings import Settings
from projections.runtime.embedded import EmbeddedProjections
from projections.runtime.notifications import Notifications, NotifySettings
from projections.runtime.registry import all_projections
from projections.runtime.runner import Runner, Status
from projections.runtime.store import Cursor, ReadStore, open_store


@dataclass
class Services:
    """The composition of one server process; built by ``start`` in the app's lifespan."""

    settings: Settings
    server: ServerSettings
    app: Counterpart
    store: ReadStore
    runner: Runner
    integrity: Integrity
    embedded: EmbeddedProjections | None = None
    on_appended: list[Callable[[int], None]] = field(default_factory=list)
    notify: NotifySettings = field(default_factory=NotifySettings)
    notifications: Notifications | None = None
    on_delivery: list[Callable[[str], None]] = field(default_factory=list)
    on_reminder: list[Callable[[str], None]] = field(default_factory=list)
    known_tokens: KnownTokens = field(default_factory=lambda: KnownTokens(0))

    @classmethod
    def start(
        cls,
        settings: Settings,
        server: ServerSettings,
        clock: Clock | None = None,
        notify: NotifySettings | None = None,
    ) -> Services:
        """Open the ledger and the read store; start the embedded projections if configured."""
        app = Counterpart(settings, clock)
        store = open_store(settings)
        try:
            if server.projections == "embedded":
                embedded = EmbeddedProjections(app, store, poll_interval=server.poll_interval)
                runner = embedded.runner
            else:
                embedded = None
                runner = Runner(app, store, all_projections(app))
            runner.setup()
            SignIns(store).create()
            integrity = Integrity.open(app, settings)
            services = cls(settings, server, app, store, runner, integrity, embedded)
            services.notify = notify or NotifySettings.from_env()
            services.known_tokens = KnownTokens(server.token_cache_seconds)
            app.on_saved = services._appended
            if embedded is not None:
                embedded.start()
                integrity.start_notary()  # checkpoints are issued where projections run
                services.notifications = Notifications(
                    store,
                    services.notify,
                    app.clock.now,
                    on_delivery=lambda outcome: services._told(services.on_delivery, outcome),
                    on_reminder=lambda kind: services._told(services.on_reminder, kind),
                )
                services.notifications.start()  # webhooks and reminders go where projections run
        except BaseException:
            store.close()
            app.close()
            raise
        return services

    def stop(self) -> None:
        """Stop the projections and release every connection."""
        self.stop_background()
        self.store.close()
        self.app.close()

    def stop_background(self) -> None:
        """Stop the projections and the notary, leaving the connections open."""
        if self.notifications is not None:
            self.notifications.stop()
        if self.embedded is not None:
            self.embedded.stop()
        self.integrity.stop()

    @staticmethod
    def _told(listeners: list[Callable[[str], None]], what: str) -> None:
        for listener in listeners:
            listener(what)

    def _appended(self, count: int) -> None:
        # The projections are not nudged here: under load they keep up in larger (far
        # cheaper) batches at their poll interval. A read that must see a write nudges them.
        for listener in self.on_appended:
            listener(count)

    @contextmanager
    def reading(self) -> Iterator[Cursor]:
        """A consistent read of the read models."""
        with self.store.reading() as cursor:
            yield cursor

    def settle(self) -> bool:
        """Wait (bounded) until the projections include this thread's last write."""
        position = self.app.last_saved_position()
        if position == 0:
            return True
        if self.embedded is not None:
            self.embedded.nudge()  # appends no longer nudge; a read that must see one does
        return self.runner.wait_for(position, self.server.read_your_writes_timeout)

    def catch_up(self) -> bool:
        """Wait (bounded) for the projections to reach the ledger's head; False if they were
        already there (nothing new to see) or did not get there in time."""
        head = self.app.head_position()
        if min(self.runner.positions().values(), default=head) >= head:
            return False
        if self.embedded is not None:
            self.embedded.nudge()
        return self.runner.wait_for(head, self.server.read_your_writes_timeout)

    def projection_status(self) -> list[Status]:
        """Each projection's position and lag."""
        return self.runner.status()

    @property
    def projections_running(self) -> bool:
        """Whether the projections are being kept up to date (by this process or a worker)."""
        if self.embedded is None:
            return True
        return self.embedded.running
