"""The base of every aggregate: events that carry the actor, request id and recorded time."""

from __future__ import annotations

from typing import Any, Self

from eventsourcing.domain import Aggregate

from ledger.domain.values import Acting, ActorRef


class LedgerAggregate(Aggregate):
    """An aggregate whose every event records who caused it, under which request, and when."""

    class Event(Aggregate.Event):
        """An event of a ledger aggregate; ``timestamp`` is the recorded time."""

        actor: ActorRef
        request_id: str | None

    class Created(Event, Aggregate.Created):
        """The first event of a ledger aggregate."""

    @classmethod
    def _start(cls, event_class: type[Created], by: Acting, **fields: Any) -> Self:
        """Create the aggregate with its first event, caused by ``by``."""
        return cls._create(
            event_class,
            actor=by.actor,
            request_id=by.request_id,
            timestamp=by.at,
            **fields,
        )

    def _trigger(self, event_class: type[Event], by: Acting, **fields: Any) -> None:
        """Trigger the next event, caused by ``by``."""
        self.trigger_event(
            event_class,
            actor=by.actor,
            request_id=by.request_id,
            timestamp=by.at,
            **fields,
        )
