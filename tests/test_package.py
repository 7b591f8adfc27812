"""The package stage: the frozen note type, GUIDs, decks and notes."""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
import sqlite3
from pathlib import Path

import genanki

from conftest import DECK_YAML, QUESTIONS, write_sources
from qa2anki.loader import load_deck
from qa2anki.model import Deck
from qa2anki.package import (
    BACK_TEMPLATE,
    FRONT_TEMPLATE,
    MODEL_ID,
    Stamps,
    build_package,
    deck_id,
    note_type,
    question_guid,
)
from qa2anki.render import card_css, render_deck
from qa2anki.state import State, plan_build


def package(deck: Deck) -> genanki.Package:
    """Package a deck as its first build does."""
    rendered = render_deck(deck)
    return build_package(rendered, plan_build(rendered, State(), 1_700_000_000).stamps)


def test_note_type_structure_is_frozen() -> None:
    """Changing any of this makes Anki copy the note type on re-import and breaks every
    user's updates.  Do not edit this test to make a change pass: the change is wrong."""
    model = note_type()

    assert model.model_id == 1594302817
    assert model.name == "qa2anki Q&A"
    assert [field["name"] for field in model.fields] == ["Question", "Answer", "Topic", "Id"]
    assert [template["name"] for template in model.templates] == ["Q&A"]
    assert model.sort_field_index == 0
    assert model.model_type == model.FRONT_BACK


def test_cards_are_kept_from_mathjax() -> None:
    """Anki typesets \\( ... \\) with MathJax unless an element's class says not to."""
    for template in (FRONT_TEMPLATE, BACK_TEMPLATE):
        for wrapper in re.findall(r'<div class="qa2anki[^"]*">', template):
            assert wrapper == '<div class="qa2anki tex2jax_ignore mathjax_ignore">'


def test_templates_show_topic_and_question_then_the_answer() -> None:
    (template,) = note_type().templates

    assert "{{Topic}}" in template["qfmt"]
    assert "{{Question}}" in template["qfmt"]
    assert "{{Answer}}" not in template["qfmt"]
    assert template["afmt"].startswith("{{FrontSide}}")
    assert '<hr id="answer">' in template["afmt"]
    assert "{{Answer}}" in template["afmt"]
    assert note_type().css == card_css()


def test_guid_comes_from_deck_key_and_question_id_only() -> None:
    # Pinned: a change here would turn every user's next import into 100 duplicates.
    assert question_guid("python-backend-interview", "list-vs-tuple") == "E+8,]j6(^/"
    assert question_guid("test-deck", "first") == "P1<CF4Y|PC"
    assert question_guid("other-deck", "list-vs-tuple") != question_guid(
        "python-backend-interview", "list-vs-tuple"
    )


def test_editing_text_keeps_the_guid(small_sources: Path) -> None:
    deck = load_deck(small_sources)
    before = package(deck)
    topic = deck.topics[0]
    edited_question = dataclasses.replace(topic.questions[0], q="Rewritten?", a="Rewritten.")
    edited_topic = dataclasses.replace(topic, questions=(edited_question, *topic.questions[1:]))
    after = package(dataclasses.replace(deck, topics=(edited_topic, *deck.topics[1:])))

    def guids(pkg: object) -> list[str]:
        return [note.guid for d in pkg.decks for note in d.notes]  # type: ignore[attr-defined]

    assert guids(before) == guids(after)
    assert after.decks[1].notes[0].fields[0] == "<p>Rewritten?</p>"


def test_deck_ids_are_stable_and_distinct() -> None:
    assert deck_id("Python Backend Interview") == 190870903534229
    names = ["Python Backend Interview", *(f"Python Backend Interview::{n}" for n in "ABCDEFGHIJ")]
    ids = [deck_id(name) for name in names]
    assert len(set(ids)) == len(ids)
    assert all(1 < i < 2**53 for i in ids)


def test_package_has_root_deck_and_a_subdeck_per_topic(small_sources: Path) -> None:
    pkg = package(load_deck(small_sources))

    assert [d.name for d in pkg.decks] == ["Test Deck", "Test Deck::Basics", "Test Deck::More"]
    assert pkg.decks[0].notes == []
    assert [len(d.notes) for d in pkg.decks[1:]] == [2, 1]


def test_notes_fields_tags_and_order(small_sources: Path) -> None:
    pkg = package(load_deck(small_sources))
    notes = [note for d in pkg.decks for note in d.notes]

    first, second, third = notes
    assert first.fields == [
        "<p>What is <strong>one</strong>?</p>",
        "<p>The number <code>1</code>.</p>",
        "Basics",
        "first",
    ]
    assert first.guid == question_guid("test-deck", "first")
    assert (first.tags, second.tags, third.tags) == (
        ["basics", "starter"],
        ["basics", "starter", "code"],
        ["more"],
    )
    assert [note.due for note in notes] == [1, 2, 3]
    assert '<span class="nb">print</span>' in second.fields[1]


def test_topic_names_are_escaped_in_their_field(tmp_path: Path) -> None:
    source = write_sources(
        tmp_path,
        {
            "deck.yaml": DECK_YAML,
            "t.yaml": 'topic: "Q&A <b>"\nquestions:\n  - {id: x, q: Q, a: A}\n',
        },
    )
    (note,) = package(load_deck(source)).decks[1].notes

    assert note.fields[2] == "Q&amp;A &lt;b&gt;"


def test_shipped_deck_packages_100_notes_with_unique_guids() -> None:
    pkg = package(load_deck(QUESTIONS))
    notes = [note for d in pkg.decks for note in d.notes]

    assert len(notes) == 100
    assert len({note.guid for note in notes}) == 100
    assert len(pkg.decks) == 11


def test_notes_and_the_note_type_carry_their_own_stamps(small_sources: Path) -> None:
    rendered = render_deck(load_deck(small_sources))
    stamps = Stamps(note_type=1_600_000_000, notes={"first": 11, "second": 22, "third": 33})
    connection = sqlite3.connect(":memory:")
    cursor = connection.cursor()

    build_package(rendered, stamps).write_to_db(cursor, 1_999_999_999, itertools.count(1000))

    mods = dict(cursor.execute("SELECT substr(flds, -5), mod FROM notes").fetchall())
    assert sorted(mods.values()) == [11, 22, 33]
    assert sorted(m for (m,) in cursor.execute("SELECT mod FROM cards")) == [11, 22, 33]
    (models,) = cursor.execute("SELECT models FROM col").fetchone()
    assert json.loads(models)[str(MODEL_ID)]["mod"] == 1_600_000_000
    assert stamps.latest == 1_600_000_000
