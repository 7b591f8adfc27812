"""The build caches: what a rebuild would otherwise work out again, for large decks.

Rendering Markdown and highlighting code is most of a build's work, and a rebuild after a
small edit renders almost the same texts again: the render cache keeps card HTML by a hash
of its Markdown.  It is one SQLite file per source folder, which records the renderer
fingerprint it was made with (see ``render.renderer_fingerprint``: this package's renderer
code, the Markdown and Pygments versions, the styles and the card CSS); any change to how
HTML is made empties it.  The topic cache likewise keeps each topic file's questions, as
loaded and checked, by a hash of the file's name and content and of the loader
(``loader.loader_fingerprint``), so that unchanged files are not parsed again.

Both only ever save time:

- every entry carries a checksum; an entry that fails it is ignored and worked out again,
  and a file SQLite cannot read is replaced;
- they are written in one transaction each, so an interrupted build leaves them as they were;
- any problem with the folder or a file makes the build go on without them.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import zlib
from collections.abc import Iterable, Mapping
from contextlib import closing, suppress
from pathlib import Path
from typing import Any

from qa2anki.model import Question, Topic


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
        self.path = folder / f"render-{_folder_name(source)}.sqlite"

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

    def put(self, rendered: Mapping[str, str], keep: Mapping[str, str] | None = None) -> None:
        """Store newly rendered HTML by text; then, if most entries are for texts no longer
        in the deck (other than ``rendered`` and ``keep``, the HTML found in the cache),
        drop those."""
        if self.read_only:
            return
        keep = keep or {}
        try:
            self._put(rendered, keep)
        except (OSError, sqlite3.Error):
            # Start a damaged (or unwritable) file afresh, with all of the deck's HTML; a
            # folder that cannot be written means no cache.
            with suppress(OSError):
                self.path.unlink(missing_ok=True)
            with suppress(OSError, sqlite3.Error):
                self._put({**keep, **rendered}, keep)

    def _put(self, rendered: Mapping[str, str], keep: Mapping[str, str]) -> None:
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


class TopicCache:
    """Topics as loaded from their files, by the files' names and content, for one source
    folder, in ``folder``.  Only files that loaded without any problem are kept."""

    def __init__(
        self, folder: Path, fingerprint: str, *, source: Path, read_only: bool = False
    ) -> None:
        self.fingerprint = fingerprint
        self.read_only = read_only
        self.path = folder / f"topics-{_folder_name(source)}.sqlite"
        self._stored: dict[str, tuple[str, str]] | None = None
        self._seen: set[str] = set()
        self._new: dict[str, tuple[str, str]] = {}

    def get(self, path: Path, text: str) -> Topic | None:
        """Return the topic loaded before from a file of this name and ``text``, if any."""
        self._seen.add(path.name)
        stored = self._read().get(path.name)
        if stored is None or stored[0] != self._digest(path, text):
            return None
        try:
            return _topic_from_json(json.loads(stored[1]), path)
        except (ValueError, TypeError, KeyError):
            return None

    def add(self, path: Path, text: str, topic: Topic) -> None:
        """Keep ``topic``, loaded without problems from ``text`` at ``path``, for ``save``."""
        self._seen.add(path.name)
        data = json.dumps(_topic_to_json(topic), ensure_ascii=False, separators=(",", ":"))
        self._new[path.name] = (self._digest(path, text), data)

    def save(self) -> None:
        """Store the topics added, and forget the files that were not read this time.

        This ends the cache's use for one load: what it holds in memory is let go.
        """
        if not self.read_only and (self._new or not set(self._read()) <= self._seen):
            for _ in range(2):
                try:
                    self._save()
                    break
                except (OSError, sqlite3.Error):
                    with suppress(OSError):
                        self.path.unlink(missing_ok=True)
        self._stored, self._new, self._seen = None, {}, set()

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=5)) as db, db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS topics (name TEXT PRIMARY KEY, digest TEXT NOT NULL,"
                " data TEXT NOT NULL, checksum INTEGER NOT NULL)"
            )
            db.executemany(
                "INSERT OR REPLACE INTO topics VALUES (?, ?, ?, ?)",
                (
                    (name, digest, data, _checksum(digest, data))
                    for name, (digest, data) in self._new.items()
                ),
            )
            stale = set(self._read()) - self._seen
            db.executemany("DELETE FROM topics WHERE name = ?", ((name,) for name in stale))

    def _read(self) -> dict[str, tuple[str, str]]:
        """Read every sound entry once: file name -> (digest, data)."""
        if self._stored is None:
            self._stored = {}
            if self.path.is_file():
                try:
                    with closing(sqlite3.connect(self.path)) as db:
                        rows = db.execute("SELECT name, digest, data, checksum FROM topics")
                        for name, digest, data, checksum in rows:
                            if _sound(digest, data, checksum):
                                self._stored[name] = (digest, data)
                except sqlite3.Error:
                    self._stored = {}
        return self._stored

    def _digest(self, path: Path, text: str) -> str:
        return cache_key(self.fingerprint, f"{path.name}\0{text}")


def _topic_to_json(topic: Topic) -> object:
    questions = [[q.id, q.q, q.a, list(q.tags), q.line] for q in topic.questions]
    return {"slug": topic.slug, "name": topic.name, "tags": list(topic.tags), "q": questions}


def _topic_from_json(data: Any, path: Path) -> Topic:
    """Rebuild a topic from ``_topic_to_json``; a TypeError or KeyError when it is not that."""
    questions = tuple(
        Question(id=qid, q=q, a=a, tags=tuple(tags), path=path, line=line)
        for qid, q, a, tags, line in data["q"]
    )
    slug, name, tags = data["slug"], data["name"], tuple(data["tags"])
    if not all(isinstance(value, str) for value in (slug, name, *tags)):
        raise TypeError("not a topic")
    return Topic(slug=slug, name=name, tags=tags, questions=questions, path=path)


def _folder_name(source: Path) -> str:
    return hashlib.blake2b(str(source.resolve()).encode(), digest_size=8).hexdigest()


def _stored_fingerprint(db: sqlite3.Connection) -> str | None:
    try:
        row = db.execute("SELECT fingerprint FROM renderer").fetchone()
    except sqlite3.OperationalError:  # no such table yet
        return None
    return row[0] if row else None


def _sound(key: str, html: object, checksum: object) -> bool:
    return isinstance(html, str) and checksum == _checksum(key, html)
