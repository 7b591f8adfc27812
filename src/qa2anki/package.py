"""Turn rendered questions into a genanki package: the note type, GUIDs, decks and notes.

The note type is matched by id when a deck is re-imported, and Anki copies it ("Name+")
the moment its fields or templates differ in structure.  So ``MODEL_ID``, ``FIELDS`` and
the template names below are frozen for good: CSS and template HTML may change, the
structure may not.  ``tests/test_package.py`` pins them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from html import escape
from typing import Any

import genanki

from qa2anki.model import Deck, RenderedDeck, RenderedQuestion
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


class _StampedNote(genanki.Note):  # type: ignore[misc]
    """A genanki note (and its card) written with its own ``mod`` rather than the build time."""

    def __init__(self, mod: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mod = mod

    def write_to_db(self, cursor: Any, timestamp: float, deck_id: int, id_gen: Any) -> None:
        super().write_to_db(cursor, self.mod, deck_id, id_gen)

    def _check_invalid_html_tags_in_fields(self) -> None:
        """Skip genanki's guess at unescaped text: every field is HTML that the render stage
        made from escaped text (a property test holds it to a list of tags), and the regex
        costs a tenth of a large deck's write."""


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
    return _fingerprint(
        [MODEL_NAME, FIELDS, TEMPLATE_NAME, FRONT_TEMPLATE, BACK_TEMPLATE, card_css()]
    )


def note_fingerprint(item: RenderedQuestion) -> str:
    """Return a hash of everything a re-import would change in a question's note.

    That is its fields and tags; not its subdeck, because Anki never moves an existing card
    (the plan reports moves by comparing subdecks).
    """
    return _fingerprint([list(note_fields(item).values()), _note_tags(item)])


# One encoder for every note: json.dumps with options builds a new one on each call.
_FINGERPRINT_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _fingerprint(content: object) -> str:
    data = _FINGERPRINT_JSON.encode(content).encode("utf-8")
    return hashlib.sha256(data).hexdigest()[:20]


def question_guid(deck_key: str, question_id: str) -> str:
    """Return the note GUID for a question: from the deck key and question id, never the text."""
    return str(genanki.guid_for(deck_key, question_id))


def deck_id(deck_name: str) -> int:
    """Return a stable id for a deck name; Anki matches decks by name, so it need only be stable."""
    digest = hashlib.sha256(deck_name.encode("utf-8")).digest()
    # 48 bits keep the id a safe integer for Anki's JavaScript, and far from the Default deck's 1.
    return int.from_bytes(digest[:6], "big") | (1 << 40)


def topic_deck_name(deck: Deck, topic_name: str) -> str:
    """Return the full name of a topic's subdeck."""
    return f"{deck.name}::{topic_name}"


def build_package(rendered: RenderedDeck, stamps: Stamps) -> genanki.Package:
    """Package a rendered deck as one root deck with a subdeck per topic."""
    deck = rendered.deck
    model = note_type(stamps.note_type)
    root = genanki.Deck(deck_id(deck.name), deck.name, description=rendered.description_html)
    subdecks: dict[str, genanki.Deck] = {}
    for position, item in enumerate(rendered.questions, start=1):
        name = topic_deck_name(deck, item.topic.name)
        if name not in subdecks:
            subdecks[name] = genanki.Deck(deck_id(name), name)
        subdecks[name].add_note(
            _StampedNote(
                stamps.notes[item.question.id],
                model=model,
                fields=list(note_fields(item).values()),
                guid=question_guid(deck.key, item.question.id),
                tags=_note_tags(item),
                # A new card's due is its place in the new queue: keep the sources' order.
                due=position,
            )
        )
    return genanki.Package([root, *subdecks.values()])


def note_fields(item: RenderedQuestion) -> dict[str, str]:
    """Return the note's fields as HTML, by field name in ``FIELDS`` order."""
    values = (
        item.question_html,
        item.answer_html,
        escape(item.topic.name),
        escape(item.question.id),
    )
    return dict(zip(FIELDS, values, strict=True))


def _note_tags(item: RenderedQuestion) -> list[str]:
    return _unique((item.topic.slug, *item.topic.tags, *item.question.tags))


def _unique(tags: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(tags))
