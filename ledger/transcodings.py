"""JSON transcodings for every type the events and snapshots carry (names are permanent)."""

from __future__ import annotations

import dataclasses
from datetime import date
from enum import Enum
from typing import Any

from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Transcoding,
    UUIDAsHex,
)

from ledger.domain import state, values


class DateAsISO(Transcoding):
    """A calendar date as ``YYYY-MM-DD``."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class EnumAsValue(Transcoding):
    """An enumeration member as its value."""

    def __init__(self, enum: type[Enum], name: str) -> None:
        self.type = enum
        self.name = name

    def encode(self, obj: Enum) -> Any:
        return obj.value

    def decode(self, data: Any) -> Enum:
        member: Enum = self.type(data)
        return member


class DataclassAsDict(Transcoding):
    """A dataclass value as a dict of its fields (fields added later need defaults)."""

    def __init__(self, cls: type[Any], name: str) -> None:
        self.type = cls
        self.name = name
        self.fields = tuple(f.name for f in dataclasses.fields(cls))

    def encode(self, obj: Any) -> dict[str, Any]:
        return {name: getattr(obj, name) for name in self.fields}

    def decode(self, data: dict[str, Any]) -> Any:
        return self.type(**data)


ENUMS: dict[str, type[Enum]] = {
    "side": values.Side,
    "role": values.Role,
    "plan_status": values.PlanStatus,
    "metric_kind": values.MetricKind,
    "direction": values.Direction,
    "adjustment_kind": values.AdjustmentKind,
    "adjustment_status": values.AdjustmentStatus,
    "grade": values.Grade,
}

VALUES: dict[str, type[Any]] = {
    "actor_ref": values.ActorRef,
    "metric_spec": values.MetricSpec,
    # Plan state, carried by snapshots.
    "report": state.Report,
    "terms": state.Terms,
    "metric": state.Metric,
    "adjustment": state.Adjustment,
    "review": state.Review,
    "commitment": state.Commitment,
}


def register_all(transcoder: JSONTranscoder) -> None:
    """Register the ledger's transcodings on top of the library's (UUID, Decimal, datetime)."""
    transcoder.register(DateAsISO())
    for name, enum in ENUMS.items():
        transcoder.register(EnumAsValue(enum, name))
    for name, cls in VALUES.items():
        transcoder.register(DataclassAsDict(cls, name))


def ledger_transcoder() -> JSONTranscoder:
    """A transcoder for stored events without an application (the offline export check)."""
    transcoder = JSONTranscoder()
    transcoder.register(UUIDAsHex())
    transcoder.register(DecimalAsStr())
    transcoder.register(DatetimeAsISO())
    register_all(transcoder)
    return transcoder
