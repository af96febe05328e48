"""An untouched ledger of 100,000 events verifies ok, checkpoints included."""

from __future__ import annotations

import json
from uuid import uuid4

from eventsourcing.persistence import StoredEvent

from ledger.application import Counterpart
from ledger.integrity import Keyring, Notary, Signer, chain_store, verify

EVENTS = 100_000
BATCH = 1_000
CHECKPOINT_EVERY = 10_000


def test_an_untouched_ledger_of_100000_events_verifies_ok(
    app: Counterpart, signer: Signer, keyring: Keyring
) -> None:
    store = chain_store(app.recorder)
    notary = Notary(store, signer, every_events=CHECKPOINT_EVERY)
    for batch in range(EVENTS // BATCH):
        originator_id = uuid4()
        app.recorder.insert_events(
            [
                StoredEvent(
                    originator_id=originator_id,
                    originator_version=version,
                    topic="ledger.domain.plan:Plan.ProgressReported",
                    state=json.dumps(
                        {"timestamp": f"2026-01-05T09:{batch % 60:02d}:00+00:00", "n": version}
                    ).encode(),
                )
                for version in range(1, BATCH + 1)
            ]
        )
        notary.tick()
    verdict = verify(store, keyring)
    assert verdict.ok, verdict.detail
    assert verdict.checked == EVENTS
    assert verdict.checkpoints_checked == EVENTS // CHECKPOINT_EVERY
