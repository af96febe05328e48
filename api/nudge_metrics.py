"""Prometheus metrics of the nudges: webhook deliveries by outcome, delivery lag, reminders;
on the API's /metrics, or on a port of their own for the projection worker."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import suppress
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from api.services import Services
from ledger.application import Counterpart
from projections.runtime.store import ReadStore
from projections.runtime.webhook_sender import delivery_lag


class DeliveryLag(Collector):
    """``counterpart_webhook_delivery_lag_positions``, read from the database when scraped."""

    def __init__(self) -> None:
        self.measure: Callable[[], int] | None = None

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Ledger positions between the head and the oldest event not yet delivered."""
        family = GaugeMetricFamily(
            "counterpart_webhook_delivery_lag_positions",
            "Ledger positions between the head and the oldest event still to deliver.",
        )
        if self.measure is not None:
            with suppress(Exception):  # the database is away: the other figures still count
                family.add_metric([], self.measure())
        yield family


class NudgeMetrics:
    """The counters, registered in a registry, fed by the process's background work."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
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

    def delivered(self, outcome: str) -> None:
        """Count one delivery attempt's outcome."""
        self.deliveries.labels(outcome).inc()

    def reminded(self, kind: str) -> None:
        """Count one reminder e-mail sent."""
        self.reminders.labels(kind).inc()

    def attach(self, services: Services) -> None:
        """Count what the services' background work reports (the API server)."""
        self.lag.measure = lambda: _lag(services.app, services.store)
        services.on_delivery.append(self.delivered)
        services.on_reminder.append(self.reminded)

    def measure_lag(self, app: Counterpart, store: ReadStore) -> None:
        """Read the delivery lag from this ledger and read store (the projection worker)."""
        self.lag.measure = lambda: _lag(app, store)


def _lag(app: Counterpart, store: ReadStore) -> int:
    head = app.head_position()
    with store.reading() as cursor:
        return delivery_lag(cursor, head)


def serve_metrics(registry: CollectorRegistry, host: str, port: int) -> WSGIServer:
    """Serve the registry in Prometheus text format at ``http://host:port/metrics`` on a
    thread of its own (prometheus-client's server); ``shutdown()`` stops it."""
    server, _ = start_http_server(port, addr=host, registry=registry)
    return server
