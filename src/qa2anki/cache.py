"""The build caches: what a rebuild would otherwise work out again, for large decks.

Rendering Markdown and highlighting code is most of a build's work, and a rebuild after a
small edit renders almost the same texts again: the render cache keeps card HTML by a hash
of its Markdown, at two levels.  Each topic has a bundle: the HTML of all its texts (questions
and answers, in order; the deck's description is a topic of one text), by one hash of them
all, so that a rebuild finds an unchanged topic's HTML without hashing or looking up its
texts one by one.  A topic whose bundle is not found (it was edited) has its texts looked up
one by one, by a hash of each; only those not found are rendered, and the topic gets a new
bundle.  The HTML is thus kept twice, once per text and once per topic.

What the file holds stays close to the deck: each build that writes drops the bundles of
topics the deck no longer has (an edited topic's old bundle among them), and drops the
entries of texts no longer in the deck once they are most of the entries (the texts of
topics found by their bundle are in the deck: their entries stay, for the topic's next
edit).  A build that finds every bundle writes nothing.

It is one SQLite file per source folder, which records the renderer fingerprint it was made
with (see ``render.renderer_fingerprint``: this package's renderer code, the Markdown and
Pygments versions, the styles and the card CSS); any change to how HTML is made empties it,
both levels.  The topic cache likewise keeps each topic file's questions, as loaded and
checked, by a hash of the file's name and content and of the loader
(``loader.loader_fingerprint``), so that unchanged files are not parsed again.  The note cache
keeps each topic's note GUIDs and hashes, by a hash of everything they are worked out from:
the deck key and each note's id, fields (their HTML) and tags, and the packaging code
(``package.package_fingerprint``).

All three only ever save time:

- every entry carries a checksum; an entry that fails it, or that is not what it should be
  (a bundle that is not a list of as many HTML texts as its topic has), is ignored and worked
  out again, and a file SQLite cannot read is replaced;
- they are written in one transaction each, so an interrupted build leaves them as they were;
- any problem with the folder or a file makes the build go on without them.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import sqlite3
import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import closing, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qa2anki.model import Question, Topic


def storage_code() -> bytes:
    """Return this module's code, which decides how every cache stores and reads its entries:
    part of each cache's fingerprint, so that a change to it starts every cache afresh."""
    return Path(__file__).read_bytes()


def cache_key(fingerprint: str, text: str) -> str:
    """Return the key of one text's HTML: a hash of the renderer fingerprint and the text."""
    digest = hashlib.blake2b(fingerprint.encode(), digest_size=16)
    digest.update(b"\0")
    digest.update(text.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def bundle_key(fingerprint: str, texts: Sequence[str]) -> str:
    """Return the key of a topic's HTML: a hash of the renderer fingerprint and the topic's
    texts in order."""
    digest = hashlib.blake2b(fingerprint.encode(), digest_size=16, person=b"topic")
    # The number of texts and each one's length, then all of them at once: one hash of a
    # whole topic costs far less than one per text, and no two lists of texts give the same
    # input.
    digest.update(len(texts).to_bytes(8, "little"))
    digest.update(array("q", map(len, texts)).tobytes())
    digest.update("".join(texts).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def _checksum(key: str, html: str) -> int:
    return zlib.crc32(html.encode("utf-8", "surrogatepass"), zlib.crc32(key.encode()))


def _bundle_checksum(key: str, blob: bytes) -> int:
    return zlib.crc32(blob, zlib.crc32(key.encode()))


# A rebuild that looks up more than this share of its texts one by one (their topics' bundles
# missed) reads the whole table of texts instead: that is faster.
_SCAN_SHARE = 0.25
# Keys looked up in one query (SQLite before 3.32 allows 999 parameters).
_BATCH = 500


@dataclass
class Found:
    """What the render cache holds for a deck's topics (see ``RenderCache.get``)."""

    groups: Sequence[Sequence[str]]
    """The texts of each topic, in order."""
    keys: list[str]
    """The bundle key of each group."""
    html: dict[str, str] = field(default_factory=dict)
    """The HTML of every text found, by text."""
    missing: list[str] = field(default_factory=list)
    """The distinct texts not found, in order: those to render."""
    hits: set[str] = field(default_factory=set)
    """The keys of the bundles found sound."""
    text_keys: dict[str, str] = field(default_factory=dict)
    """The key of each text looked up one by one, by text (``put`` stores them by it)."""
    stale: set[str] = field(default_factory=set)
    """The keys of bundles stored for topics this deck does not have."""


class RenderCache:
    """Rendered HTML for one source folder and renderer fingerprint, in ``folder``: by topic
    (a bundle of all its texts' HTML) and by text."""

    def __init__(
        self, folder: Path, fingerprint: str, *, source: Path, read_only: bool = False
    ) -> None:
        self.fingerprint = fingerprint
        self.read_only = read_only
        # One file per source folder, so that decks built from one place do not evict each
        # other's entries, and the file never holds much more than its deck's texts.
        self.path = folder / f"render-{_folder_name(source)}.sqlite"

    def get(self, groups: Sequence[Sequence[str]]) -> Found:
        """Return the HTML cached for the texts of ``groups`` (each a topic's texts, in order).

        A topic whose bundle is sound gives all its texts' HTML at once; the texts of the
        other topics are looked up one by one.
        """
        found = Found(groups, [bundle_key(self.fingerprint, group) for group in groups])
        if self.path.is_file():
            with suppress(sqlite3.Error), closing(sqlite3.connect(self.path)) as db:
                # Whatever was read before an error is sound: every entry was checked.
                if _stored_fingerprint(db) == self.fingerprint:
                    self._get_bundles(db, found)
                    self._get_texts(db, found)
        html = found.html
        found.missing = [text for text in dict.fromkeys(_missed_texts(found)) if text not in html]
        return found

    def _get_bundles(self, db: sqlite3.Connection, found: Found) -> None:
        wanted = dict(zip(found.keys, found.groups, strict=True))
        try:
            stored = {key for (key,) in db.execute("SELECT key FROM bundles")}
        except sqlite3.OperationalError:  # no such table (yet): look up every text
            return
        found.stale = stored - wanted.keys()
        for key in stored & wanted.keys():
            row = db.execute("SELECT html, checksum FROM bundles WHERE key = ?", (key,)).fetchone()
            html = _bundle_html(key, row, len(wanted[key]))
            if html is not None:
                found.html.update(zip(wanted[key], html, strict=True))
                found.hits.add(key)

    def _get_texts(self, db: sqlite3.Connection, found: Found) -> None:
        html = found.html
        found.text_keys = {
            text: cache_key(self.fingerprint, text)
            for text in _missed_texts(found)
            if text not in html
        }
        keys = {key: text for text, key in found.text_keys.items()}
        for key, text_html, checksum in _rows(db, list(keys), found):
            text = keys.get(key)
            if text is not None and _sound(key, text_html, checksum):
                html[text] = text_html

    def put(self, found: Found, rendered: Mapping[str, str]) -> None:
        """Store the HTML of the texts in ``found.missing``, now ``rendered``, and the bundles
        of the topics that missed theirs; drop the bundles of topics no longer in the deck
        and, if most entries are for texts no longer in the deck, those entries."""
        if self.read_only or (
            not rendered and found.hits.issuperset(found.keys) and not found.stale
        ):
            return
        try:
            self._put(found, rendered, everything=False)
        except (OSError, sqlite3.Error):
            # Start a damaged (or unwritable) file afresh, with all of the deck's HTML; a
            # folder that cannot be written means no cache.
            with suppress(OSError):
                self.path.unlink(missing_ok=True)
            with suppress(OSError, sqlite3.Error):
                self._put(found, rendered, everything=True)

    def _put(self, found: Found, rendered: Mapping[str, str], *, everything: bool) -> None:
        html = {**found.html, **rendered}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=5)) as db, db:
            db.execute("CREATE TABLE IF NOT EXISTS renderer (fingerprint TEXT NOT NULL)")
            db.execute(
                "CREATE TABLE IF NOT EXISTS entries "
                "(key TEXT PRIMARY KEY, html TEXT NOT NULL, checksum INTEGER NOT NULL) "
                "WITHOUT ROWID"
            )
            db.execute(
                "CREATE TABLE IF NOT EXISTS bundles "
                "(key TEXT PRIMARY KEY, html BLOB NOT NULL, checksum INTEGER NOT NULL)"
            )
            if _stored_fingerprint(db) != self.fingerprint:
                # Made by another renderer: none of it can be used again.
                db.execute("DELETE FROM entries")
                db.execute("DELETE FROM bundles")
                db.execute("DELETE FROM renderer")
                db.execute("INSERT INTO renderer VALUES (?)", (self.fingerprint,))
            known = found.text_keys
            rows = sorted(
                (key, text_html, _checksum(key, text_html))
                for key, text_html in (
                    (known.get(text) or cache_key(self.fingerprint, text), text_html)
                    for text, text_html in (html if everything else rendered).items()
                )
            )
            # In key order, each row goes at the end of the table rather than anywhere in it.
            db.executemany("INSERT OR REPLACE INTO entries VALUES (?, ?, ?)", rows)
            stored = {key for (key,) in db.execute("SELECT key FROM bundles")}
            db.executemany(
                "DELETE FROM bundles WHERE key = ?",
                ((key,) for key in stored.difference(found.keys)),
            )
            for key, group in zip(found.keys, found.groups, strict=True):
                if everything or key not in found.hits:
                    blob = marshal.dumps([html[text] for text in group])
                    db.execute(
                        "INSERT OR REPLACE INTO bundles VALUES (?, ?, ?)",
                        (key, blob, _bundle_checksum(key, blob)),
                    )
            # The deck's texts, including those of topics found by bundle, are live.
            live = len(found.html) + sum(text not in found.html for text in rendered)
            (count,) = db.execute("SELECT count(*) FROM entries").fetchone()
            if count > 2 * live:
                db.execute("CREATE TEMP TABLE live (key TEXT PRIMARY KEY) WITHOUT ROWID")
                db.executemany(
                    "INSERT OR IGNORE INTO live VALUES (?)",
                    ((cache_key(self.fingerprint, text),) for text in html),
                )
                db.execute("DELETE FROM entries WHERE key NOT IN (SELECT key FROM live)")


def _missed_texts(found: Found) -> Iterator[str]:
    """Yield the texts of the topics whose bundle was not found."""
    for key, group in zip(found.keys, found.groups, strict=True):
        if key not in found.hits:
            yield from group


def _rows(db: sqlite3.Connection, keys: list[str], found: Found) -> Iterable[tuple[Any, ...]]:
    """Return the entries of ``keys`` (and maybe others): the rows of the texts' table."""
    if len(keys) > _SCAN_SHARE * sum(len(group) for group in found.groups):
        # Reading the whole table in order is faster than looking up many of its keys, and
        # it holds little more than this deck's texts (see put).
        return db.execute("SELECT key, html, checksum FROM entries")
    # In the table's order, one lookup reads pages near the last one's.
    keys = sorted(keys)
    return (
        row
        for start in range(0, len(keys), _BATCH)
        for row in db.execute(
            "SELECT key, html, checksum FROM entries WHERE key IN "
            f"({','.join('?' * len(keys[start : start + _BATCH]))})",
            keys[start : start + _BATCH],
        )
    )


def _bundle_html(key: str, row: tuple[Any, ...], length: int) -> list[str] | None:
    """Return a bundle's HTML, or None if the entry is damaged or not for ``length`` texts."""
    blob, checksum = row
    if not isinstance(blob, bytes) or checksum != _bundle_checksum(key, blob):
        return None
    try:
        # marshal reads a list of texts back several times faster than json; it is given only
        # bytes that passed the checksum, that is what put wrote with this Python (whose
        # version is part of the renderer fingerprint).
        html = marshal.loads(blob)
    except (EOFError, ValueError, TypeError):
        return None
    if type(html) is not list or len(html) != length or not all(type(h) is str for h in html):
        return None
    return html


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
            _write_or_start_afresh(self.path, self._save)
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
            rows = _sound_rows(self.path, "SELECT name, digest, data, checksum FROM topics")
            self._stored = {name: (digest, data) for name, digest, data, _ in rows}
        return self._stored

    def _digest(self, path: Path, text: str) -> str:
        return cache_key(self.fingerprint, f"{path.name}\0{text}")


class NoteCache:
    """Each topic's note GUIDs and hashes, for one source folder, in ``folder``.

    A topic's entry is found by a hash of everything its GUIDs and hashes are worked out
    from, the notes' HTML included (see ``package.package_deck``): it is what they would be
    worked out as again, never an old value.
    """

    def __init__(
        self, folder: Path, fingerprint: str, *, source: Path, read_only: bool = False
    ) -> None:
        self.fingerprint = fingerprint
        self.read_only = read_only
        self.path = folder / f"notes-{_folder_name(source)}.sqlite"
        self._stored: dict[str, str] | None = None
        self._used: set[str] = set()
        self._new: dict[str, str] = {}

    def get(self, key: str, count: int) -> list[tuple[str, str]] | None:
        """Return the (GUID, hash) of each of the ``count`` notes stored under ``key``."""
        self._used.add(key)
        stored = self._read().get(key)
        if stored is None:
            return None
        words = stored.split(" ")
        if len(words) != 2 * count:
            return None
        return list(zip(words[::2], words[1::2], strict=True))

    def add(self, key: str, notes: Sequence[tuple[str, str]]) -> None:
        """Keep the (GUID, hash) of each note of a topic under ``key``, for ``save``."""
        self._used.add(key)
        words = [word for note in notes for word in note]
        # GUIDs are in Anki's base 91 and hashes in hexadecimal: neither has a space.
        if all(word and " " not in word for word in words):
            self._new[key] = " ".join(words)

    def save(self) -> None:
        """Store the topics added, and forget those not asked for this time."""
        if not self.read_only and (self._new or not set(self._read()) <= self._used):
            _write_or_start_afresh(self.path, self._save)
        self._stored, self._new, self._used = None, {}, set()

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=5)) as db, db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS notes (key TEXT PRIMARY KEY, data TEXT NOT NULL,"
                " checksum INTEGER NOT NULL)"
            )
            db.executemany(
                "INSERT OR REPLACE INTO notes VALUES (?, ?, ?)",
                ((key, data, _checksum(key, data)) for key, data in self._new.items()),
            )
            stale = set(self._read()) - self._used
            db.executemany("DELETE FROM notes WHERE key = ?", ((key,) for key in stale))

    def _read(self) -> dict[str, str]:
        """Read every sound entry once: key -> the notes' GUIDs and hashes, space-separated."""
        if self._stored is None:
            rows = _sound_rows(self.path, "SELECT key, data, checksum FROM notes")
            self._stored = {key: data for key, data, _ in rows}
        return self._stored

    def key(self, deck_key: str, notes: Sequence[tuple[str, Sequence[str], Sequence[str]]]) -> str:
        """Return the key of a topic's notes, each given as (question id, fields, tags): a hash
        of this cache's fingerprint, the deck key, and all of them."""
        digest = hashlib.blake2b(self.fingerprint.encode(), digest_size=16, person=b"notes")
        texts = [deck_key]
        shape = [len(notes)]
        for question_id, fields, tags in notes:
            texts.append(question_id)
            texts += fields
            texts += tags
            shape += (len(fields), len(tags))
        # How many notes, fields and tags, each text's length, then all the texts at once:
        # no two different lists of notes give the same input.
        digest.update(array("q", shape).tobytes())
        digest.update(array("q", map(len, texts)).tobytes())
        digest.update("".join(texts).encode("utf-8", "surrogatepass"))
        return digest.hexdigest()


def _write_or_start_afresh(path: Path, write: Callable[[], None]) -> None:
    """Write a cache file with ``write``; if that fails, delete the file and try once more:
    a damaged file is replaced, and a folder that cannot be written means no cache."""
    for _ in range(2):
        try:
            write()
            return
        except (OSError, sqlite3.Error):
            with suppress(OSError):
                path.unlink(missing_ok=True)


def _sound_rows(path: Path, query: str) -> list[tuple[Any, ...]]:
    """Return the rows of ``query`` on a cache file whose last three columns, key, text and
    checksum, are sound; none when the file is missing or SQLite cannot read it."""
    if not path.is_file():
        return []
    try:
        with closing(sqlite3.connect(path)) as db:
            return [row for row in db.execute(query) if _sound(row[-3], row[-2], row[-1])]
    except sqlite3.Error:
        return []


def _topic_to_json(topic: Topic) -> object:
    questions = [[q.id, q.q, q.a, list(q.tags), q.line] for q in topic.questions]
    return {"slug": topic.slug, "name": topic.name, "tags": list(topic.tags), "q": questions}


def _topic_from_json(data: Any, path: Path) -> Topic:
    """Rebuild a topic from ``_topic_to_json``; a TypeError or KeyError when it is not that."""
    questions = tuple(
        Question(qid, q, a, tuple(tags), path, line) for qid, q, a, tags, line in data["q"]
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
