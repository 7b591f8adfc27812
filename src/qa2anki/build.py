"""The pipeline: load → render → package → plan → write (or load → render → preview → write)."""

from __future__ import annotations

import os
import stat
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from qa2anki.cache import RenderCache
from qa2anki.errors import OutputError
from qa2anki.files import current_umask, fsync_dir
from qa2anki.loader import load_deck
from qa2anki.model import Deck
from qa2anki.package import ZIP_COMMENT, package_deck, write_apkg
from qa2anki.preview import GENERATOR_MARK, cards, preview_page
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
TEMP_PREFIX = ".qa2anki-"
TEMP_SUFFIX = ".tmp"
# A temporary file lives for the seconds it takes to write it: one this old was left by a
# build that was killed.
STALE_TEMP_SECONDS = 3600


@dataclass(frozen=True)
class BuildResult:
    """What a build wrote (or, for a dry run, would write), and what changed."""

    deck: Deck
    output: Path
    plan: Plan
    state_file: Path
    dry_run: bool = False


def build_deck(
    source: Path,
    output: Path | None = None,
    *,
    timestamp: float | None = None,
    dry_run: bool = False,
    force: bool = False,
    cache_dir: Path | None = None,
) -> BuildResult:
    """Build the ``.apkg`` for the sources in ``source`` and update its state file.

    Args:
        source: the source folder (``deck.yaml`` and one YAML file per topic).
        output: where to write the deck; ``build/<key>.apkg`` by default.
        timestamp: the time, in seconds since the epoch, given to notes whose content is new
            or changed since the state file was written (now by default).  Unchanged notes
            keep their time, so that Anki's re-import leaves them alone.
        dry_run: compute the plan only; write nothing (the cache is read, not written).
        force: write even inside the source folder or over a file that is not a qa2anki deck.
        cache_dir: a folder to keep rendered HTML in between builds (see ``qa2anki.cache``);
            none by default.  It never changes the output, only how fast it is made.

    Raises:
        ValidationError: the sources have problems; nothing was written.
        StateError: the state file is damaged; nothing was written.
        OutputError: the deck could not be written; any previous deck is left as it was.
    """
    deck = load_deck(source)
    output = output or default_output(deck)
    check_output(output, source, force=force)
    rendered = render_deck(deck, _render_cache(cache_dir, source, read_only=dry_run))
    packaged = package_deck(rendered)
    state_file, record = state_path(source), record_path(output)
    now = int(time.time() if timestamp is None else timestamp)
    plan = plan_build(packaged, read_state(state_file), now, read_record(record))
    if not dry_run:
        write_atomically(output, lambda temp: write_apkg(temp, packaged, plan.stamps))
        _write_states(plan, (record, state_file), output)
    return BuildResult(deck, output, plan, state_file, dry_run)


def _render_cache(cache_dir: Path | None, source: Path, *, read_only: bool) -> RenderCache | None:
    if cache_dir is None or _inside(cache_dir, source):
        return None  # never leave a cache among the sources (a build run from inside them)
    return RenderCache(cache_dir, renderer_fingerprint(), source=source, read_only=read_only)


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
    page: str
    """The page's HTML, as written."""
    cards: int
    """How many cards the page shows: one per note, two for a reversed one, one per deletion
    number of a cloze."""


def build_preview(
    source: Path,
    output: Path | None = None,
    *,
    force: bool = False,
    live_version: int | None = None,
) -> PreviewResult:
    """Write an HTML page that shows every card of the sources as Anki will show it.

    The page is self-contained (no network, no other files): each card's front and back,
    rendered with the note type's own templates and CSS, grouped by topic, with a light and
    night switch, a filter and a phone-width view.  The state file is neither read nor written.

    Args:
        source: the source folder (``deck.yaml`` and one YAML file per topic).
        output: where to write the page; ``build/preview.html`` by default.
        force: write even inside the source folder or over a file that is not a preview.
        live_version: for ``preview --watch`` (see qa2anki.watch): the page reloads itself
            when the server says that a build other than this one is current.

    Raises:
        ValidationError: the sources have problems; nothing was written.
        OutputError: the page could not be written; any previous page is left as it was.
    """
    deck = load_deck(source)
    output = output or DEFAULT_PREVIEW
    check_output(output, source, "preview", is_qa2anki_preview, force=force)
    # Images are embedded: the page stands on its own.
    rendered = render_deck(deck, embed=True)
    page = preview_page(rendered, live_version=live_version)
    write_text_atomically(output, page)
    return PreviewResult(deck, output, page, sum(len(cards(item)) for item in rendered.questions))


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


def _write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def _inside(path: Path, folder: Path) -> bool:
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError):
        return False


def check_output(
    output: Path,
    source: Path,
    what: str = "deck",
    ours: Callable[[Path], bool] | None = None,
    *,
    force: bool = False,
) -> None:
    """Refuse an output that names a folder; without ``force``, also one inside the source
    folder, or over a file that qa2anki did not write.

    ``what`` names the output in messages; ``ours`` tells whether an existing file is one
    qa2anki wrote (a deck, by default).

    Raises:
        OutputError: the output is not a safe place for it.
    """
    if not output.name or output.name == "..":
        raise OutputError("is a folder, not a file", output)
    if force:
        return
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
    """Tell whether ``path`` is an .apkg that qa2anki wrote: its zip comment says so (read
    without unpacking anything)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.comment == ZIP_COMMENT and "collection.anki2" in archive.namelist()
    except (OSError, zipfile.BadZipFile):
        return False


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
    os.close(fd)
    temp = Path(temp_name)
    try:
        remove_stale_temporaries(output.parent)
        write(temp)
        with temp.open("rb") as file:
            os.fsync(file.fileno())
        temp.chmod(0o666 & ~current_umask())
        temp.replace(output)  # os.replace: atomic, and replaces a file on Windows too
    except OSError as exc:
        raise OutputError(f"cannot write: {exc.strerror or exc}", shown) from None
    finally:
        temp.unlink(missing_ok=True)
    fsync_dir(output.parent)


def remove_stale_temporaries(folder: Path) -> None:
    """Delete the temporary files that killed builds left in ``folder``: regular files named
    like ours and older than ``STALE_TEMP_SECONDS``."""
    now = time.time()
    for path in folder.glob(f"{TEMP_PREFIX}*{TEMP_SUFFIX}"):
        try:
            info = path.lstat()
            if stat.S_ISREG(info.st_mode) and now - info.st_mtime > STALE_TEMP_SECONDS:
                path.unlink()
        except OSError:
            continue  # already gone
