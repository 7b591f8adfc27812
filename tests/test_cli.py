"""The command line: exit codes and the exact messages users see."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import qa2anki
from conftest import INVALID, QUESTIONS
from qa2anki import __version__, build, loader
from qa2anki.cli import app
from test_loader import INVALID_CASES, expected_problems

runner = CliRunner()


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
    for command in ("build", "check"):
        assert command in result.stdout
        sub = runner.invoke(app, [command, "--help"])
        assert sub.exit_code == 0
        assert "SOURCE" in sub.stdout


def test_build_writes_the_shipped_deck_and_says_so(tmp_path: Path) -> None:
    output = tmp_path / "deck.apkg"

    result = runner.invoke(app, ["build", str(QUESTIONS), "-o", str(output)])

    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"Wrote 100 notes in 10 topics to {output}\n"
    assert result.stderr == ""
    assert output.stat().st_size > 10_000


def test_build_defaults_to_questions_and_build_key_apkg(
    shipped_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(shipped_copy.parent)

    result = runner.invoke(app, ["build"])

    assert result.exit_code == 0, result.stderr
    assert result.stdout == "Wrote 100 notes in 10 topics to build/python-backend-interview.apkg\n"
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


def test_missing_source_folder(tmp_path: Path) -> None:
    result = runner.invoke(app, ["check", str(tmp_path / "nope")])

    assert result.exit_code == 1
    assert result.stderr == f"{tmp_path / 'nope'}: no such folder\n1 problem found.\n"


def test_unknown_command_is_a_usage_error() -> None:
    result = runner.invoke(app, ["bulid"])

    assert result.exit_code == 2
    assert "No such command 'bulid'" in result.stderr


def test_installed_entry_points_run() -> None:
    console_script = str(Path(sys.executable).with_name("qa2anki"))
    for command in ([sys.executable, "-m", "qa2anki"], [console_script]):
        done = subprocess.run([*command, "--version"], capture_output=True, text=True, check=False)
        assert (done.returncode, done.stdout, done.stderr) == (0, f"qa2anki {__version__}\n", "")


def test_help_does_not_import_the_pipeline() -> None:
    # Typer's rich help brings in Pygments and markdown-it itself; what we control is our
    # own stages and the libraries only they use.
    modules = ("genanki", "yaml", "qa2anki.loader", "qa2anki.render", "qa2anki.package")
    code = (
        "import sys\n"
        "from qa2anki.cli import app\n"
        "from typer.testing import CliRunner\n"
        "CliRunner().invoke(app, ['--help'])\n"
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
