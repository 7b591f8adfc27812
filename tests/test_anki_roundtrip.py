"""Import what we build with the real Anki library, exactly as a user's Anki would.

These are the slow tests (marker ``anki``): a fresh collection per test, real imports.
"""

from __future__ import annotations

import re
import tempfile
import time
import unicodedata
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest
from anki.import_export_pb2 import ImportResponse
from hypothesis import given, settings
from hypothesis import strategies as st

if TYPE_CHECKING:  # anki.cards cannot be imported before anki.collection
    from anki.cards import CardId
    from anki.notes import NoteId

from conftest import DECK_YAML, QUESTIONS, png_bytes, write_sources
from qa2anki.build import build_deck
from qa2anki.loader import load_deck
from qa2anki.package import CLOZE_MODEL_NAME, MODEL_ID, MODEL_NAME, REVERSED_MODEL_NAME
from qa2anki.preview import card_sides, cards
from qa2anki.render import card_css, cloze_css, render_deck, render_markdown
from qa2anki.state import Emptied, describe_plan

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


def test_fresh_import_gives_the_whole_deck(
    col: Collection, shipped_copy: Path, tmp_path: Path
) -> None:
    apkg = build_deck(shipped_copy, tmp_path / "deck.apkg").output

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


def test_cards_render_with_highlighted_code_as_the_preview_shows_them(
    col: Collection, shipped_copy: Path, tmp_path: Path
) -> None:
    import_apkg(col, build_deck(shipped_copy, tmp_path / "deck.apkg").output)

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

    # The preview shows every card exactly as Anki renders it.
    style = f"<style>{card_css()}</style>"
    for item in render_deck(load_deck(shipped_copy)).questions:
        card = col.get_card(card_of(col, item.question.id))
        front, back = card_sides(item)
        assert (card.question(), card.answer()) == (style + front, style + back)


def test_an_edited_answer_updates_exactly_one_note_and_keeps_reviews(
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

    edit(
        shipped_copy / "01-python-fundamentals.yaml",
        "a: A list is mutable, allowing modifications,",
        "a: A list is **mutable**, allowing modifications,",
    )
    result = build_deck(shipped_copy, tmp_path / "v2.apkg", timestamp=first_build + 60)
    log = import_apkg(col, result.output)

    assert result.plan.changed == ("list-vs-tuple",)
    assert [entry.fields[3] for entry in log.updated] == ["list-vs-tuple"]
    # Anki reports notes that are already up to date as duplicates and leaves them alone.
    assert len(log.duplicate) == 99
    assert (len(log.new), len(log.conflicting), len(log.missing_notetype)) == (0, 0, 0)
    assert col.note_count() == 100
    assert col.card_count() == 100
    assert notes_by_id(col) == ids_before
    assert qa2anki_note_types(col) == [MODEL_NAME]
    assert (
        "A list is <strong>mutable</strong>, allowing"
        in col.get_note(ids_before["list-vs-tuple"])["Answer"]
    )
    assert {q: _schedule(col, q) for q in reviewed} == schedule_before
    assert all(schedule[0] > 0 for schedule in schedule_before.values())
    assert review_count(col) == reviews_before == len(reviewed)
    assert {q: col.get_card(card_of(col, q)).did for q in ids_before} == decks_before


def test_an_edit_made_in_anki_to_an_unchanged_note_survives_a_reimport(
    col: Collection, shipped_copy: Path, tmp_path: Path
) -> None:
    first_build = time.time() - 600
    import_apkg(col, build_deck(shipped_copy, tmp_path / "v1.apkg", timestamp=first_build).output)
    gil = col.get_note(notes_by_id(col)["gil"])
    gil["Answer"] += "<p>My own mnemonic: one lock to rule them all.</p>"
    gil.tags.append("mine")
    col.update_note(gil)

    edit(shipped_copy / "01-python-fundamentals.yaml", "A list is mutable", "A list is changeable")
    log = import_apkg(
        col, build_deck(shipped_copy, tmp_path / "v2.apkg", timestamp=time.time() + 60).output
    )

    assert [entry.fields[3] for entry in log.updated] == ["list-vs-tuple"]
    kept = col.get_note(gil.id)
    assert kept["Answer"].endswith("<p>My own mnemonic: one lock to rule them all.</p>")
    assert "mine" in kept.tags


def test_a_css_change_updates_the_note_type_in_place(
    col: Collection, shipped_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first_build = time.time() - 600
    import_apkg(col, build_deck(shipped_copy, tmp_path / "v1.apkg", timestamp=first_build).output)
    css = card_css() + "\n.qa2anki .answer { line-height: 1.6; }\n"
    monkeypatch.setattr("qa2anki.package.card_css", lambda: css)

    result = build_deck(shipped_copy, tmp_path / "v2.apkg", timestamp=first_build + 60)
    log = import_apkg(col, result.output)

    assert result.plan.note_type == "changed"
    assert (len(log.new), len(log.updated), len(log.duplicate)) == (0, 0, 100)
    assert (len(log.conflicting), len(log.missing_notetype)) == (0, 0)
    assert qa2anki_note_types(col) == [MODEL_NAME]
    model = col.models.by_name(MODEL_NAME)
    assert model is not None
    assert model["id"] == MODEL_ID
    assert model["css"] == css
    assert col.note_count() == 100


def test_moved_and_removed_questions_and_the_searches_the_build_prints(
    col: Collection, shipped_copy: Path, tmp_path: Path
) -> None:
    """What the README and the build's report tell users about moving and removing questions."""
    first_build = time.time() - 600
    import_apkg(col, build_deck(shipped_copy, tmp_path / "v1.apkg", timestamp=first_build).output)
    card_before = card_of(col, "gil")

    fundamentals = shipped_copy / "01-python-fundamentals.yaml"
    concurrency = shipped_copy / "03-advanced-python-concurrency.yaml"
    text = fundamentals.read_text(encoding="utf-8")
    start = text.index("  - id: gil\n")
    end = text.index("  - id: ", start + 1)
    removed = text.index("  - id: name-main\n")
    fundamentals.write_text(text[:start] + text[end:removed], encoding="utf-8")
    concurrency.write_text(
        concurrency.read_text(encoding="utf-8") + "\n" + text[start:end], encoding="utf-8"
    )
    result = build_deck(shipped_copy, tmp_path / "v2.apkg", timestamp=first_build + 60)
    log = import_apkg(col, result.output)

    (moved,) = result.plan.moved
    assert (moved.id, moved.from_deck, moved.to_deck) == (
        "gil",
        f"{DECK}::Python Fundamentals",
        f"{DECK}::Advanced Python & Concurrency",
    )
    assert [entry.fields[3] for entry in log.updated] == ["gil"]
    assert (len(log.new), len(log.conflicting)) == (0, 0)
    assert card_of(col, "gil") == card_before
    card = col.get_card(card_before)
    assert col.decks.name(card.did) == f"{DECK}::Python Fundamentals"
    assert card.note().tags == ["advanced-python-concurrency"]
    assert card.note()["Topic"] == "Advanced Python &amp; Concurrency"

    # The report's searches find exactly the card to move and the note to delete.
    assert [r.id for r in result.plan.removed] == ["name-main"]
    assert col.note_count() == 100
    report = describe_plan(result.plan, DECK, result.state_file, verbose=False)
    move_search, delete_search = [line.strip() for line in report if line.startswith("    ")]
    assert col.find_cards(move_search) == [card_before]
    assert col.find_notes(delete_search) == [notes_by_id(col)["name-main"]]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def qa2anki_note_types(col: Collection) -> list[str]:
    return [m.name for m in col.models.all_names_and_ids() if m.name.startswith("qa2anki")]


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


# --- Images: packed, shown, and updated when they change ---------------------------------------

IMAGE_TOPIC = """\
    topic: Architecture
    questions:
      - id: layers
        q: What are the layers?
        a: |
          Three of them:

          ![the layers](img/arch.png)
      - id: plain
        q: No image?
        a: None.
    """


def test_an_image_reaches_anki_and_a_changed_image_updates_its_note(
    col: Collection, tmp_path: Path
) -> None:
    source = write_sources(tmp_path / "src", {"deck.yaml": DECK_YAML, "01-arch.yaml": IMAGE_TOPIC})
    (source / "img").mkdir()
    (source / "img" / "arch.png").write_bytes(png_bytes(rgb=(200, 30, 30)))
    first_build = time.time() - 600
    import_apkg(col, build_deck(source, tmp_path / "v1.apkg", timestamp=first_build).output)
    media = Path(col.media.dir())
    note_id = notes_by_id(col)["layers"]
    (old_name,) = re.findall(r'src="([^"]+)"', col.get_note(note_id)["Answer"])
    card = col.get_card(card_of(col, "layers"))
    card.start_timer()
    col.sched.answerCard(card, 3)
    schedule_before = _schedule(col, "layers")

    assert (media / old_name).read_bytes() == (source / "img" / "arch.png").read_bytes()
    assert f'<img src="{old_name}"' in card.answer()
    assert list(col.media.check().missing) == []

    (source / "img" / "arch.png").write_bytes(png_bytes(rgb=(30, 30, 200)))
    result = build_deck(source, tmp_path / "v2.apkg", timestamp=first_build + 60)
    log = import_apkg(col, result.output)

    (new_name,) = re.findall(r'src="([^"]+)"', col.get_note(note_id)["Answer"])
    assert result.plan.changed == ("layers",)
    assert [entry.fields[3] for entry in log.updated] == ["layers"]
    assert (len(log.new), len(log.duplicate), len(log.conflicting)) == (0, 1, 0)
    assert col.note_count() == 2
    assert new_name != old_name
    assert (media / new_name).read_bytes() == (source / "img" / "arch.png").read_bytes()
    assert f'<img src="{new_name}"' in col.get_card(card_of(col, "layers")).answer()
    check = col.media.check()
    assert (list(check.missing), list(check.unused)) == ([], [old_name])
    assert _schedule(col, "layers") == schedule_before
    assert review_count(col) == 1


# --- Text is text: what a card shows, rendered by Anki itself ---------------------------------

# Each hostile text and what the card shows of it: the text itself, or the words of the
# allowed tags it is made of, with their dangerous attributes gone.
HOSTILE = [
    ("<script>alert(1)</script>", "<script>alert(1)</script>"),
    ('<b onclick="alert(1)" style="color: red">bold</b>', "bold"),
    ('<a href="javascript:alert(1)">click</a>', "click"),
    ("<svg onload=alert(1)></svg> <iframe src=https://example.com>", None),
    ("[click](javascript:alert(1))", None),
    ("<javascript:alert(1)>", None),
    ("<style>.card { display: none }</style>", None),
    ("{{Question}}", None),
    ("{{FrontSide}}", None),
    ("{{c1::secret}}", None),
    ("<b>{{c1::secret}}</b> [sound:boom.mp3]", "{{c1::secret}} [sound:boom.mp3]"),
    ("{{text:Answer}} {{#Id}}x{{/Id}}", None),
    ("&amp;", None),
    ("&lt;b&gt;", None),
    ("&#60;script&#62;", None),
    ("[sound:boom.mp3]", None),
    ("<!-- comment --> \\\\(not math\\\\)", "<!-- comment --> \\(not math\\)"),
]
HOSTILE_TOPIC = "{{Question}} <b>&amp;</b> [sound:boom.mp3] [$]x[/$]"
_VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "wbr",
}


class CardHTML(HTMLParser):
    """A card's HTML as Anki renders it: the text of each part, and every tag and attribute."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.text: dict[str, str] = {}
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str]] = []
        self._open: list[str | None] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.extend((name, value or "") for name, value in attrs)
        css_class = (dict(attrs).get("class") or "").split()
        part = css_class[0] if css_class[:1] in (["topic"], ["question"], ["answer"]) else None
        if tag not in _VOID:
            self._open.append(part or (self._open[-1] if self._open else None))

    def handle_endtag(self, tag: str) -> None:
        if tag not in _VOID and self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        part = self._open[-1] if self._open else None
        if part:
            self.text[part] = self.text.get(part, "") + data

    def visible(self, part: str) -> str:
        """The part's text as a reader sees it: white space collapsed, Unicode composed."""
        return unicodedata.normalize("NFC", " ".join(self.text.get(part, "").split()))


def yaml_quoted(text: str) -> str:
    """Quote any text as a YAML double-quoted scalar made of printable ASCII only."""
    escaped = []
    for char in text:
        if char in '"\\':
            escaped.append("\\" + char)
        elif char == "\n":
            escaped.append("\\n")
        elif " " <= char <= "~":
            escaped.append(char)
        else:
            escaped.append(f"\\U{ord(char):08X}")
    return '"' + "".join(escaped) + '"'


def topic_file(topic: str, pairs: list[tuple[str, str]]) -> str:
    lines = [f"topic: {yaml_quoted(topic)}", "questions:"]
    for number, (q, a) in enumerate(pairs):
        lines += [f"  - id: q{number}", f"    q: {yaml_quoted(q)}", f"    a: {yaml_quoted(a)}"]
    return "\n".join(lines) + "\n"


def build_and_import(
    col: Collection, folder: Path, topic: str, pairs: list[tuple[str, str]]
) -> None:
    source = write_sources(folder / "src", {"deck.yaml": DECK_YAML})
    (source / "01-topic.yaml").write_text(topic_file(topic, pairs), encoding="utf-8")
    import_apkg(col, build_deck(source, folder / "deck.apkg").output)


def test_hostile_text_shows_literally_and_never_runs(col: Collection, tmp_path: Path) -> None:
    pairs = [(text, f"Answer: {text}") for text, _ in HOSTILE]
    build_and_import(col, tmp_path, HOSTILE_TOPIC, pairs)

    for number, (text, shown) in enumerate(HOSTILE):
        q = text if shown is None else shown
        card = col.get_card(card_of(col, f"q{number}"))
        front, back = CardHTML(card.question()), CardHTML(card.answer())
        assert (front.visible("topic"), front.visible("question")) == (HOSTILE_TOPIC, q)
        assert (back.visible("question"), back.visible("answer")) == (q, f"Answer: {q}")
        for page in (front, back):
            # Anki adds one <style> for the note type's CSS, and nothing else that runs.
            assert set(page.tags) <= {"a", "b", "div", "hr", "p", "span", "style"}
            assert page.tags.count("style") == 1
            assert not [name for name, _ in page.attributes if name.startswith("on")]
            assert not [value for _, value in page.attributes if "javascript:" in value]


class MathJaxText(HTMLParser):
    """The text of a card that MathJax reads for formulas: not inside an element it skips
    (its default skipHtmlTags) or one whose class says to ignore it (v2 and v3+ names)."""

    SKIPPED = frozenset({"script", "noscript", "style", "textarea", "pre", "code"})
    IGNORE = frozenset({"tex2jax_ignore", "mathjax_ignore"})

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.read = ""
        self._ignored: list[bool] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            return
        classes = set((dict(attrs).get("class") or "").split())
        inside = bool(self._ignored and self._ignored[-1])
        self._ignored.append(inside or tag in self.SKIPPED or bool(classes & self.IGNORE))

    def handle_endtag(self, tag: str) -> None:
        if tag not in _VOID and self._ignored:
            self._ignored.pop()

    def handle_data(self, data: str) -> None:
        if not (self._ignored and self._ignored[-1]):
            self.read += data


MATH_ANSWER = r"""It is $O(n \log n)$, or \(n \log_2 n\) comparisons, in all

$$
\sum_{i=1}^{n} i < n^2
$$

Not math: `$x$`, `\(y\)`, \\(z\\), \$1 and $5 and $10, \(\href{javascript:alert(1)}{v}\).

```python
print("\\(w\\)")
```"""


def test_math_reaches_mathjax_and_nothing_else_does(col: Collection, tmp_path: Path) -> None:
    build_and_import(col, tmp_path, "Math \\(t\\)", [("How fast is $n$-way sorting?", MATH_ANSWER)])

    card = col.get_card(card_of(col, "q0"))
    read = MathJaxText(card.answer()).read

    formulas = re.findall(r"\\\(.*?\\\)|\\\[.*?\\\]", read, re.DOTALL)
    assert formulas == [
        r"\(n\)",
        r"\(O(n \log n)\)",
        r"\(n \log_2 n\)",
        r"\[\sum_{i=1}^{n} i < n^2\]",
    ]
    assert "$1 and $5 and $10, \\(\\href{javascript:alert(1)}{v}\\)." in CardHTML(
        card.answer()
    ).visible("answer")
    assert "\\(z\\)" in CardHTML(card.answer()).visible("answer")


# Anything the loader accepts in a question: every character but control characters (refused
# with a message, see the control-characters fixture), surrogates and U+FFFE/U+FFFF (not text).
ANY_TEXT = st.text(
    st.characters(
        exclude_categories=("Cs", "Cc"),
        exclude_characters="\ufffe\uffff",
        include_characters="\n\t",
    ),
    min_size=1,
    max_size=40,
).filter(lambda text: text.strip())
# Words that mean nothing to Markdown but much to HTML and Anki: they must show unchanged.
# (A tag, "<" then a letter, "/" or "!", is HTML that a card may keep: see test_render.)
PLAIN_WORD = st.text(
    st.characters(categories=("L", "M", "N"), include_characters="{}<>&;\"'=/%?,"),
    min_size=1,
    max_size=12,
).filter(lambda word: not re.search(r"<[/!\w]", word))
PLAIN_TEXT = st.lists(PLAIN_WORD, min_size=1, max_size=6).map(lambda words: " ".join(["x", *words]))


@settings(max_examples=20, deadline=None)
@given(st.lists(st.tuples(ANY_TEXT, PLAIN_TEXT), min_size=1, max_size=3))
def test_any_text_imports_into_anki_and_shows_what_was_rendered(
    pairs: list[tuple[str, str]],
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        collection = Collection(str(Path(folder) / "collection.anki2"))
        try:
            build_and_import(collection, Path(folder), "Any", pairs)
            deck = build_deck(Path(folder) / "src", Path(folder) / "again.apkg").deck
            for question, (_, a) in zip(deck.topics[0].questions, pairs, strict=True):
                card = collection.get_card(card_of(collection, question.id))
                back = CardHTML(card.answer())
                ours = CardHTML(f'<div class="question">{render_markdown(question.q)}</div>')
                assert back.visible("question") == ours.visible("question")
                assert back.visible("answer") == unicodedata.normalize("NFC", a)
        finally:
            collection.close()


def test_a_reverted_edit_reaches_anki(col: Collection, shipped_copy: Path, tmp_path: Path) -> None:
    """`git revert` brings back the old answer and the old state file; Anki must still update."""
    output = tmp_path / "deck.apkg"
    fundamentals = shipped_copy / "01-python-fundamentals.yaml"
    lock = shipped_copy / "qa2anki.lock"
    original, original_lock = fundamentals.read_bytes(), lock.read_bytes()
    import_apkg(col, build_deck(shipped_copy, output, timestamp=time.time() - 600).output)
    edit(fundamentals, "A list is mutable", "A list is **mutable**")
    import_apkg(col, build_deck(shipped_copy, output, timestamp=time.time() - 300).output)
    assert "<strong>mutable</strong>" in col.get_note(notes_by_id(col)["list-vs-tuple"])["Answer"]

    fundamentals.write_bytes(original)
    lock.write_bytes(original_lock)
    result = build_deck(shipped_copy, output)
    log = import_apkg(col, result.output)

    assert result.plan.changed == ("list-vs-tuple",)
    assert [entry.fields[3] for entry in log.updated] == ["list-vs-tuple"]
    assert "A list is mutable" in col.get_note(notes_by_id(col)["list-vs-tuple"])["Answer"]


# --- Reversed and cloze notes ----------------------------------------------------------------

KINDS_TOPIC = """\
topic: Kinds
questions:
  - id: plain
    q: What is a list?
    a: A mutable sequence.
  - id: capital
    type: reversed
    q: France
    a: Paris
  - id: comprehension
    type: cloze
    text: |
      A {{c1::list comprehension}} builds a list: `{{c2::[x * 2 for x in xs]}}`.

      ```python
      squares = {{c1::[n ** 2 for n in range(10)]::a comprehension}}
      ```
    extra: See PEP 202.
"""


def kinds_deck(folder: Path) -> Path:
    return write_sources(
        folder, {"deck.yaml": "key: kinds\nname: Kinds Deck\n", "01-kinds.yaml": KINDS_TOPIC}
    )


def test_a_deck_of_all_three_kinds_imports_with_a_card_per_template_and_deletion_number(
    col: Collection, tmp_path: Path
) -> None:
    source = kinds_deck(tmp_path / "questions")

    log = import_apkg(col, build_deck(source, tmp_path / "deck.apkg").output)

    assert (len(log.new), len(log.updated), len(log.conflicting)) == (3, 0, 0)
    assert sorted(qa2anki_note_types(col)) == sorted(
        [MODEL_NAME, REVERSED_MODEL_NAME, CLOZE_MODEL_NAME]
    )
    ids = notes_by_id(col)
    assert [len(col.get_note(ids[q]).cards()) for q in ("plain", "capital", "comprehension")] == [
        1,
        2,
        2,
    ]
    assert col.card_count() == 5

    reversed_cards = col.get_note(ids["capital"]).cards()
    assert ["France" in c.question() for c in reversed_cards] == [True, False]
    assert ["Paris" in c.question() for c in reversed_cards] == [False, True]

    first, second = sorted(col.get_note(ids["comprehension"]).cards(), key=lambda c: c.ord)
    front, back = first.question(), first.answer()
    # Card 1 asks both c1 deletions, the one in the code with its hint; c2 shows as text.
    assert "list comprehension" not in front
    assert ">[...]</span> builds" in front
    assert ">[a comprehension]</span>" in front
    assert "[x * 2 for x in xs]" in front
    assert '<span class="n">squares</span>' in front  # the code around the deletion is coloured
    assert ">list comprehension</span> builds" in back
    assert "See PEP 202." in back
    assert "x * 2" not in second.question()
    assert "list comprehension" in second.question()

    # The preview shows each card as Anki does, but for the attributes Anki's cloze spans carry.
    for item in render_deck(load_deck(source)).questions:
        css = card_css() + (cloze_css() if item.question.type == "cloze" else "")
        style = f"<style>{css}</style>"
        anki_cards = sorted(col.get_note(ids[item.question.id]).cards(), key=lambda c: c.ord)
        shown = [(style + card.front, style + card.back) for card in cards(item)]
        assert [(_plain_cloze(c.question()), _plain_cloze(c.answer())) for c in anki_cards] == shown


def _plain_cloze(html: str) -> str:
    """Anki's cloze spans without the data attributes it adds, and its spans around the
    deletions a card does not ask, which the preview leaves out."""
    html = re.sub(
        r'<span class="cloze" data(?:-cloze="[^"]*" data)?-ordinal="\d+">',
        '<span class="cloze">',
        html,
    )
    while opening := re.search(r'<span class="cloze-inactive" data-ordinal="\d+">', html):
        depth, at = 1, opening.end()
        for tag in re.finditer(r"<(/?)span\b[^>]*>", html[at:]):
            depth += -1 if tag[1] else 1
            if depth == 0:
                close = at + tag.start()
                html = html[: opening.start()] + html[at:close] + html[close + len(tag[0]) :]
                break
    return html


def test_adding_cloze_and_reversed_notes_leaves_every_basic_note_alone(
    col: Collection, shipped_copy: Path, tmp_path: Path
) -> None:
    first_build = time.time() - 600
    import_apkg(col, build_deck(shipped_copy, tmp_path / "v1.apkg", timestamp=first_build).output)
    ids_before = notes_by_id(col)
    mods_before = {q: col.get_note(nid).mod for q, nid in ids_before.items()}
    (shipped_copy / "11-kinds.yaml").write_text(KINDS_TOPIC, encoding="utf-8")

    result = build_deck(shipped_copy, tmp_path / "v2.apkg", timestamp=first_build + 60)
    log = import_apkg(col, result.output)

    assert result.plan.added == ("plain", "capital", "comprehension")
    assert (len(log.new), len(log.updated), len(log.conflicting)) == (3, 0, 0)
    assert len(log.duplicate) == 100
    assert {q: col.get_note(ids_before[q]).mod for q in ids_before} == mods_before
    assert col.card_count() == 100 + 5


def test_editing_a_cloze_updates_its_note_keeps_its_reviews_and_a_new_number_adds_a_card(
    col: Collection, tmp_path: Path
) -> None:
    source = kinds_deck(tmp_path / "questions")
    first_build = time.time() - 600
    import_apkg(col, build_deck(source, tmp_path / "v1.apkg", timestamp=first_build).output)
    note_id = notes_by_id(col)["comprehension"]
    for card in col.get_note(note_id).cards():
        card.start_timer()
        col.sched.answerCard(card, 3)
    reviewed = {card.id: (card.ivl, card.due, card.reps) for card in col.get_note(note_id).cards()}

    edit(source / "01-kinds.yaml", "builds a list:", "builds a {{c3::new}} list:")
    result = build_deck(source, tmp_path / "v2.apkg", timestamp=first_build + 60)
    log = import_apkg(col, result.output)

    assert result.plan.changed == ("comprehension",)
    assert [entry.fields[3] for entry in log.updated] == ["comprehension"]
    assert notes_by_id(col)["comprehension"] == note_id
    after = {card.id: (card.ivl, card.due, card.reps) for card in col.get_note(note_id).cards()}
    assert len(after) == 3
    assert {card: after[card] for card in reviewed} == reviewed
    assert review_count(col) == 2
    assert "{{c3::new}}" in col.get_note(note_id)["Text"]

    # Taking deletion c2 out leaves its reviewed card empty in Anki: the plan names it.
    edit(source / "01-kinds.yaml", "`{{c2::[x * 2 for x in xs]}}`", "`[x * 2 for x in xs]`")
    result = build_deck(source, tmp_path / "v3.apkg", timestamp=first_build + 120)
    import_apkg(col, result.output)

    assert result.plan.emptied == (Emptied("comprehension", (2,)),)
    assert "Emptied: comprehension: no deletion is numbered c2 any more." in "\n".join(
        describe_plan(result.plan, "Kinds Deck", result.state_file, verbose=False)
    )
    (empty,) = col.get_empty_cards().notes
    (card_id,) = empty.card_ids
    assert (empty.note_id, col.get_card(card_id).ord) == (note_id, 1)
    assert col.get_card(card_id).reps == 1


def test_a_question_that_changes_type_is_a_new_note_and_the_old_one_is_named(
    col: Collection, tmp_path: Path
) -> None:
    source = kinds_deck(tmp_path / "questions")
    first_build = time.time() - 600
    import_apkg(col, build_deck(source, tmp_path / "v1.apkg", timestamp=first_build).output)

    edit(source / "01-kinds.yaml", "  - id: plain\n", "  - id: plain\n    type: reversed\n")
    result = build_deck(source, tmp_path / "v2.apkg", timestamp=first_build + 60)
    log = import_apkg(col, result.output)

    assert result.plan.added == ("plain",)
    assert [(r.id, r.became, r.note_type) for r in result.plan.removed] == [
        ("plain", "reversed", "basic")
    ]
    assert (len(log.new), len(log.updated), len(log.conflicting)) == (1, 0, 0)
    plain = [col.get_note(nid) for nid in col.find_notes('"Id:plain"')]
    assert sorted(note.note_type()["name"] for note in plain) == [  # type: ignore[index]
        MODEL_NAME,
        REVERSED_MODEL_NAME,
    ]
    search = f'"note:{MODEL_NAME}" "Id:plain"'
    assert len(col.find_notes(f'"deck:Kinds Deck" ({search})')) == 1


def test_a_css_change_updates_all_three_note_types_in_place(
    col: Collection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = kinds_deck(tmp_path / "questions")
    first_build = time.time() - 600
    import_apkg(col, build_deck(source, tmp_path / "v1.apkg", timestamp=first_build).output)
    css = card_css() + "\n.qa2anki .answer { line-height: 1.6; }\n"
    monkeypatch.setattr("qa2anki.package.card_css", lambda: css)

    result = build_deck(source, tmp_path / "v2.apkg", timestamp=first_build + 60)
    log = import_apkg(col, result.output)

    assert (result.plan.note_type, dict(result.plan.note_types)) == (
        "changed",
        {"reversed": "changed", "cloze": "changed"},
    )
    assert (len(log.new), len(log.updated), len(log.conflicting)) == (0, 0, 0)
    assert sorted(qa2anki_note_types(col)) == sorted(
        [MODEL_NAME, REVERSED_MODEL_NAME, CLOZE_MODEL_NAME]
    )
    for name in (MODEL_NAME, REVERSED_MODEL_NAME):
        assert col.models.by_name(name)["css"] == css  # type: ignore[index]
    assert col.models.by_name(CLOZE_MODEL_NAME)["css"] == css + cloze_css()  # type: ignore[index]
