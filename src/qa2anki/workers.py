"""Worker processes, for the stages that spread a large deck's work over the machine's cores.

``multiprocessing`` is imported only when a pool is started, so that checking a small deck
does not pay for it.
"""

from __future__ import annotations

import os
import signal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import multiprocessing.pool


def start_pool(workers: int) -> multiprocessing.pool.Pool | None:
    """Start worker processes, or return None when the system will not have more.

    The workers ignore Ctrl-C: the interrupt stops the main process, and leaving a
    ``with pool:`` block on it (or on anything else) stops the workers.
    """
    import multiprocessing  # noqa: PLC0415 (see the module docstring)

    try:
        return multiprocessing.Pool(workers, initializer=ignore_interrupts)
    except OSError:
        return None  # e.g. a limit on processes: the work is done in this one


def ignore_interrupts() -> None:
    """Leave Ctrl-C to the main process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def usable_cores() -> int:
    """Return how many cores this process may run on (a container may allow fewer than the
    machine has)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
