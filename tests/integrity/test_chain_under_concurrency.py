"""The chain stays whole when several processes append, concurrently or in turns, and when an
append is rolled back (a lost race)."""

from __future__ import annotations

import threading
from uuid import uuid4

import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent

from ledger.application import Counterpart
from ledger.integrity import chain_store, verify
from ledger.settings import Settings

WRITERS = 4
APPENDS = 50


def events(count: int, originator: object | None = None, first: int = 1) -> list[StoredEvent]:
    """``count`` events of one aggregate."""
    owner = originator or uuid4()
    return [
        StoredEvent(owner, first + n, "tests:Appended", b'{"n":%d}' % n)  # type: ignore[arg-type]
        for n in range(count)
    ]


def test_two_processes_appending_in_turns_and_at_once_keep_one_whole_chain(
    settings: Settings,
) -> None:
    apps = [Counterpart(settings) for _ in range(2)]
    try:
        for n in range(20):  # in turns: each one's remembered head is stale every other time
            apps[n % 2].recorder.insert_events(events(1 + n % 3))
        errors: list[BaseException] = []

        def append(app: Counterpart) -> None:
            try:
                for n in range(APPENDS):
                    app.recorder.insert_events(events(1 + n % 4))
            except BaseException as error:
                errors.append(error)

        threads = [threading.Thread(target=append, args=(apps[n % 2],)) for n in range(WRITERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors
        verdict = verify(chain_store(apps[0].recorder), keyring=None)
        assert verdict.ok, verdict.detail
        assert verdict.checked == apps[0].recorder.max_notification_id()
    finally:
        for app in apps:
            app.close()


def test_a_rolled_back_append_leaves_no_link_and_the_chain_goes_on(app: Counterpart) -> None:
    owner = uuid4()
    app.recorder.insert_events(events(3, owner))
    with pytest.raises(IntegrityError):
        app.recorder.insert_events([*events(2), *events(1, owner, first=3)])  # version 3 again
    app.recorder.insert_events(events(2))
    verdict = verify(chain_store(app.recorder), keyring=None)
    assert verdict.ok, verdict.detail
    assert verdict.checked == 5
