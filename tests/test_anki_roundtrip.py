"""Import what we build with the real Anki library, exactly as a user's Anki would.

These are the slow tests (marker ``anki``): a fresh collection per test, real imports.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest
from anki.import_export_pb2 import ImportResponse

if TYPE_CHECKING:  # anki.cards cannot be imported before anki.collection
    from anki.cards import CardId
    from anki.notes import NoteId

from conftest import QUESTIONS
from qa2anki.build import build_deck
from qa2anki.package import MODEL_NAME

pytestmark = pytest.mark.anki

DECK = "Python Backend Interview"
TOPICS = [
    "Python Fundamentals",
    "Intermediate Python",
    "Advanced Python & Concurrency",
    "FastAPI & Flask",
    "RESTful API & Microservices",
    "SQL & Databases",
    "Docker & Kubernetes",
    "Real-World Scenario Questions",
    "Theory & Design Concepts",
    "Additional Scenario & Advanced Real-World",
]
CODE_ANSWERS = {
    "simple-class": "python",
    "fastapi-endpoint": "python",
    "fastapi-middleware": "python",
    "dockerfile-basics": "dockerfile",
}


@pytest.fixture
def col(tmp_path: Path) -> Iterator[Collection]:
    collection = Collection(str(tmp_path / "collection.anki2"))
    try:
        yield collection
    finally:
        collection.close()


def import_apkg(col: Collection, apkg: Path) -> ImportResponse.Log:
    """Import with the options Anki's import dialog starts with."""
    request = ImportAnkiPackageRequest(package_path=str(apkg), options=ImportAnkiPackageOptions())
    return col.import_anki_package(request).log


def notes_by_id(col: Collection) -> dict[str, NoteId]:
    return {col.get_note(nid)["Id"]: nid for nid in col.find_notes("")}


def card_of(col: Collection, question_id: str) -> CardId:
    (card_id,) = col.find_cards(f'"Id:{question_id}"')
    return card_id


def test_fresh_import_gives_the_whole_deck(col: Collection, tmp_path: Path) -> None:
    apkg = build_deck(QUESTIONS, tmp_path / "deck.apkg").output

    log = import_apkg(col, apkg)

    assert (len(log.new), len(log.updated), len(log.duplicate), len(log.conflicting)) == (
        100,
        0,
        0,
        0,
    )
    assert col.note_count() == 100
    assert col.card_count() == 100
    deck_names = {d.name for d in col.decks.all_names_and_ids()} - {"Default"}
    assert deck_names == {DECK, *(f"{DECK}::{topic}" for topic in TOPICS)}
    for topic in TOPICS:
        assert len(col.find_cards(f'"deck:{DECK}::{topic}"')) == 10
    assert [m.name for m in col.models.all_names_and_ids() if m.name.startswith("qa2anki")] == [
        MODEL_NAME
    ]

    slugs = sorted(path.stem[3:] for path in QUESTIONS.glob("[0-9]*.yaml"))
    assert sorted(col.tags.all()) == slugs
    for slug in slugs:
        assert len(col.find_notes(f"tag:{slug}")) == 10

    # New cards come in the order of the sources: their queue positions strictly increase.
    positions = [col.get_card(card_of(col, question_id)).due for question_id in source_order()]
    assert len(positions) == 100
    assert positions == sorted(set(positions))


def test_cards_render_with_highlighted_code(col: Collection, tmp_path: Path) -> None:
    import_apkg(col, build_deck(QUESTIONS, tmp_path / "deck.apkg").output)

    front = col.get_card(card_of(col, "gil")).question()
    assert "Python Fundamentals" in front
    assert "What is the Global Interpreter Lock (GIL)?" in front

    for question_id, language in CODE_ANSWERS.items():
        answer = col.get_card(card_of(col, question_id)).answer()
        assert f'<pre class="highlight language-{language} ' in answer
        assert re.search(r'<span class="(k|kn|nc)">', answer), question_id
        assert 'style="color' not in answer
    back = col.get_card(card_of(col, "simple-class")).answer()
    assert '<span class="k">class</span>' in back
    assert ".card.nightMode, .card.night_mode" in back


def test_rebuild_and_reimport_updates_notes_and_keeps_reviews(
    col: Collection, shipped_copy: Path, tmp_path: Path
) -> None:
    first_build = time.time() - 600
    import_apkg(col, build_deck(shipped_copy, tmp_path / "v1.apkg", timestamp=first_build).output)
    ids_before = notes_by_id(col)
    reviewed = ["list-vs-tuple", "gil", "decorators", "inner-vs-left-join", "kubernetes-pod"]
    for question_id in reviewed:
        card = col.get_card(card_of(col, question_id))
        card.start_timer()
        col.sched.answerCard(card, 4)
    schedule_before = {q: _schedule(col, q) for q in reviewed}
    reviews_before = review_count(col)
    decks_before = {q: col.get_card(card_of(col, q)).did for q in ids_before}

    fundamentals = shipped_copy / "01-python-fundamentals.yaml"
    text = fundamentals.read_text(encoding="utf-8")
    text = text.replace(
        "q: What is the Global Interpreter Lock (GIL)?",
        "q: What is the Global Interpreter Lock (GIL), and why does it matter?",
    )
    text = text.replace(
        "a: A list is mutable, allowing modifications,",
        "a: A list is **mutable**, allowing modifications,",
    )
    fundamentals.write_text(text, encoding="utf-8")
    log = import_apkg(
        col, build_deck(shipped_copy, tmp_path / "v2.apkg", timestamp=first_build + 60).output
    )

    assert (len(log.new), len(log.duplicate), len(log.conflicting), len(log.missing_notetype)) == (
        0,
        0,
        0,
        0,
    )
    assert len(log.updated) == 100
    assert col.note_count() == 100
    assert col.card_count() == 100
    assert notes_by_id(col) == ids_before
    assert [m.name for m in col.models.all_names_and_ids() if m.name.startswith("qa2anki")] == [
        MODEL_NAME
    ]
    gil = col.get_note(ids_before["gil"])
    assert (
        gil["Question"]
        == "<p>What is the Global Interpreter Lock (GIL), and why does it matter?</p>"
    )
    assert (
        "A list is <strong>mutable</strong>, allowing"
        in col.get_note(ids_before["list-vs-tuple"])["Answer"]
    )
    assert {q: _schedule(col, q) for q in reviewed} == schedule_before
    assert all(schedule[0] > 0 for schedule in schedule_before.values())
    assert review_count(col) == reviews_before == len(reviewed)
    assert {q: col.get_card(card_of(col, q)).did for q in ids_before} == decks_before


def test_moved_question_keeps_its_card_in_the_old_subdeck(
    col: Collection, shipped_copy: Path, tmp_path: Path
) -> None:
    """What the README tells users about moving a question to another topic."""
    first_build = time.time() - 600
    import_apkg(col, build_deck(shipped_copy, tmp_path / "v1.apkg", timestamp=first_build).output)
    card_before = card_of(col, "gil")

    fundamentals = shipped_copy / "01-python-fundamentals.yaml"
    concurrency = shipped_copy / "03-advanced-python-concurrency.yaml"
    text = fundamentals.read_text(encoding="utf-8")
    start = text.index("  - id: gil\n")
    end = text.index("  - id: ", start + 1)
    fundamentals.write_text(text[:start] + text[end:], encoding="utf-8")
    concurrency.write_text(
        concurrency.read_text(encoding="utf-8") + "\n" + text[start:end], encoding="utf-8"
    )
    log = import_apkg(
        col, build_deck(shipped_copy, tmp_path / "v2.apkg", timestamp=first_build + 60).output
    )

    assert (len(log.new), len(log.duplicate), len(log.conflicting)) == (0, 0, 0)
    assert card_of(col, "gil") == card_before
    card = col.get_card(card_before)
    assert col.decks.name(card.did) == f"{DECK}::Python Fundamentals"
    assert card.note().tags == ["advanced-python-concurrency"]
    assert card.note()["Topic"] == "Advanced Python &amp; Concurrency"


def review_count(col: Collection) -> int:
    assert col.db is not None
    return int(col.db.scalar("select count() from revlog"))


def source_order() -> list[str]:
    text = "".join(
        path.read_text(encoding="utf-8") for path in sorted(QUESTIONS.glob("[0-9]*.yaml"))
    )
    return re.findall(r"^  - id: (\S+)$", text, re.MULTILINE)


def _schedule(col: Collection, question_id: str) -> tuple[int, int, int, int, int]:
    card = col.get_card(card_of(col, question_id))
    return card.ivl, card.due, card.type, card.queue, card.reps
