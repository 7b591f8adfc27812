"""The state file and the plan: what changed since the last build, and each note's stamp."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from enum import IntEnum
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import QUESTIONS
from qa2anki.errors import StateError
from qa2anki.loader import load_deck
from qa2anki.package import PackagedDeck, package_deck
from qa2anki.render import render_deck
from qa2anki.state import (
    _HEADER,
    STATE_FILE,
    Emptied,
    Entry,
    Moved,
    NoteEntry,
    Plan,
    Removed,
    State,
    describe_plan,
    format_state,
    plan_build,
    read_record,
    read_state,
    state_path,
)
from qa2anki.state import _parse as parse
from qa2anki.state import _Unexpected as Unexpected

T0 = 1_700_000_000


def packaged(source: Path) -> PackagedDeck:
    return package_deck(render_deck(load_deck(source)))


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def first_plan(source: Path, now: int = T0) -> Plan:
    return plan_build(packaged(source), State(), now)


def test_first_build_adds_everything_at_now(small_sources: Path) -> None:
    plan = first_plan(small_sources)

    assert (plan.added, plan.changed, plan.unchanged) == (("first", "second", "third"), (), ())
    assert (plan.moved, plan.removed, plan.note_type, plan.first) == ((), (), "added", True)
    assert plan.stamps.note_type == T0
    assert dict(plan.stamps.notes) == {"first": T0, "second": T0, "third": T0}
    assert plan.state.notes["second"] == NoteEntry(
        hash=plan.state.notes["second"].hash,
        mod=T0,
        deck="Test Deck::Basics",
        question="What is two?",
    )


def test_unchanged_sources_keep_every_stamp(small_sources: Path) -> None:
    before = first_plan(small_sources)

    plan = plan_build(packaged(small_sources), before.state, T0 + 500)

    assert plan.unchanged == ("first", "second", "third")
    assert (plan.added, plan.changed, plan.removed, plan.moved) == ((), (), (), ())
    assert (plan.note_type, plan.first) == ("unchanged", False)
    assert plan.stamps == before.stamps
    assert plan.state == before.state


def test_an_edit_restamps_only_that_note(small_sources: Path) -> None:
    before = first_plan(small_sources)
    edit(small_sources / "01-basics.yaml", "The number `1`.", "The number `1`, one.")

    plan = plan_build(packaged(small_sources), before.state, T0 + 500)

    assert (plan.changed, plan.unchanged) == (("first",), ("second", "third"))
    assert dict(plan.stamps.notes) == {"first": T0 + 500, "second": T0, "third": T0}


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("tags: [starter]", "tags: [starter, extra]"),  # a topic tag changes every note's tags
        ("topic: Basics", "topic: Basic things"),  # the Topic field and the subdeck
    ],
)
def test_topic_level_edits_change_the_topic_notes(small_sources: Path, old: str, new: str) -> None:
    before = first_plan(small_sources)
    edit(small_sources / "01-basics.yaml", old, new)

    plan = plan_build(packaged(small_sources), before.state, T0 + 1)

    assert (plan.changed, plan.unchanged) == (("first", "second"), ("third",))


def test_a_changed_note_is_always_stamped_later_even_if_the_clock_went_back(
    small_sources: Path,
) -> None:
    before = first_plan(small_sources)
    edit(small_sources / "02-more.yaml", "a: Three.", "a: Three!")

    plan = plan_build(packaged(small_sources), before.state, T0 - 3600)

    assert plan.stamps.notes["third"] == T0 + 1
    assert plan.stamps.notes["first"] == T0


def test_add_remove_and_move(small_sources: Path) -> None:
    before = first_plan(small_sources)
    basics = small_sources / "01-basics.yaml"
    # Move "second" to the other topic, remove "first" and add "fourth".
    basics.write_text(
        "topic: Basics\nquestions:\n  - {id: fourth, q: Four, a: Four.}\n", encoding="utf-8"
    )
    edit(
        small_sources / "02-more.yaml",
        "    a: Three.\n",
        "    a: Three.\n  - id: second\n    q: What is two?\n    a: Two.\n",
    )

    plan = plan_build(packaged(small_sources), before.state, T0 + 9)

    assert plan.added == ("fourth",)
    assert plan.changed == ("second",)
    assert plan.unchanged == ("third",)
    assert plan.moved == (Moved("second", "Test Deck::Basics", "Test Deck::More", "more"),)
    assert plan.removed == (Removed("first", "Test Deck::Basics", "What is **one**?"),)
    assert sorted(plan.state.notes) == ["fourth", "second", "third"]
    assert dict(plan.stamps.notes) == {"fourth": T0 + 9, "second": T0 + 9, "third": T0}


def test_the_state_has_each_notes_subdeck_and_question_as_they_are_now(
    small_sources: Path,
) -> None:
    """Also for notes whose content, and so stamp, did not change."""
    basics = small_sources / "01-basics.yaml"
    edit(basics, "q: What is two?", "q: What is *two*?")
    before = first_plan(small_sources)
    edit(basics, "q: What is *two*?", "q: What is _two_?")  # the same HTML

    reworded = plan_build(packaged(small_sources), before.state, T0 + 1)
    edit(small_sources / "deck.yaml", "name: Test Deck", "name: Renamed Deck")
    renamed = plan_build(packaged(small_sources), reworded.state, T0 + 2)

    assert reworded.unchanged == renamed.unchanged == ("first", "second", "third")
    second = before.state.notes["second"]
    assert reworded.state.notes["second"] == NoteEntry(
        second.hash, T0, "Test Deck::Basics", "What is _two_?"
    )
    assert renamed.state.notes["second"] == NoteEntry(
        second.hash, T0, "Renamed Deck::Basics", "What is _two_?"
    )
    assert renamed.state.notes["third"].deck == "Renamed Deck::More"


def test_a_new_deck_key_makes_every_note_new_and_none_moved_or_removed(
    small_sources: Path,
) -> None:
    """Anki keeps the old notes untouched: there is nothing to move or delete by id."""
    before = first_plan(small_sources)
    edit(small_sources / "deck.yaml", "key: test-deck", "key: other-deck")
    edit(small_sources / "01-basics.yaml", "topic: Basics", "topic: Basic things")

    plan = plan_build(packaged(small_sources), before.state, T0 + 1)

    assert plan.key_changed_from == "test-deck"
    assert (plan.added, plan.moved, plan.removed) == (("first", "second", "third"), (), ())
    assert (plan.first, plan.state.key) == (False, "other-deck")


def test_a_renamed_deck_moves_nothing_and_changes_no_note(small_sources: Path) -> None:
    before = first_plan(small_sources)
    edit(small_sources / "deck.yaml", "name: Test Deck", "name: Renamed Deck")
    (small_sources / "02-more.yaml").write_text(
        "topic: More\nquestions:\n  - id: second\n    q: What is two?\n    a: Two.\n", "utf-8"
    )
    basics = small_sources / "01-basics.yaml"
    basics.write_text(basics.read_text("utf-8").split("  - id: second")[0], "utf-8")

    plan = plan_build(packaged(small_sources), before.state, T0 + 1)

    assert plan.deck_renamed_from == "Test Deck"
    assert plan.unchanged == ("first",)
    # Moves and removals are named in the renamed deck, where they are once it is renamed.
    assert plan.moved == (Moved("second", "Renamed Deck::Basics", "Renamed Deck::More", "more"),)
    assert plan.removed == (Removed("third", "Renamed Deck::More", "What is three?"),)
    lines = describe_plan(plan, "Renamed Deck", Path("lock"), verbose=False)
    assert lines[1] == (
        "The deck was renamed from 'Test Deck': Anki keeps the existing cards there. Rename that"
        " deck to 'Renamed Deck' in Anki before importing (its subdecks follow), or new cards go"
        " to a second deck."
    )


def test_going_back_to_older_content_is_stamped_later_than_what_anki_has(
    small_sources: Path,
) -> None:
    """A git revert brings back the old state file too; the record of the deck file does not."""
    v1 = first_plan(small_sources)
    basics = small_sources / "01-basics.yaml"
    original = basics.read_text("utf-8")
    edit(basics, "The number `1`.", "The number `1`, one.")
    v2 = plan_build(packaged(small_sources), v1.state, T0 + 100)
    basics.write_text(original, "utf-8")

    without_record = plan_build(packaged(small_sources), v1.state, T0 + 200)
    reverted = plan_build(packaged(small_sources), v1.state, T0 + 200, issued=v2.state)
    clock_behind = plan_build(packaged(small_sources), v1.state, T0 + 50, issued=v2.state)

    assert without_record.stamps.notes["first"] == T0  # what Anki would skip
    assert (reverted.changed, reverted.unchanged) == (("first",), ("second", "third"))
    assert reverted.stamps.notes["first"] == T0 + 200
    assert clock_behind.stamps.notes["first"] == T0 + 101
    assert reverted.state.notes["first"].hash == v1.state.notes["first"].hash
    # A record of another deck key, or of the same content, changes nothing.
    other = State(key="other", deck="x", note_type=v2.state.note_type, notes=v2.state.notes)
    assert plan_build(packaged(small_sources), v1.state, T0 + 200, other).changed == ()
    assert plan_build(packaged(small_sources), v1.state, T0 + 200, v1.state).changed == ()


def test_a_reverted_css_change_restamps_the_note_type(
    small_sources: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    v1 = first_plan(small_sources)
    with monkeypatch.context() as patched:
        patched.setattr("qa2anki.package.card_css", lambda: ".card { color: red; }")
        v2 = plan_build(packaged(small_sources), v1.state, T0 + 100)

    reverted = plan_build(packaged(small_sources), v1.state, T0 + 200, issued=v2.state)

    assert (reverted.note_type, reverted.stamps.note_type) == ("changed", T0 + 200)


def test_a_css_change_restamps_the_note_type_only(
    small_sources: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = first_plan(small_sources)
    monkeypatch.setattr("qa2anki.package.card_css", lambda: ".card { color: red; }")

    plan = plan_build(packaged(small_sources), before.state, T0 + 7)

    assert plan.note_type == "changed"
    assert plan.stamps.note_type == T0 + 7
    assert plan.unchanged == ("first", "second", "third")


def test_state_file_round_trips_and_is_sorted_with_one_note_per_line(
    small_sources: Path,
) -> None:
    state = first_plan(small_sources).state

    text = format_state(state)

    path = small_sources / STATE_FILE
    path.write_text(text, encoding="utf-8")
    assert read_state(path) == state
    note_lines = [line for line in text.splitlines() if line.startswith("    ")]
    assert [json.loads(line.split(": ", 1)[0]) for line in note_lines] == [
        "first",
        "second",
        "third",
    ]
    assert format_state(read_state(path)) == text
    assert json.loads(text)["notes"]["first"]["question"] == "What is **one**?"


def test_a_missing_state_file_is_an_empty_state(tmp_path: Path) -> None:
    assert read_state(tmp_path / STATE_FILE) == State()


GOOD_HEAD = '{"format": 1, "key": "k", "deck": "D", "note_type": {"hash": "h", "mod": 1}'


@pytest.mark.parametrize(
    ("text", "line", "why"),
    [
        ('{\n  "format": 1,\n<<<<<<< HEAD\n', 3, "it has unresolved merge conflict markers"),
        ('=======\n{"format": 1}\n', 1, "it has unresolved merge conflict markers"),
        ('{"format": 1}\n>>>>>>> main', 2, "it has unresolved merge conflict markers"),
        ('{"format": 1}\n>>>>>>>main\n', 2, "it is not valid JSON (Extra data)"),
        ('{\n  "format": 1,\n  "key": \n}\n', 4, "it is not valid JSON (Expecting value)"),
        ('{"format": 2}\n', None, "format 2 is not 1"),
        ('{"format": true}\n', None, "format True is not 1"),
        ("[]", None, "the file is not an object"),
        (GOOD_HEAD + ', "notes": []}', None, "'notes' is not an object"),
        (
            GOOD_HEAD.replace('"mod": 1', '"mod": "soon"') + ', "notes": {}}',
            None,
            "'mod' is not a time in seconds: 'soon'",
        ),
        (
            GOOD_HEAD + ', "notes": {\n    "gil": {"hash": "h", "mod": 99999999999999999999,'
            ' "deck": "D::T", "question": "Q?"}\n}}',
            2,
            "note 'gil': 'mod' is not a time in seconds: 99999999999999999999",
        ),
        (
            GOOD_HEAD + ', "notes": {\n    "gil": {"hash": "h", "mod": 5, "deck": 7,'
            ' "question": "Q?"}\n}}',
            2,
            "note 'gil': 'deck' is not text: 7",
        ),
        (GOOD_HEAD + ', "notes": {\n    "gil": []\n}}', 2, "note 'gil' is not an object"),
        (
            GOOD_HEAD + ', "notes": {\n    "a": {"hash": "h", "mod": 5, "deck": "D", "question":'
            ' "<<<<<<< ?"},\n    "b": {"hash": "h", "mod": true, "deck": "D", "question": "Q"}\n}}',
            3,
            "note 'b': 'mod' is not a time in seconds: True",
        ),
        (
            GOOD_HEAD + ', "notes": {\n    "gil": {"hash": "h", "mod": 5, "deck": "D::T"}\n}}',
            2,
            "note 'gil': 'question' is not text: None",
        ),
    ],
)
def test_a_damaged_state_file_is_reported_with_its_line(
    tmp_path: Path, text: str, line: int | None, why: str
) -> None:
    path = tmp_path / STATE_FILE
    path.write_text(text, encoding="utf-8")

    with pytest.raises(StateError) as caught:
        read_state(path)

    where = f"{path}:{line}" if line else f"{path}"
    assert str(caught.value) == (
        f"{where}: damaged state file: {why}; delete it and build again to start afresh"
    )


def test_the_shipped_state_file_is_up_to_date() -> None:
    """questions/qa2anki.lock matches questions/: run `make deck` and commit it if not."""
    plan = plan_build(packaged(QUESTIONS), read_state(state_path(QUESTIONS)), T0)

    assert (plan.added, plan.changed, plan.removed, plan.note_type) == ((), (), (), "unchanged")
    assert state_path(QUESTIONS).read_text(encoding="utf-8") == format_state(plan.state)


def test_description_of_moves_and_removals_says_what_to_do_in_anki() -> None:
    plan = Plan(
        added=("new_one",),
        changed=("edited", "moved"),
        unchanged=("same",),
        moved=(Moved("moved", "My Deck::Old", "My Deck::New_Topic", "new_topic"),),
        removed=(
            Removed("gone", "My Deck::Old", "What was\n  *this*?"),
            Removed("gone_too", "My Deck::Old", "And this?"),
        ),
        note_type="changed",
        key_changed_from=None,
        deck_renamed_from=None,
        state=State(key="k", deck="My Deck", note_type=Entry("h", T0), notes={}),
        first=False,
    )

    lines = describe_plan(plan, "My Deck", Path("q/qa2anki.lock"), verbose=True)

    assert lines == [
        "Since the last build: 1 added, 2 changed (1 moved), 1 unchanged, 2 removed;"
        " note type changed.",
        "Added: new_one",
        "Changed: edited",
        "The note type changed (CSS or templates): Anki updates it in place.",
        "Moved: moved: Old -> New_Topic",
        "  Anki keeps existing cards in their old subdeck. After importing, search Anki's"
        " browser for those in 'Old':",
        '    "deck:My Deck::Old" "tag:new\\_topic"',
        "  then select all cards and use Change Deck to move them to 'My Deck::New_Topic'.",
        "Removed: gone: What was *this*?",
        "Removed: gone_too: And this?",
        "  Anki keeps the notes of removed questions. To delete them, search in Anki's browser for",
        '    "deck:My Deck" ("Id:gone" or "Id:gone\\_too")',
        "  then select all notes and delete them.",
    ]
    brief = describe_plan(plan, "My Deck", Path("q/qa2anki.lock"), verbose=False)
    assert brief == [line for line in lines if not line.startswith(("Added", "Changed"))]


def test_a_record_reads_as_a_state_and_a_damaged_one_as_none(tmp_path: Path) -> None:
    state_file, record = tmp_path / "qa2anki.lock", tmp_path / ".deck.apkg.stamps"
    shutil.copy(QUESTIONS / "qa2anki.lock", state_file)
    state = read_state(state_file)

    text = state_file.read_text(encoding="utf-8")
    record.write_text(text.replace('"mod": ', '"mod":  '), encoding="utf-8")
    assert read_record(record) == state
    record.write_text("<<<<<<< HEAD\n", encoding="utf-8")
    assert read_record(record) is None


# Text as it can reach a state file: any character, lone surrogates included, and more often
# those that JSON escapes or that are line breaks to some readers but not to JSON.
ODD_TEXT = st.text(
    st.one_of(
        st.characters(),
        st.sampled_from(['"', "\\", "/", "\n", "\r", "\t", "\x00", "\x1f", "\x7f", "\x85"]),
        st.sampled_from(["\u2028", "\u2029", "\ufeff", "\ud800", "\udfff", "é", "\U0001f600"]),
    )
)


def reference_format(state: State) -> str:
    """Write a state file the plain way: a JSON encoder for every value of every line."""
    assert state.note_type is not None
    encoder = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": "))
    head = {
        "comment": _HEADER,
        "format": 1,
        "key": state.key,
        "deck": state.deck,
        "note_type": {"hash": state.note_type.hash, "mod": state.note_type.mod},
    }
    notes = [
        f"    {encoder.encode(question_id)}: "
        + encoder.encode(
            {"hash": entry.hash, "mod": entry.mod, "deck": entry.deck, "question": entry.question}
        )
        for question_id, entry in sorted(state.notes.items())
    ]
    lines = ["{", *(f"  {encoder.encode(k)}: {encoder.encode(v)}," for k, v in head.items())]
    lines += ['  "notes": {', *([",\n".join(notes)] if notes else []), "  }", "}"]
    return "\n".join(lines) + "\n"


def states(
    text: st.SearchStrategy[str], mod: st.SearchStrategy[int], *, kinds: bool = True
) -> st.SearchStrategy[State]:
    """States; with ``kinds``, of notes of every type, clozes with card numbers."""
    note = st.builds(NoteEntry, text, mod, text, text)
    if kinds:
        cloze = st.builds(
            NoteEntry,
            text,
            mod,
            text,
            text,
            st.just("cloze"),
            st.lists(st.integers(min_value=1, max_value=9), min_size=1, max_size=3).map(tuple),
        )
        note = note | st.builds(NoteEntry, text, mod, text, text, st.just("reversed")) | cloze
    return st.builds(
        State,
        key=text,
        deck=text,
        note_type=st.builds(Entry, text, mod),
        notes=st.dictionaries(text, note, max_size=6),
    )


class Level(IntEnum):
    ONE = 1


@given(states(ODD_TEXT, st.one_of(st.integers(), st.booleans(), st.just(Level.ONE)), kinds=False))
def test_the_state_file_text_is_what_a_json_encoder_writes(state: State) -> None:
    assert format_state(state) == reference_format(state)


def test_values_of_other_types_are_written_as_a_json_encoder_writes_them() -> None:
    odd = NoteEntry(None, 2.5, 7, ["q"])  # type: ignore[arg-type]
    state = State(key="k", deck="D", note_type=Entry("h", 1), notes={"a": odd, "b": odd})

    assert format_state(state) == reference_format(state)
    assert '    "a": {"hash": null, "mod": 2.5, "deck": 7, "question": ["q"]},\n' in (
        format_state(state)
    )


@given(states(st.text(), st.integers(min_value=1, max_value=2**32 - 1)))
def test_every_state_file_reads_back_as_the_state_it_was_written_from(
    tmp_path_factory: pytest.TempPathFactory, state: State
) -> None:
    path = tmp_path_factory.mktemp("state") / STATE_FILE
    path.write_text(format_state(state), encoding="utf-8")

    assert read_state(path) == state


JSON = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.sampled_from([0, 1, 1.0, -1, 2**32 - 1, 2**32, 10**20]),
        st.integers(),
        st.floats(allow_nan=False),
        st.text(max_size=3),
    ),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=4,
)


def set_item(target: dict[str, Any], name: str, value: object) -> None:
    target[name] = value


def damages(data: dict[str, Any]) -> st.SearchStrategy[Callable[[], None]]:
    """Ways to change one thing in state file data: a value, a missing or an extra key."""
    notes = data.get("notes")
    places = [data, data.get("note_type"), notes]
    places += notes.values() if isinstance(notes, dict) else []
    keys = st.sampled_from([place for place in places if isinstance(place, dict)]).flatmap(
        lambda place: st.tuples(st.just(place), st.sampled_from([*place, "other"]))
    )
    return st.one_of(
        st.builds(lambda at, v: lambda: set_item(at[0], at[1], v), keys, JSON),
        st.builds(lambda at: lambda: at[0].pop(at[1], None), keys),
    )


def is_time(value: object) -> bool:
    return type(value) is int and 0 < value < 2**32


@given(st.data(), states(st.text(max_size=3), st.integers(min_value=1, max_value=2**32 - 1)))
def test_damaged_state_data_is_reported_or_read_as_well_formed(
    data: st.DataObject, state: State
) -> None:
    """Reading damaged data says what is wrong (and nothing else goes wrong), or what it
    reads has every value of the type qa2anki writes."""
    parsed = json.loads(format_state(state))
    assert parse(parsed) == state

    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        data.draw(damages(parsed))()

    try:
        read = parse(parsed)
    except Unexpected:
        return
    assert type(read.key) is str
    assert type(read.deck) is str
    assert read.note_type is not None
    assert type(read.note_type.hash) is str
    assert is_time(read.note_type.mod)
    for entry in read.notes.values():
        assert (type(entry.hash), type(entry.deck), type(entry.question)) == (str, str, str)
        assert is_time(entry.mod)
        assert all(type(number) is int and number > 0 for number in entry.cards)


KINDS = """\
topic: Kinds
questions:
  - {id: plain, q: What is a list?, a: A sequence.}
  - {id: capital, type: reversed, q: France, a: Paris}
  - {id: fill, type: cloze, text: "A {{c1::list}} is mutable."}
"""


def kinds_source(small_sources: Path) -> Path:
    (small_sources / "03-kinds.yaml").write_text(KINDS, encoding="utf-8")
    return small_sources


def test_the_state_records_other_note_types_and_each_notes_type_only_where_they_are(
    small_sources: Path,
) -> None:
    basic_only = format_state(first_plan(small_sources).state)
    plan = first_plan(kinds_source(small_sources))

    text = format_state(plan.state)

    assert "note_types" not in basic_only
    assert '"type"' not in basic_only
    data = json.loads(text)
    assert sorted(data["note_types"]) == ["cloze", "reversed"]
    assert data["notes"]["capital"]["type"] == "reversed"
    assert data["notes"]["fill"]["type"] == "cloze"
    assert data["notes"]["fill"]["cards"] == [1]
    assert "type" not in data["notes"]["plain"]
    assert "cards" not in data["notes"]["plain"]
    assert "cards" not in data["notes"]["capital"]
    path = small_sources / STATE_FILE
    path.write_text(text, encoding="utf-8")
    assert read_state(path) == plan.state
    assert plan.note_types == {"reversed": "added", "cloze": "added"}
    assert plan.stamps.note_types == {"reversed": T0, "cloze": T0}


def test_a_question_that_changes_type_is_removed_and_added_and_the_plan_says_why(
    small_sources: Path,
) -> None:
    source = kinds_source(small_sources)
    before = first_plan(source).state
    edit(source / "03-kinds.yaml", "{id: plain, q:", "{id: plain, type: reversed, q:")

    plan = plan_build(packaged(source), before, T0 + 60)

    assert (plan.added, plan.changed) == (("plain",), ())
    assert plan.removed == (
        Removed("plain", "Test Deck::Kinds", "What is a list?", "reversed", "basic"),
    )
    assert plan.note_types == {"reversed": "unchanged", "cloze": "unchanged"}
    assert plan.state.notes["plain"].type == "reversed"
    lines = describe_plan(plan, "Test Deck", source / STATE_FILE, verbose=False)
    assert lines[0] == (
        "Since the last build: 1 added, 0 changed, 5 unchanged, 1 removed; note types: "
        "basic unchanged, reversed unchanged, cloze unchanged."
    )
    assert lines[1:] == [
        "Removed: plain: What is a list?",
        "  It is now a reversed question: a new note, as a note never changes its type in Anki "
        "(its reviews stay with the old basic note).",
        "  Anki keeps the notes of removed questions. To delete them, search in Anki's browser for",
        '    "deck:Test Deck" ("note:qa2anki Q&A" "Id:plain")',
        "  then select all notes and delete them.",
    ]
    assert plan.to_json()["removed"] == [
        {
            "id": "plain",
            "deck": "Test Deck::Kinds",
            "question": "What is a list?",
            "became": "reversed",
        }
    ]


@pytest.mark.parametrize(
    ("edited", "emptied"),
    [
        ("A {{c1::list}} is {{c2::mutable}}.", ()),
        ("A list is {{c2::mutable}}.", (Emptied("fill", (1,)),)),  # c1 taken out
        ("A {{c2::list}} is {{c3::mutable}}.", (Emptied("fill", (1,)),)),  # renumbered
    ],
)
def test_a_cloze_that_loses_a_deletion_number_names_its_emptied_card(
    small_sources: Path, edited: str, emptied: tuple[Emptied, ...]
) -> None:
    source = kinds_source(small_sources)
    before = first_plan(source).state
    edit(source / "03-kinds.yaml", "A {{c1::list}} is mutable.", edited)

    plan = plan_build(packaged(source), before, T0 + 60)

    assert plan.changed == ("fill",)
    assert plan.emptied == emptied
    lines = describe_plan(plan, "Test Deck", source / STATE_FILE, verbose=False)
    if emptied:
        assert lines[1:] == [
            "Emptied: fill: no deletion is numbered c1 any more. Anki keeps such a card, empty, "
            "with its reviews; after importing, Tools > Empty Cards in Anki deletes it."
        ]
        assert plan.to_json()["emptied"] == [{"id": "fill", "cards": [1]}]
    else:
        assert lines[1:] == []
        assert "emptied" not in plan.to_json()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda data: data["notes"]["first"].update(type="clozed"),
            "note 'first': 'type' is not a note type: 'clozed'",
        ),
        (
            lambda data: data.update(note_types={"basic": {"hash": "x", "mod": 1}}),
            "'note_types' has 'basic', which is not a note type",
        ),
        (
            lambda data: data["notes"]["first"].update(cards=[1, 0]),
            "note 'first': 'cards' is not a list of card numbers: \\[1, 0\\]",
        ),
        (
            lambda data: data["notes"]["first"].update(cards="1"),
            "note 'first': 'cards' is not a list of card numbers: '1'",
        ),
    ],
)
def test_a_state_file_with_an_unknown_note_type_is_damaged(
    small_sources: Path, change: Callable[[dict[str, Any]], None], message: str
) -> None:
    data = json.loads(format_state(first_plan(small_sources).state))
    change(data)

    with pytest.raises(Unexpected, match=message):
        parse(data)


def test_a_deck_without_basic_notes_does_not_report_the_basic_note_type(
    small_sources: Path,
) -> None:
    for path in small_sources.glob("0*.yaml"):
        path.unlink()
    (small_sources / "01-fill.yaml").write_text(
        "topic: Fill\nquestions:\n  - {id: fill, type: cloze, text: 'A {{c1::b}}'}\n",
        encoding="utf-8",
    )

    lines = describe_plan(first_plan(small_sources), "Test Deck", Path("q.lock"), verbose=False)

    assert lines[0].endswith("; note types: cloze added.")


def test_going_back_past_a_type_change_names_the_note_the_deck_file_gave_anki(
    small_sources: Path,
) -> None:
    """Basic, then made a cloze and built, then the old sources and state file come back."""
    source = kinds_source(small_sources)
    basic_state = first_plan(source).state
    edit(source / "03-kinds.yaml", "{id: plain, q:", "{id: plain, type: reversed, q:")
    issued = plan_build(packaged(source), basic_state, T0 + 60).state
    edit(source / "03-kinds.yaml", "{id: plain, type: reversed, q:", "{id: plain, q:")

    plan = plan_build(packaged(source), basic_state, T0 + 120, issued)

    assert plan.changed == ()
    assert plan.state.notes["plain"].mod == T0  # the basic note Anki has is as it was
    assert plan.removed == (
        Removed("plain", "Test Deck::Kinds", "What is a list?", "basic", "reversed"),
    )
