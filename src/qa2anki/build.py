"""The pipeline: load → validate → render → package → plan → write (or preview → write)."""

from __future__ import annotations

import contextlib
import fcntl
import functools
import gc
import json
import os
import sqlite3
import stat
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from qa2anki.archive import write_apkg
from qa2anki.cache import NoteCache, RenderCache, TopicCache
from qa2anki.errors import OutputError
from qa2anki.files import current_umask, fsync_dir
from qa2anki.loader import load_deck, loader_fingerprint
from qa2anki.model import Deck
from qa2anki.package import (
    MODEL_ID,
    PackagedDeck,
    Stamps,
    package_deck,
    package_fingerprint,
    write_collection,
)
from qa2anki.preview import GENERATOR_MARK, preview_page
from qa2anki.render import render_deck, renderer_fingerprint
from qa2anki.state import (
    Plan,
    format_state,
    plan_build,
    read_record,
    read_state,
    record_path,
    state_path,
)

DEFAULT_OUTPUT_DIR = Path("build")
DEFAULT_PREVIEW = DEFAULT_OUTPUT_DIR / "preview.html"
# Where the command line keeps rendered HTML between builds (see qa2anki.cache).
DEFAULT_CACHE_DIR = DEFAULT_OUTPUT_DIR / ".cache"
NOT_REGULAR = "is not a regular file (a device, a pipe or a socket): not replacing it"
# Every deck says in its zip comment that qa2anki wrote it: builds replace only such files.
ZIP_COMMENT = b"qa2anki deck"
TEMP_PREFIX = ".qa2anki-"
TEMP_SUFFIX = ".tmp"
# A build locks its temporary file the moment it creates it; one that is unlocked and this old
# was left by a build that was killed.
STALE_TEMP_SECONDS = 60
# Decks without the comment came from early versions and are small; a larger collection without
# it is not ours, and is not read to find out.
_MAX_COLLECTION_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class BuildResult:
    """What a build wrote (or, for a dry run, would write), and what changed."""

    deck: Deck
    output: Path
    plan: Plan
    state_file: Path
    dry_run: bool = False


Progress = Callable[[str, int, int], None]
"""Called with (stage, done, total) as a build goes: "Rendering" counts the texts rendered
(those not found in the cache); "Writing" goes from 0 to all notes once the deck is written."""


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector: a build makes millions of long-lived objects and no
    cycles worth collecting, and the collector would rescan them again and again (a third
    of a 100,000-question build).  Memory is freed by reference counting as usual."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@_collector_paused()
def build_deck(
    source: Path,
    output: Path | None = None,
    *,
    timestamp: float | None = None,
    dry_run: bool = False,
    force: bool = False,
    cache_dir: Path | None = None,
    progress: Progress | None = None,
) -> BuildResult:
    """Build the ``.apkg`` for the sources in ``source`` and update its state file.

    Args:
        source: the source folder (``deck.yaml`` and one YAML file per topic).
        output: where to write the deck; ``build/<key>.apkg`` by default.
        timestamp: the time, in seconds since the epoch, given to notes whose content is new
            or changed since the state file was written (now by default).  Unchanged notes
            keep their time, so that Anki's re-import leaves them alone.
        dry_run: compute the plan only; write nothing (the cache is read, not written).
        cache_dir: a folder to keep, between builds, what a build works out again only for
            what changed: the topics as loaded, the HTML and the notes' GUIDs and hashes;
            none by default.  Its content never changes the output, only how fast it is made.
        force: write even inside the source folder or over a file that is not a qa2anki deck.
        progress: called as the build goes, to show progress (see ``Progress``).

    Raises:
        ValidationError: the sources have problems; nothing was written.
        StateError: the state file is damaged; nothing was written.
        OutputError: the deck could not be written; any previous deck is left as it was.
    """
    topic_cache, render_cache, note_cache = _caches(cache_dir, source, read_only=dry_run)
    deck = load_deck(source, topic_cache, save_cache=False)
    output = output or default_output(deck)
    if not output.name or output.name == "..":
        raise OutputError("is a folder, not a file", output)
    if not force:
        check_output(output, source)
    # Only now is the build sure to be allowed to write: the caches may be written too.
    if topic_cache is not None:
        topic_cache.save()
    rendered = render_deck(
        deck, render_cache, progress and functools.partial(progress, "Rendering")
    )
    packaged = package_deck(rendered, note_cache)
    if note_cache is not None:
        note_cache.save()
    del rendered  # each card's HTML is in its note now: a large deck's memory peaks lower
    state_file = state_path(source)
    now = int(time.time() if timestamp is None else timestamp)
    record = record_path(output)
    state = read_state(state_file)
    plan = plan_build(packaged, state, now, read_record(record, same_as=(state_file, state)))
    del state  # the plan keeps what it needs: likewise
    if not dry_run:
        stamps = plan.stamps
        if progress is not None:
            progress("Writing", 0, deck.question_count)
        write_atomically(output, lambda path: _write_apkg(packaged, stamps, path))
        del packaged  # the notes, before the state file is made: likewise
        _write_states(plan, (record, state_file), output)
        if progress is not None:
            progress("Writing", deck.question_count, deck.question_count)
    return BuildResult(deck, output, plan, state_file, dry_run)


def _write_states(plan: Plan, paths: tuple[Path, ...], output: Path) -> None:
    """Write the stamps record beside the deck and the state file beside the sources."""
    text = format_state(plan.state)
    try:
        for path in paths:
            write_state(path, text)
    except OutputError as exc:
        # Harmless for Anki (the next build stamps this build's changes again), but say so.
        raise OutputError(
            f"{exc.message}; the deck was written to {output} all the same", exc.path
        ) from None


@dataclass(frozen=True)
class PreviewResult:
    """What a preview wrote."""

    deck: Deck
    output: Path


def build_preview(
    source: Path, output: Path | None = None, *, force: bool = False
) -> PreviewResult:
    """Write an HTML page that shows every card of the sources as Anki will show it.

    The page is self-contained (no network, no other files): each card's front and back,
    rendered with the note type's own templates and CSS, grouped by topic, with a light and
    night switch, a filter and a phone-width view.  The state file is neither read nor written.

    Args:
        source: the source folder (``deck.yaml`` and one YAML file per topic).
        output: where to write the page; ``build/preview.html`` by default.
        force: write even inside the source folder or over a file that is not a preview.

    Raises:
        ValidationError: the sources have problems; nothing was written.
        OutputError: the page could not be written; any previous page is left as it was.
    """
    deck = load_deck(source)
    page = preview_page(render_deck(deck))
    output = output or DEFAULT_PREVIEW
    if not force:
        check_output(output, source, "preview", is_qa2anki_preview)
    write_text_atomically(output, page)
    return PreviewResult(deck, output)


def _caches(
    cache_dir: Path | None, source: Path, *, read_only: bool
) -> tuple[TopicCache | None, RenderCache | None, NoteCache | None]:
    if cache_dir is None or _inside(cache_dir, source):
        # Never leave a cache among the sources (a build run from inside them).
        return None, None, None
    return (
        TopicCache(cache_dir, loader_fingerprint(), source=source, read_only=read_only),
        RenderCache(cache_dir, renderer_fingerprint(), source=source, read_only=read_only),
        NoteCache(cache_dir, package_fingerprint(), source=source, read_only=read_only),
    )


@_collector_paused()
def check_sources(source: Path) -> Deck:
    """Validate the sources without writing anything; raise ``ValidationError`` on problems."""
    return load_deck(source)


def default_output(deck: Deck) -> Path:
    """Return where a deck is written when no output is given."""
    return DEFAULT_OUTPUT_DIR / f"{deck.key}.apkg"


def write_state(path: Path, text: str) -> None:
    """Write the state file, leaving it untouched when its content is the same."""
    try:
        if path.read_text(encoding="utf-8") == text:
            return
    except (OSError, UnicodeDecodeError):
        pass
    write_text_atomically(path, text)


def write_text_atomically(output: Path, text: str) -> None:
    """Write UTF-8 text to ``output`` through ``write_atomically``."""
    write_atomically(output, lambda temp: _write_text(temp, text))


def _inside(path: Path, folder: Path) -> bool:
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError):
        return False


def check_output(
    output: Path, source: Path, what: str = "deck", ours: Callable[[Path], bool] | None = None
) -> None:
    """Refuse an output inside the source folder, or over a file that qa2anki did not write.

    ``what`` names the output in messages; ``ours`` tells whether an existing file is one
    qa2anki wrote (a deck, by default).

    Raises:
        OutputError: the output is not a safe place for it.
    """
    ours = ours or is_qa2anki_deck
    try:
        target = output.resolve()
        if _inside(target, source):
            raise OutputError(
                f"is inside the source folder {source}: write the {what} somewhere else "
                "(or use --force)",
                output,
            )
        if target.exists() and not target.is_dir() and not target.is_file():
            raise OutputError(NOT_REGULAR, output)  # and not read: it might never end
        if target.exists() and not target.is_dir() and not ours(target):
            raise OutputError(
                f"is not a {what} written by qa2anki: not replacing it (use --force to replace it)",
                output,
            )
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symbolic link loop
        raise OutputError(
            f"cannot write: {getattr(exc, 'strerror', None) or exc}", output
        ) from None


def is_qa2anki_preview(path: Path) -> bool:
    """Tell whether ``path`` is a preview page that qa2anki wrote."""
    try:
        with path.open("rb") as file:
            start = file.read(2048)
    except OSError:
        return False
    return GENERATOR_MARK.encode("utf-8") in start


def is_qa2anki_deck(path: Path) -> bool:
    """Tell whether ``path`` is an .apkg that qa2anki wrote.

    Decks carry a zip comment saying so, which is read without unpacking anything; older ones,
    without it, are recognised by a collection with our note type.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            if archive.comment == ZIP_COMMENT:
                return "collection.anki2" in archive.namelist()
            info = archive.getinfo("collection.anki2")
            if info.file_size > _MAX_COLLECTION_BYTES:
                return False
            data = archive.read(info)
        connection = sqlite3.connect(":memory:")
        try:
            connection.deserialize(data)
            connection.execute("PRAGMA trusted_schema = OFF")
            kind = connection.execute("SELECT type FROM sqlite_master WHERE name = 'col'")
            if kind.fetchone() != ("table",):
                return False
            row = connection.execute("SELECT models FROM col").fetchone()
        finally:
            connection.close()
        models = json.loads(row[0])
    except (
        OSError,
        KeyError,
        ValueError,
        TypeError,
        EOFError,
        NotImplementedError,
        zipfile.BadZipFile,
        sqlite3.Error,
    ):
        return False  # not a zip, no collection in it, not SQLite, not JSON: not ours
    return isinstance(models, dict) and str(MODEL_ID) in models


def write_atomically(output: Path, write: Callable[[Path], object]) -> None:
    """Let ``write`` fill a temporary file beside ``output``, then rename it into place.

    A failed or interrupted write never leaves a half-written file at ``output`` and never
    destroys the file that was there before.
    """
    shown = output
    try:
        # Write through a link to its target rather than replacing the link with a file.
        if output.is_symlink():
            output = output.resolve()
        if output.is_dir():
            raise OutputError("is a folder, not a file", shown)
        if output.exists() and not output.is_file():
            # Not even with --force: a rename would replace a device or a pipe with a file.
            raise OutputError(NOT_REGULAR, shown)
        output.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(dir=output.parent, prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX)
    except (FileExistsError, NotADirectoryError):
        parents = (output, *output.parents)
        blocker = next((p for p in parents if p.exists() and not p.is_dir()), output.parent)
        raise OutputError(f"cannot write: {blocker} is a file, not a folder", shown) from None
    except OSError as exc:
        raise OutputError(f"cannot write: {exc.strerror or exc}", shown) from None
    temp = Path(temp_name)
    try:
        # Locked until the file is in place, so that other builds leave it alone.
        fcntl.flock(fd, fcntl.LOCK_EX)
        remove_stale_temporaries(output.parent)
        write(temp)
        _fsync_file(temp)
        temp.chmod(0o666 & ~current_umask())
        temp.replace(output)
    except OSError as exc:
        raise OutputError(f"cannot write: {exc.strerror or exc}", shown) from None
    finally:
        temp.unlink(missing_ok=True)
        os.close(fd)
    fsync_dir(output.parent)


def remove_stale_temporaries(folder: Path) -> None:
    """Delete the temporary files that killed builds left in ``folder``.

    Only files a build of ours left: named like ours, regular files of this user, not locked
    by a running build, and older than ``STALE_TEMP_SECONDS``.
    """
    now = time.time()
    for path in folder.glob(f"{TEMP_PREFIX}*{TEMP_SUFFIX}"):
        try:
            info = path.lstat()
            if (
                not stat.S_ISREG(info.st_mode)
                or info.st_uid != os.getuid()
                or now - info.st_mtime < STALE_TEMP_SECONDS
            ):
                continue
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                path.unlink()
            finally:
                os.close(fd)
        except OSError:
            continue  # locked by a running build, or already gone


def _write_apkg(packaged: PackagedDeck, stamps: Stamps, path: Path) -> None:
    """Write the deck as an .apkg whose bytes depend only on its content.

    The collection is made in a scratch file beside ``path``, named and locked like it, so
    that a killed build's is cleaned up like its temporary deck (``remove_stale_temporaries``).
    The zip entries carry a fixed time and mode (see ``qa2anki.archive``).
    """
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX)
    db_path = Path(name)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        connection = sqlite3.connect(db_path)
        try:
            # A scratch file: no journal and no syncing (neither changes the file's bytes).
            connection.execute("PRAGMA journal_mode = OFF")
            connection.execute("PRAGMA synchronous = OFF")
            write_collection(packaged, stamps, connection)
            connection.commit()
        finally:
            connection.close()
        write_apkg(path, db_path, ZIP_COMMENT)
    finally:
        db_path.unlink(missing_ok=True)
        os.close(fd)


def _write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def _fsync_file(path: Path) -> None:
    with path.open("rb") as file:
        os.fsync(file.fileno())
