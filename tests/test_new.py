"""`qa2anki new`: a deck of one's own, ready to check, build and edit with a schema."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from qa2anki.build import build_deck
from qa2anki.cli import app
from qa2anki.ids import new_deck_key
from qa2anki.loader import load_deck
from qa2anki.new import new_deck
from qa2anki.schema import schema_json

runner = CliRunner()

FILES = (
    "questions/deck.yaml",
    "questions/01-first-steps.yaml",
    ".qa2anki/deck.schema.json",
    ".qa2anki/topic.schema.json",
    ".gitignore",
)


def test_new_writes_a_deck_that_checks_and_builds(tmp_path: Path) -> None:
    folder = tmp_path / "my_interview-deck"

    made = new_deck(folder)

    assert made.files == FILES
    assert sorted(
        str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file()
    ) == (sorted(FILES))
    assert made.name == "My Interview Deck"
    assert re.fullmatch(r"my-interview-deck-[0-9a-f]{4}", made.key)
    deck = load_deck(folder / "questions")
    assert (deck.key, deck.name, deck.question_count) == (made.key, made.name, 4)
    answers = [question.a for question in deck.topics[0].questions]
    assert "```python" in answers[1]
    assert answers[2].startswith("- ")
    assert (folder / ".gitignore").read_text(encoding="utf-8").endswith("build/\n")
    result = build_deck(folder / "questions", tmp_path / "deck.apkg")
    assert result.plan.added == (
        "what-is-this-deck",
        "reverse-a-list",
        "good-flashcard",
        "list-vs-tuple",
    )
    # The example shows a cloze: one card per deletion number.
    assert [q.type for q in deck.topics[0].questions][-1] == "cloze"


def test_each_file_names_its_schema_and_the_schema_accepts_it(tmp_path: Path) -> None:
    new_deck(tmp_path / "d")

    for name, kind in (("deck.yaml", "deck"), ("01-first-steps.yaml", "topic")):
        path = tmp_path / "d" / "questions" / name
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first == f"# yaml-language-server: $schema=../.qa2anki/{kind}.schema.json"
        schema_file = (path.parent / first.split("=", 1)[1]).resolve()
        assert schema_file.read_text(encoding="utf-8") == schema_json(kind)  # type: ignore[arg-type]
        validator = jsonschema.Draft202012Validator(json.loads(schema_file.read_text()))
        assert list(validator.iter_errors(yaml.safe_load(path.read_text()))) == []


def test_keys_never_repeat() -> None:
    keys = {new_deck_key("Python") for _ in range(50)}

    assert len(keys) > 40  # 65,536 suffixes: a repeat in 50 is rare, ten repeats impossible
    assert all(re.fullmatch(r"python-[0-9a-f]{4}", key) for key in keys)
    assert len(new_deck_key("word " * 40)) <= 64
    assert re.fullmatch(r"deck-[0-9a-f]{4}", new_deck_key("!!!"))


def test_the_command_prints_the_files_and_the_next_steps(tmp_path: Path) -> None:
    folder = tmp_path / "deck"

    result = runner.invoke(app, ["new", str(folder), "--name", "Go Interview"])

    assert result.exit_code == 0, result.stderr
    key = load_deck(folder / "questions").key
    assert re.fullmatch(r"go-interview-[0-9a-f]{4}", key)
    assert result.stdout == (
        f"Started the deck 'Go Interview' (key '{key}') in {folder}:\n"
        + "".join(f"  {file}\n" for file in FILES)
        + "Next:\n"
        f"  cd {folder}\n"
        "  qa2anki preview --open   # see the cards\n"
        f"  qa2anki build            # write build/{key}.apkg; import it in Anki (File > Import)\n"
        "  qa2anki check            # after you edit questions/*.yaml\n"
    )


def test_in_the_current_folder_there_is_nothing_to_cd_into(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    result = runner.invoke(app, ["new"])

    assert result.exit_code == 0, result.stderr
    assert "  cd " not in result.stdout
    assert (tmp_path / "questions" / "deck.yaml").is_file()


def test_a_folder_that_is_not_empty_is_refused_unless_forced(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")

    refused = runner.invoke(app, ["new", str(tmp_path)])

    assert (refused.exit_code, refused.stdout) == (1, "")
    assert refused.stderr == (
        f"{tmp_path}: is not empty: start the deck in a new folder (qa2anki new my-deck), or use "
        "--force to write its files here\n1 problem found; nothing was written.\n"
    )
    assert [path.name for path in tmp_path.iterdir()] == ["notes.txt"]

    forced = runner.invoke(app, ["new", str(tmp_path), "--force"])

    assert forced.exit_code == 0, forced.stderr
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert load_deck(tmp_path / "questions").question_count == 4


def test_force_never_replaces_a_file(tmp_path: Path) -> None:
    made = new_deck(tmp_path)
    deck_yaml = (tmp_path / "questions" / "deck.yaml").read_text(encoding="utf-8")

    result = runner.invoke(app, ["new", str(tmp_path), "--force"])

    assert result.exit_code == 1
    assert result.stderr == (
        "".join(
            f"{tmp_path / file}: exists; qa2anki new never replaces a file: move it away first\n"
            for file in FILES
        )
        + "5 problems found; nothing was written.\n"
    )
    assert (tmp_path / "questions" / "deck.yaml").read_text(encoding="utf-8") == deck_yaml
    assert load_deck(tmp_path / "questions").key == made.key


def test_a_file_where_a_folder_goes_is_refused_and_nothing_written(tmp_path: Path) -> None:
    (tmp_path / ".qa2anki").write_text("not a folder", encoding="utf-8")

    result = runner.invoke(app, ["new", str(tmp_path), "--force"])

    assert (result.exit_code, result.stderr) == (
        1,
        f"{tmp_path / '.qa2anki'}: is a file, where qa2anki new writes a folder: move it away "
        "first\n1 problem found; nothing was written.\n",
    )
    assert [path.name for path in tmp_path.iterdir()] == [".qa2anki"]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("  ", "the deck name is empty; give one with --name"),
        ("a\x01b", "the deck name contains a control character; give one with --name"),
    ],
)
def test_a_name_a_deck_cannot_have_is_refused(tmp_path: Path, name: str, message: str) -> None:
    result = runner.invoke(app, ["new", str(tmp_path / "d"), "--name", name])

    assert (result.exit_code, result.stderr) == (
        1,
        f"{message}\n1 problem found; nothing was written.\n",
    )
    assert not (tmp_path / "d").exists()


def test_a_file_or_a_bad_name_is_refused_with_every_problem(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("", encoding="utf-8")

    result = runner.invoke(app, ["new", str(target), "--name", "A:: ::B"])

    assert result.exit_code == 1
    assert result.stderr == (
        "deck name 'A:: ::B' has an empty part between '::'; use --name\n"
        f"{target}: is a file, not a folder\n"
        "2 problems found; nothing was written.\n"
    )


@pytest.mark.parametrize("kind", ["deck", "topic"])
def test_schema_prints_the_schema(kind: str) -> None:
    result = runner.invoke(app, ["schema", kind])

    assert (result.exit_code, result.stdout) == (0, schema_json(kind))  # type: ignore[arg-type]


def test_schema_of_an_unknown_kind_is_a_usage_error() -> None:
    result = runner.invoke(app, ["schema", "topics"])

    assert result.exit_code == 2
    assert "'topics' is not one of 'deck', 'topic'" in result.stderr
