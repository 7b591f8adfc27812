"""qa2anki runs on Windows too: no module of it needs a POSIX-only one."""

from __future__ import annotations

import subprocess
import sys

# Modules that exist only on POSIX systems.
POSIX_ONLY = ("fcntl", "grp", "pty", "pwd", "resource", "termios", "tty")

IMPORT_EVERY_MODULE = f"""
import importlib, pkgutil, sys
for name in {POSIX_ONLY!r}:
    sys.modules[name] = None  # importing it now raises ImportError, as on Windows
import qa2anki
for module in pkgutil.walk_packages(qa2anki.__path__, "qa2anki."):
    if module.name != "qa2anki.__main__":  # which runs the command line
        importlib.import_module(module.name)
        print(module.name)
"""


def test_every_module_imports_without_posix_only_modules() -> None:
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_EVERY_MODULE], capture_output=True, text=True, check=False
    )

    assert done.returncode == 0, done.stderr
    imported = set(done.stdout.split())
    assert {"qa2anki.build", "qa2anki.cli", "qa2anki.loader", "qa2anki.package"} <= imported
