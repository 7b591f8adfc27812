"""The render cache: each text's card HTML, kept between builds by a hash of its Markdown.

Rendering is most of a build's work, and a rebuild after an edit renders almost the same
texts again.  The cache is one SQLite file per source folder, stamped with the renderer's
fingerprint (``render.renderer_fingerprint``): any change to how HTML is made empties it.
It only ever saves time: an entry that fails its checksum is rendered again, a file SQLite
cannot read is started afresh, and a folder that cannot be written means no cache.
"""

from __future__ import annotations

import hashlib
import sqlite3
import zlib
from collections.abc import Callable, Iterable, Mapping
from contextlib import closing, suppress
from pathlib import Path

Links = tuple[tuple[str, str], ...]
"""Each image ``src`` of a text as its Markdown gives it, and what the HTML refers to instead."""
Source = tuple[str, Links, bool]
"""A text: its Markdown, its images' links, and whether it is a cloze text."""


class RenderCache:
    """Rendered HTML for one source folder and renderer fingerprint, in ``folder``."""

    def __init__(
        self, folder: Path, fingerprint: str, *, source: Path, read_only: bool = False
    ) -> None:
        self.fingerprint = fingerprint
        self.read_only = read_only
        # One file per source folder, so that decks built from one place do not evict each
        # other's entries, and the file holds little more than its deck's texts.
        digest = hashlib.blake2b(str(source.resolve()).encode(), digest_size=8).hexdigest()
        self.path = folder / f"html-{digest}.sqlite"

    def html(self, texts: Iterable[Source], render: Callable[[Source], str]) -> dict[Source, str]:
        """Return the HTML of each distinct text of ``texts``: from the cache, or made with
        ``render`` (and then stored).  Entries of texts not among ``texts`` are dropped.

        A text is its Markdown and what its images refer to (see ``qa2anki.media``).
        """
        keys = {text: self.key(text) for text in texts}
        found, stored = self._read(keys)
        fresh = {text: render(text) for text in keys if text not in found}
        live = set(keys.values())
        if not self.read_only and (fresh or not stored <= live):
            try:
                self._write(keys, fresh, stored - live)
            except (OSError, sqlite3.Error):
                # Start a damaged (or unwritable) file afresh, with all of the deck's HTML; a
                # folder that cannot be written means no cache.
                with suppress(OSError):
                    self.path.unlink(missing_ok=True)
                with suppress(OSError, sqlite3.Error):
                    self._write(keys, {**found, **fresh}, set())
        return {**found, **fresh}

    def _read(self, keys: Mapping[Source, str]) -> tuple[dict[Source, str], set[str]]:
        """Return the sound HTML stored for the texts of ``keys`` ({text: key}), by text,
        and the keys of every entry in the file."""
        found: dict[Source, str] = {}
        stored: set[str] = set()
        if not self.path.is_file():
            return found, stored
        texts = {key: text for text, key in keys.items()}
        with suppress(sqlite3.Error), closing(sqlite3.connect(self.path)) as db:
            if _stored_fingerprint(db) != self.fingerprint:
                return found, stored
            # The file holds little more than this deck's texts (see html): read it whole.
            for key, html, checksum in db.execute("SELECT key, html, checksum FROM entries"):
                stored.add(key)
                text = texts.get(key)
                if text is not None and isinstance(html, str) and checksum == _checksum(key, html):
                    found[text] = html
        return found, stored

    def _write(
        self, keys: Mapping[Source, str], html: Mapping[Source, str], stale: set[str]
    ) -> None:
        """Store ``html`` (by text) under the texts' ``keys``, and delete the ``stale`` keys."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=5)) as db, db:
            db.execute("CREATE TABLE IF NOT EXISTS renderer (fingerprint TEXT NOT NULL)")
            db.execute(
                "CREATE TABLE IF NOT EXISTS entries "
                "(key TEXT PRIMARY KEY, html TEXT NOT NULL, checksum INTEGER NOT NULL) "
                "WITHOUT ROWID"
            )
            if _stored_fingerprint(db) != self.fingerprint:
                # Made by another renderer: none of it can be used again.
                db.execute("DELETE FROM entries")
                db.execute("DELETE FROM renderer")
                db.execute("INSERT INTO renderer VALUES (?)", (self.fingerprint,))
            db.executemany("DELETE FROM entries WHERE key = ?", ((key,) for key in stale))
            db.executemany(
                "INSERT OR REPLACE INTO entries VALUES (?, ?, ?)",
                (
                    (keys[text], text_html, _checksum(keys[text], text_html))
                    for text, text_html in html.items()
                ),
            )

    def key(self, text: Source) -> str:
        """Return the key of one text's HTML: a hash of the renderer fingerprint and the text."""
        markdown, links, cloze = text
        digest = hashlib.blake2b(self.fingerprint.encode(), digest_size=16)
        for part in (markdown, *(item for link in links for item in link)):
            digest.update(b"\0")
            digest.update(part.encode("utf-8", "surrogatepass"))
        if cloze:
            digest.update(b"\0\1cloze")
        return digest.hexdigest()


def _checksum(key: str, html: str) -> int:
    return zlib.crc32(html.encode("utf-8", "surrogatepass"), zlib.crc32(key.encode()))


def _stored_fingerprint(db: sqlite3.Connection) -> str | None:
    try:
        row = db.execute("SELECT fingerprint FROM renderer").fetchone()
    except sqlite3.OperationalError:  # no such table yet
        return None
    return row[0] if row else None
