"""The base of every aggregate: events that carry the actor, request id and recorded time."""

from __future__ import annotations

import copy
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Self
from uuid import UUID

from eventsourcing.domain import Aggregate

from ledger.domain.values import Acting, ActorRef

IMMUTABLE_TYPES = frozenset(
    {str, int, float, bool, bytes, type(None), UUID, date, datetime, Decimal}
)


def fast_copy(value: Any, memo: dict[int, Any]) -> Any:
    """A deep copy that shares immutable values instead of rebuilding them.

    ``copy.deepcopy`` rebuilds every UUID, date and datetime through ``__reduce_ex__``; the
    state of an aggregate is mostly such values, so sharing them makes copies several times
    cheaper. Frozen value objects share themselves through their own ``__deepcopy__``.
    """
    kind = type(value)
    if kind in IMMUTABLE_TYPES or isinstance(value, Enum):
        return value
    if kind is list:
        return [fast_copy(item, memo) for item in value]
    if kind is dict:
        return {key: fast_copy(item, memo) for key, item in value.items()}
    return copy.deepcopy(value, memo)


class LedgerAggregate(Aggregate):
    """An aggregate whose every event records who caused it, under which request, and when."""

    class Event(Aggregate.Event):
        """An event of a ledger aggregate; ``timestamp`` is the recorded time."""

        actor: ActorRef
        request_id: str | None

    class Created(Event, Aggregate.Created):
        """The first event of a ledger aggregate."""

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        clone = object.__new__(type(self))
        clone.__dict__.update({k: fast_copy(v, memo) for k, v in self.__dict__.items()})
        return clone

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
