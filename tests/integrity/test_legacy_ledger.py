"""A ledger recorded before the chain existed is chained once by `db upgrade`, never again."""

from __future__ import annotations

from eventsourcing.utils import Environment, EnvType

from ledger.application import Counterpart
from ledger.clock import SimulatedClock
from ledger.integrity import chain_store, verify
from ledger.integrity.verifier import EVENT_INSERTED
from ledger.settings import Settings
from ledger.upgrade import upgrade
from tests.builders import fill_ledger
from tests.integrity.tamper import Intruder

LIBRARY_RECORDERS = {
    False: "eventsourcing.sqlite:SQLiteApplicationRecorder",
    True: "eventsourcing.postgres:PostgresApplicationRecorder",
}


def an_unchained_ledger(settings: Settings, clock: SimulatedClock) -> int:
    """Events stored by the library's own recorder, as before the chain existed; the head."""

    class BeforeTheChain(Counterpart):
        name = "counterpart"

        def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
            values = {
                **(env or {}),
                "APPLICATION_RECORDER_TOPIC": LIBRARY_RECORDERS[settings.is_postgres],
            }
            return super().construct_env(name, values)

    app = BeforeTheChain(settings, clock)
    fill_ledger(app, clock, plans=2, reports=4)
    head = int(app.recorder.max_notification_id() or 0)
    app.close()
    return head


def test_upgrade_chains_a_ledger_recorded_before_the_chain_existed_once(
    settings: Settings, clock: SimulatedClock
) -> None:
    head = an_unchained_ledger(settings, clock)
    assert upgrade(settings) == head
    assert upgrade(settings) == 0
    app = Counterpart(settings, clock)
    verdict = verify(chain_store(app.recorder), keyring=None)
    app.close()
    assert verdict.ok, verdict.detail
    assert verdict.checked == head


def test_upgrade_never_adopts_events_appended_behind_an_existing_chain(
    app: Counterpart, clock: SimulatedClock, settings: Settings
) -> None:
    fill_ledger(app, clock, plans=1, reports=3)
    _, _, topic, state = Intruder(settings).event(2)
    forged = Intruder(settings).forge("0f0f0f0f-0000-4000-8000-000000000002", topic, state)
    assert upgrade(settings) == 0
    verdict = verify(chain_store(app.recorder), keyring=None)
    assert (verdict.first_bad_position, verdict.problem) == (forged, EVENT_INSERTED)
