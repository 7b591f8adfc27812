"""Worker processes, for the stages that spread a large deck's work over the machine's cores.

``multiprocessing`` is imported only when a pool is started, so that checking a small deck
does not pay for it.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import multiprocessing.pool


def start_pool(workers: int, work: Sequence[Any]) -> multiprocessing.pool.Pool | None:
    """Start worker processes, each given ``work`` once, or return None when the system will
    not have more.

    Tasks then name their part of the work by index (see ``part``), so that each is a few
    bytes.  A task of its own data could be larger than a pipe holds, and a pool stopped with
    such a task half sent waits for ever: ``Pool.terminate`` empties the task pipe only of what
    is in it when it looks.

    The workers ignore Ctrl-C: the interrupt stops the main process, and leaving a
    ``with pool:`` block on it (or on anything else) stops the workers.
    """
    import multiprocessing  # noqa: PLC0415 (see the module docstring)

    try:
        return multiprocessing.Pool(workers, initializer=_start_worker, initargs=(work,))
    except OSError:
        return None  # e.g. a limit on processes: the work is done in this one


_work: Sequence[Any] = ()


def _start_worker(work: Sequence[Any]) -> None:
    global _work  # noqa: PLW0603 (one per worker process, set once as it starts)
    _work = work
    ignore_interrupts()


def part(index: int) -> Any:
    """In a worker, return item ``index`` of the work its pool was started with."""
    return _work[index]


def ignore_interrupts() -> None:
    """Leave Ctrl-C to the main process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def usable_cores() -> int:
    """Return how many cores this process may run on (a container may allow fewer than the
    machine has)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
