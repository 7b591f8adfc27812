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
from collections.abc import Iterable, Mapping
from contextlib import closing, suppress
from pathlib import Path


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
        self._keys: dict[str, str] = {}  # the deck's texts' keys, by text
        self._stored: set[str] = set()  # the keys in the file

    def get(self, texts: Iterable[str]) -> dict[str, str]:
        """Return the HTML the cache holds for ``texts``, by text."""
        self._keys = {text: self.key(text) for text in texts}
        keys = {key: text for text, key in self._keys.items()}
        found: dict[str, str] = {}
        self._stored = set()
        if not self.path.is_file():
            return found
        with suppress(sqlite3.Error), closing(sqlite3.connect(self.path)) as db:
            if _stored_fingerprint(db) != self.fingerprint:
                return found
            # The file holds little more than this deck's texts (see put): read it whole.
            for key, html, checksum in db.execute("SELECT key, html, checksum FROM entries"):
                self._stored.add(key)
                text = keys.get(key)
                if text is not None and isinstance(html, str) and checksum == _checksum(key, html):
                    found[text] = html
        return found

    def put(self, html: Mapping[str, str], fresh: Mapping[str, str]) -> None:
        """Store the ``fresh`` HTML, and drop the entries of texts not among ``html`` (the
        deck's); ``get`` is called first."""
        live = set(self._keys.values())
        if self.read_only or (not fresh and self._stored <= live):
            return
        try:
            self._write(fresh, live)
        except (OSError, sqlite3.Error):
            # Start a damaged (or unwritable) file afresh, with all of the deck's HTML; a
            # folder that cannot be written means no cache.
            with suppress(OSError):
                self.path.unlink(missing_ok=True)
            self._stored = set()
            with suppress(OSError, sqlite3.Error):
                self._write(html, live)

    def _write(self, html: Mapping[str, str], live: set[str]) -> None:
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
            db.executemany(
                "DELETE FROM entries WHERE key = ?", ((key,) for key in self._stored - live)
            )
            db.executemany(
                "INSERT OR REPLACE INTO entries VALUES (?, ?, ?)",
                (self._row(text, text_html) for text, text_html in html.items()),
            )

    def _row(self, text: str, html: str) -> tuple[str, str, int]:
        key = self._keys.get(text) or self.key(text)
        return key, html, _checksum(key, html)

    def key(self, text: str) -> str:
        """Return the key of one text's HTML: a hash of the renderer fingerprint and the text."""
        digest = hashlib.blake2b(self.fingerprint.encode(), digest_size=16)
        digest.update(b"\0")
        digest.update(text.encode("utf-8", "surrogatepass"))
        return digest.hexdigest()


def _checksum(key: str, html: str) -> int:
    return zlib.crc32(html.encode("utf-8", "surrogatepass"), zlib.crc32(key.encode()))


def _stored_fingerprint(db: sqlite3.Connection) -> str | None:
    try:
        row = db.execute("SELECT fingerprint FROM renderer").fetchone()
    except sqlite3.OperationalError:  # no such table yet
        return None
    return row[0] if row else None
