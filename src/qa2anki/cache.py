"""The render cache: card HTML kept by a hash of its Markdown and of the renderer.

Rendering Markdown and highlighting code is most of a build's work, and a rebuild after a
small edit renders almost the same texts again.  The cache is one SQLite file per source
folder, which records the renderer fingerprint it was made with (see
``render.renderer_fingerprint``: this package's renderer code, the Markdown and Pygments
versions, the styles and the card CSS); any change to how HTML is made empties it.  It only
ever saves time:

- every entry carries a checksum of its key and HTML; an entry that fails it is ignored
  and rendered again, and a file SQLite cannot read is replaced;
- it is written in one transaction after rendering, so an interrupted build leaves it as
  it was;
- any problem with the folder or the file makes the build go on without it.
"""

from __future__ import annotations

import hashlib
import sqlite3
import zlib
from collections.abc import Iterable, Mapping, Sequence
from contextlib import closing, suppress
from pathlib import Path


def cache_key(fingerprint: str, text: str) -> str:
    """Return the key of one text's HTML: a hash of the renderer fingerprint and the text."""
    digest = hashlib.blake2b(fingerprint.encode(), digest_size=16)
    digest.update(b"\0")
    digest.update(text.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def _checksum(key: str, html: str) -> int:
    return zlib.crc32(html.encode("utf-8", "surrogatepass"), zlib.crc32(key.encode()))


class RenderCache:
    """Rendered HTML by text, for one source folder and renderer fingerprint, in ``folder``."""

    def __init__(
        self, folder: Path, fingerprint: str, *, source: Path, read_only: bool = False
    ) -> None:
        self.fingerprint = fingerprint
        self.read_only = read_only
        # One file per source folder, so that decks built from one place do not evict each
        # other's entries, and the file never holds much more than its deck's texts.
        name = hashlib.blake2b(str(source.resolve()).encode(), digest_size=8).hexdigest()
        self.path = folder / f"render-{name}.sqlite"

    def get(self, texts: Iterable[str]) -> dict[str, str]:
        """Return the HTML cached for each of ``texts`` that has a sound entry."""
        keys = {cache_key(self.fingerprint, text): text for text in texts}
        if not keys or not self.path.is_file():
            return {}
        found: dict[str, str] = {}
        try:
            with closing(sqlite3.connect(self.path)) as db:
                if _stored_fingerprint(db) != self.fingerprint:
                    return {}
                # Reading the whole table in order is faster than looking up each key, and the
                # table holds little more than this deck's texts (see put).
                for key, html, checksum in db.execute("SELECT key, html, checksum FROM entries"):
                    text = keys.get(key)
                    if text is not None and _sound(key, html, checksum):
                        found[text] = html
        except sqlite3.Error:
            return {}
        return found

    def put(self, rendered: Mapping[str, str], keep: Sequence[str] = ()) -> None:
        """Store newly rendered HTML by text; then, if most entries are for texts no longer
        in the deck (other than ``rendered`` and ``keep``), drop those."""
        if self.read_only:
            return
        for _ in range(2):
            try:
                self._put(rendered, keep)
                return
            except (OSError, sqlite3.Error):
                # Start a damaged file afresh; a folder that cannot be written means no cache.
                with suppress(OSError):
                    self.path.unlink(missing_ok=True)

    def _put(self, rendered: Mapping[str, str], keep: Sequence[str]) -> None:
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
            rows = (
                (key, html, _checksum(key, html))
                for key, html in (
                    (cache_key(self.fingerprint, text), html) for text, html in rendered.items()
                )
            )
            db.executemany("INSERT OR REPLACE INTO entries VALUES (?, ?, ?)", rows)
            live = len(rendered) + len(keep)
            (count,) = db.execute("SELECT count(*) FROM entries").fetchone()
            if count > 2 * live:
                db.execute("CREATE TEMP TABLE live (key TEXT PRIMARY KEY) WITHOUT ROWID")
                db.executemany(
                    "INSERT OR IGNORE INTO live VALUES (?)",
                    ((cache_key(self.fingerprint, text),) for text in (*rendered, *keep)),
                )
                db.execute("DELETE FROM entries WHERE key NOT IN (SELECT key FROM live)")


def _stored_fingerprint(db: sqlite3.Connection) -> str | None:
    try:
        row = db.execute("SELECT fingerprint FROM renderer").fetchone()
    except sqlite3.OperationalError:  # no such table yet
        return None
    return row[0] if row else None


def _sound(key: str, html: object, checksum: object) -> bool:
    return isinstance(html, str) and checksum == _checksum(key, html)
