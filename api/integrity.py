"""The ledger's tamper evidence as a server or a command uses it: verify, checkpoint, export."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Transcoder

from ledger.application import Counterpart
from ledger.integrity import (
    ChainStore,
    Checkpoint,
    Keyring,
    Notary,
    NotaryThread,
    Signer,
    Verdict,
    keyring_from,
    signer_from,
    verify,
)
from ledger.integrity.export import Render, export_lines
from ledger.integrity.store import RawEvent
from ledger.integrity.verifier import Runner
from ledger.settings import Settings
from projections.models.plan_view import ENVELOPE, plain
from projections.rules.text import moment

PLAN_DRAFTED = "ledger.domain.plan:Plan.Drafted"


class NoCheckpoint(Exception):
    """No signed checkpoint exists, and none can be issued (no signing key)."""


@dataclass
class Integrity:
    """The chain store, the signing key (if configured), the trusted keys and the notary."""

    store: ChainStore
    signer: Signer | None
    keyring: Keyring | None
    notary: Notary | None
    transcoder: Transcoder
    thread: NotaryThread | None = None

    @classmethod
    def open(cls, app: Counterpart, settings: Settings) -> Integrity:
        """Read the keys (KeyFileError if they cannot be read) and wire the notary."""
        store = app.chain()
        signer = signer_from(settings)
        notary = None
        if signer is not None:
            notary = Notary(
                store,
                signer,
                every_events=settings.checkpoint_every_events,
                every_seconds=settings.checkpoint_every_seconds,
            )
        keyring = keyring_from(settings, signer)
        return cls(store, signer, keyring, notary, app.transcoder)

    def start_notary(self, interval: float = 1.0) -> None:
        """Issue checkpoints in the background (when a signing key is configured)."""
        if self.notary is not None and self.thread is None:
            self.thread = NotaryThread(self.notary, interval)
            self.thread.start()

    def stop(self) -> None:
        """Stop the background notary."""
        if self.thread is not None:
            self.thread.stop()
            self.thread = None

    def verify(
        self,
        extra_checkpoints: Iterable[Checkpoint] = (),
        keyring: Keyring | None = None,
        progress: Callable[[int], None] | None = None,
        runner: Runner | None = None,
    ) -> Verdict:
        """Recompute the chain and check it against the links and every checkpoint."""
        ring = self.keyring
        if keyring is not None:
            ring = keyring if ring is None else ring.merge(keyring)
        return verify(self.store, ring, extra_checkpoints, progress=progress, runner=runner)

    def issue(self) -> Checkpoint:
        """Sign the chain's head now."""
        if self.notary is None:
            msg = "no signing key is configured (COUNTERPART_SIGNING_KEY_FILE)"
            raise NoCheckpoint(msg)
        checkpoint = self.notary.issue()
        if checkpoint is None:
            msg = "the ledger is empty: there is nothing to sign yet"
            raise NoCheckpoint(msg)
        return checkpoint

    def covering(self) -> Checkpoint:
        """A checkpoint of the chain's head if a key is configured, else the latest one."""
        latest = self.store.latest_checkpoint()
        if self.notary is not None:
            head = self.store.chain_head()[0]
            if head > 0 and (latest is None or latest.position < head):
                return self.issue()
        if latest is None:
            msg = "no signed checkpoint exists yet: configure a signing key and let one be issued"
            raise NoCheckpoint(msg)
        return latest

    def export(
        self,
        partner_id: UUID | None = None,
        progress: Callable[[int], None] | None = None,
        checkpoint: Checkpoint | None = None,
    ) -> Iterator[dict[str, Any]]:
        """The lines of a verifiable export of the ledger, or of one partnership, through
        ``checkpoint`` (by default one that covers the chain's head, see ``covering``)."""
        checkpoint = checkpoint or self.covering()
        member = None if partner_id is None else partnership(self.transcoder, partner_id)
        return export_lines(self.store, checkpoint, renderer(self.transcoder), member, progress)


def renderer(transcoder: Transcoder) -> Render:
    """An event's readable fields, from its stored bytes (shared by every export)."""

    def render(event: RawEvent) -> dict[str, Any]:
        position, originator_id, version, topic, state = event
        fields = transcoder.decode(state)
        return {
            "position": position,
            "originator_id": originator_id,
            "version": version,
            "type": topic.rpartition(":")[2],
            "recorded_at": moment(fields.get("timestamp")),
            "actor": plain(fields.get("actor")),
            "request_id": fields.get("request_id"),
            "data": {key: plain(value) for key, value in fields.items() if key not in ENVELOPE},
        }

    return render


def partnership(transcoder: Transcoder, partner_id: UUID) -> Callable[[RawEvent], bool]:
    """Whether an event, met in global order, belongs to a partnership: the partner's own
    events and those of every plan drafted for it."""
    members = {str(partner_id)}

    def member(event: RawEvent) -> bool:
        originator_id, topic = event[1], event[3]
        if originator_id in members:
            return True
        if topic == PLAN_DRAFTED and transcoder.decode(event[4]).get("partner_id") == partner_id:
            members.add(originator_id)
            return True
        return False

    return member
