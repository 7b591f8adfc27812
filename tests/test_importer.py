"""The importer: Markdown Q&A documents in, a source folder that builds the same cards out."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from conftest import FIXTURES, QUESTIONS, fixed_key_suffix, write_sources
from qa2anki.build import build_deck
from qa2anki.errors import OutputError, ValidationError
from qa2anki.importer import (
    ImportedDocuments,
    ImportResult,
    import_markdown,
    read_documents,
    topic_yaml,
    yaml_scalar,
)
from qa2anki.loader import CONTROL_RE, clean_text, load_deck
from qa2anki.package import package_deck
from qa2anki.reader import ImportedQuestion, ImportedTopic, clean_markdown
from qa2anki.render import render_deck

SEED = FIXTURES / "seed" / "interview-qa-100.md"
STYLES = FIXTURES / "markdown"
MALFORMED = FIXTURES / "markdown-invalid"
STYLE_CASES = sorted(path.name for path in STYLES.iterdir() if path.is_dir())
MALFORMED_CASES = sorted(path.name for path in MALFORMED.iterdir() if path.is_dir())


@pytest.fixture(autouse=True, scope="module")
def _key_suffix() -> Iterator[str]:
    """New deck keys end in a random suffix; here always the same one, "-3f9c"."""
    with fixed_key_suffix() as suffix:
        yield suffix


def folder_texts(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` by its path there; images by their bytes' hex."""
    return {
        path.relative_to(folder).as_posix(): (
            path.read_text(encoding="utf-8")
            if path.suffix in {".yaml", ".yml"}
            else path.read_bytes().hex()
        )
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_seed_builds_the_same_cards_as_the_shipped_questions(tmp_path: Path) -> None:
    result = import_markdown([SEED], tmp_path / "imported")

    imported = render_deck(load_deck(tmp_path / "imported"))
    shipped = render_deck(load_deck(QUESTIONS))
    assert imported.deck.question_count == shipped.deck.question_count == 100
    assert [t.name for t in imported.deck.topics] == [t.name for t in shipped.deck.topics]
    assert [len(t.questions) for t in imported.deck.topics] == [10] * 10

    assert [(r.topic.name, r.question_html, r.answer_html) for r in imported.questions] == [
        (r.topic.name, r.question_html, r.answer_html) for r in shipped.questions
    ]
    # The seed has no title: the deck is named after the file.
    assert (result.name, result.key) == ("Interview qa 100", "interview-qa-100-3f9c")
    assert [(s.name, s.line, s.end, s.what) for s in result.skipped] == [
        (None, 1, 1, "the text before the first heading"),
        ("Next Steps", 377, 381, "no questions"),
    ]


def test_seed_topic_files_are_named_and_counted(tmp_path: Path) -> None:
    result = import_markdown(
        [SEED], tmp_path / "imported", name="Python Backend Interview", key="python-backend"
    )

    deck = load_deck(tmp_path / "imported")
    assert (deck.name, deck.key) == ("Python Backend Interview", "python-backend")
    assert [file.name for file in result.files][:3] == [
        "01-python-fundamentals.yaml",
        "02-intermediate-python.yaml",
        "03-advanced-python-concurrency.yaml",
    ]
    assert result.question_count == 100
    ids = [q.id for t in deck.topics for q in t.questions]
    assert len(set(ids)) == 100
    assert ids[:2] == ["difference-list-tuple-python", "handle-exceptions-python"]


@pytest.mark.parametrize("case", STYLE_CASES)
def test_each_style_gives_the_expected_sources(case: str, tmp_path: Path) -> None:
    documents = sorted((STYLES / case).glob("*.md"))

    import_markdown(documents, tmp_path / "out")

    assert folder_texts(tmp_path / "out") == folder_texts(STYLES / case / "expected")
    load_deck(tmp_path / "out")


def test_every_style_has_a_fixture() -> None:
    assert set(STYLE_CASES) >= {
        "numbered-bold",
        "plain",
        "bold-colon",
        "no-headings",
        "code-blocks",
        "numbered-markers",
        "setext-headings",
        "indented-code",
        "answer-line-fence",
        "heading-questions",
        "bold-questions",
        "details",
        "table-questions",
        "mixed",
        "details-bold-answers",
        "back-to-top",
        "answer-headings",
        "list-headings",
        "cloze-questions",
    }


def line_homes(documents: ImportedDocuments) -> dict[tuple[Path, int], list[str]]:
    """Where each line of the documents went: a card, a skipped question, a skipped section,
    or the structure (the heading that names a topic)."""
    homes: dict[tuple[Path, int], list[str]] = {}

    def home(path: Path, first: int, last: int, what: str) -> None:
        for line in range(first, last + 1):
            homes.setdefault((path, line), []).append(what)

    for topic in documents.topics:
        for question in topic.questions:
            home(question.path, question.line, question.end, f"card {question.q!r}")
    for unanswered in documents.unanswered:
        home(unanswered.path, unanswered.start, unanswered.end, f"skipped {unanswered.q!r}")
    for section in documents.skipped:
        home(section.path, section.line, section.end, f"skipped section {section.name!r}")
    for path, line in documents.structure:
        home(path, line, line, "structure")
    return homes


@pytest.mark.parametrize("case", [*STYLE_CASES, "seed"])
def test_every_line_ends_up_in_a_card_or_a_report(case: str) -> None:
    folder = FIXTURES / "seed" if case == "seed" else STYLES / case
    documents = sorted(folder.glob("*.md"))

    imported = read_documents(documents)

    homes = line_homes(imported)
    rule = re.compile(r" {0,3}(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,})")
    for path in documents:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            where = homes.get((path, number), [])
            if not line.strip() or rule.fullmatch(line):
                continue  # blank lines and rules hold no text
            assert len(where) == 1, f"{path.name}:{number}: {line!r} is in {where or 'nothing'}"


@pytest.mark.parametrize("case", MALFORMED_CASES)
def test_malformed_documents_report_every_problem_with_its_line(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(MALFORMED)
    output = tmp_path / "out"

    with pytest.raises(ValidationError) as caught:
        import_markdown([Path(case) / "notes.md"], output, strict=True)

    expected = (MALFORMED / case / "expected.txt").read_text(encoding="utf-8").splitlines()
    assert [str(problem) for problem in caught.value.problems] == expected
    assert not output.exists()
    assert list(tmp_path.iterdir()) == []


def test_every_malformed_case_has_a_fixture() -> None:
    assert set(MALFORMED_CASES) >= {
        "answer-without-question",
        "question-without-answer",
        "unclosed-fence",
        "unclosed-answer-fence",
    }


def code_blocks(html: str) -> list[str]:
    return re.findall(r"<pre[^>]*><code>(.*?)</code></pre>", html, re.DOTALL)


def test_indented_code_in_answers_shows_the_code_the_document_shows(tmp_path: Path) -> None:
    document = STYLES / "indented-code" / "notes.md"

    import_markdown([document], tmp_path / "out")

    cards = render_deck(load_deck(tmp_path / "out")).questions
    shown = code_blocks(MarkdownIt("commonmark").render(document.read_text(encoding="utf-8")))
    assert len(shown) == 2
    assert [code for card in cards for code in code_blocks(card.answer_html)] == shown


def test_indented_lines_are_code_only_where_markdown_makes_them_code(tmp_path: Path) -> None:
    document = tmp_path / "notes.md"
    document.write_text(
        "Q: One?\n"
        "A: An answer\n"
        "    Q: Two?\n"
        "    A: Indented under an answer without a blank line: no code.\n"
        "\n"
        "Q: Three?\n"
        "A: Steps:\n"
        "\n"
        "- a step\n"
        "\n"
        "    Q: Four?\n"
        "    A: A paragraph of the step: no code either.\n",
        encoding="utf-8",
    )

    (topic,) = read_documents([document]).topics

    assert [(q.q, q.a) for q in topic.questions] == [
        ("One?", "An answer"),
        ("Two?", "Indented under an answer without a blank line: no code."),
        ("Three?", "Steps:\n\n- a step"),
        ("Four?", "A paragraph of the step: no code either."),
    ]


def test_questions_keep_their_line_numbers() -> None:
    imported = read_documents([SEED])

    first, *_, last = [q for t in imported.topics for q in t.questions]
    assert (first.line, last.line) == (7, 372)
    assert [t.line for t in imported.topics][:2] == [5, 44]


def test_crlf_documents_read_like_lf(tmp_path: Path) -> None:
    document = tmp_path / "notes.md"
    document.write_bytes(b"\xef\xbb\xbf# T\r\n\r\nQ: One?\r\nA: |\r\n```\r\nx\r\n```\r\n")

    (topic,) = read_documents([document]).topics

    assert (topic.name, topic.questions[0].q, topic.questions[0].a) == (
        "T",
        "One?",
        "|\n```\nx\n```",
    )


def test_several_documents_make_one_deck(tmp_path: Path) -> None:
    first = tmp_path / "a.md"
    first.write_text("## One\n\nQ: First?\nA: Yes.\n", encoding="utf-8")
    second = tmp_path / "b.md"
    second.write_text("# Title\n\n## Two\n\nQ: Second?\nA: No.\n", encoding="utf-8")

    result = import_markdown([first, second], tmp_path / "out")

    deck = load_deck(tmp_path / "out")
    assert [(t.name, [q.q for q in t.questions]) for t in deck.topics] == [
        ("One", ["First?"]),
        ("Two", ["Second?"]),
    ]
    assert (result.name, result.key) == ("Title", "title-3f9c")


def test_the_same_topic_in_two_documents_is_refused(tmp_path: Path) -> None:
    for name in ("a.md", "b.md"):
        (tmp_path / name).write_text("## SQL\n\nQ: Why?\nA: So.\n", encoding="utf-8")

    with pytest.raises(ValidationError) as caught:
        import_markdown([tmp_path / "a.md", tmp_path / "b.md"], tmp_path / "out")

    assert [str(p) for p in caught.value.problems] == [
        f"{tmp_path / 'b.md'}:1: a second topic named 'SQL' (first at {tmp_path / 'a.md'}:1): "
        "rename one of the headings"
    ]


def test_topic_names_lose_numbers_and_emphasis(tmp_path: Path) -> None:
    document = tmp_path / "notes.md"
    headings = ["1. Basics", "11 - 20: __More__ ##", "3) *Last* one", "**2024**"]
    document.write_text(
        "".join(f"## {heading}\n\nQ: {n}?\nA: {n}.\n\n" for n, heading in enumerate(headings)),
        encoding="utf-8",
    )

    topics = read_documents([document]).topics

    assert [t.name for t in topics] == ["Basics", "More", "*Last* one", "2024"]


def test_two_space_line_breaks_become_backslashes() -> None:
    lines = ["One  ", "two", "", "- item  ", "- next", "last  "]

    text = clean_markdown(lines, [False] * len(lines))

    assert text == "One\\\ntwo\n\n- item\n- next\nlast"


def test_an_imported_deck_never_shares_a_note_with_the_shipped_one(tmp_path: Path) -> None:
    """The seed imported under the shipped deck's name gets a key of its own (the random
    suffix is pinned here; test_new shows that it varies): no note shares a GUID."""
    result = import_markdown([SEED], tmp_path / "imported", name="Python Backend Interview")
    shipped = package_deck(render_deck(load_deck(QUESTIONS))).notes
    imported = package_deck(render_deck(load_deck(tmp_path / "imported"))).notes

    assert result.key == "python-backend-interview-3f9c"
    assert len(imported) == 100
    assert {note.guid for note in imported}.isdisjoint(note.guid for note in shipped)
    # Without the suffix, questions whose generated ids the shipped deck also has (8 of them)
    # would update the shipped notes.
    same_ids = {note.id for note in imported} & {note.id for note in shipped}
    assert len(same_ids) == 8


def test_options_override_name_and_key_and_are_checked(tmp_path: Path) -> None:
    document = tmp_path / "notes.md"
    document.write_text("# My Notes\n\nQ: Why?\nA: So.\n", encoding="utf-8")

    result = import_markdown([document], tmp_path / "a", name="Interviews::Python")
    assert (result.name, result.key) == ("Interviews::Python", "interviews-python-3f9c")
    exact = import_markdown([document], tmp_path / "c", key="my-notes")
    assert (exact.name, exact.key) == ("My Notes", "my-notes")
    with pytest.raises(ValidationError) as caught:
        import_markdown([document], tmp_path / "b", name="A::", key="Not A Slug")

    assert [str(p) for p in caught.value.problems] == [
        "deck name 'A::' has an empty part between '::'; use --name",
        "--key 'Not A Slug' is not a slug: use lowercase letters, digits and single hyphens, "
        "at most 64 characters",
    ]
    assert not (tmp_path / "b").exists()


def test_existing_files_are_kept_unless_forced(tmp_path: Path) -> None:
    output = tmp_path / "out"
    import_markdown([SEED], output)
    (output / "deck.yaml").write_text("key: mine\nname: Mine\n", encoding="utf-8")
    before = folder_texts(output)

    with pytest.raises(ValidationError) as caught:
        import_markdown([SEED], output)

    assert len(caught.value.problems) == 11
    assert (
        str(caught.value.problems[-1])
        == f"{output / 'deck.yaml'}: exists; use --force to overwrite it"
    )
    assert folder_texts(output) == before
    import_markdown([SEED], output, force=True)
    # The deck in the folder keeps its key, name and description: they are Anki's to match.
    assert (output / "deck.yaml").read_text(encoding="utf-8").endswith("key: mine\nname: Mine\n")


def test_importing_again_keeps_what_deck_yaml_says_unless_options_say_otherwise(
    tmp_path: Path,
) -> None:
    output = tmp_path / "out"
    import_markdown([SEED], output)
    (output / "deck.yaml").write_text(
        "key: mine\nname: Mine\ndescription: My **notes**.\n", encoding="utf-8"
    )

    import_markdown([SEED], output, force=True)
    kept = load_deck(output)
    import_markdown([SEED], output, force=True, name="Renamed")
    renamed = load_deck(output)

    assert (kept.key, kept.name, kept.description) == ("mine", "Mine", "My **notes**.")
    assert (renamed.key, renamed.name, renamed.description) == ("mine", "Renamed", "My **notes**.")


def test_a_deck_yaml_with_problems_is_not_replaced_by_an_import(tmp_path: Path) -> None:
    output = tmp_path / "out"
    import_markdown([SEED], output)
    broken = "key: capitals-b23d\nname: Capitals\ndescripton: typo\n"
    (output / "deck.yaml").write_text(broken, encoding="utf-8")
    before = folder_texts(output)

    with pytest.raises(ValidationError) as caught:
        import_markdown([SEED], output, force=True)

    deck_file = output / "deck.yaml"
    assert [str(problem) for problem in caught.value.problems] == [
        f"{deck_file}:3: deck has unknown key 'descripton' (did you mean 'description'?)",
        f"{deck_file}: import keeps the key of this deck.yaml (and so the notes in Anki): fix "
        "it, or remove it to start a new deck",
    ]
    assert folder_texts(output) == before


def test_importing_again_keeps_the_decks_key_and_so_its_notes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = tmp_path / "out"
    first = import_markdown([SEED], output)
    guids = {note.guid for note in package_deck(render_deck(load_deck(output))).notes}
    monkeypatch.setattr("qa2anki.ids.secrets.token_hex", lambda nbytes: "9999")

    again = import_markdown([SEED], output, force=True)

    assert first.key == again.key == "interview-qa-100-3f9c"
    assert {note.guid for note in package_deck(render_deck(load_deck(output))).notes} == guids
    assert import_markdown([SEED], tmp_path / "elsewhere").key == "interview-qa-100-9999"


def test_other_topic_files_in_the_output_are_refused(tmp_path: Path) -> None:
    output = write_sources(tmp_path / "out", {"99-old.yaml": "topic: Old\n", "notes.txt": "hi"})

    with pytest.raises(ValidationError) as caught:
        import_markdown([SEED], output, force=True)

    assert [str(p) for p in caught.value.problems] == [
        f"{output / '99-old.yaml'}: would be read as a topic of the imported deck; move it away "
        "or import into another folder"
    ]
    assert sorted(p.name for p in output.iterdir()) == ["99-old.yaml", "notes.txt"]


def test_a_failed_write_leaves_no_folder_and_no_temporary_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("qa2anki.files.os.fsync", broken_fsync)

    with pytest.raises(OutputError) as caught:
        import_markdown([SEED], tmp_path / "out")

    assert str(caught.value) == f"{tmp_path / 'out'}: cannot write: No space left on device"
    assert list(tmp_path.iterdir()) == []


def cleaned_texts() -> st.SearchStrategy[str]:
    """Text as the loader reads it back: no control characters, trailing spaces or blank ends."""
    alphabet = st.characters(blacklist_categories=["Cs"])
    return (
        st.text(alphabet, min_size=1, max_size=40)
        .map(clean_text)
        .filter(lambda text: bool(text) and clean_text(text) == text)
        .filter(lambda text: CONTROL_RE.search(text) is None)
    )


@settings(max_examples=300, deadline=None)
@given(
    name=cleaned_texts().filter(lambda t: "\n" not in t and "::" not in t),
    q=cleaned_texts(),
    a=cleaned_texts() | st.sampled_from(["yes", "~", "null", "0123", "- a\n  - b", "#x\n y"]),
)
def test_written_yaml_reads_back_as_the_same_text(
    tmp_path_factory: pytest.TempPathFactory, name: str, q: str, a: str
) -> None:
    folder = tmp_path_factory.mktemp("yaml")
    topic = ImportedTopic(name, (ImportedQuestion(q, a, folder, 1),), folder, 1)
    (folder / "deck.yaml").write_text(f"key: k\nname: {yaml_scalar(name, 0)}\n", "utf-8")
    (folder / "01-t.yaml").write_text(topic_yaml(topic, ["x"]), "utf-8")

    deck = load_deck(folder, check_images=False)  # the text is the subject, not images

    assert deck.name == name
    (loaded,) = deck.topics
    assert (loaded.name, loaded.questions[0].q, loaded.questions[0].a) == (name, q, a)


def test_multi_line_text_is_a_literal_block_and_one_line_text_is_plain() -> None:
    assert yaml_scalar("Two\n\n  lines", 4) == "|\n      Two\n\n        lines"
    assert yaml_scalar("It is: quoted", 0) == "'It is: quoted'"
    assert yaml_scalar("plain `code` text", 0) == "plain `code` text"
    assert yaml_scalar("  leading\nspace", 0) == '"  leading\\nspace"'
    assert yaml_scalar("tab\there", 0) == '"tab\\there"'


def test_raw_html_in_the_documents_is_counted_by_kind_with_what_cards_make_of_it(
    tmp_path: Path,
) -> None:
    document = tmp_path / "web.md"
    document.write_text(
        "# Web\n\n## HTML\n\n"
        "Q: What is a line break?\nA: A `<br>` tag: one<br>two<br/>three.\n\n"
        'Q: What does this show?\nA: <img src="https://example.com/a.png"> and <div>x</div>'
        ' and <b style="x">bold</b> <!-- note --> and <img src="local.png">\n'
        '<img src="data:image/png;base64,AAAA">\n',
        encoding="utf-8",
    )

    result = import_markdown([document], tmp_path / "out")

    assert [(h.kind, h.count, h.line, h.outcome) for h in result.html] == [
        ("<br>", 2, 6, "kept"),
        ("<a>", 1, 9, "kept"),  # the image from the web, made a link to it
        ("<div>", 1, 9, "shown as text"),
        ("<b>", 1, 9, "kept, without some of its attributes"),
        ("<!-- -->", 1, 9, "shown as text"),
        ("<img>", 1, 9, "kept"),
        (
            "<img src=link>",
            1,
            10,
            "refused by check and build: save each image beside the topic file and give its path",
        ),
    ]
    assert result.web_images == ((document, 9),)
    # The text reads back as written, though the images are not there yet.
    assert load_deck(tmp_path / "out", check_images=False).question_count == 2


def test_questions_without_answers_are_skipped_and_listed_unless_strict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same document that --strict refuses (see the question-without-answer fixture)."""
    monkeypatch.chdir(MALFORMED)

    result = import_markdown([Path("question-without-answer/notes.md")], tmp_path / "out")

    assert [(q.topic, q.line, q.q) for q in result.unanswered] == [
        ("Basics", 3, "What is one?"),
        ("Basics", 9, "What is three?"),
        ("More", 13, "What is four?"),
        ("Last", 17, ""),
        ("Last", 20, "What is five?"),
    ]
    expected = (MALFORMED / "question-without-answer" / "expected.txt").read_text("utf-8")
    assert [f"{q.path}:{q.line}: {q.why}" for q in result.unanswered] == expected.splitlines()
    deck = load_deck(tmp_path / "out")
    assert [(t.name, [q.q for q in t.questions]) for t in deck.topics] == [
        ("Basics", ["What is two?"])
    ]


@pytest.mark.parametrize(
    "answer", ["TODO", "Answer here.", "*TBD*", "...", "…", "Coming soon!", "- TODO -"]
)
def test_a_placeholder_answer_is_no_answer(answer: str, tmp_path: Path) -> None:
    document = tmp_path / "notes.md"
    document.write_text(f"# N\n\nQ: One?\nA: {answer}\n\nQ: Two?\nA: Two.\n", "utf-8")

    result = import_markdown([document], tmp_path / "out")

    assert [(q.q, q.line, q.why) for q in result.unanswered] == [
        ("One?", 4, f"a placeholder answer ('{answer}')")
    ]
    assert result.question_count == 1


@pytest.mark.parametrize(
    "answer", ["TODO lists help.", "`...` is Ellipsis.", "todo", "??", "?", "to do", "WIP"]
)
def test_answers_that_only_look_like_placeholders_are_answers(answer: str, tmp_path: Path) -> None:
    """ "todo" is Spanish for "everything", "??" JavaScript's nullish coalescing operator."""
    document = tmp_path / "notes.md"
    document.write_text(f"# N\n\nQ: One?\nA: {answer}\n", "utf-8")

    assert import_markdown([document], tmp_path / "out").unanswered == ()


def test_a_document_of_only_unanswered_questions_is_one_problem(tmp_path: Path) -> None:
    document = tmp_path / "notes.md"
    document.write_text("# N\n\nQ: One?\nA: TODO\n\nQ: Two?\n", "utf-8")

    with pytest.raises(ValidationError) as caught:
        import_markdown([document], tmp_path / "out")

    assert [str(p) for p in caught.value.problems] == [
        f"{document}: no answered questions found: 2 without an answer (the first at {document}:4)"
    ]


GEO = """\
# Geo

## Europe

Q: What is the capital of France?
A: Paris.

Q: What is the capital of Spain?
A: Madrid.

## Asia

Q: What is the capital of Japan?
A: Tokyo.
"""

GEO_EDITED = """\
# Geo

## Western Europe

Q: What is the capital city of France?
A: Paris, on the Seine.

Q: What is the capital of Italy?
A: Rome.

## Asia

Q: What is the capital of Japan?
A: Tokyo.
"""


def test_update_keeps_the_ids_of_the_questions_the_deck_has(tmp_path: Path) -> None:
    document = tmp_path / "geo.md"
    document.write_text(GEO, encoding="utf-8")
    output = tmp_path / "deck"
    import_markdown([document], output)
    before = {note.id: note.guid for note in package_deck(render_deck(load_deck(output))).notes}
    document.write_text(GEO_EDITED, encoding="utf-8")

    result = import_markdown([document], output, update=True)

    deck = load_deck(output)
    assert [(t.name, [q.id for q in t.questions]) for t in deck.topics] == [
        ("Western Europe", ["capital-france", "capital-italy"]),
        ("Asia", ["capital-japan"]),
    ]
    assert result.matches is not None
    assert result.matches.similar == ("capital-france",)  # its text was edited
    assert result.matches.removed == ("capital-spain",)  # Italy is another question
    after = {note.id: note.guid for note in package_deck(render_deck(deck)).notes}
    assert after["capital-france"] == before["capital-france"]
    assert after["capital-japan"] == before["capital-japan"]
    # The renamed section's file replaces the old one, which would be a topic of its own.
    assert sorted(path.name for path in output.iterdir()) == [
        "01-western-europe.yaml",
        "02-asia.yaml",
        "deck.yaml",
    ]


def test_update_needs_a_deck_to_update(tmp_path: Path) -> None:
    document = tmp_path / "geo.md"
    document.write_text(GEO, encoding="utf-8")

    with pytest.raises(ValidationError) as caught:
        import_markdown([document], tmp_path / "nothing", update=True)

    assert [str(p) for p in caught.value.problems] == [
        f"{tmp_path / 'nothing'}: --update needs the deck imported before, but there is no "
        "deck.yaml"
    ]


def import_twice(
    tmp_path: Path, first: str, second: str, *, update: bool = False, force: bool = False
) -> tuple[dict[str, str], ImportResult]:
    """Import ``first``, then ``second`` over it; return the first's ids by answer, and the
    second import's result (its ids by answer are in the folder)."""
    document = tmp_path / "notes.md"
    document.write_text(first, encoding="utf-8")
    import_markdown([document], tmp_path / "deck")
    before = {q.a: q.id for t in load_deck(tmp_path / "deck").topics for q in t.questions}
    document.write_text(second, encoding="utf-8")
    return before, import_markdown([document], tmp_path / "deck", update=update, force=force)


def ids_by_answer(folder: Path) -> dict[str, str]:
    return {q.a: q.id for t in load_deck(folder).topics for q in t.questions}


PYTHON_LIST = "## Python\n\nQ: What is a list?\nA: A mutable sequence.\n\n"
LISP_LIST = "## Lisp\n\nQ: What is a list?\nA: Cons cells.\n\n"
TWO_LISTS = "# N\n\n" + PYTHON_LIST + LISP_LIST


def test_the_same_question_in_two_topics_keeps_its_id_by_topic(tmp_path: Path) -> None:
    swapped = "# N\n\n" + LISP_LIST + PYTHON_LIST

    before, _ = import_twice(tmp_path, TWO_LISTS, swapped, update=True)

    assert ids_by_answer(tmp_path / "deck") == before


def test_a_removed_question_never_gives_its_id_to_another(tmp_path: Path) -> None:
    lisp_only = (
        "# N\n\n## Lisp\n\nQ: What is a list?\nA: Cons cells.\n\nQ: Sort method?\nA: None.\n"
    )

    before, result = import_twice(tmp_path, TWO_LISTS, lisp_only, update=True)

    after = ids_by_answer(tmp_path / "deck")
    assert after["Cons cells."] == before["Cons cells."] == "list-2"
    assert after["None."] not in before.values()
    assert result.matches is not None
    assert result.matches.removed == ("list",)


def test_an_edited_question_with_another_answer_is_a_new_question(tmp_path: Path) -> None:
    question = "# N\n\nQ: What is the difference between a list and a {} in Python?\nA: {}\n"
    first = question.format("tuple", "A tuple is immutable.")
    second = question.format("set", "A set has no order and no duplicates.")

    before, result = import_twice(tmp_path, first, second, update=True)

    assert result.matches is not None
    assert result.matches.similar == ()
    assert set(ids_by_answer(tmp_path / "deck").values()).isdisjoint(before.values())


def test_the_most_alike_pairs_are_matched_first(tmp_path: Path) -> None:
    first = (
        "# N\n\nQ: How do you reverse a Python list quickly?\nA: With reversed() or [::-1].\n\n"
        "Q: How do you sort a Python list?\nA: With sort() in place, or sorted().\n"
    )
    second = (
        "# N\n\nQ: How do you sort a Python list in reverse?\nA: With reversed() or [::-1].\n\n"
        "Q: How do you sort a Python list in place?\nA: With sort() in place, or sorted().\n"
    )

    before, _ = import_twice(tmp_path, first, second, update=True)

    assert ids_by_answer(tmp_path / "deck") == before


def test_a_failed_update_leaves_the_folder_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = tmp_path / "notes.md"
    document.write_text("# N\n\n## Old name\n\nQ: One?\nA: One.\n", encoding="utf-8")
    import_markdown([document], tmp_path / "deck")
    before = folder_texts(tmp_path / "deck")
    document.write_text("# N\n\n## New name\n\nQ: One?\nA: One.\n", encoding="utf-8")

    def broken(folder: Path, files: object) -> None:
        raise OutputError("cannot write: disk full", folder)

    monkeypatch.setattr("qa2anki.importer.write_files", broken)
    with pytest.raises(OutputError):
        import_markdown([document], tmp_path / "deck", update=True)

    assert folder_texts(tmp_path / "deck") == before


def test_ids_the_state_file_records_are_kept_even_when_their_files_are_gone(
    tmp_path: Path,
) -> None:
    """The deck was built (so Anki has its notes), then its topic files were deleted by hand
    and the documents imported again with --force: the state file still knows the ids."""
    document = tmp_path / "notes.md"
    document.write_text(TWO_LISTS, encoding="utf-8")
    output = tmp_path / "deck"
    import_markdown([document], output)
    build_deck(output, tmp_path / "deck.apkg")
    for topic_file in output.glob("0*.yaml"):
        topic_file.unlink()
    document.write_text("# N\n\n" + LISP_LIST + "Q: Sort method?\nA: None.\n", "utf-8")

    result = import_markdown([document], output, force=True)

    assert ids_by_answer(output) == {"Cons cells.": "list-2", "None.": "sort-method"}
    assert result.matches is not None
    assert result.matches.removed == ("list",)


def test_a_renamed_topic_and_an_edited_twin_keep_their_own_ids(tmp_path: Path) -> None:
    """Two topics ask the same question; one topic is renamed and the other's question
    reworded: each keeps its own id, matched by its answer."""
    empty = "Q: How do you make an empty one?\nA: {}\n\n"
    first = (
        "# N\n\n## Lists\n\n"
        + empty.format("Write square brackets: [] or call list().")
        + "## Tuples\n\n"
        + empty.format("Write parentheses: () or call tuple().")
    )
    second = (
        "# N\n\n## Lists\n\nQ: How do you make an empty list quickly?\n"
        "A: Write square brackets: [] or call list().\n\n"
        "## Tuple basics\n\n" + empty.format("Write parentheses: () or call tuple().")
    )

    before, _ = import_twice(tmp_path, first, second, update=True)

    assert ids_by_answer(tmp_path / "deck") == before


def test_a_fixed_typo_keeps_the_id(tmp_path: Path) -> None:
    first = "# N\n\nQ: How do you reverse a lsit in Python?\nA: With reversed().\n"
    second = "# N\n\nQ: How do you reverse a list in Python?\nA: With reversed().\n"

    before, _ = import_twice(tmp_path, first, second, update=True)

    assert ids_by_answer(tmp_path / "deck") == before


def test_a_short_answer_alike_does_not_make_two_questions_one(tmp_path: Path) -> None:
    first = "# N\n\nQ: Is Python dynamically typed?\nA: Yes.\n"
    second = "# N\n\nQ: Is Python garbage collected?\nA: Yes.\n"

    before, _ = import_twice(tmp_path, first, second, update=True)

    assert set(ids_by_answer(tmp_path / "deck").values()).isdisjoint(before.values())


def read_one(
    tmp_path: Path, text: str, question_level: int | None = None, topic_level: int | None = None
) -> ImportedDocuments:
    document = tmp_path / "notes.md"
    document.write_text(text, encoding="utf-8")
    return read_documents([document], question_level=question_level, topic_level=topic_level)


def cards(documents: ImportedDocuments) -> list[tuple[str, str, str]]:
    return [(t.name, q.q, q.a) for t in documents.topics for q in t.questions]


def test_question_level_makes_headings_that_ask_nothing_questions(tmp_path: Path) -> None:
    text = "## Basics\n\n### Lists\n\nMutable.\n\n### Tuples\n\nImmutable.\n"

    with pytest.raises(ValidationError, match="no questions found"):
        read_one(tmp_path, text)
    assert cards(read_one(tmp_path, text, question_level=3)) == [
        ("Basics", "Lists", "Mutable."),
        ("Basics", "Tuples", "Immutable."),
    ]


def test_topic_level_folds_deeper_headings_into_its_topics(tmp_path: Path) -> None:
    text = (
        "# Python\n\n## Basics\n\n### Collections\n\n#### What is a list?\n\nMutable.\n\n"
        "### Text\n\n#### What is a str?\n\nImmutable.\n"
    )

    assert [t.name for t in read_one(tmp_path, text).topics] == ["Collections", "Text"]
    documents = read_one(tmp_path, text, topic_level=2)
    assert cards(documents) == [
        ("Basics", "What is a list?", "Mutable."),
        ("Basics", "What is a str?", "Immutable."),
    ]
    # The title, the topic and the two headings that group its questions.
    assert sorted(line for _, line in documents.structure) == [1, 3, 5, 11]


def test_levels_that_contradict_each_other_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as caught:
        read_one(tmp_path, "Q: a?\nA: b.\n", question_level=2, topic_level=2)

    assert str(caught.value) == (
        "--topic-level 2 must be above --question-level 2 (a smaller number)"
    )


def test_one_heading_that_asks_is_a_topic_not_a_question_level(tmp_path: Path) -> None:
    documents = read_one(
        tmp_path, "## Why Python?\n\nBecause.\n\n## Setup\n\nQ: How?\nA: With pip.\n"
    )

    assert cards(documents) == [("Setup", "How?", "With pip.")]
    assert [(s.name, s.line, s.end) for s in documents.skipped] == [("Why Python?", 1, 3)]


def test_a_heading_over_labelled_questions_is_their_topic(tmp_path: Path) -> None:
    text = (
        "## What is Git?\n\nQ: What is a commit?\nA: A snapshot.\n\n"
        "## How do branches work?\n\nQ: What is a branch?\nA: A pointer.\n"
    )

    assert cards(read_one(tmp_path, text)) == [
        ("What is Git?", "What is a commit?", "A snapshot."),
        ("How do branches work?", "What is a branch?", "A pointer."),
    ]


def test_bold_lines_are_no_questions_where_labels_mark_them(tmp_path: Path) -> None:
    text = "Q: Why test?\nA: To know.\n\n**Why does it matter?**\n\nIt saves time.\n"

    assert cards(read_one(tmp_path, text)) == [
        ("Notes", "Why test?", "To know.\n\n**Why does it matter?**\n\nIt saves time.")
    ]


def test_a_bold_line_that_asks_nothing_is_part_of_the_answer(tmp_path: Path) -> None:
    text = "**What is a pod?**\n\nA group of containers.\n\n**Example:**\n\n**Note**\n\nSmall.\n"

    assert cards(read_one(tmp_path, text)) == [
        ("Notes", "What is a pod?", "A group of containers.\n\n**Example:**\n\n**Note**\n\nSmall.")
    ]


def test_a_fence_opened_on_a_list_items_line_is_code_in_the_answer(tmp_path: Path) -> None:
    text = (
        "Q: How do you list containers?\nA: Either\n- ```bash\n  docker ps\n  ```\n"
        "- or `docker container ls`\n"
    )

    assert cards(read_one(tmp_path, text)) == [
        (
            "Notes",
            "How do you list containers?",
            "Either\n- ```bash\n  docker ps\n  ```\n- or `docker container ls`",
        )
    ]


def test_an_unclosed_fence_on_a_list_items_line_is_reported_where_it_opens(
    tmp_path: Path,
) -> None:
    with pytest.raises(ValidationError) as caught:
        read_one(tmp_path, "Q: How?\nA: So:\n- ```bash\n  docker ps\n")

    assert [problem.line for problem in caught.value.problems] == [3]
    assert "code block (```) is never closed" in str(caught.value)


def test_details_that_hide_part_of_an_answer_stay_in_it(tmp_path: Path) -> None:
    text = (
        "## What is a volume?\n\nStorage outside the container.\n\n<details>\n"
        "<summary>Example output</summary>\n\n```\nweb-data\n```\n</details>\n\n"
        "## What is a network?\n\nA way for containers to talk.\n"
    )

    assert cards(read_one(tmp_path, text))[0][2] == (
        "Storage outside the container.\n\n<details>\n<summary>Example output</summary>\n\n"
        "```\nweb-data\n```\n</details>"
    )


def test_details_that_go_wrong_are_reported_with_their_lines(tmp_path: Path) -> None:
    text = (
        "<details><summary>Answer</summary>\nAlone.\n</details>\n\n"
        "<details>\n<summary>What is it?</summary>\n\nNever closed.\n"
    )

    with pytest.raises(ValidationError) as caught:
        read_one(tmp_path, text)

    assert [(problem.line, problem.message) for problem in caught.value.problems] == [
        (1, "an answer without a question (no question before it)"),
        (5, "a <details> block that is never closed (no </details>)"),
    ]


def test_a_heading_question_without_an_answer_is_skipped_and_listed(tmp_path: Path) -> None:
    text = "## What is A?\n\nA letter.\n\n## What is B?\n\n---\n\n## What is C?\n\nAnother.\n"

    documents = read_one(tmp_path, text)

    assert [q.q for t in documents.topics for q in t.questions] == ["What is A?", "What is C?"]
    assert [(q.q, q.line, q.why) for q in documents.unanswered] == [
        ("What is B?", 5, "an empty answer")
    ]


PNG = b"\x89PNG\r\n\x1a\n"


def test_the_documents_images_are_copied_beside_the_topic_files(tmp_path: Path) -> None:
    (tmp_path / "docs" / "img").mkdir(parents=True)
    (tmp_path / "docs" / "img" / "a b.png").write_bytes(PNG)
    document = tmp_path / "docs" / "notes.md"
    document.write_text(
        "Q: What is shown?\nA: ![a](img/a%20b.png) and ![gone](img/gone.png)\n\n"
        "Q: And here?\nA: ![up](../up.png), ![web](https://example.com/x.png)\n",
        encoding="utf-8",
    )

    result = import_markdown([document], tmp_path / "out")

    assert result.images == ("img/a b.png",)
    assert (tmp_path / "out" / "img" / "a b.png").read_bytes() == PNG
    assert [str(warning) for warning in result.image_warnings] == [
        f"{document}:2: warning: the image img/gone.png was not found: copy it into the deck's "
        "folder at that path",
        f"{document}:5: warning: the image ../up.png is outside the document's folder: copy it "
        "into the deck's folder and give its path from there",
    ]


def test_an_image_in_the_output_with_other_bytes_is_kept_unless_forced(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(PNG)
    document = tmp_path / "notes.md"
    document.write_text("Q: What?\nA: ![a](a.png)\n", encoding="utf-8")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "a.png").write_bytes(PNG + b"other")

    with pytest.raises(ValidationError, match=r"a\.png: exists; use --force to overwrite it"):
        import_markdown([document], tmp_path / "out")
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == ["a.png"]

    import_markdown([document], tmp_path / "out", force=True)
    assert (tmp_path / "out" / "a.png").read_bytes() == PNG


def skipped(documents: ImportedDocuments) -> list[tuple[str | None, int, int, str]]:
    return [(s.name, s.line, s.end, s.what) for s in documents.skipped]


@pytest.mark.parametrize(
    "text",
    [
        "**What is A?**\n\nIt is A.\n\n---\n\n*Thanks for reading!*\n",
        "| Question | Answer |\n|---|---|\n| What is A? | It is A. |\n\n*Thanks for reading!*\n",
        "## What is A?\n\nIt is A.\n\n## What is B?\n\nIt is A.\n\n---\n\n*Thanks for reading!*\n",
    ],
    ids=["bold", "table", "heading"],
)
def test_text_after_the_last_answer_is_skipped_and_listed_or_with_strict_refused(
    tmp_path: Path, text: str
) -> None:
    documents = read_one(tmp_path, text)

    assert cards(documents)[0][1:] == ("What is A?", "It is A.")
    last = len(text.splitlines())
    assert skipped(documents)[-1] == ("Notes", last, last, "text after a question, in no answer")
    if not text.startswith("##"):
        with pytest.raises(ValidationError, match="text after a question that is not part"):
            read_documents([tmp_path / "notes.md"], strict=True)


def test_a_hidden_answer_after_a_questions_code_makes_the_code_part_of_the_question(
    tmp_path: Path,
) -> None:
    text = (
        "### Exercises\n\n#### 1. What is the output of below code\n\n```js\nconsole.log(1)\n"
        "```\n\n<details><summary><b>Answer</b></summary>\n<p>\n\nIt is 1.\n\n</p>\n</details>\n"
        "\n#### 2. What is the output of this one\n\n```js\nconsole.log(2)\n```\n\n"
        "<details><summary>Answer</summary>\n\n2\n\n</details>\n"
    )

    assert cards(read_one(tmp_path, text)) == [
        ("Exercises", "What is the output of below code\n\n```js\nconsole.log(1)\n```", "It is 1."),
        ("Exercises", "What is the output of this one\n\n```js\nconsole.log(2)\n```", "2"),
    ]


def test_html_comments_on_their_own_lines_are_nothing(tmp_path: Path) -> None:
    text = (
        "1. ### What is A\n\n   Answer A.\n\n<!-- QUESTIONS_END -->\n\n2. ### What is B\n\n   B.\n"
    )

    documents = read_one(tmp_path, text)

    assert [q for _, q, _ in cards(documents)] == ["What is A", "What is B"]
    assert (tmp_path / "notes.md", 5) in documents.structure


def test_deeper_clear_questions_and_headings_among_questions_that_ask_nothing(
    tmp_path: Path,
) -> None:
    text = (
        "# Node.js\n\n## # 1. INTRODUCTION\n\n<br/>\n\n## Q. What is Node.js?\n\nA runtime.\n\n"
        "#### Q. How does Node.js work?\n#### Q. What is the difference from Ajax?\n\n"
        "## # 2. SETUP\n\n## Q. How to create a server?\n\n`http.createServer()`\n\n"
        "## Q. What is npm?\n<br>\n"
    )

    documents = read_one(tmp_path, text)

    assert cards(documents) == [
        ("INTRODUCTION", "What is Node.js?", "A runtime."),
        ("SETUP", "How to create a server?", "`http.createServer()`"),
    ]
    assert [(q.q, q.why) for q in documents.unanswered] == [
        ("How does Node.js work?", "an empty answer"),
        ("What is the difference from Ajax?", "an empty answer"),
        ("What is npm?", "an empty answer"),
    ]


def test_a_fence_in_a_list_item_of_an_answer_keeps_its_indentation(tmp_path: Path) -> None:
    text = (
        "## What is A?\n\n1. First.\n2. Second:\n\n   ```bash\n   echo hi\n   ```\n\n3. Third.\n\n"
        "## What is B?\n\nB.\n"
    )

    assert cards(read_one(tmp_path, text))[0][2] == (
        "1. First.\n2. Second:\n\n   ```bash\n   echo hi\n   ```\n\n3. Third."
    )


def test_list_items_that_ask_with_the_answer_below_are_questions(tmp_path: Path) -> None:
    text = (
        "## Basics\n\n1. What is a Pod?\n\n   The smallest deployable unit.\n\n"
        "2. What is a Node?\n   A worker machine.\n\n"
        "## Open questions\n\n* Explain event delegation.\n* What is a closure?\n"
        "  * How would you use one?\n* What is hoisting?\n"
    )

    documents = read_one(tmp_path, text)

    assert cards(documents) == [
        ("Basics", "What is a Pod?", "The smallest deployable unit."),
        ("Basics", "What is a Node?", "A worker machine."),
    ]
    assert skipped(documents) == [("Open questions", 10, 15, "no questions")]


def test_bold_questions_with_the_answer_on_their_line_and_ans_labels(tmp_path: Path) -> None:
    text = (
        "**Q1. What is JVM?**\n\nAns: A virtual machine.\n\n"
        "**Q2. What are its features?** Ans: OOP, GC.\n\n"
        "**Q3. What is fail-fast?**\n\nAns:\n\n"
        "**What is a JIT?** It compiles hot code.\n"
    )

    documents = read_one(tmp_path, text)

    assert cards(documents) == [
        ("Notes", "What is JVM?", "A virtual machine."),
        ("Notes", "What are its features?", "OOP, GC."),
        ("Notes", "What is a JIT?", "It compiles hot code."),
    ]
    assert [q.q for q in documents.unanswered] == ["What is fail-fast?"]


def test_placeholders_marks_and_front_matter(tmp_path: Path) -> None:
    text = (
        "---\ntitle: Sysadmin questions\n---\n\n"
        "<details>\n<summary><b>What is an inode? ***</b></summary><br>\n\nTo be completed.\n\n"
        "</details>\n\n<details>\n<summary><b>What is a shell? **</b></summary><br><b>\n\n"
        "A command interpreter.\n</b></details>\n"
    )

    documents = read_one(tmp_path, text)

    assert documents.title == "Sysadmin questions"
    assert cards(documents) == [
        ("Sysadmin questions", "What is a shell?", "A command interpreter.")
    ]
    assert [(q.q, q.why) for q in documents.unanswered] == [
        ("What is an inode?", "a placeholder answer ('To be completed.')")
    ]
    assert {line for _, line in documents.structure} >= {1, 2, 3}


def test_quoted_labelled_questions_are_read_unquoted(tmp_path: Path) -> None:
    text = (
        "# Vue\n\n> A collection.\n\n> **Q:** What is Vue?\n> **A:** A framework.\n\n"
        "> **Q: What is a prop?**\n\nData from a parent.\n\n> **Note:** props are read-only.\n"
    )

    assert cards(read_one(tmp_path, text)) == [
        ("Vue", "What is Vue?", "A framework."),
        ("Vue", "What is a prop?", "Data from a parent.\n\n> **Note:** props are read-only."),
    ]


def test_html_headings_are_read_as_headings(tmp_path: Path) -> None:
    text = (
        '<h1 align="center">\n  JS\n</h1>\n\n### What is A?\n\nA.\n\n'
        '<h3 id="b">What is <code>B</code>?</h3>\n\nB.\n\n<h4>Example</h4>\n\nb()\n\n'
        "```html\n<h3>Not a question?</h3>\n```\n\n### What is C?\n\nC.\n"
    )

    documents = read_one(tmp_path, text)

    assert documents.title == "JS"
    assert cards(documents) == [
        ("JS", "What is A?", "A."),
        (
            "JS",
            "What is <code>B</code>?",
            "B.\n\n#### Example\n\nb()\n\n```html\n<h3>Not a question?</h3>\n```",
        ),
        ("JS", "What is C?", "C."),
    ]


def test_an_answer_indented_past_its_list_item_loses_that_indentation(tmp_path: Path) -> None:
    text = (
        "# T\n\n- What is A?\n    \n    Line one.\n    \n    ```py\n    a = 1\n    ```\n"
        "- What is B?\n\n        code\n\n    Text.\n"
        "1. What is C?\n\n    C.\n"
        "- What is D?\n\n    - one\n\n  ```yaml\n  a:\n    b: 1\n  ```\n"
    )

    assert cards(read_one(tmp_path, text)) == [
        ("T", "What is A?", "Line one.\n\n```py\na = 1\n```"),
        ("T", "What is B?", "    code\n\nText."),
        ("T", "What is C?", "C."),
        # Code less indented than the text keeps its own indentation: none of it is common.
        ("T", "What is D?", "  - one\n\n```yaml\na:\n  b: 1\n```"),
    ]


def test_reference_definitions_go_with_the_texts_that_use_them(tmp_path: Path) -> None:
    text = (
        "# T\n\n## What is A?\n\nSee [the spec][s] and [CAP].\n\n## What is [B]?\n\n"
        "B, as in [the spec][S].\n\n```md\n[s]: not a definition\n```\n\n- [b]: an item\n\n"
        "[s]: https://example.com/s\n[cap]: https://example.com/cap 'CAP'\n"
    )

    documents = read_one(tmp_path, text)

    # A question keeps its text as written (its id is made from it); a definition in a list
    # item stays in its item.
    assert cards(documents) == [
        (
            "T",
            "What is A?",
            "See [the spec][s] and [CAP].\n\n[s]: https://example.com/s\n"
            "[cap]: https://example.com/cap 'CAP'",
        ),
        (
            "T",
            "What is [B]?",
            "B, as in [the spec][S].\n\n```md\n[s]: not a definition\n```\n\n- [b]: an item"
            "\n\n[s]: https://example.com/s",
        ),
    ]


def test_wrapping_blocks_come_off_closing_tags_and_notion_callouts_too(tmp_path: Path) -> None:
    text = (
        "# T\n\n## What is A?\n\n<div>\nText A.\n\n</div>\n\n## What is B?\n\nB.\n\n"
        "<aside>\n⚠️ A callout.\n\n</aside>\n\n```\nx\n\n\ny\n```\n"
    )

    assert cards(read_one(tmp_path, text)) == [
        ("T", "What is A?", "Text A."),
        ("T", "What is B?", "B.\n\n⚠️ A callout.\n\n```\nx\n\n\ny\n```"),
    ]


def test_questions_and_topics_keep_the_punctuation_they_start_with(tmp_path: Path) -> None:
    text = (
        "# T\n\n## ¡Básico!\n\n### .NET Core vs .NET Framework?\n\na\n\n"
        "### == vs === in JavaScript?\n\nb\n\n### ¿Qué es Z?\n\nc\n\n"
        "### ✅ 4. --force vs -f?\n\nd\n"
    )

    assert cards(read_one(tmp_path, text)) == [
        ("¡Básico!", ".NET Core vs .NET Framework?", "a"),
        ("¡Básico!", "== vs === in JavaScript?", "b"),
        ("¡Básico!", "¿Qué es Z?", "c"),
        ("¡Básico!", "--force vs -f?", "d"),  # the emoji and the number go
    ]


def test_names_from_headings_leave_inline_html_out(tmp_path: Path) -> None:
    text = (
        '<h1 align="center"><img src="logo.png" width="100"><br>JS Interview</h1>\n\n'
        '<h2><a id="x"></a>Basics</h2>\n\n### What is A?\n\nA.\n\n'
        "## List<String> generics\n\n### What is B?\n\nB.\n"
    )

    documents = read_one(tmp_path, text)

    assert documents.title == "JS Interview"
    assert [topic.name for topic in documents.topics] == ["Basics", "List<String> generics"]


def test_chinese_and_japanese_question_marks_colons_and_placeholders(tmp_path: Path) -> None:
    text = (
        "# 前端\n\n## 基础\n\n### 1. 什么是闭包？\n\n闭包是函数。\n\n"
        "### 2. 什么是原型？\n\n待补充\n\n"
        "## 快问快答\n\nQ：什么是 CORS？\nA：跨域资源共享。\n\n"
        "**Q：** 什么是 DOM？\n**A：** 文档对象模型。\n"
    )

    documents = read_one(tmp_path, text)

    assert cards(documents) == [
        ("基础", "什么是闭包？", "闭包是函数。"),
        ("快问快答", "什么是 CORS？", "跨域资源共享。"),
        ("快问快答", "什么是 DOM？", "文档对象模型。"),
    ]
    assert [q.q for q in documents.unanswered] == ["什么是原型？"]


def test_question_n_headings_head_the_question_text_up_to_its_answer(tmp_path: Path) -> None:
    text = (
        "# Data\n\n### Question 1\n\nWhat is `RANK()`?\n\n#### Answer\n\nA window function.\n\n"
        "### Question 2\n\nWhat is a star schema?\n\n**Solution:** A fact table and dimensions.\n\n"
        "### Question 3\n\nWhat is a data lake?\n"
    )

    documents = read_one(tmp_path, text)

    assert cards(documents) == [
        ("Data", "What is `RANK()`?", "A window function."),
        ("Data", "What is a star schema?", "A fact table and dimensions."),
    ]
    assert [(q.q, q.line) for q in documents.unanswered] == [("What is a data lake?", 17)]


def test_headings_that_each_title_one_labelled_question_name_it(tmp_path: Path) -> None:
    text = (
        "# Coding\n\n## Arrays\n\n### 1. Two Sum\n\n**Question:** Find two numbers.\n\n"
        "**Solution:** Use a dict.\n\n### 2. Max Profit\n\n**Question:** Buy low.\n\n"
        "**Answer:** Track the minimum.\n"
    )

    documents = read_one(tmp_path, text)

    assert cards(documents) == [
        ("Arrays", "**Two Sum**\n\nFind two numbers.", "Use a dict."),
        ("Arrays", "**Max Profit**\n\nBuy low.", "Track the minimum."),
    ]
    assert documents.topics[0].questions[0].line == 7  # the label's line
    assert (tmp_path / "notes.md", 5) in documents.structure  # the heading names it


def test_details_answers_in_list_items_keep_their_markdown(tmp_path: Path) -> None:
    text = (
        "1. What is REST?\n   <details>\n   <summary>Answer</summary>\n\n   - Stateless\n"
        "   - Cacheable\n\n   </details>\n\n10. What is gRPC?\n    <details>\n"
        "    <summary>Answer</summary>\n\n    An RPC framework.\n\n    It uses protobuf.\n\n"
        "    </details>\n"
    )

    assert cards(read_one(tmp_path, text)) == [
        ("Notes", "What is REST?", "- Stateless\n- Cacheable"),
        ("Notes", "What is gRPC?", "An RPC framework.\n\nIt uses protobuf."),
    ]


def test_list_items_end_where_the_next_item_starts(tmp_path: Path) -> None:
    text = (
        "1. **What is paging?**\n   - Fixed-size pages.\n\n2. **What is thrashing?**\n\n"
        "3. **Belady's anomaly**\n   - More frames, more faults.\n\n"
        "- [ ] What is a hash table?\n\n  A map through a hash function.\n\n"
        "- [x] What is a heap?\n"
    )

    documents = read_one(tmp_path, text)

    assert cards(documents) == [
        ("Notes", "What is paging?", "- Fixed-size pages."),
        ("Notes", "What is a hash table?", "A map through a hash function."),
    ]
    assert [q.q for q in documents.unanswered] == ["What is thrashing?", "What is a heap?"]
    assert skipped(documents) == [("Notes", 6, 7, "text after a question, in no answer")]


def test_a_summary_of_several_lines_keeps_them(tmp_path: Path) -> None:
    text = (
        "<details>\n<summary>Explain these commands:\n\n  * ls\n  * rm</summary><br><b>\n\n"
        "* ls - list\n* rm - remove\n</b></details>\n"
    )

    assert cards(read_one(tmp_path, text)) == [
        ("Notes", "Explain these commands:\n\n* ls\n* rm", "* ls - list\n* rm - remove")
    ]


def test_wrapping_html_comes_off_what_it_wraps(tmp_path: Path) -> None:
    text = (
        "## What is cron?\n\nUse <code>crontab -e</code>.\n\n"
        '## What is the layout?\n\n<p align="center">\n  <img src="a.png" alt="a">\n</p>\n'
    )

    documents = read_one(tmp_path, text)

    assert cards(documents) == [
        ("Notes", "What is cron?", "Use <code>crontab -e</code>."),
        ("Notes", "What is the layout?", '<img src="a.png" alt="a">'),
    ]
    assert (tmp_path / "notes.md", 9) in documents.structure  # "</p>": nothing


def test_images_from_the_web_become_links_or_inside_a_link_their_alt_text(
    tmp_path: Path,
) -> None:
    text = (
        "Q: What is the build?\nA: [![Build](https://ci.example/b.svg)](https://ci.example/) "
        'and ![chart](https://example.com/c.png "Chart")\n'
        '<img src="https://example.com/d.png" alt="D"> and `![code](https://x/y.png)`\n'
    )

    documents = read_one(tmp_path, text)

    assert cards(documents)[0][2] == (
        "[Build](https://ci.example/) and [chart](https://example.com/c.png)\n"
        '<a href="https://example.com/d.png">D</a> and `![code](https://x/y.png)`'
    )
    assert documents.web_images == (
        (tmp_path / "notes.md", 2),
        (tmp_path / "notes.md", 2),
        (tmp_path / "notes.md", 3),
    )


TRIAL = FIXTURES / "markdown-trial"
# Documents in the styles of public interview-question collections, each with what a person
# reading it counts: answered questions, and questions without an answer.
TRIAL_COUNTS = {
    "01-reactjs.md": (12, 0),
    "02-sudheerj-js.md": (13, 0),
    "03-devops-exercises.md": (14, 2),
    "04-learning-zone-nodejs.md": (9, 6),
    "05-devinterview-docker.md": (9, 1),
    "06-tih-javascript.md": (9, 1),
    "08-python-q-answer.md": (12, 1),
    "09-sql-table.md": (14, 2),
    "10-java-bold-ans.md": (12, 1),
    "11-git-setext.md": (10, 1),
    "12-k8s-numbered.md": (11, 1),
    "13-trimstray-sysadmin.md": (10, 3),
    "14-labels-system-design.md": (12, 2),
    "15-faang-question-solution.md": (6, 1),
    "16-blockquote-vue.md": (9, 1),
    "17-question-n-heading.md": (8, 1),
    "18-bold-numbered-nested-bullets.md": (10, 1),
    "19-details-in-list-items.md": (8, 1),
    "20-task-list-questions.md": (9, 1),
    "21-java-spring.md": (11, 2),
    "22-sql-top50.md": (14, 1),
    "23-react-backtotop.md": (10, 2),
    "24-kotlin-android.md": (10, 2),
    "25-golang.md": (12, 1),
    "26-system-design.md": (7, 2),
    "27-docker-k8s-cheatsheet.md": (9, 2),
    "28-chinese-frontend.md": (9, 1),
    "29-html-headings-js.md": (8, 1),
    "30-rich-databases.md": (7, 1),
}


def test_every_trial_document_has_its_counts() -> None:
    names = {path.name for path in TRIAL.glob("*.md")}
    assert names == {*TRIAL_COUNTS, "07-h5bp-frontend.md"}


@pytest.mark.parametrize("name", sorted(TRIAL_COUNTS))
def test_trial_documents_import_every_answered_question_and_account_for_every_line(
    name: str,
) -> None:
    document = TRIAL / name

    imported = read_documents([document])

    questions = [q for topic in imported.topics for q in topic.questions]
    assert (len(questions), len(imported.unanswered)) == TRIAL_COUNTS[name]
    homes = line_homes(imported)
    rule = re.compile(r" {0,3}(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,})")
    for number, line in enumerate(document.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip() and not rule.fullmatch(line):
            where = homes.get((document, number), [])
            assert len(where) == 1, f"{name}:{number}: {line!r} is in {where or 'nothing'}"
    # No answer runs on into another question.
    asked = {" ".join(q.q.split()) for q in questions}
    for question in questions:
        for line in question.a.splitlines():
            assert " ".join(line.split()) not in asked, (name, question.q, line)


def test_a_document_of_questions_without_answers_says_so() -> None:
    with pytest.raises(ValidationError, match="no questions found"):
        read_documents([TRIAL / "07-h5bp-frontend.md"])


@pytest.mark.parametrize(
    "text",
    [
        "Q: The {{c1::GIL}} is a lock.\nA:\n",
        "**What does the {{c1::GIL}} lock?**\n\n**Answer:**\n",
        "| Question | Answer |\n|---|---|\n| The {{c1::GIL}} is? | |\n",
        "## What does the {{c1::GIL}} lock?\n\n## What is a {{c1::thread}}?\n",
    ],
)
def test_a_cloze_question_needs_no_answer(tmp_path: Path, text: str) -> None:
    documents = read_one(tmp_path, text)

    first = documents.topics[0].questions[0]
    assert (first.type, first.a) == ("cloze", "")


def test_a_summarys_entities_are_characters_and_text_around_details_is_kept(
    tmp_path: Path,
) -> None:
    text = (
        "<details>\nSee this first.\n<summary>What does <code>List&lt;String&gt;</code> mean "
        "&amp; why &lt;b&gt;?</summary>\nA list of strings.\n</details>\n\n"
        "<details><summary>What is two?</summary>Two.</details> And a tail.\n"
    )

    documents = read_one(tmp_path, text)

    assert cards(documents) == [
        (
            "Notes",
            "What does `List<String>` mean & why \\<b\\>?",
            "See this first.\n\nA list of strings.",
        ),
        ("Notes", "What is two?", "Two.\n\nAnd a tail."),
    ]


def test_a_cloze_questions_id_has_its_words_without_the_deletions_marks(tmp_path: Path) -> None:
    document = tmp_path / "notes.md"
    document.write_text("Q: The {{c1::GIL}} is a {{c2::lock::what?}}.\n", encoding="utf-8")

    result = import_markdown([document], tmp_path / "out")

    assert result.files[0].ids == ("gil-lock",)


def test_a_tables_other_columns_go_into_the_answer_under_their_headers(tmp_path: Path) -> None:
    text = (
        "| No. | Question | Answer | Example |\n|---|---|---|---|\n"
        "| 1 | What is `ls`? | It lists files. | `ls -l` |\n| 2 | What is `cd`? | | `cd /` |\n"
    )

    documents = read_one(tmp_path, text)

    assert cards(documents) == [
        ("Notes", "What is `ls`?", "It lists files.\n\n**Example:** `ls -l`")
    ]
    assert [q.q for q in documents.unanswered] == ["What is `cd`?"]


def test_a_stray_code_block_is_listed_with_all_its_lines(tmp_path: Path) -> None:
    text = "1. Q: What?\n   A: This.\n\n```\nstray\ncode\n```\n"

    documents = read_one(tmp_path, text)

    assert cards(documents) == [("Notes", "What?", "This.")]
    assert skipped(documents) == [("Notes", 4, 7, "text after a question, in no answer")]


def test_a_control_character_in_a_topic_heading_is_reported_where_it_is(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as caught:
        read_one(tmp_path, "# Deck\n\n## Ba\x1bsics\n\nQ: What?\nA: That.\n")

    assert [(p.line, p.message) for p in caught.value.problems] == [
        (3, "the control character U+001B cannot be imported; remove it")
    ]


def test_headings_and_bold_lines_among_numbered_questions_are_questions_that_ask_or_not(
    tmp_path: Path,
) -> None:
    text = (
        "## Coding\n\n### 1. What is a closure?\n\nScope.\n\n### 2. Implement debounce\n\n"
        "Wait, then call.\n\n### 3. What is hoisting?\n\nMoving up.\n\n"
        "### 4. The event loop\n\nIt runs tasks.\n\n"
        "## SQL\n\n**1. What is SQL?**\n\nA language.\n\n**2. Group by email.**\n\nCount.\n\n"
        "**3. What is a view?**\n\nA stored query.\n"
    )

    assert [q for _, q, _ in cards(read_one(tmp_path, text))] == [
        "What is a closure?",
        "Implement debounce",
        "What is hoisting?",
        "The event loop",
        "What is SQL?",
        "Group by email.",
        "What is a view?",
    ]


def test_a_heading_that_asks_nothing_under_a_topic_heading_is_a_question(
    tmp_path: Path,
) -> None:
    text = (
        "# Go\n\n## Basics\n\n#### What are the basic types?\n\nbool, string, ints.\n\n"
        "#### Difference between arrays and slices\n\nSlices grow.\n\n"
        "#### How do you check a map key?\n\n`v, ok := m[k]`\n\n## Disclaimer\n\nNone.\n"
    )

    documents = read_one(tmp_path, text)

    assert [(t, q) for t, q, _ in cards(documents)] == [
        ("Basics", "What are the basic types?"),
        ("Basics", "Difference between arrays and slices"),
        ("Basics", "How do you check a map key?"),
    ]


def test_anchors_and_back_to_top_links_under_an_answer_are_no_part_of_it(tmp_path: Path) -> None:
    text = (
        '# React\n\n<a name="q1"></a>\n### 1. What is React?\nA library.\n'
        "**[⬆ Back to Top](#contents)**\n\n"
        '<a name="q2"></a>\n### 2. What is JSX?\n\nA syntax.\n'
    )

    documents = read_one(tmp_path, text)

    assert [a for _, _, a in cards(documents)] == ["A library.", "A syntax."]
    assert skipped(documents)[-1] == (None, 6, 6, "a link back to the top")


def test_double_colon_labels_are_labels(tmp_path: Path) -> None:
    text = "## Net\n\nQ:: What is ARP?\nA:: Maps IP addresses to MAC addresses.\n"

    assert cards(read_one(tmp_path, text)) == [
        ("Net", "What is ARP?", "Maps IP addresses to MAC addresses.")
    ]


def test_an_answer_in_a_nested_item_loses_that_items_indentation(tmp_path: Path) -> None:
    text = (
        "- **Q:** What happens when you type a URL?\n  - A:\n    1. DNS lookup\n"
        "    2. TCP connection\n- **Q:** What is Nagle's algorithm?\n"
        "  - A: It buffers small packets.\n    - Disable it with `TCP_NODELAY`\n"
    )

    assert [a for _, _, a in cards(read_one(tmp_path, text))] == [
        "1. DNS lookup\n2. TCP connection",
        "It buffers small packets.\n- Disable it with `TCP_NODELAY`",
    ]
