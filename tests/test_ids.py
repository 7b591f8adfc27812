"""Question ids: readable, unique, valid slugs, added to the sources by a textual edit only."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import DECK_YAML, QUESTIONS, write_sources
from qa2anki.errors import ValidationError
from qa2anki.ids import plan_ids, question_id, write_ids
from qa2anki.loader import SLUG_MAX, SLUG_RE, ids_command, load_deck, load_deck_allowing_missing_ids

TOPIC = """\
# Basics: the first questions.
topic: Basics   # shown as the subdeck
questions:
  - id: list-tuple
    q: What is the difference between a list and a tuple?
    a: One is mutable.

  # Added later, still without an id:
  - q: What is the difference between a list and a tuple?   # same text as above
    a: |
      Again.
    tags: [again]
  - {q: "What is a set?", a: An unordered collection.}
  -
    # a comment before the first key
    a: Answer first.
    q: What is the GIL?
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "What is the difference between a list and a tuple in Python?",
            "difference-list-tuple-python",
        ),
        ("How do you handle exceptions in Python?", "handle-exceptions-python"),
        ("What is the `__init__.py` file?", "init-py-file"),
        # Code is kept whole, stop words and all.
        ("What does the `with` statement do?", "with-statement"),
        ("What is `is` versus `==`?", "is-versus"),
        ('What does `if __name__ == "__main__":` mean?', "if-name-main"),
        ("When is ``a `b` c`` used?", "a-b-c"),
        ("An unclosed `with statement?", "unclosed-statement"),
        ("Explain CAP Theorem in distributed systems.", "cap-theorem-distributed-systems"),
        ("Café au lait?", "cafe-au-lait"),
        ("What is it?", "what-is-it"),
        ("Что это?", "question"),
        ("x" * 100, "x" * 40),
    ],
)
def test_ids_are_the_telling_words_of_the_question(text: str, expected: str) -> None:
    assert question_id(text, set()) == expected


def test_ids_are_made_unique() -> None:
    taken = {"list-tuple", "list-tuple-2", "x" * 64}

    assert question_id("A list or a tuple?", taken) == "list-tuple-3"
    assert question_id("x" * 100, {"x" * 40}) == "x" * 40 + "-2"


@given(text=st.text(max_size=200), taken=st.sets(st.sampled_from(["question", "a", "a-2", "b"])))
def test_any_text_gives_a_valid_new_id(text: str, taken: set[str]) -> None:
    qid = question_id(text, taken)

    assert SLUG_RE.fullmatch(qid)
    assert len(qid) <= SLUG_MAX
    assert qid not in taken
    assert question_id(text, taken) == qid


def test_the_shipped_questions_need_no_ids() -> None:
    plan = plan_ids(QUESTIONS)

    assert plan.new_ids == ()
    assert plan.deck.question_count == 100


def test_questions_without_ids_are_listed_with_their_lines(tmp_path: Path) -> None:
    source = write_sources(tmp_path / "src", {"deck.yaml": DECK_YAML, "01-basics.yaml": TOPIC})

    deck, missing = load_deck_allowing_missing_ids(source)
    plan = plan_ids(source)

    assert [(m.question.line, m.flow) for m in missing] == [(9, False), (13, True), (16, False)]
    assert [(n.question.q, n.id) for n in plan.new_ids] == [
        ("What is the difference between a list and a tuple?", "difference-list-tuple"),
        ("What is a set?", "set"),
        ("What is the GIL?", "gil"),
    ]
    assert [q.id for q in deck.topics[0].questions] == ["list-tuple", "", "", ""]


def test_write_inserts_only_the_id_lines(tmp_path: Path) -> None:
    source = write_sources(tmp_path / "src", {"deck.yaml": DECK_YAML, "01-basics.yaml": TOPIC})
    path = source / "01-basics.yaml"
    before = path.read_bytes()

    write_ids(plan_ids(source))

    after = path.read_bytes()
    inserted = [
        b"id: difference-list-tuple\n    ",
        b"id: set, ",
        b"id: gil\n    ",
    ]
    assert all(after.count(piece) == 1 for piece in inserted)
    stripped = after
    for piece in inserted:
        stripped = stripped.replace(piece, b"")
    assert stripped == before
    assert b"  - id: difference-list-tuple\n    q: What is the difference" in after
    deck = load_deck(source)
    assert [(q.id, q.q) for q in deck.topics[0].questions] == [
        ("list-tuple", "What is the difference between a list and a tuple?"),
        ("difference-list-tuple", "What is the difference between a list and a tuple?"),
        ("set", "What is a set?"),
        ("gil", "What is the GIL?"),
    ]
    assert deck.topics[0].questions[1].tags == ("again",)


def test_ids_once_written_never_change(tmp_path: Path) -> None:
    source = write_sources(tmp_path / "src", {"deck.yaml": DECK_YAML, "01-basics.yaml": TOPIC})
    write_ids(plan_ids(source))
    written = (source / "01-basics.yaml").read_bytes()

    plan = plan_ids(source)
    write_ids(plan)

    assert plan.new_ids == ()
    assert (source / "01-basics.yaml").read_bytes() == written


def test_crlf_files_get_crlf_lines(tmp_path: Path) -> None:
    source = write_sources(tmp_path / "src", {"deck.yaml": DECK_YAML})
    before = b"topic: T\r\nquestions:\r\n  - q: Why?\r\n    a: So.\r\n"
    (source / "01-t.yaml").write_bytes(before)

    write_ids(plan_ids(source))

    assert (source / "01-t.yaml").read_bytes() == before.replace(b"- q", b"- id: why\r\n    q")


def test_other_problems_are_reported_and_nothing_is_written(tmp_path: Path) -> None:
    source = write_sources(
        tmp_path / "src",
        {"deck.yaml": DECK_YAML, "01-t.yaml": "topic: T\nquestions:\n  - q: Why?\n    tag: [x]\n"},
    )

    with pytest.raises(ValidationError) as caught:
        plan_ids(source)

    assert [str(p) for p in caught.value.problems] == [
        f"{source / '01-t.yaml'}:3: question has no 'a'",
        f"{source / '01-t.yaml'}:4: question has unknown key 'tag' (did you mean 'tags'?)",
    ]


def test_an_id_that_cannot_be_inserted_is_reported(tmp_path: Path) -> None:
    text = "topic: T\nquestions:\n  - !!map\n    q: Why?\n    a: So.\n"
    source = write_sources(tmp_path / "src", {"deck.yaml": DECK_YAML, "01-t.yaml": text})

    with pytest.raises(ValidationError) as caught:
        write_ids(plan_ids(source))

    assert [str(p) for p in caught.value.problems] == [
        f"{source / '01-t.yaml'}:3: cannot insert the id 'why' here; add it by hand"
    ]
    assert (source / "01-t.yaml").read_text(encoding="utf-8") == text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src"]


def test_check_still_requires_ids(tmp_path: Path) -> None:
    source = write_sources(tmp_path / "src", {"deck.yaml": DECK_YAML, "01-basics.yaml": TOPIC})

    with pytest.raises(ValidationError) as caught:
        load_deck(source)

    assert [str(p) for p in caught.value.problems] == [
        f"{source / '01-basics.yaml'}:{line}: question has no 'id'; add the missing ids with: "
        f"qa2anki ids {source} --write"
        for line in (9, 13, 16)
    ]


def test_the_suggested_command_names_the_source_folder_quoted_for_a_shell() -> None:
    assert ids_command(Path("questions")) == "qa2anki ids --write"
    assert ids_command(Path("my notes")) == "qa2anki ids 'my notes' --write"


def test_offsets_count_characters_not_bytes(tmp_path: Path) -> None:
    source = write_sources(tmp_path / "src", {"deck.yaml": DECK_YAML})
    before = (
        "\ufefftopic: Café\nquestions:\n"
        "  - {q: 'Crème brûlée?', a: Oui.}\n"
        "  - q: Été?\n    a: Oui.\n"
    )
    (source / "01-t.yaml").write_bytes(before.encode("utf-8"))

    write_ids(plan_ids(source))

    after = (source / "01-t.yaml").read_bytes().decode("utf-8")
    assert after == before.replace("{q", "{id: creme-brulee, q").replace(
        "- q: Été", "- id: ete\n    q: Été"
    )
