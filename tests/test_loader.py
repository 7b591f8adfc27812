"""The load stage: YAML sources in, a validated Deck or every problem at once out."""

from __future__ import annotations

import os
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from conftest import DECK_YAML, INVALID, QUESTIONS, write_sources
from qa2anki import loader
from qa2anki.errors import SourceError, ValidationError
from qa2anki.loader import MAX_FILE_BYTES, load_deck
from qa2anki.model import Deck

# Fragments of topic files, shuffled by Hypothesis into almost-valid and broken YAML.
YAML_PIECES = [
    "topic: T\n", "questions:\n", "  - id: a\n", "  - id: B\n", "    q: Q\n", "    a: A\n",
    "    a: |\n      x\n", "    tags: [t]\n", "    tags: t\n", "  - x\n", "- \n", "[", "]", "{",
    "}", ": ", "&a ", "*a", "!!str ", "\t", "'", '"', "#", "\n", "    ", "---\n", "\ufeff",
    "\x1f", "\\x1f", "!!python/object:os.system ", "!local ", "... \n", "      \tgo\n", "  \t",
    "x\ty",
]  # fmt: skip

INVALID_CASES = sorted(path.name for path in INVALID.iterdir() if path.is_dir())


def expected_problems(case: str) -> list[str]:
    return (INVALID / case / "expected.txt").read_text(encoding="utf-8").splitlines()


def test_shipped_questions_load() -> None:
    deck = load_deck(QUESTIONS)

    assert (deck.key, deck.name) == ("python-backend-interview", "Python Backend Interview")
    assert [topic.slug for topic in deck.topics] == [
        "python-fundamentals",
        "intermediate-python",
        "advanced-python-concurrency",
        "fastapi-flask",
        "rest-microservices",
        "sql-databases",
        "docker-kubernetes",
        "real-world-scenarios",
        "theory-design",
        "advanced-scenarios",
    ]
    assert [len(topic.questions) for topic in deck.topics] == [10] * 10
    assert deck.question_count == 100


def test_question_fields_and_lines(small_sources: Path) -> None:
    deck = load_deck(small_sources)

    basics = deck.topics[0]
    assert (basics.slug, basics.name, basics.tags) == ("basics", "Basics", ("starter",))
    first, second = basics.questions
    assert (first.id, first.q, first.a, first.tags) == (
        "first",
        "What is **one**?",
        "The number `1`.",
        (),
    )
    assert first.path == small_sources / "01-basics.yaml"
    assert first.line == 4
    assert second.a == "```python\nprint(1 + 1)\n```"
    assert second.tags == ("code",)
    assert deck.topics[1].questions[0].line == 3


def test_scalars_are_read_as_the_text_typed(tmp_path: Path) -> None:
    source = write_sources(
        tmp_path,
        {
            "deck.yaml": DECK_YAML,
            "topic.yaml": """\
                topic: 2024
                questions:
                  - id: 0123
                    q: Is Norway a country code?
                    a: no
                  - id: trailing
                    q: "Spaces   \\nat line ends   "
                    a: |

                      Kept inside.

                """,
        },
    )
    topic = load_deck(source).topics[0]

    assert topic.name == "2024"
    assert [(q.id, q.q, q.a) for q in topic.questions] == [
        ("0123", "Is Norway a country code?", "no"),
        ("trailing", "Spaces\nat line ends", "Kept inside."),
    ]


def test_files_other_than_yaml_and_hidden_files_are_ignored(small_sources: Path) -> None:
    (small_sources / "README.md").write_text("# notes\n", encoding="utf-8")
    (small_sources / ".draft.yaml").write_text("not: [valid", encoding="utf-8")

    assert [topic.slug for topic in load_deck(small_sources).topics] == ["basics", "more"]


@pytest.fixture(params=["libyaml", "pure-python"])
def composer(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test with libyaml's composer (when installed) and with PyYAML's pure-Python one."""
    if request.param == "pure-python":
        monkeypatch.setattr(loader, "_FastComposer", None)
    else:
        assert loader._FastComposer is not None, "PyYAML was installed without libyaml"
    return str(request.param)


@pytest.mark.usefixtures("composer")
@pytest.mark.parametrize("case", INVALID_CASES)
def test_invalid_sources_report_every_problem(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(INVALID)

    with pytest.raises(ValidationError) as caught:
        load_deck(Path(case))

    assert [str(problem) for problem in caught.value.problems] == expected_problems(case)


def test_every_failure_mode_has_a_fixture() -> None:
    assert set(INVALID_CASES) >= {
        "malformed-yaml",
        "unknown-key",
        "missing-answer",
        "duplicate-id",
        "bad-id",
        "missing-deck-file",
        "empty-topic",
        "billion-laughs",
        "numbers",
        "python-tags",
        "several-documents",
    }
    for case in INVALID_CASES:
        assert expected_problems(case), f"{case}/expected.txt is empty"
        about = (INVALID / case / "about.txt").read_text(encoding="utf-8")
        assert about.strip(), f"{case}/about.txt is empty"
        assert about.count("\n") == 1, f"{case}/about.txt is not one line"


def test_billion_laughs_fails_fast_in_little_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(INVALID)
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(ValidationError):
            load_deck(Path("billion-laughs"))
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    # Aliases that expand exponentially would take minutes and gigabytes; on a busy machine,
    # with tracemalloc watching, a refusal still takes well under this.
    assert elapsed < 10
    assert peak < 10 * 1024 * 1024


def test_a_utf8_bom_is_accepted(tmp_path: Path) -> None:
    source = write_sources(tmp_path, {"deck.yaml": DECK_YAML})
    (source / "deck.yaml").write_bytes(b"\xef\xbb\xbf" + DECK_YAML.encode())
    (source / "01-bom.yaml").write_bytes(
        b"\xef\xbb\xbftopic: BOM\nquestions:\n  - {id: bom, q: Q, a: A}\n"
    )

    deck = load_deck(source)

    assert (deck.key, deck.topics[0].name, deck.topics[0].questions[0].q) == (
        "test-deck",
        "BOM",
        "Q",
    )


def test_a_file_over_the_size_limit_is_refused_before_parsing(small_sources: Path) -> None:
    big = small_sources / "03-big.yaml"
    # Unclosed brackets: were this parsed, the message would be about YAML, not size.
    big.write_bytes(b"[" * (MAX_FILE_BYTES + 1))
    (small_sources / "04-at-limit.yaml").write_bytes(b"#" * MAX_FILE_BYTES)

    with pytest.raises(ValidationError) as caught:
        load_deck(small_sources)

    assert [str(p) for p in caught.value.problems] == [
        f"{big}: file is larger than 4 MiB; split it into several topic files",
        f"{small_sources / '04-at-limit.yaml'}:1: file is empty",
    ]


def test_missing_source_folder(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as caught:
        load_deck(tmp_path / "nowhere")

    assert (
        str(caught.value)
        == f"{tmp_path / 'nowhere'}: no such folder (to start a deck, run: qa2anki new)"
    )


def test_problems_carry_path_and_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(INVALID)

    with pytest.raises(ValidationError) as caught:
        load_deck(Path("missing-answer"))

    problem = caught.value.problems[0]
    assert (problem.path, problem.line, problem.message) == (
        Path("missing-answer/01-basics.yaml"),
        3,
        "question 'gil' has no 'a'",
    )


def test_problems_in_several_files_are_all_reported(tmp_path: Path) -> None:
    source = write_sources(
        tmp_path,
        {
            "deck.yaml": "key: k\nname: N\ncolour: blue\n",
            "01-a.yaml": "topic: A\nquestions:\n  - id: x\n    q: Q\n",
            "02-b.yaml": "topic: B\nquestions:\n  - id: x\n    q: Q\n    a: A\n",
            "03-c.yaml": "topic: [C\n",
        },
    )

    with pytest.raises(ValidationError) as caught:
        load_deck(source)

    assert [(Path(str(p.path)).name, p.line) for p in caught.value.problems] == [
        ("01-a.yaml", 3),
        ("02-b.yaml", 3),
        ("03-c.yaml", 1),  # where the "[" that is never closed opens
        ("deck.yaml", 3),
    ]


def test_entries_that_are_not_regular_files_are_reported_not_opened(small_sources: Path) -> None:
    (small_sources / "03-folder.yaml").mkdir()
    (small_sources / "04-broken.yaml").symlink_to(small_sources / "nowhere.yaml")
    os.mkfifo(small_sources / "05-fifo.yaml")  # opening it would block forever

    with pytest.raises(ValidationError) as caught:
        load_deck(small_sources)

    assert [str(p) for p in caught.value.problems] == [
        f"{small_sources / '03-folder.yaml'}: not a regular file",
        f"{small_sources / '04-broken.yaml'}: cannot read: No such file or directory",
        f"{small_sources / '05-fifo.yaml'}: not a regular file",
    ]


def test_deeply_nested_yaml_is_an_error_not_a_crash(small_sources: Path) -> None:
    (small_sources / "03-deep.yaml").write_text("tags: " + "[" * 5000 + "]" * 5000 + "\n")

    with pytest.raises(ValidationError) as caught:
        load_deck(small_sources)

    assert [str(p) for p in caught.value.problems] == [
        f"{small_sources / '03-deep.yaml'}: invalid YAML: nested too deeply"
    ]


def test_deck_yml_is_not_read_as_a_topic(small_sources: Path) -> None:
    (small_sources / "deck.yaml").rename(small_sources / "deck.yml")

    with pytest.raises(ValidationError) as caught:
        load_deck(small_sources)

    assert [str(p) for p in caught.value.problems] == [
        f"{small_sources / 'deck.yml'}: rename this file to deck.yaml"
    ]


def test_a_source_path_the_system_refuses_is_an_error(tmp_path: Path) -> None:
    too_long = tmp_path / ("c" * 300)

    with pytest.raises(ValidationError) as caught:
        load_deck(too_long)

    assert str(caught.value) == f"{too_long}: cannot read: File name too long"


def test_a_source_that_is_a_file(small_sources: Path) -> None:
    with pytest.raises(ValidationError) as caught:
        load_deck(small_sources / "deck.yaml")

    assert str(caught.value) == f"{small_sources / 'deck.yaml'}: not a folder"


@settings(max_examples=150, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=300),
        st.text(max_size=300).map(str.encode),
        st.lists(st.sampled_from(YAML_PIECES), max_size=30).map(lambda xs: "".join(xs).encode()),
    )
)
def test_any_file_content_loads_or_fails_with_our_error(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        source = write_sources(Path(folder), {"deck.yaml": DECK_YAML})
        (source / "01-topic.yaml").write_bytes(content)
        try:
            loaded: Deck | ValidationError = load_deck(source)
        except ValidationError as exc:
            loaded = exc
    if isinstance(loaded, ValidationError):
        assert loaded.problems
        assert all("\n" not in str(problem) for problem in loaded.problems)
        # No problem is placed past the file's last line (any line break counted).
        lines = max(1, len(content.decode("utf-8", "replace").splitlines()))
        assert all((problem.line or 0) <= lines for problem in loaded.problems)
    else:
        assert loaded.question_count >= 1


@pytest.mark.usefixtures("composer")
@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("topic: T\nquestions: [\n", 2),
        ("topic: T\nquestions:\n  - {id: x, q: Q, a: A\n\n\n", 3),
        ('topic: "T\n\nquestions: []\n', 1),
        ("topic: T\nquestions\n", 2),
        ("topic: T\nquestions\n\n# end\n", 2),
        ("%YAML 1.1\n", 1),
        ("%YAML 1.1\n\n\n", 3),
    ],
)
def test_a_problem_found_at_the_end_of_the_file_is_on_a_line_of_the_file(
    tmp_path: Path, text: str, line: int
) -> None:
    """What YAML finds missing only at the end of the file is placed where it went wrong: where
    the bracket or quote opens, on the line with no ':', or else on the last line."""
    source = write_sources(tmp_path, {"deck.yaml": DECK_YAML, "t.yaml": text})

    (problem,) = problems_of(lambda: load_deck(source))

    assert problem.line == line


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: [x, y\n", "the '[' on this line is never closed; end the list with ']'"),
        ("a: {x: y,\n", "the '{' on this line is never closed; end the mapping with '}'"),
        ('a: "x\n', "the '\"' on this line is never closed; end the text with '\"'"),
        ("a: 'x\n", 'the "\'" on this line is never closed; end the text with "\'"'),
        ("a: ['x\n", 'the "\'" on this line is never closed; end the text with "\'"'),
        ("a: [x, y}\n", "expected ',' or ']', but got '}'"),
    ],
)
def test_a_quote_or_bracket_left_open_is_named(text: str, message: str) -> None:
    with pytest.raises(yaml.MarkedYAMLError) as caught:
        yaml.compose(text, Loader=loader._SafeComposer)

    assert caught.value.problem == message


def test_hidden_line_breaks_are_placed_on_the_lines_editors_show(tmp_path: Path) -> None:
    source = write_sources(
        tmp_path,
        {
            "deck.yaml": DECK_YAML,
            "t.yaml": "topic: T\r\n# \u2028\r\nquestions:\r\n"
            "  - {id: x, q: 'a\u2029\x85b', a: A}\r\n",
        },
    )

    problems = problems_of(lambda: load_deck(source))

    assert [(problem.line, problem.message[:41]) for problem in problems] == [
        (2, "YAML reads the character U+2028 (line sep"),
        (4, "YAML reads the character U+2029 (paragrap"),
    ]


def test_escaped_line_separators_are_text(tmp_path: Path) -> None:
    """Only the raw characters are refused: an escape says what it means."""
    source = write_sources(
        tmp_path,
        {
            "deck.yaml": DECK_YAML,
            "t.yaml": 'topic: T\nquestions:\n  - {id: x, q: "a\\Lb\\u2029c", a: A}\n',
        },
    )

    assert load_deck(source).topics[0].questions[0].q == "a\nb\nc"


def load_or_problems(source: Path) -> Deck | list[str]:
    try:
        return load_deck(source)
    except ValidationError as exc:
        return [str(problem) for problem in exc.problems]


@pytest.mark.usefixtures("composer")
def test_the_shipped_questions_load_the_same_with_either_composer() -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(loader, "_FastComposer", None)
        pure = load_deck(QUESTIONS)

    assert load_deck(QUESTIONS) == pure


def node_tree(node: yaml.Node | None) -> object:
    """A node tree as plain data: kind, tag, style, value and where it starts (what the
    loader reads of a node; end marks differ and are not used)."""
    if node is None:
        return None
    mark = node.start_mark
    # The loader reads only whether a collection is in flow style: for an indentless
    # sequence ("key:\n- item") libyaml says False and PyYAML None.
    marks = (mark.index, mark.line, mark.column, bool(getattr(node, "flow_style", None)))
    if isinstance(node, yaml.ScalarNode):
        value: object = node.value
    elif isinstance(node, yaml.SequenceNode):
        value = [node_tree(item) for item in node.value]
    else:
        value = [(node_tree(key), node_tree(item)) for key, item in node.value]
    return type(node).__name__, node.tag, getattr(node, "style", None) or None, value, marks


def test_libyaml_gives_the_same_nodes_and_places_as_pure_python() -> None:
    for path in sorted(QUESTIONS.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(loader, "_FastComposer", None)
            pure = node_tree(loader._compose_text(text))

        assert node_tree(loader._compose_text(text)) == pure, path


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(YAML_PIECES), max_size=30).map("".join))
@example("questions:\n- \n  - id: a\n")  # an indentless sequence: flow_style False or None
def test_libyaml_and_pure_python_composers_agree(text: str) -> None:
    """libyaml only speeds loading up: the deck, or every message, is the same without it."""
    with tempfile.TemporaryDirectory() as folder:
        source = write_sources(Path(folder), {"deck.yaml": DECK_YAML})
        (source / "01-topic.yaml").write_text(text, encoding="utf-8")
        fast = load_or_problems(source)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(loader, "_FastComposer", None)
            pure = load_or_problems(source)

    assert fast == pure
    try:
        fast_tree = node_tree(loader._compose_text(text))
    except yaml.YAMLError:
        return  # errors always come from the pure-Python composer
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(loader, "_FastComposer", None)
        assert node_tree(loader._compose_text(text)) == fast_tree


def test_a_surrogate_pair_from_json_style_escapes_is_one_character(tmp_path: Path) -> None:
    source = write_sources(
        tmp_path,
        {
            "deck.yaml": DECK_YAML,
            "t.yaml": 'topic: T\nquestions:\n  - id: x\n    q: "Emoji \\ud83d\\ude00"\n'
            '    a: A\n    tags: ["s-\\ud83d\\ude00"]\n',
        },
    )

    (question,) = load_deck(source).topics[0].questions

    assert (question.q, question.tags) == ("Emoji \U0001f600", ("s-\U0001f600",))


def problems_of(load: Callable[[], object]) -> list[SourceError]:
    with pytest.raises(ValidationError) as caught:
        load()
    return caught.value.problems
