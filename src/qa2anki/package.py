"""Turn rendered questions into notes and write them as an Anki collection: the note type,
GUIDs, decks, notes and cards.

The note type is matched by id when a deck is re-imported, and Anki copies it ("Name+")
the moment its fields or templates differ in structure.  So ``MODEL_ID``, ``FIELDS`` and
the template names below are frozen for good: CSS and template HTML may change, the
structure may not.  ``tests/test_package.py`` pins them.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any, NamedTuple

import genanki

from qa2anki.cache import NoteCache, storage_code
from qa2anki.model import Deck, Question, RenderedDeck, RenderedQuestion
from qa2anki.render import card_css

MODEL_ID = 1594302817
MODEL_NAME = "qa2anki Q&A"
FIELDS = ("Question", "Answer", "Topic", "Id")
TEMPLATE_NAME = "Q&A"

# Text is text: Anki runs MathJax over a card, which would turn a literal \( ... \) in a
# question into a formula; these classes tell MathJax (v2 and v3 names) to leave it alone.
FRONT_TEMPLATE = """\
<div class="qa2anki tex2jax_ignore mathjax_ignore">
<div class="topic">{{Topic}}</div>
<div class="question">{{Question}}</div>
</div>"""

BACK_TEMPLATE = """\
{{FrontSide}}
<div class="qa2anki tex2jax_ignore mathjax_ignore">
<hr id="answer">
<div class="answer">{{Answer}}</div>
</div>"""


@dataclass(frozen=True)
class Stamps:
    """The modification times to give the note type and each note (by question id).

    Anki updates an existing note or note type on re-import only when the incoming ``mod``
    is newer, so these advance only when the content does (see ``qa2anki.state``).
    """

    note_type: int
    notes: Mapping[str, int]

    @property
    def latest(self) -> int:
        return max(self.note_type, *self.notes.values())


class _StampedModel(genanki.Model):  # type: ignore[misc]
    """A genanki model written with its own ``mod`` rather than the build time."""

    def __init__(self, mod: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mod = mod

    def to_json(self, timestamp: float, deck_id: int) -> dict[str, Any]:
        return dict(super().to_json(self.mod, deck_id))


def note_type(mod: int = 0) -> genanki.Model:
    """Return the one note type every qa2anki note uses, stamped with ``mod``."""
    return _StampedModel(
        mod,
        model_id=MODEL_ID,
        name=MODEL_NAME,
        fields=[{"name": name} for name in FIELDS],
        templates=[{"name": TEMPLATE_NAME, "qfmt": FRONT_TEMPLATE, "afmt": BACK_TEMPLATE}],
        css=card_css(),
        sort_field_index=0,
    )


def note_type_fingerprint() -> str:
    """Return a hash of everything a re-import would change in the note type."""
    data = _FINGERPRINT_JSON.encode(
        [MODEL_NAME, FIELDS, TEMPLATE_NAME, FRONT_TEMPLATE, BACK_TEMPLATE, card_css()]
    )
    return hashlib.sha256(data.encode("utf-8")).hexdigest()[:20]


# The note type's hash is of this JSON text (notes' are built faster: see note_fingerprint).
_FINGERPRINT_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


class PackagedNote(NamedTuple):
    """A question's note as Anki will store it, worked out once for the plan and the writer."""

    id: str
    """The question id."""
    guid: str
    fields: tuple[str, ...]
    """The fields' HTML, in ``FIELDS`` order."""
    tags: tuple[str, ...]
    subdeck: str
    """The full name of the topic's subdeck."""
    topic_slug: str
    question: str
    """The question's Markdown, as the state file records it."""
    fingerprint: str
    """A hash of everything a re-import would change in the note (see ``note_fingerprint``)."""


@dataclass(frozen=True)
class PackagedDeck:
    """The deck's notes, ready to be planned and written: the output of this stage."""

    deck: Deck
    description_html: str
    notes: tuple[PackagedNote, ...]


def package_deck(rendered: RenderedDeck, cache: NoteCache | None = None) -> PackagedDeck:
    """Work out every note's fields, tags, GUID, subdeck and fingerprint, in source order.

    Each note's fields are ``note_fields`` and its tags ``note_tags``; what is the same for a
    whole topic is worked out once per topic.  A topic's GUIDs and fingerprints found in
    ``cache`` are not worked out again: its key covers the deck key and every note's id,
    fields and tags (see ``NoteCache.key``).
    """
    deck = rendered.deck
    key = deck.key
    notes: list[PackagedNote] = []
    # A topic's questions are together, in order; the topic is the same object for each.
    for _, group in itertools.groupby(rendered.questions, key=lambda item: id(item.topic)):
        items = list(group)
        topic = items[0].topic
        subdeck = topic_deck_name(deck, topic.name)
        topic_field = escape(topic.name)
        topic_tags = (topic.slug, *topic.tags)
        plain_tags = _unique(topic_tags)
        rows = [
            (
                item.question,
                (item.question_html, item.answer_html, topic_field, escape(item.question.id)),
                _unique((*topic_tags, *item.question.tags)) if item.question.tags else plain_tags,
            )
            for item in items
        ]
        known = _guids_and_fingerprints(key, rows, cache)
        notes += (
            PackagedNote(
                question.id, guid, fields, tags, subdeck, topic.slug, question.q, fingerprint
            )
            for (question, fields, tags), (guid, fingerprint) in zip(rows, known, strict=True)
        )
    return PackagedDeck(deck, rendered.description_html, tuple(notes))


def _guids_and_fingerprints(
    deck_key: str,
    rows: Sequence[tuple[Question, tuple[str, ...], tuple[str, ...]]],
    cache: NoteCache | None,
) -> list[tuple[str, str]]:
    """Return each note's GUID and fingerprint: from ``cache``, or worked out (and kept)."""
    if cache is None:
        return [
            (question_guid(deck_key, question.id), note_fingerprint(fields, tags))
            for question, fields, tags in rows
        ]
    topic_key = cache.key(
        deck_key, [(question.id, fields, tags) for question, fields, tags in rows]
    )
    found = cache.get(topic_key, len(rows))
    if found is None:
        found = _guids_and_fingerprints(deck_key, rows, None)
        cache.add(topic_key, found)
    return found


@functools.cache
def package_fingerprint() -> str:
    """Return a hash of everything that decides a note's GUID and fingerprint besides the
    note itself, for the note cache: this module's code, how the cache stores them, and
    genanki's version."""
    parts = [Path(__file__).read_bytes(), storage_code(), str(genanki.__version__).encode()]
    return hashlib.sha256(b"\0".join(parts)).hexdigest()


def note_fingerprint(fields: Sequence[str], tags: Sequence[str]) -> str:
    """Return a hash of everything a re-import would change in a note: its fields and tags.

    Not its subdeck, because Anki never moves an existing card (the plan reports moves by
    comparing subdecks).  The hash is of the JSON text ``[[fields...],[tags...]]``, built
    here string by string because it is worked out for every note of every build.
    """
    text = f"[[{','.join(map(_json_string, fields))}],[{','.join(map(_json_string, tags))}]]"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


# The JSON encoder's own string encoder (in C), as used with ensure_ascii=False.
_json_string = json.encoder.encode_basestring


def question_guid(deck_key: str, question_id: str) -> str:
    """Return the note GUID for a question: from the deck key and question id, never the text.

    It is ``genanki.guid_for(deck_key, question_id)``: the first 8 bytes of the SHA-256 of
    ``key__id`` written in Anki's base 91.  It is worked out here because it is needed for
    every note of every build and genanki's is several times slower; a test holds the two
    equal.
    """
    digest = hashlib.sha256(f"{deck_key}__{question_id}".encode()).digest()
    number = int.from_bytes(digest[:8], "big")
    digits = []
    while number > 0:
        number, digit = divmod(number, _BASE91_SIZE)
        digits.append(_BASE91[digit])
    return "".join(reversed(digits))


_BASE91: list[str] = genanki.util.BASE91_TABLE
_BASE91_SIZE = len(_BASE91)


def deck_id(deck_name: str) -> int:
    """Return a stable id for a deck name; Anki matches decks by name, so it need only be stable."""
    digest = hashlib.sha256(deck_name.encode("utf-8")).digest()
    # 48 bits keep the id a safe integer for Anki's JavaScript, and far from the Default deck's 1.
    return int.from_bytes(digest[:6], "big") | (1 << 40)


def topic_deck_name(deck: Deck, topic_name: str) -> str:
    """Return the full name of a topic's subdeck."""
    return f"{deck.name}::{topic_name}"


def write_collection(packaged: PackagedDeck, stamps: Stamps, db: sqlite3.Connection) -> None:
    """Write the deck into an empty SQLite database as the collection of an ``.apkg``.

    genanki writes the collection's schema, its decks (one root deck, a subdeck per topic)
    and the note type.  The notes and their cards go in as genanki's ``Note.write_to_db``
    would write them (a test holds the rows equal), but in two statements rather than two
    per note: at 100,000 questions that is most of the time genanki would take.  genanki's
    indexes are made again once the rows are in, one sort each rather than an update per row
    (the schema is the same: a test compares it).  Notes and cards are numbered from the
    latest stamp in milliseconds (so never from a time in the future), each note followed by
    its card; a new card's ``due`` is its place in the sources, so that Anki shows new cards
    in the sources' order.
    """
    deck = packaged.deck
    first_id = stamps.latest * 1000
    model = note_type(stamps.note_type)
    root = genanki.Deck(deck_id(deck.name), deck.name, description=packaged.description_html)
    subdecks: dict[str, genanki.Deck] = {}
    for note in packaged.notes:
        if note.subdeck not in subdecks:
            subdecks[note.subdeck] = subdeck = genanki.Deck(deck_id(note.subdeck), note.subdeck)
            subdeck.add_model(model)
    cursor = db.cursor()
    # The time genanki takes is unused: the note type carries its own stamp.
    genanki.Package([root, *subdecks.values()]).write_to_db(
        cursor, first_id / 1000, itertools.count(first_id)
    )
    indexes = cursor.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        " ORDER BY rowid"
    ).fetchall()
    for name, _ in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    mods = stamps.notes
    cursor.executemany(
        "INSERT INTO notes VALUES (?, ?, ?, ?, -1, ?, ?, ?, 0, 0, '')",
        (
            (
                first_id + 2 * index,  # id
                note.guid,
                MODEL_ID,  # mid
                mods[note.id],  # mod
                f" {' '.join(note.tags)} ",  # tags, as genanki writes them
                "\x1f".join(note.fields),  # flds
                note.fields[0],  # sfld: genanki's sort field, the first
            )
            for index, note in enumerate(packaged.notes)
        ),
    )
    ids = {name: subdeck.deck_id for name, subdeck in subdecks.items()}
    cursor.executemany(
        "INSERT INTO cards VALUES (?, ?, ?, 0, ?, -1, 0, 0, ?, 0, 0, 0, 0, 0, 0, 0, 0, '')",
        (
            (
                first_id + 2 * index + 1,  # id
                first_id + 2 * index,  # nid
                ids[note.subdeck],  # did
                mods[note.id],  # mod
                index + 1,  # due
            )
            for index, note in enumerate(packaged.notes)
        ),
    )
    for _, sql in indexes:
        cursor.execute(sql)


def note_fields(item: RenderedQuestion) -> dict[str, str]:
    """Return the note's fields as HTML, by field name in ``FIELDS`` order."""
    values = (
        item.question_html,
        item.answer_html,
        escape(item.topic.name),
        escape(item.question.id),
    )
    return dict(zip(FIELDS, values, strict=True))


def note_tags(item: RenderedQuestion) -> tuple[str, ...]:
    """Return the note's tags: the topic's slug and tags, then the question's, each once."""
    return _unique((item.topic.slug, *item.topic.tags, *item.question.tags))


def _unique(tags: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(tags))
