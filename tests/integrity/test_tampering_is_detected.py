"""Every kind of tampering done directly in the database is reported at the right position."""

from __future__ import annotations

from collections.abc import Sequence

from ledger.application import Counterpart
from ledger.integrity import ChainStore, Checkpoint, Keyring, Notary, Signer, Verdict, chain_store
from ledger.integrity import verify as verify_once
from ledger.integrity.parallel import processes
from ledger.integrity.verifier import (
    CHECKPOINT_INVALID,
    CHECKPOINT_MISMATCH,
    EVENT_INSERTED,
    EVENT_MISSING,
    ORDER_CHANGED,
    PAYLOAD_CHANGED,
)
from ledger.settings import Settings
from tests.integrity.tamper import Intruder


def head(app: Counterpart) -> int:
    return int(app.recorder.max_notification_id() or 0)


def verify(
    store: ChainStore, keyring: Keyring, extra_checkpoints: Sequence[Checkpoint] = ()
) -> Verdict:
    """Verify as one range, and again in ranges of 7 events: both must find the same."""
    whole = verify_once(store, keyring, extra_checkpoints)
    split = verify_once(store, keyring, extra_checkpoints, chunk=7)
    assert (split.ok, split.first_bad_position, split.problem, split.checked) == (
        whole.ok,
        whole.first_bad_position,
        whole.problem,
        whole.checked,
    ), (whole, split)
    return whole


def test_an_untouched_ledger_verifies_ok_with_its_checkpoint(
    filled: Counterpart, keyring: Keyring
) -> None:
    verdict = verify(chain_store(filled.recorder), keyring)
    assert verdict.ok, verdict.detail
    assert verdict.checked == head(filled)
    assert verdict.checkpoints_checked == 1
    assert verdict.first_bad_position is None


def test_changing_one_byte_of_an_event_is_reported_at_its_position(
    filled: Counterpart, keyring: Keyring, intruder: Intruder
) -> None:
    intruder.change_one_byte(17)
    verdict = verify(chain_store(filled.recorder), keyring)
    assert not verdict.ok
    assert (verdict.first_bad_position, verdict.problem) == (17, PAYLOAD_CHANGED)
    assert verdict.checked == 16


def test_deleting_an_event_is_reported_at_its_position(
    filled: Counterpart, keyring: Keyring, intruder: Intruder
) -> None:
    intruder.delete(23)
    verdict = verify(chain_store(filled.recorder), keyring)
    assert (verdict.ok, verdict.first_bad_position, verdict.problem) == (
        False,
        23,
        EVENT_MISSING,
    )


def test_deleting_an_event_and_its_link_is_reported_at_its_position(
    filled: Counterpart, keyring: Keyring, intruder: Intruder
) -> None:
    intruder.delete(23)
    intruder.run("DELETE FROM cp_chain WHERE position = 23")
    verdict = verify(chain_store(filled.recorder), keyring)
    assert (verdict.ok, verdict.first_bad_position, verdict.problem) == (
        False,
        23,
        EVENT_MISSING,
    )


def test_deleting_the_tail_after_a_checkpoint_is_reported(
    filled: Counterpart, keyring: Keyring, intruder: Intruder
) -> None:
    last = head(filled)
    intruder.delete(last)
    intruder.run("DELETE FROM cp_chain WHERE position = ?", (last,))
    verdict = verify(chain_store(filled.recorder), keyring)
    assert (verdict.ok, verdict.first_bad_position, verdict.problem) == (
        False,
        last,
        EVENT_MISSING,
    )


def test_a_forged_event_is_reported_at_its_position(
    filled: Counterpart, keyring: Keyring, intruder: Intruder
) -> None:
    originator_id, _, topic, state = intruder.event(5)
    forged = intruder.forge(
        "0f0f0f0f-0000-4000-8000-000000000001", topic, bytes(state).replace(b"Ada", b"Eve")
    )
    assert forged == head(filled)
    verdict = verify(chain_store(filled.recorder), keyring)
    assert (verdict.ok, verdict.first_bad_position, verdict.problem) == (
        False,
        forged,
        EVENT_INSERTED,
    )
    assert str(originator_id) not in verdict.detail


def test_swapping_two_events_is_reported_at_the_earlier_position(
    filled: Counterpart, keyring: Keyring, intruder: Intruder
) -> None:
    intruder.swap(30, 40)
    verdict = verify(chain_store(filled.recorder), keyring)
    assert (verdict.ok, verdict.first_bad_position, verdict.problem) == (
        False,
        30,
        ORDER_CHANGED,
    )
    assert "40" in verdict.detail


def test_rewriting_the_chain_consistently_without_the_key_fails_at_the_checkpoint(
    filled: Counterpart, keyring: Keyring, intruder: Intruder
) -> None:
    checkpoint = head(filled)
    intruder.change_one_byte(12)
    intruder.rewrite_chain_from(12)
    verdict = verify(chain_store(filled.recorder), keyring)
    assert (verdict.ok, verdict.first_bad_position, verdict.problem) == (
        False,
        checkpoint,
        CHECKPOINT_MISMATCH,
    )
    assert verdict.checked == checkpoint


def test_a_checkpoint_resigned_with_another_key_is_reported(
    filled: Counterpart, keyring: Keyring, intruder: Intruder
) -> None:
    intruder.change_one_byte(12)
    intruder.rewrite_chain_from(12)
    intruder.run("DELETE FROM cp_checkpoints")
    Notary(chain_store(filled.recorder), Signer.generate()).issue()
    verdict = verify(chain_store(filled.recorder), keyring)
    assert (verdict.ok, verdict.first_bad_position, verdict.problem) == (
        False,
        head(filled),
        CHECKPOINT_INVALID,
    )
    assert "unknown key" in verdict.detail


def test_a_checkpoint_whose_hash_was_edited_has_an_invalid_signature(
    filled: Counterpart, keyring: Keyring, intruder: Intruder
) -> None:
    intruder.change_one_byte(12)
    intruder.rewrite_chain_from(12)
    chain_hash = bytes(intruder.run("SELECT chain_hash FROM cp_chain ORDER BY position DESC")[0][0])
    intruder.run("UPDATE cp_checkpoints SET chain_hash = ?", (chain_hash.hex(),))
    verdict = verify(chain_store(filled.recorder), keyring)
    assert (verdict.ok, verdict.problem) == (False, CHECKPOINT_INVALID)
    assert "signature invalid" in verdict.detail


def test_a_checkpoint_the_auditor_kept_catches_a_rewrite_that_also_removed_checkpoints(
    filled: Counterpart, keyring: Keyring, intruder: Intruder
) -> None:
    kept = chain_store(filled.recorder).select_checkpoints()
    intruder.change_one_byte(12)
    intruder.rewrite_chain_from(12)
    intruder.run("DELETE FROM cp_checkpoints")
    assert verify(chain_store(filled.recorder), keyring).ok  # the database alone cannot tell
    verdict = verify(chain_store(filled.recorder), keyring, extra_checkpoints=kept)
    assert (verdict.ok, verdict.first_bad_position, verdict.problem) == (
        False,
        kept[0].position,
        CHECKPOINT_MISMATCH,
    )


def test_verifying_in_worker_processes_finds_the_same_as_in_one(
    filled: Counterpart, keyring: Keyring, intruder: Intruder, settings: Settings
) -> None:
    runner = processes(settings, workers=2)
    store = chain_store(filled.recorder)
    intact = verify_once(store, keyring, runner=runner, chunk=10)
    assert (intact.ok, intact.checked, intact.checkpoints_checked) == (True, head(filled), 1)
    intruder.swap(30, 40)
    parallel = verify_once(store, keyring, runner=runner, chunk=10)
    alone = verify_once(store, keyring)
    assert (parallel.ok, parallel.first_bad_position, parallel.problem, parallel.checked) == (
        False,
        30,
        ORDER_CHANGED,
        alone.checked,
    )
