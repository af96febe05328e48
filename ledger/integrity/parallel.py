"""Verify ranges of the ledger in worker processes, one per core.

Hashing is CPU work that Python threads cannot share, so a large ledger is split into ranges
(``verifier.CHUNK`` events each) that worker processes check independently (see ``_Walk``);
the results are merged in position order by ``verifier.verify``. Workers are forked from a
clean server process that has imported this module (``forkserver``), never from a process
whose database pools already run threads.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor

from ledger.application import Counterpart
from ledger.integrity import chain_store
from ledger.integrity.store import ChainStore
from ledger.integrity.verifier import RangeResult, Runner, check_range
from ledger.settings import Settings

_OPENED: list[Counterpart] = []


def _open(settings: Settings) -> None:
    """Worker start: open the ledger once."""
    _OPENED.append(Counterpart(settings.replaced(create_tables=False, cache_size=0)))


def _store() -> ChainStore:
    return chain_store(_OPENED[0].recorder)


def _check(after: int, upto: int, wanted: list[int], last: bool) -> RangeResult:
    return check_range(_store(), after, upto, wanted, last=last)


def default_workers() -> int:
    """One worker per core this process may use."""
    return max(1, len(os.sched_getaffinity(0)))


def processes(settings: Settings, workers: int) -> Runner:
    """A runner that checks ranges in ``workers`` processes, yielding results in order."""

    def run(ranges: list[tuple[int, int, list[int], bool]]) -> Iterator[RangeResult]:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
        pool = ProcessPoolExecutor(
            max_workers=min(workers, len(ranges)),
            mp_context=context,
            initializer=_open,
            initargs=(settings,),
        )
        try:
            futures = [pool.submit(_check, *each) for each in ranges]
            for future in futures:
                yield future.result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    return run
