"""Write a set of text files into a folder as one unit, as far as a file system allows."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from qa2anki.errors import OutputError


def write_files(folder: Path, files: Mapping[str, bytes]) -> None:
    """Write ``files`` ({name: content}) into ``folder``, replacing files of the same names.

    A name may hold folders (``"questions/deck.yaml"``, always with ``/``); they are made.

    Everything is first written into a hidden temporary folder beside ``folder``; only when
    all of it is written are the files moved into place (a new folder is renamed into place
    whole).  A failure before that leaves ``folder`` exactly as it was.

    Raises:
        OutputError: the files could not be written.
    """
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".qa2anki-", suffix=".tmp"))
    except OSError as exc:
        raise OutputError(f"cannot write: {exc.strerror or exc}", folder) from None
    try:
        mode = 0o666 & ~current_umask()
        for name, content in files.items():
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("wb") as file:
                file.write(content)
                file.flush()
                os.fsync(file.fileno())
            path.chmod(mode)
        if folder.exists():
            # Every folder first: one that cannot be made (a file has its name) fails here,
            # before any file is moved in.
            for name in files:
                (folder / name).parent.mkdir(parents=True, exist_ok=True)
            for name in files:
                (staging / name).replace(folder / name)
            fsync_dir(folder)
        else:
            staging.chmod(0o777 & ~current_umask())
            staging.rename(folder)
            fsync_dir(folder.parent)
    except OSError as exc:
        raise OutputError(f"cannot write: {exc.strerror or exc}", folder) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def current_umask() -> int:
    """Return the process's umask without changing it."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def fsync_dir(folder: Path) -> None:
    """Make the renames durable; some systems cannot open a folder, which is harmless."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
