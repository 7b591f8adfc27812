"""The render cache: card HTML kept by a hash of its Markdown and of the renderer.

Rendering Markdown and highlighting code is most of a build's work, and a rebuild after a
small edit renders almost the same texts again.  The cache is one SQLite file per renderer
fingerprint (see ``render.renderer_fingerprint``: this package's renderer code, the
Markdown and Pygments versions, the styles and the card CSS), so that any change to how
HTML is made starts a new, empty cache.  It only ever saves time:

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
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import closing, suppress
from pathlib import Path

# SQLite's limit on the parameters of one statement is 32766; stay well below it.
_BATCH = 5000


def cache_key(fingerprint: str, text: str) -> str:
    """Return the key of one text's HTML: a hash of the renderer fingerprint and the text."""
    digest = hashlib.blake2b(fingerprint.encode(), digest_size=16)
    digest.update(b"\0")
    digest.update(text.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def _checksum(key: str, html: str) -> int:
    return zlib.crc32(html.encode("utf-8", "surrogatepass"), zlib.crc32(key.encode()))


class RenderCache:
    """Rendered HTML by text, for one renderer fingerprint, in ``folder``."""

    def __init__(self, folder: Path, fingerprint: str, *, read_only: bool = False) -> None:
        self.folder = folder
        self.fingerprint = fingerprint
        self.read_only = read_only
        self.path = folder / f"render-{fingerprint[:16]}.sqlite"

    def get(self, texts: Iterable[str]) -> dict[str, str]:
        """Return the HTML cached for each of ``texts`` that has a sound entry."""
        keys = {cache_key(self.fingerprint, text): text for text in texts}
        if not keys or not self.path.is_file():
            return {}
        found: dict[str, str] = {}
        try:
            with closing(sqlite3.connect(self.path)) as db:
                for batch in _batches(list(keys), _BATCH):
                    rows = db.execute(
                        "SELECT key, html, checksum FROM entries WHERE key IN "
                        f"({','.join('?' * len(batch))})",
                        batch,
                    )
                    for key, html, checksum in rows:
                        if isinstance(html, str) and checksum == _checksum(key, html):
                            found[keys[key]] = html
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
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("render-*.sqlite"):
            if old != self.path:
                old.unlink(missing_ok=True)
        with closing(sqlite3.connect(self.path, timeout=5)) as db, db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS entries "
                "(key TEXT PRIMARY KEY, html TEXT NOT NULL, checksum INTEGER NOT NULL) "
                "WITHOUT ROWID"
            )
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


def _batches(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
