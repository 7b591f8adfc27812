"""Run one command; print its wall time in seconds and its peak memory (RSS) in MiB.

A child's peak RSS counts the memory of the process that started it, so the benchmark
starts every measured command from this small process rather than from itself.

    python bench/measure.py COMMAND [ARGUMENT ...]
"""

from __future__ import annotations

import os
import subprocess
import sys
import time


def main(command: list[str]) -> None:
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"exit status {code}: {' '.join(command)}")
    print(seconds, usage.ru_maxrss / 1024)  # ru_maxrss is in KiB on Linux


if __name__ == "__main__":
    main(sys.argv[1:])
