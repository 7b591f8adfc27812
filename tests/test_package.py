"""The package stage: the frozen note type, GUIDs, decks, notes and the collection written."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import re
import sqlite3
from pathlib import Path

import genanki
from hypothesis import given
from hypothesis import strategies as st

from conftest import DECK_YAML, QUESTIONS, write_sources
from qa2anki.loader import load_deck
from qa2anki.model import Deck
from qa2anki.package import (
    BACK_TEMPLATE,
    FRONT_TEMPLATE,
    MODEL_ID,
    PackagedDeck,
    Stamps,
    deck_id,
    note_fields,
    note_fingerprint,
    note_tags,
    note_type,
    package_deck,
    question_guid,
    write_collection,
)
from qa2anki.render import card_css, render_deck
from qa2anki.state import State, plan_build

T0 = 1_700_000_000


def packaged(deck: Deck) -> PackagedDeck:
    return package_deck(render_deck(deck))


def collection(deck: Deck, stamps: Stamps | None = None) -> sqlite3.Connection:
    """Write a deck's collection as its first build does, into a database in memory."""
    notes = packaged(deck)
    stamps = stamps or plan_build(notes, State(), T0).stamps
    db = sqlite3.connect(":memory:")
    write_collection(notes, stamps, db)
    return db


def deck_names(db: sqlite3.Connection) -> dict[int, str]:
    (decks,) = db.execute("SELECT decks FROM col").fetchone()
    return {int(key): deck["name"] for key, deck in json.loads(decks).items()}


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
    before = packaged(deck)
    topic = deck.topics[0]
    edited_question = topic.questions[0]._replace(q="Rewritten?", a="Rewritten.")
    edited_topic = dataclasses.replace(topic, questions=(edited_question, *topic.questions[1:]))
    after = packaged(dataclasses.replace(deck, topics=(edited_topic, *deck.topics[1:])))

    assert [note.guid for note in before.notes] == [note.guid for note in after.notes]
    assert after.notes[0].fields[0] == "<p>Rewritten?</p>"
    assert after.notes[0].fingerprint != before.notes[0].fingerprint
    assert after.notes[1:] == before.notes[1:]


@given(st.text(), st.text())
def test_guid_is_genankis(deck_key: str, question_id: str) -> None:
    try:
        expected = genanki.guid_for(deck_key, question_id)
    except UnicodeEncodeError:  # lone surrogates: never in loaded sources
        return
    assert question_guid(deck_key, question_id) == expected


@given(st.lists(st.text()), st.lists(st.text()))
def test_note_fingerprint_is_the_hash_of_fields_and_tags_as_json(
    fields: list[str], tags: list[str]
) -> None:
    text = json.dumps([fields, tags], ensure_ascii=False, separators=(",", ":"))
    try:
        expected = hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]
    except UnicodeEncodeError:  # lone surrogates: never in loaded sources
        return
    assert note_fingerprint(fields, tags) == expected


def test_deck_ids_are_stable_and_distinct() -> None:
    assert deck_id("Python Backend Interview") == 190870903534229
    names = ["Python Backend Interview", *(f"Python Backend Interview::{n}" for n in "ABCDEFGHIJ")]
    ids = [deck_id(name) for name in names]
    assert len(set(ids)) == len(ids)
    assert all(1 < i < 2**53 for i in ids)


def test_collection_has_root_deck_and_a_subdeck_per_topic(small_sources: Path) -> None:
    db = collection(load_deck(small_sources))
    names = deck_names(db)

    # Deck 1 is the Default deck every collection has.
    assert sorted(names.values()) == [
        "Default",
        "Test Deck",
        "Test Deck::Basics",
        "Test Deck::More",
    ]
    cards = db.execute("SELECT did, count(*) FROM cards GROUP BY did").fetchall()
    assert sorted((names[did], count) for did, count in cards) == [
        ("Test Deck::Basics", 2),
        ("Test Deck::More", 1),
    ]


def test_notes_fields_tags_and_order(small_sources: Path) -> None:
    db = collection(load_deck(small_sources))
    rows = db.execute(
        "SELECT n.guid, n.flds, n.tags, n.sfld, c.due, c.ord FROM notes n "
        "JOIN cards c ON c.nid = n.id ORDER BY n.id"
    ).fetchall()

    first, second, third = rows
    assert first[1].split("\x1f") == [
        "<p>What is <strong>one</strong>?</p>",
        "<p>The number <code>1</code>.</p>",
        "Basics",
        "first",
    ]
    assert first[3] == "<p>What is <strong>one</strong>?</p>"
    assert first[0] == question_guid("test-deck", "first")
    assert (first[2], second[2], third[2]) == (
        " basics starter ",
        " basics starter code ",
        " more ",
    )
    assert [row[4] for row in rows] == [1, 2, 3]
    assert [row[5] for row in rows] == [0, 0, 0]
    assert '<span class="nb">print</span>' in second[1]


def test_each_note_has_its_questions_fields_tags_and_subdeck(small_sources: Path) -> None:
    for source in (small_sources, QUESTIONS):
        rendered = render_deck(load_deck(source))
        notes = package_deck(rendered).notes

        assert len(notes) == len(rendered.questions)
        for note, item in zip(notes, rendered.questions, strict=True):
            assert note.id == item.question.id
            assert note.fields == tuple(note_fields(item).values())
            assert note.tags == note_tags(item)
            assert note.subdeck == f"{rendered.deck.name}::{item.topic.name}"
            assert note.topic_slug == item.topic.slug
            assert note.question == item.question.q
            assert note.fingerprint == note_fingerprint(note.fields, note.tags)


def test_topic_names_are_escaped_in_their_field(tmp_path: Path) -> None:
    source = write_sources(
        tmp_path,
        {
            "deck.yaml": DECK_YAML,
            "t.yaml": 'topic: "Q&A <b>"\nquestions:\n  - {id: x, q: Q, a: A}\n',
        },
    )
    (note,) = packaged(load_deck(source)).notes

    assert note.fields[2] == "Q&amp;A &lt;b&gt;"


def test_shipped_deck_packages_100_notes_with_unique_guids() -> None:
    db = collection(load_deck(QUESTIONS))
    guids = [guid for (guid,) in db.execute("SELECT guid FROM notes")]

    assert len(guids) == 100
    assert len(set(guids)) == 100
    assert len(deck_names(db)) == 12  # Default, the root deck and 10 subdecks


def test_notes_and_the_note_type_carry_their_own_stamps(small_sources: Path) -> None:
    stamps = Stamps(note_type=1_600_000_000, notes={"first": 11, "second": 22, "third": 33})
    db = collection(load_deck(small_sources), stamps)

    mods = dict(db.execute("SELECT substr(flds, -5), mod FROM notes").fetchall())
    assert sorted(mods.values()) == [11, 22, 33]
    assert sorted(m for (m,) in db.execute("SELECT mod FROM cards")) == [11, 22, 33]
    (models,) = db.execute("SELECT models FROM col").fetchone()
    assert json.loads(models)[str(MODEL_ID)]["mod"] == 1_600_000_000
    assert stamps.latest == 1_600_000_000
    (first_id,) = db.execute("SELECT min(id) FROM notes").fetchone()
    assert first_id == stamps.latest * 1000


def genanki_collection(notes: PackagedDeck, stamps: Stamps, first_id: int) -> sqlite3.Connection:
    """The same deck written by genanki alone, note by note, as genanki's users write decks."""

    class StampedNote(genanki.Note):  # type: ignore[misc]
        def __init__(self, mod: int, **kwargs: object) -> None:
            super().__init__(**kwargs)
            self.mod = mod

        def write_to_db(self, cursor: object, timestamp: float, did: int, ids: object) -> None:
            super().write_to_db(cursor, self.mod, did, ids)

    model = note_type(stamps.note_type)
    deck = notes.deck
    root = genanki.Deck(deck_id(deck.name), deck.name, description=notes.description_html)
    subdecks: dict[str, genanki.Deck] = {}
    for position, note in enumerate(notes.notes, start=1):
        subdeck = subdecks.setdefault(
            note.subdeck, genanki.Deck(deck_id(note.subdeck), note.subdeck)
        )
        subdeck.add_note(
            StampedNote(
                stamps.notes[note.id],
                model=model,
                fields=list(note.fields),
                guid=note.guid,
                tags=list(note.tags),
                due=position,
            )
        )
    db = sqlite3.connect(":memory:")
    genanki.Package([root, *subdecks.values()]).write_to_db(
        db.cursor(), first_id / 1000, itertools.count(first_id)
    )
    return db


def test_collection_is_row_for_row_what_genanki_writes(small_sources: Path) -> None:
    """The notes and cards go in by the thousand, not one by one as genanki does: what is
    written must not differ in any table, row or value."""
    for source in (small_sources, QUESTIONS):
        notes = packaged(load_deck(source))
        stamps = plan_build(notes, State(), T0).stamps
        ours = sqlite3.connect(":memory:")
        assert stamps.latest == T0
        write_collection(notes, stamps, ours)
        theirs = genanki_collection(notes, stamps, T0 * 1000)

        # The same tables and indexes, made by the same statements.
        schema = "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name"
        assert ours.execute(schema).fetchall() == theirs.execute(schema).fetchall()
        assert ours.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        for table in ("col", "notes", "cards", "revlog", "graves"):
            query = f"SELECT * FROM {table} ORDER BY 1"
            assert ours.execute(query).fetchall() == theirs.execute(query).fetchall(), table
        (count,) = ours.execute("SELECT count(*) FROM notes").fetchone()
        assert count == len(notes.notes)
