"""Issue signed checkpoints: every N events or T seconds while the chain grows, or on demand."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ledger.integrity.signing import Checkpoint, Signer
from ledger.integrity.store import ChainStore


class Notary:
    """Signs the chain's head when enough events or enough time have passed since the last."""

    def __init__(
        self,
        store: ChainStore,
        signer: Signer,
        every_events: int = 1000,
        every_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.signer = signer
        self.every_events = every_events
        self.every_seconds = every_seconds
        self._clock = clock
        self._last_position: int | None = None
        self._last_time = clock()
        self._lock = threading.Lock()

    def issue(self) -> Checkpoint | None:
        """Sign the chain's head now (None while the ledger is empty)."""
        with self._lock:
            position, chain_hash = self.store.chain_head()
            if position == 0:
                return None
            checkpoint = self.signer.sign(position, chain_hash)
            if not self.store.insert_checkpoint(checkpoint):  # another process was first
                latest = self.store.latest_checkpoint()
                checkpoint = latest if latest is not None else checkpoint
            self._last_position, self._last_time = position, self._clock()
            return checkpoint

    def tick(self) -> Checkpoint | None:
        """Issue a checkpoint if one is due; the checkpoint issued, or None."""
        if self._last_position is None:
            latest = self.store.latest_checkpoint()
            self._last_position = latest.position if latest else 0
        head = self.store.chain_head()[0]
        behind = head - self._last_position
        if behind <= 0:
            return None
        if behind >= self.every_events or self._clock() - self._last_time >= self.every_seconds:
            return self.issue()
        return None


class NotaryThread:
    """Runs a notary's ``tick`` in the background until stopped."""

    def __init__(self, notary: Notary, interval: float = 1.0) -> None:
        self.notary = notary
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="notary", daemon=True)
        self.error: Exception | None = None

    def start(self) -> None:
        """Start ticking."""
        self._thread.start()

    def stop(self) -> None:
        """Stop ticking and wait for the thread."""
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.notary.tick()
                self.error = None
            except Exception as error:
                self.error = error
