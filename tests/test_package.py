"""The package stage: the frozen note type, GUIDs, decks, notes and the collection written."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import sqlite3
import zipfile
from pathlib import Path

import genanki
from hypothesis import given
from hypothesis import strategies as st

from conftest import DECK_YAML, QUESTIONS, write_sources
from qa2anki.loader import load_deck
from qa2anki.model import Deck
from qa2anki.package import (
    BACK_TEMPLATE,
    FIELDS,
    FRONT_TEMPLATE,
    MODEL_ID,
    ZIP_COMMENT,
    ZIP_TIME,
    PackagedDeck,
    Stamps,
    deck_id,
    note_fields,
    note_fingerprint,
    note_tags,
    note_type,
    package_deck,
    write_apkg,
    write_collection,
)
from qa2anki.render import card_css, cloze_css, render_deck
from qa2anki.state import State, plan_build

T0 = 1_700_000_000


def packaged(deck: Deck) -> PackagedDeck:
    return package_deck(render_deck(deck))


def collection(deck: Deck, stamps: Stamps | None = None) -> sqlite3.Connection:
    """Write a deck's collection as its first build does, into a database in memory."""
    notes = packaged(deck)
    stamps = stamps or plan_build(notes, State(), T0).stamps
    db = sqlite3.connect(":memory:")
    db.deserialize(write_collection(notes, stamps))
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


def test_mathjax_reads_the_fields_but_not_the_topic_name() -> None:
    """Anki typesets \\( ... \\) with MathJax unless an element's class says not to: the
    fields' HTML says where (see test_render), the topic's name is plain text."""
    for template in (FRONT_TEMPLATE, BACK_TEMPLATE):
        assert "ignore" not in "".join(re.findall(r'<div class="qa2anki[^"]*">', template))
    assert '<div class="topic tex2jax_ignore mathjax_ignore">{{Topic}}</div>' in FRONT_TEMPLATE


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
    assert genanki.guid_for("python-backend-interview", "list-vs-tuple") == "E+8,]j6(^/"
    assert genanki.guid_for("test-deck", "first") == "P1<CF4Y|PC"
    assert genanki.guid_for("other-deck", "list-vs-tuple") != genanki.guid_for(
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


def test_each_notes_guid_is_genankis_from_the_deck_key_and_its_id(small_sources: Path) -> None:
    for source in (small_sources, QUESTIONS):
        deck = load_deck(source)
        notes = packaged(deck).notes

        assert [note.guid for note in notes] == [
            genanki.guid_for(deck.key, note.id) for note in notes
        ]


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
    assert first[0] == genanki.guid_for("test-deck", "first")
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
            assert note.fields == note_fields(item)
            assert len(note.fields) == len(FIELDS)
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


def test_anki_reads_no_sound_or_latex_tag_in_a_topic_name(tmp_path: Path) -> None:
    """The Topic field is shown on every card: "[sound:x.mp3]" there would play a sound."""
    source = write_sources(
        tmp_path,
        {
            "deck.yaml": DECK_YAML,
            "t.yaml": 'topic: "[sound:x.mp3] [$]x[/$] [anki:tts]y[/anki:tts]"\n'
            "questions:\n  - {id: x, q: Q, a: A}\n",
        },
    )
    (note,) = packaged(load_deck(source)).notes

    assert note.fields[2] == "&#91;sound:x.mp3] &#91;$]x&#91;/$] &#91;anki:tts]y&#91;/anki:tts]"


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


def test_each_note_then_its_card_is_numbered_from_the_latest_stamp_with_its_own_stamp(
    small_sources: Path,
) -> None:
    """Note ids from the latest stamp in milliseconds, each note's card the next id; a card is
    due at its note's place in the sources; notes, cards and the note type keep their own
    stamps, whichever of them is the latest."""
    for source in (small_sources, QUESTIONS):
        deck = load_deck(source)
        notes = packaged(deck)
        ids = [note.id for note in notes.notes]
        count = len(ids)
        # The latest is a note's (not the last note's), then the note type's.
        by_note = Stamps(T0 - 5, {q: T0 + (i + 2) % count for i, q in enumerate(ids)})
        by_type = Stamps(T0 + count, {q: T0 - i for i, q in enumerate(ids)})
        for stamps, latest in ((by_note, T0 + count - 1), (by_type, T0 + count)):
            db = collection(deck, stamps)
            first_id = latest * 1000

            rows = db.execute("SELECT id, guid, mid, mod, tags, flds FROM notes ORDER BY id")
            assert rows.fetchall() == [
                (
                    first_id + 2 * i,
                    note.guid,
                    MODEL_ID,
                    stamps.notes[note.id],
                    f" {' '.join(note.tags)} ",
                    "\x1f".join(note.fields),
                )
                for i, note in enumerate(notes.notes)
            ]
            cards = db.execute("SELECT id, nid, did, ord, mod, due FROM cards ORDER BY id")
            assert cards.fetchall() == [
                (
                    first_id + 2 * i + 1,
                    first_id + 2 * i,
                    deck_id(note.subdeck),
                    0,
                    stamps.notes[note.id],
                    i + 1,
                )
                for i, note in enumerate(notes.notes)
            ]
            (models,) = db.execute("SELECT models FROM col").fetchone()
            assert json.loads(models)[str(MODEL_ID)]["mod"] == stamps.note_type
            assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


def test_an_apkg_is_the_collection_and_no_media_in_the_same_bytes_every_time(
    small_sources: Path, tmp_path: Path
) -> None:
    notes = packaged(load_deck(small_sources))
    stamps = plan_build(notes, State(), T0).stamps
    first, second = tmp_path / "first.apkg", tmp_path / "second.apkg"

    write_apkg(first, notes, stamps)
    write_apkg(second, notes, stamps)

    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        assert archive.testzip() is None  # every entry's CRC matches its content
        assert archive.comment == ZIP_COMMENT
        assert archive.namelist() == ["collection.anki2", "media"]
        for info in archive.infolist():
            assert info.date_time == ZIP_TIME
            assert info.external_attr == 0o644 << 16
            assert info.create_system == 3
            assert info.compress_type == zipfile.ZIP_DEFLATED
        assert archive.read("collection.anki2") == write_collection(notes, stamps)
        assert archive.read("media") == b"{}"


def test_reversed_and_cloze_note_type_structures_are_frozen() -> None:
    """As for the basic type: changing any of this makes Anki copy the note type."""
    reversed_type, cloze_type = note_type(kind="reversed"), note_type(kind="cloze")

    assert (reversed_type.model_id, reversed_type.name) == (1607392319, "qa2anki Q&A and reversed")
    assert [f["name"] for f in reversed_type.fields] == ["Question", "Answer", "Topic", "Id"]
    assert [t["name"] for t in reversed_type.templates] == ["Q&A", "A&Q"]
    assert reversed_type.model_type == reversed_type.FRONT_BACK
    assert (cloze_type.model_id, cloze_type.name) == (1550428389, "qa2anki Cloze")
    assert [f["name"] for f in cloze_type.fields] == ["Text", "Extra", "Topic", "Id"]
    assert [t["name"] for t in cloze_type.templates] == ["Cloze"]
    assert cloze_type.model_type == cloze_type.CLOZE
    assert reversed_type.sort_field_index == cloze_type.sort_field_index == 0


def test_every_note_type_has_the_card_css_and_the_cloze_type_its_deletions_look() -> None:
    assert note_type(kind="reversed").css == card_css()
    assert note_type(kind="cloze").css == card_css() + cloze_css()
    assert ".nightMode .cloze" in cloze_css()
    (template,) = note_type(kind="cloze").templates
    assert "{{cloze:Text}}" in template["qfmt"]
    assert "{{cloze:Text}}" in template["afmt"]
    assert "{{#Extra}}" in template["afmt"]
    forward, backward = note_type(kind="reversed").templates
    assert "{{Question}}" in forward["qfmt"]
    assert "{{Answer}}" in backward["qfmt"]
    assert "{{Question}}" not in backward["qfmt"]


def test_a_question_of_another_type_has_a_guid_of_its_own(tmp_path: Path) -> None:
    topic = (
        "topic: T\nquestions:\n  - {id: one, q: Q, a: A}\n"
        "  - {id: two, type: reversed, q: Q, a: A}\n"
        "  - {id: three, type: cloze, text: 'A {{c1::b}}'}\n"
    )
    source = write_sources(tmp_path / "q", {"deck.yaml": DECK_YAML, "01-t.yaml": topic})

    notes = package_deck(render_deck(load_deck(source))).notes

    assert [(n.note_type, n.guid) for n in notes] == [
        ("basic", genanki.guid_for("test-deck", "one")),
        ("reversed", genanki.guid_for("test-deck", "two", "reversed")),
        ("cloze", genanki.guid_for("test-deck", "three", "cloze")),
    ]
    assert notes[2].fields[:2] == ("<p>A {{c1::b}}</p>", "")
