"""The command line: exit codes and the exact messages users see."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import qa2anki
from conftest import DECK_YAML, FIXTURES, INVALID, QUESTIONS, fixed_key_suffix, write_sources
from qa2anki import __version__, build, loader
from qa2anki.cli import app
from qa2anki.loader import load_deck
from test_loader import INVALID_CASES, expected_problems

runner = CliRunner()
NO_FOLDER = "no such folder (to start a deck, run: qa2anki new)"
MARKDOWN = FIXTURES / "markdown"
MARKDOWN_INVALID = FIXTURES / "markdown-invalid"


def expected_stderr(case: str, summary_end: str) -> str:
    """The fixture's expected problems, one a line, then the count and ``summary_end``."""
    problems = expected_problems(case)
    count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
    return "\n".join([*problems, f"{count} {summary_end}"]) + "\n"


def test_version() -> None:
    result = runner.invoke(app, ["--version"])

    assert (result.exit_code, result.stdout) == (0, f"qa2anki {__version__}\n")


def test_help_lists_every_command_with_its_help() -> None:
    result = runner.invoke(app, ["--help"])

    assert result.exit_code == 0
    for command in ("build", "check", "preview"):
        assert command in result.stdout
        sub = runner.invoke(app, [command, "--help"])
        assert sub.exit_code == 0
        assert "SOURCE" in sub.stdout


UNCHANGED = (
    "Since the last build: 0 added, 0 changed, 100 unchanged, 0 removed; note type unchanged.\n"
)


def test_build_writes_the_shipped_deck_and_says_so(shipped_copy: Path, tmp_path: Path) -> None:
    output = tmp_path / "deck.apkg"

    result = runner.invoke(app, ["build", str(shipped_copy), "-o", str(output)])

    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"Wrote 100 notes in 10 topics to {output}\n" + UNCHANGED
    assert result.stderr == ""
    assert output.stat().st_size > 10_000


def test_build_defaults_to_questions_and_build_key_apkg(
    shipped_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(shipped_copy.parent)

    result = runner.invoke(app, ["build"])

    assert result.exit_code == 0, result.stderr
    assert (
        result.stdout
        == "Wrote 100 notes in 10 topics to build/python-backend-interview.apkg\n" + UNCHANGED
    )
    assert (shipped_copy.parent / "build" / "python-backend-interview.apkg").is_file()


def test_singular_counts(small_sources: Path, tmp_path: Path) -> None:
    for extra in ("01-basics.yaml", "02-more.yaml"):
        (small_sources / extra).unlink()
    (small_sources / "03-one.yaml").write_text(
        "topic: One\nquestions:\n  - {id: only, q: Q, a: A}\n", encoding="utf-8"
    )

    result = runner.invoke(app, ["check", str(small_sources)])

    assert result.stdout == f"OK: 1 question in 1 topic in {small_sources}\n"


def test_check_reports_ok(small_sources: Path) -> None:
    result = runner.invoke(app, ["check", str(small_sources)])

    assert (result.exit_code, result.stdout, result.stderr) == (
        0,
        f"OK: 3 questions in 2 topics in {small_sources}\n",
        "",
    )


HTML_TOPIC = """\
    topic: HTML
    questions:
      - id: styled
        q: 'Which <b style="color: red">HTML</b> is kept?'
        a: |
          <sub>2</sub> and <kbd>Ctrl</kbd> are.

          A <div>div</div> is shown as text, as is List<String>.
          <a href="javascript:alert(1)">This link</a> loses its target.
    """


def test_check_and_build_warn_about_html_they_drop(tmp_path: Path) -> None:
    """A warning does not fail: the deck is built, and says the same."""
    source = write_sources(tmp_path / "src", {"deck.yaml": DECK_YAML, "01-html.yaml": HTML_TOPIC})
    topic = source / "01-html.yaml"
    warnings = (
        f"{topic}:4: warning: dropped the attribute 'style' of <b>: <b> keeps only title\n"
        f"{topic}:8: warning: HTML tag <div> is shown as text: cards keep only <b>, <i>, <br>, "
        "<sub>, <sup>, <kbd>, <details>, <img>, lists, tables and the like (see "
        "docs/format.md)\n"
        f"{topic}:9: warning: dropped the link 'javascript:alert(1)' of <a>: links must be "
        "http, https or mailto\n"
    )

    check = runner.invoke(app, ["check", str(source)])
    built = runner.invoke(app, ["build", str(source), "-o", str(tmp_path / "deck.apkg"), "-q"])

    assert (check.exit_code, check.stderr) == (0, warnings)
    assert check.stdout == f"OK: 1 question in 1 topic in {source} (3 warnings)\n"
    assert (built.exit_code, built.stdout, built.stderr) == (0, "", warnings)
    assert (tmp_path / "deck.apkg").is_file()


@pytest.mark.parametrize("case", INVALID_CASES)
def test_check_prints_every_problem_and_exits_1(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(INVALID)

    result = runner.invoke(app, ["check", case])

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == expected_stderr(case, "found.")
    assert "Traceback" not in result.output


@pytest.mark.parametrize("case", INVALID_CASES)
def test_build_fails_the_same_way_and_writes_nothing(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(INVALID)
    output = tmp_path / "out" / "deck.apkg"

    result = runner.invoke(app, ["build", case, "--output", str(output)])

    assert result.exit_code == 1
    assert result.stderr == expected_stderr(case, "found; nothing was written.")
    assert list(tmp_path.iterdir()) == []


def test_build_output_error_is_one_line_and_exit_1(small_sources: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["build", str(small_sources), "-o", str(tmp_path)])

    assert result.exit_code == 1
    assert result.stderr == f"{tmp_path}: is a folder, not a file\n"


@pytest.mark.parametrize("ending", ["/", "/."])
@pytest.mark.parametrize("command", ["build", "preview"])
def test_an_output_name_ending_with_a_slash_is_a_folder(
    small_sources: Path, tmp_path: Path, command: str, ending: str
) -> None:
    output = f"{tmp_path / 'new'}{ending}"

    result = runner.invoke(app, [command, str(small_sources), "-o", output])

    assert (result.exit_code, result.stderr) == (1, f"{output}: is a folder, not a file\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small"]


def test_missing_source_folder(tmp_path: Path) -> None:
    result = runner.invoke(app, ["check", str(tmp_path / "nope")])

    assert result.exit_code == 1
    assert result.stderr == f"{tmp_path / 'nope'}: {NO_FOLDER}\n1 problem found.\n"


def test_unknown_command_is_a_usage_error() -> None:
    result = runner.invoke(app, ["bulid"])

    assert result.exit_code == 2
    assert "No such command 'bulid'" in result.stderr


def test_installed_entry_points_run() -> None:
    console_script = str(Path(sys.executable).with_name("qa2anki"))
    for command in ([sys.executable, "-m", "qa2anki"], [console_script]):
        done = subprocess.run([*command, "--version"], capture_output=True, text=True, check=False)
        assert (done.returncode, done.stdout, done.stderr) == (0, f"qa2anki {__version__}\n", "")


@pytest.mark.parametrize("arguments", [["--help"], ["--version"], ["build", "--help"]])
def test_help_and_version_do_not_import_the_pipeline(arguments: list[str]) -> None:
    """They start as fast as a bare Typer app: no genanki, YAML, Markdown or Pygments, and
    none of the standard library modules only a build needs."""
    modules = (
        "json",
        "sqlite3",
        "genanki",
        "yaml",
        "pygments",
        "markdown_it",
        "qa2anki.loader",
        "qa2anki.render",
        "qa2anki.package",
        "qa2anki.preview",
    )
    code = (
        "import sys\n"
        "from qa2anki.cli import app\n"
        "from typer.testing import CliRunner\n"
        f"result = CliRunner().invoke(app, {arguments!r})\n"
        "assert result.exit_code == 0, result.output\n"
        f"print(sorted(m for m in {modules!r} if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert done.stdout == "[]\n"


def test_public_api() -> None:
    assert qa2anki.build_deck is build.build_deck
    assert qa2anki.load_deck is loader.load_deck
    assert all(getattr(qa2anki, name) is not None for name in qa2anki.__all__)
    with pytest.raises(AttributeError):
        _ = qa2anki.no_such_name


def test_first_build_says_to_commit_the_state_file(small_sources: Path, tmp_path: Path) -> None:
    output = tmp_path / "d.apkg"

    result = runner.invoke(app, ["build", str(small_sources), "-o", str(output)])

    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        f"Wrote 3 notes in 2 topics to {output}\n"
        "Since the last build: 3 added, 0 changed, 0 unchanged, 0 removed; note type added.\n"
        f"No state file yet: every question counts as added. Commit {small_sources}/qa2anki.lock"
        " with your sources so that later builds update only what changed.\n"
    )


def edit_small_sources(source: Path) -> None:
    """Change 'first', move 'second' to the topic More, remove 'third', add 'fourth'."""
    (source / "01-basics.yaml").write_text(
        "topic: Basics\ntags: [starter]\nquestions:\n"
        "  - id: first\n    q: What is **one**?\n    a: The number `1` (one).\n",
        encoding="utf-8",
    )
    (source / "02-more.yaml").write_text(
        "topic: More\nquestions:\n"
        "  - id: second\n    q: What is two?\n    a: Two.\n"
        "  - id: fourth\n    q: What is four?\n    a: Four.\n",
        encoding="utf-8",
    )


def test_dry_run_shows_the_plan_and_writes_nothing(small_sources: Path, tmp_path: Path) -> None:
    output = tmp_path / "d.apkg"
    assert runner.invoke(app, ["build", str(small_sources), "-o", str(output)]).exit_code == 0
    output.unlink()
    lock = (small_sources / "qa2anki.lock").read_bytes()
    edit_small_sources(small_sources)

    result = runner.invoke(app, ["build", str(small_sources), "-o", str(output), "--dry-run"])

    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        f"Dry run: would write 3 notes in 2 topics to {output}; nothing was written.\n"
        "Since the last build: 1 added, 2 changed (1 moved), 0 unchanged, 1 removed;"
        " note type unchanged.\n"
        "Added: fourth\n"
        "Changed: first\n"
        "Moved: second: Basics -> More\n"
        "  Anki keeps existing cards in their old subdeck. After importing, search Anki's"
        " browser for those in 'Basics':\n"
        '    "deck:Test Deck::Basics" "tag:more"\n'
        "  then select all cards and use Change Deck to move them to 'Test Deck::More'.\n"
        "Removed: third: What is three?\n"
        "  Anki keeps the notes of removed questions. To delete them, search in Anki's"
        " browser for\n"
        '    "deck:Test Deck" ("Id:third")\n'
        "  then select all notes and delete them.\n"
    )
    assert not output.exists()
    assert (small_sources / "qa2anki.lock").read_bytes() == lock


def test_json_plan(small_sources: Path, tmp_path: Path) -> None:
    output = tmp_path / "d.apkg"
    assert runner.invoke(app, ["build", str(small_sources), "-o", str(output)]).exit_code == 0
    edit_small_sources(small_sources)

    result = runner.invoke(
        app, ["build", str(small_sources), "-o", str(output), "--dry-run", "--json"]
    )

    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {
        "deck": "Test Deck",
        "output": str(output),
        "state_file": str(small_sources / "qa2anki.lock"),
        "dry_run": True,
        "notes": 3,
        "topics": 2,
        "media_files": 0,
        "media_bytes": 0,
        "warnings": [],
        "added": ["fourth"],
        "changed": ["first", "second"],
        "unchanged": [],
        "moved": [
            {"id": "second", "from": "Test Deck::Basics", "to": "Test Deck::More", "tag": "more"}
        ],
        "removed": [{"id": "third", "deck": "Test Deck::More", "question": "What is three?"}],
        "note_type": "unchanged",
        "key_changed_from": None,
        "deck_renamed_from": None,
        "first_build": False,
    }


def test_damaged_state_file_is_one_line_and_exit_1(small_sources: Path, tmp_path: Path) -> None:
    lock = small_sources / "qa2anki.lock"
    lock.write_text('{\n  "format": 1,\n<<<<<<< HEAD\n', encoding="utf-8")

    result = runner.invoke(app, ["build", str(small_sources), "-o", str(tmp_path / "d.apkg")])

    assert result.exit_code == 1
    assert result.stderr == (
        f"{lock}:3: damaged state file: it has unresolved merge conflict markers;"
        " delete it and build again to start afresh\n"
    )
    assert not (tmp_path / "d.apkg").exists()


def test_help_of_import_and_ids() -> None:
    for command, argument in (("import", "MARKDOWN"), ("ids", "SOURCE")):
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0
        assert argument in result.stdout


def test_import_prints_each_topic_then_where_it_wrote(tmp_path: Path) -> None:
    output = tmp_path / "out"

    with fixed_key_suffix():
        result = runner.invoke(
            app, ["import", str(MARKDOWN / "numbered-bold" / "notes.md"), "-o", str(output)]
        )

    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "Python Basics: 2 questions\n"
        "Shell & Tools: 2 questions\n"
        f"Skipped the text before the first heading ({MARKDOWN / 'numbered-bold' / 'notes.md'}:1)\n"
        f"Skipped 'Next Steps' ({MARKDOWN / 'numbered-bold' / 'notes.md'}:34-37): no questions\n"
        f"Wrote 4 questions in 2 topics to {output} (deck 'Notes', key 'notes-3f9c')\n"
    )
    assert runner.invoke(app, ["check", str(output)]).exit_code == 0


def test_import_options(tmp_path: Path) -> None:
    document = MARKDOWN / "no-headings" / "my_study-notes.md"
    runner.invoke(app, ["import", str(document), "-o", str(tmp_path)])

    refused = runner.invoke(app, ["import", str(document), "-o", str(tmp_path), "--name", "N"])
    forced = runner.invoke(
        app,
        [
            "import",
            str(document),
            "--output",
            str(tmp_path),
            "--name",
            "N",
            "--key",
            "k",
            "--force",
        ],
    )

    assert refused.exit_code == 1
    assert refused.stderr == (
        f"{tmp_path / '01-my-study-notes.yaml'}: exists; use --force to overwrite it\n"
        f"{tmp_path / 'deck.yaml'}: exists; use --force to overwrite it\n"
        "2 problems found; nothing was written.\n"
    )
    assert forced.exit_code == 0
    assert forced.stdout.endswith(f"to {tmp_path} (deck 'N', key 'k')\n")


def test_import_strict_reports_questions_without_answers_as_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(MARKDOWN_INVALID)

    result = runner.invoke(
        app,
        ["import", "question-without-answer/notes.md", "-o", str(tmp_path / "out"), "--strict"],
    )

    assert result.exit_code == 1
    assert result.stdout == ""
    expected = (MARKDOWN_INVALID / "question-without-answer" / "expected.txt").read_text("utf-8")
    assert result.stderr == expected + "5 problems found; nothing was written.\n"
    assert list(tmp_path.iterdir()) == []


def test_ids_lists_then_writes_the_missing_ids(small_sources: Path) -> None:
    topic = small_sources / "02-more.yaml"
    topic.write_text(topic.read_text("utf-8") + "  - q: What is four?\n    a: Four.\n", "utf-8")

    listed = runner.invoke(app, ["ids", str(small_sources)])
    checked = runner.invoke(app, ["check", str(small_sources)])
    written = runner.invoke(app, ["ids", str(small_sources), "--write"])
    again = runner.invoke(app, ["ids", str(small_sources)])

    assert (listed.exit_code, listed.stdout) == (
        0,
        f"{topic}:6: question has no id (suggested: 'four')\n"
        f"1 question without an id; add it with: qa2anki ids {small_sources} --write\n",
    )
    assert (checked.exit_code, checked.stderr) == (
        1,
        f"{topic}:6: question has no 'id'; add the missing ids with:"
        f" qa2anki ids {small_sources} --write\n"
        "1 problem found.\n",
    )
    assert (written.exit_code, written.stdout) == (
        0,
        f"{topic}:6: added id 'four'\nAdded 1 id to 1 file.\n",
    )
    assert (again.exit_code, again.stdout) == (0, f"All 4 questions in {small_sources} have ids.\n")
    assert topic.read_text("utf-8").endswith("  - id: four\n    q: What is four?\n    a: Four.\n")


def test_ids_reports_other_problems(tmp_path: Path) -> None:
    result = runner.invoke(app, ["ids", str(tmp_path / "nope"), "--write"])

    assert result.exit_code == 1
    assert (
        result.stderr
        == f"{tmp_path / 'nope'}: {NO_FOLDER}\n1 problem found; nothing was written.\n"
    )


def test_debug_shows_the_traceback_of_a_user_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(INVALID)

    result = runner.invoke(app, ["--debug", "check", "yaml-alias"])

    assert result.exit_code == 1
    assert result.stderr.startswith("Traceback (most recent call last):\n")
    assert "qa2anki.errors.ValidationError: " in result.stderr
    assert result.stderr.endswith(expected_stderr("yaml-alias", "found."))


def raise_a_bug(*args: object, **kwargs: object) -> None:
    raise RuntimeError("boom")


INTERNAL_ERROR = (
    "qa2anki: internal error: RuntimeError: boom\n"
    "This is a bug in qa2anki. Please report it with the output of the same command run as "
    "'qa2anki --debug ...'.\n"
)


@pytest.mark.parametrize("command", ["check", "build"])
def test_a_bug_is_one_message_and_exit_70_without_traceback(
    command: str, small_sources: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(build, "check_sources", raise_a_bug)
    monkeypatch.setattr(build, "build_deck", raise_a_bug)

    result = runner.invoke(app, [command, str(small_sources)])

    assert (result.exit_code, result.stdout, result.stderr) == (70, "", INTERNAL_ERROR)


def test_debug_shows_the_traceback_of_a_bug(
    small_sources: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(build, "check_sources", raise_a_bug)

    result = runner.invoke(app, ["--debug", "check", str(small_sources)])

    assert result.exit_code == 70
    assert result.stderr.startswith("Traceback (most recent call last):\n")
    assert result.stderr.endswith("RuntimeError: boom\n" + INTERNAL_ERROR)


def test_user_errors_from_the_installed_command_have_no_traceback(tmp_path: Path) -> None:
    console_script = str(Path(sys.executable).with_name("qa2anki"))
    done = subprocess.run(
        [console_script, "check", str(tmp_path / "nope")],
        capture_output=True,
        text=True,
        check=False,
    )

    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == f"{tmp_path / 'nope'}: {NO_FOLDER}\n1 problem found.\n"


def test_build_refuses_to_replace_a_file_that_is_not_a_deck_without_force(
    small_sources: Path, tmp_path: Path
) -> None:
    output = tmp_path / "notes.apkg"
    output.write_text("my notes\n", encoding="utf-8")

    refused = runner.invoke(app, ["build", str(small_sources), "-o", str(output)])

    assert (refused.exit_code, refused.stdout) == (1, "")
    assert refused.stderr == (
        f"{output}: is not a deck written by qa2anki: not replacing it "
        "(use --force to replace it)\n"
    )
    assert output.read_text(encoding="utf-8") == "my notes\n"

    forced = runner.invoke(app, ["build", str(small_sources), "-o", str(output), "--force"])

    assert forced.exit_code == 0, forced.stderr
    assert forced.stdout.startswith(f"Wrote 3 notes in 2 topics to {output}\n")


def test_build_refuses_to_write_inside_the_sources_without_force(small_sources: Path) -> None:
    output = small_sources / "deck.apkg"

    refused = runner.invoke(app, ["build", str(small_sources), "-o", str(output)])

    assert (refused.exit_code, refused.stdout) == (1, "")
    assert refused.stderr == (
        f"{output}: is inside the source folder {small_sources}: write the deck somewhere else "
        "(or use --force)\n"
    )
    assert not output.exists()

    forced = runner.invoke(app, ["build", str(small_sources), "-o", str(output), "--force"])

    assert forced.exit_code == 0, forced.stderr
    assert output.is_file()


def test_every_command_reports_bugs_in_one_line() -> None:
    """Each command goes through the handler that turns bugs into exit 70, not a traceback."""
    commands = {c.name or c.callback.__name__: c.callback for c in app.registered_commands}  # type: ignore[union-attr]

    assert sorted(commands) == ["build", "check", "ids", "import", "new", "preview", "schema"]
    for name, callback in commands.items():
        assert getattr(callback, "__wrapped__", None) is not None, name


def test_a_reader_that_goes_away_stops_the_output_quietly(small_sources: Path) -> None:
    """`qa2anki build --dry-run | head -1`: no internal error, no traceback."""
    command = [sys.executable, "-m", "qa2anki", "build", str(small_sources), "--dry-run"]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert child.stdout is not None
    child.stdout.close()  # before qa2anki writes anything

    _, stderr = child.communicate(timeout=60)

    assert (child.returncode, stderr) == (1, b"")


def test_quiet_build_prints_nothing_and_writes_the_deck(shipped_copy: Path, tmp_path: Path) -> None:
    output = tmp_path / "deck.apkg"

    result = runner.invoke(app, ["build", str(shipped_copy), "-o", str(output), "--quiet"])

    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    assert output.is_file()


def test_quiet_build_still_reports_problems(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(INVALID)

    result = runner.invoke(app, ["build", "missing-answer", "-q"])

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == expected_stderr("missing-answer", "found; nothing was written.")


def test_the_command_line_caches_rendered_html(shipped_copy: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "first.apkg", tmp_path / "second.apkg"

    runner.invoke(app, ["build", str(shipped_copy), "-o", str(first)])
    result = runner.invoke(app, ["build", str(shipped_copy), "-o", str(second)])

    assert result.exit_code == 0, result.stderr
    assert len(list(build.DEFAULT_CACHE_DIR.glob("html-*.sqlite"))) == 1
    assert first.read_bytes() == second.read_bytes()


def test_quiet_json_build_still_prints_the_json(small_sources: Path, tmp_path: Path) -> None:
    output = tmp_path / "d.apkg"

    result = runner.invoke(app, ["build", str(small_sources), "-o", str(output), "-q", "--json"])

    assert (result.exit_code, result.stderr) == (0, "")
    assert json.loads(result.stdout)["notes"] == 3


INTERRUPTED_BUILD = """
import os, signal, sys, time
from qa2anki import render
from qa2anki.cli import main

def slow_markdown(text, links=(), cloze=False):
    os.write(1, b"rendering\\n")
    time.sleep(60)
    return ""

# A shell starts a background job with SIGINT ignored; a terminal's Ctrl-C is not.
signal.signal(signal.SIGINT, signal.default_int_handler)
render.render_markdown = slow_markdown
sys.argv = ["qa2anki", "build", sys.argv[1], "-o", sys.argv[2]]
main()
"""


def test_ctrl_c_during_a_build_stops_it_at_once_quietly_and_writes_nothing(
    shipped_copy: Path, tmp_path: Path
) -> None:
    """As a terminal's Ctrl-C does, the interrupt goes to the build's process group."""
    output = tmp_path / "deck.apkg"
    child = subprocess.Popen(
        [sys.executable, "-c", INTERRUPTED_BUILD, str(shipped_copy), str(output)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        cwd=tmp_path,  # the render cache (build/.cache) stays out of the working tree
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == "rendering\n"

        os.killpg(child.pid, signal.SIGINT)
        _, stderr = child.communicate(timeout=30)
    finally:
        if child.poll() is None:  # it did not stop: kill it, group and all
            os.killpg(child.pid, signal.SIGKILL)
            child.communicate()

    assert child.returncode in (1, 130)
    assert "Traceback" not in stderr
    assert "internal error" not in stderr
    assert not output.exists()


def test_the_pre_commit_hook_runs_check_on_the_sources() -> None:
    """pre-commit runs a hook's `entry` from the repository's root, with the hook's own
    environment (qa2anki installed): here, the same script from this environment."""
    root = QUESTIONS.parent
    (hook,) = yaml.safe_load((root / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    scripts = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "scripts"
    ]

    assert (hook["id"], hook["language"], hook["pass_filenames"]) == (
        "qa2anki-check",
        "python",
        False,
    )
    command, *args = hook["entry"].split()
    assert command in scripts
    assert re.search(hook["files"], "questions/01-python-fundamentals.yaml")
    assert not re.search(hook["files"], "src/qa2anki/cli.py")
    done = subprocess.run(
        [str(Path(sys.executable).with_name(command)), *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stdout) == (0, "OK: 100 questions in 10 topics in questions\n")


def test_import_reports_raw_html_by_kind(tmp_path: Path) -> None:
    document = tmp_path / "web.md"
    document.write_text("# Web\n\nQ: Why?\nA: One<br>two<br>three <div>x</div>.\n", "utf-8")

    with fixed_key_suffix():
        result = runner.invoke(app, ["import", str(document), "-o", str(tmp_path / "out")])

    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "Web: 1 question\n"
        f"HTML <br>: 2 times (first at {document}:4), kept\n"
        f"HTML <div>: 1 time (first at {document}:4), shown as text\n"
        f"Wrote 1 question in 1 topic to {tmp_path / 'out'} (deck 'Web', key 'web-3f9c')\n"
    )


def test_import_lists_the_questions_it_skips(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(FIXTURES / "markdown-invalid")
    document = "question-without-answer/notes.md"
    output = tmp_path / "out"

    with fixed_key_suffix():
        result = runner.invoke(app, ["import", document, "-o", str(output)])

    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "Basics: 1 question, 2 skipped (no answer)\n"
        f"Skipped question 'What is one?' ({document}:3): a question without an answer "
        "(no 'A:' after this 'Q:')\n"
        f"Skipped question 'What is three?' ({document}:9): an empty answer (nothing after "
        "'A:')\n"
        f"Skipped question 'What is four?' ({document}:13): a question without an answer "
        "(no 'A:' after this 'Q:')\n"
        f"Skipped a question ({document}:17): a question without text (nothing after 'Q:')\n"
        f"Skipped question 'What is five?' ({document}:20): a question without an answer "
        "(no 'A:' after this 'Q:')\n"
        f"Skipped 'More' ({document}:11): no answered questions\n"
        f"Skipped 'Last' ({document}:15): no answered questions\n"
        f"Wrote 1 question in 1 topic to {output} (deck 'Notes', key 'notes-3f9c')\n"
    )
    assert load_deck(output).question_count == 1


def test_import_update_reports_what_it_kept_added_and_removed(tmp_path: Path) -> None:
    document = tmp_path / "geo.md"
    output = tmp_path / "deck"
    document.write_text(
        "# Geo\n\nQ: Capital of France?\nA: Paris.\n\nQ: Capital of Spain?\nA: Madrid.\n", "utf-8"
    )
    with fixed_key_suffix():
        runner.invoke(app, ["import", str(document), "-o", str(output)])
    document.write_text(
        "# Geo\n\nQ: The capital of France?\nA: Paris.\n\nQ: Capital of Peru?\nA: Lima.\n", "utf-8"
    )

    result = runner.invoke(app, ["import", str(document), "-o", str(output), "--update"])

    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "Geo: 2 questions\n"
        "Kept the ids of 1 question (1 with edited text), 1 new\n"
        "Kept for edited text: capital-france\n"
        "No longer in the documents: capital-spain (their notes stay in Anki: see the next "
        "build's report)\n"
        f"Wrote 2 questions in 1 topic to {output} (deck 'Geo', key 'geo-3f9c')\n"
    )


def test_import_reports_skipped_text_links_and_copied_images(tmp_path: Path) -> None:
    document = MARKDOWN / "list-headings" / "notes.md"
    output = tmp_path / "out"

    with fixed_key_suffix():
        result = runner.invoke(app, ["import", str(document), "-o", str(output)])

    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "JavaScript Interview Questions: 3 questions\n"
        f"Skipped 'Table of Contents' ({document}:3-9): no questions\n"
        f"Skipped 3 links back to the top (first at {document}:27)\n"
        "Copied 1 image of the documents\n"
        f"Wrote 3 questions in 1 topic to {output} (deck 'JavaScript Interview Questions', "
        "key 'javascript-interview-questions-3f9c')\n"
    )
    assert runner.invoke(app, ["check", str(output)]).exit_code == 0
