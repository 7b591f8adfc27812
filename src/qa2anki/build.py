"""The pipeline: load → validate → render → package → write."""

from __future__ import annotations

import itertools
import os
import sqlite3
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import genanki

from qa2anki.errors import OutputError
from qa2anki.loader import load_deck
from qa2anki.model import Deck
from qa2anki.package import build_package
from qa2anki.render import render_deck

DEFAULT_OUTPUT_DIR = Path("build")


@dataclass(frozen=True)
class BuildResult:
    """What a build wrote."""

    deck: Deck
    output: Path


def build_deck(
    source: Path, output: Path | None = None, *, timestamp: float | None = None
) -> BuildResult:
    """Build the ``.apkg`` for the sources in ``source``.

    Args:
        source: the source folder (``deck.yaml`` and one YAML file per topic).
        output: where to write the deck; ``build/<key>.apkg`` by default.
        timestamp: the modification time given to notes and the note type, in seconds since
            the epoch; now by default.  Anki updates a note on re-import only when this is newer.

    Raises:
        ValidationError: the sources have problems; nothing was written.
        OutputError: the deck could not be written; any previous deck is left as it was.
    """
    deck = load_deck(source)
    package = build_package(render_deck(deck))
    output = output or default_output(deck)
    write_atomically(package, output, time.time() if timestamp is None else timestamp)
    return BuildResult(deck=deck, output=output)


def check_sources(source: Path) -> Deck:
    """Validate the sources without writing anything; raise ``ValidationError`` on problems."""
    return load_deck(source)


def default_output(deck: Deck) -> Path:
    """Return where a deck is written when no output is given."""
    return DEFAULT_OUTPUT_DIR / f"{deck.key}.apkg"


def write_atomically(package: genanki.Package, output: Path, timestamp: float) -> None:
    """Write the package to a temporary file beside ``output``, then rename it into place.

    A failed or interrupted write never leaves a half-written deck at ``output`` and never
    destroys the deck that was there before.
    """
    shown = output
    try:
        # Write through a link to its target rather than replacing the link with a file.
        if output.is_symlink():
            output = output.resolve()
        if output.is_dir():
            raise OutputError("is a folder, not a file", shown)
        output.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(dir=output.parent, prefix=".qa2anki-", suffix=".tmp")
    except OSError as exc:
        raise OutputError(f"cannot write: {exc.strerror or exc}", shown) from None
    os.close(fd)
    temp = Path(temp_name)
    try:
        _write_apkg(package, temp, timestamp)
        temp.chmod(0o666 & ~_umask())
        temp.replace(output)
    except OSError as exc:
        raise OutputError(f"cannot write: {exc.strerror or exc}", shown) from None
    finally:
        temp.unlink(missing_ok=True)
    _fsync_dir(output.parent)


def _write_apkg(package: genanki.Package, path: Path, timestamp: float) -> None:
    """Write the package as an .apkg, keeping genanki's scratch database in a folder we clean up."""
    with tempfile.TemporaryDirectory(prefix="qa2anki-") as scratch:
        db_path = Path(scratch) / "collection.anki2"
        connection = sqlite3.connect(db_path)
        try:
            package.write_to_db(
                connection.cursor(), timestamp, itertools.count(int(timestamp * 1000))
            )
            connection.commit()
        finally:
            connection.close()
        with path.open("wb") as file:
            with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                archive.write(db_path, "collection.anki2")
                archive.writestr("media", "{}")
            file.flush()
            os.fsync(file.fileno())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable; some systems cannot open a folder, which is harmless."""
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
