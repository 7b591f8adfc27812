"""Turn rendered questions into a genanki package: the note type, GUIDs, decks and notes.

The note type is matched by id when a deck is re-imported, and Anki copies it ("Name+")
the moment its fields or templates differ in structure.  So ``MODEL_ID``, ``FIELDS`` and
the template names below are frozen for good: CSS and template HTML may change, the
structure may not.  ``tests/test_package.py`` pins them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from html import escape

import genanki

from qa2anki.model import Deck, RenderedDeck
from qa2anki.render import card_css

MODEL_ID = 1594302817
MODEL_NAME = "qa2anki Q&A"
FIELDS = ("Question", "Answer", "Topic", "Id")
TEMPLATE_NAME = "Q&A"

FRONT_TEMPLATE = """\
<div class="qa2anki">
<div class="topic">{{Topic}}</div>
<div class="question">{{Question}}</div>
</div>"""

BACK_TEMPLATE = """\
{{FrontSide}}
<div class="qa2anki">
<hr id="answer">
<div class="answer">{{Answer}}</div>
</div>"""


def note_type() -> genanki.Model:
    """Return the one note type every qa2anki note uses."""
    return genanki.Model(
        model_id=MODEL_ID,
        name=MODEL_NAME,
        fields=[{"name": name} for name in FIELDS],
        templates=[{"name": TEMPLATE_NAME, "qfmt": FRONT_TEMPLATE, "afmt": BACK_TEMPLATE}],
        css=card_css(),
        sort_field_index=0,
    )


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


def build_package(rendered: RenderedDeck) -> genanki.Package:
    """Package a rendered deck as one root deck with a subdeck per topic."""
    deck = rendered.deck
    model = note_type()
    root = genanki.Deck(deck_id(deck.name), deck.name, description=rendered.description_html)
    subdecks: dict[str, genanki.Deck] = {}
    for position, item in enumerate(rendered.questions, start=1):
        name = topic_deck_name(deck, item.topic.name)
        if name not in subdecks:
            subdecks[name] = genanki.Deck(deck_id(name), name)
        subdecks[name].add_note(
            genanki.Note(
                model=model,
                fields=[
                    item.question_html,
                    item.answer_html,
                    escape(item.topic.name),
                    escape(item.question.id),
                ],
                guid=question_guid(deck.key, item.question.id),
                tags=_unique((item.topic.slug, *item.topic.tags, *item.question.tags)),
                # A new card's due is its place in the new queue: keep the sources' order.
                due=position,
            )
        )
    return genanki.Package([root, *subdecks.values()])


def _unique(tags: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(tags))
