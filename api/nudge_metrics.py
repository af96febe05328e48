"""Prometheus metrics of the nudges: webhook deliveries by outcome, delivery lag, reminders."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from api.services import Services
from projections.runtime.webhook_sender import delivery_lag


class DeliveryLag(Collector):
    """``counterpart_webhook_delivery_lag_positions``, read from the database when scraped."""

    def __init__(self) -> None:
        self.services: Services | None = None

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Ledger positions between the head and the oldest event not yet delivered."""
        family = GaugeMetricFamily(
            "counterpart_webhook_delivery_lag_positions",
            "Ledger positions between the head and the oldest event still to deliver.",
        )
        if self.services is not None:
            try:
                head = self.services.app.recorder.max_notification_id() or 0
                with self.services.reading() as cursor:
                    family.add_metric([], delivery_lag(cursor, head))
            except Exception:  # noqa: S110 (the database is away: the other figures still count)
                pass
        yield family


class NudgeMetrics:
    """The counters, registered in the app's registry, fed by the process's background work."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.deliveries = Counter(
            "counterpart_webhook_deliveries_total",
            "Webhook delivery attempts by this process, by outcome (delivered, retrying, failed).",
            ["outcome"],
            registry=registry,
        )
        self.reminders = Counter(
            "counterpart_reminders_sent_total",
            "E-mails sent by this process's reminder passes, by kind (item, digest, portfolio).",
            ["kind"],
            registry=registry,
        )
        self.lag = DeliveryLag()
        registry.register(self.lag)

    def attach(self, services: Services) -> None:
        """Count what the services' background work reports."""
        self.lag.services = services
        services.on_delivery.append(lambda outcome: self.deliveries.labels(outcome).inc())
        services.on_reminder.append(lambda kind: self.reminders.labels(kind).inc())
