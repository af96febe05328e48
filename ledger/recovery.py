"""Commit recovery: a write that conflicts only with itself was stored already, and is done.

The library tries an insert again when the connection fails; if the failure hid a commit (the
database stored the events, then the connection broke before saying so), the retry conflicts
with those very events (``Counterpart._record`` asks this module before calling it a conflict).
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import ApplicationRecorder, Mapper, Notification, Recording


def recorded_already(
    mapper: Mapper[UUID],
    recorder: ApplicationRecorder,
    events: Sequence[DomainEventProtocol[UUID]],
) -> list[Recording[UUID]] | None:
    """Recordings of these exact events if the store holds them already, else None.

    Only for events of a request (with its id): events without one (the command line, a
    test) could be byte for byte those of another writer, and are never taken as done.
    """
    if not events or not all(getattr(e, "request_id", None) for e in events):
        return None
    stored = [mapper.to_stored_event(event) for event in events]
    for originator_id in {event.originator_id for event in events}:
        mine = [s for s in stored if s.originator_id == originator_id]
        found = recorder.select_events(
            originator_id,
            gt=mine[0].originator_version - 1,
            lte=mine[-1].originator_version,
        )
        if [(f.topic, f.state) for f in found] != [(m.topic, m.state) for m in mine]:
            return None
    position = recorder.max_notification_id() or 0  # at or after these events
    return [
        Recording(
            event,
            Notification(
                originator_id=s.originator_id,
                originator_version=s.originator_version,
                topic=s.topic,
                state=s.state,
                id=position,
            ),
        )
        for event, s in zip(events, stored, strict=True)
    ]
