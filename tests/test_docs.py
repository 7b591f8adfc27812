"""The docs tell the truth: commands, options and example output; the README is a short
front door that links to them."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

import robustness
from conftest import FIXTURES, ROOT, fixed_key_suffix
from qa2anki.cli import app
from qa2anki.loader import load_deck
from qa2anki.preview import cards
from qa2anki.render import render_deck

README = (ROOT / "README.md").read_text(encoding="utf-8")
COMMANDS = (ROOT / "docs" / "commands.md").read_text(encoding="utf-8")
# Every page that can show examples: the README and all of docs/.
PAGES = {
    path.relative_to(ROOT).as_posix(): path.read_text(encoding="utf-8")
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
}
README_LIMIT = 8192  # bytes
MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")
SEED = FIXTURES / "seed" / "interview-qa-100.md"


def console_examples() -> list[tuple[str, str]]:
    """Every `$ qa2anki ...` example in the pages' console blocks, with its shown output."""
    examples = []
    for text in PAGES.values():
        for block in re.findall(r"```console\n(.*?)```", text, re.DOTALL):
            command, _, output = block.partition("\n")
            assert command.startswith("$ qa2anki"), command
            examples.append((command[2:], output))
    return examples


def test_every_command_and_option_is_documented() -> None:
    group = get_command(app)
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        assert f"### `qa2anki {name}" in COMMANDS, f"docs/commands.md has no section for '{name}'"
        for param in command.params:
            for option in param.opts:
                if option.startswith("-") and option != "--help":
                    assert f"{option}" in COMMANDS, (
                        f"docs/commands.md does not mention {name} {option}"
                    )
    assert "`qa2anki --version`" in COMMANDS
    for param in group.params:
        for option in param.opts:
            if option != "--help":
                assert f"qa2anki {option}" in COMMANDS, f"docs/commands.md lacks qa2anki {option}"


def test_readme_is_short_and_links_the_reference() -> None:
    size = len(README.encode("utf-8"))
    assert size <= README_LIMIT, f"README.md is {size} bytes; at most {README_LIMIT}"
    for target in ("docs/commands.md", "docs/format.md", "docs/reimport.md", "bench/README.md"):
        assert f"]({target})" in README, f"README does not link {target}"


def test_relative_links_lead_to_files_and_headings_that_exist() -> None:
    for name, text in PAGES.items():
        page = ROOT / name
        prose = re.sub(r"^```.*?^```", "", text, flags=re.MULTILINE | re.DOTALL)
        prose = re.sub(r"`[^`\n]+`", "", prose)  # code spans show syntax, not links
        for link in re.findall(r"\]\(([^)\s]+)\)", prose):
            if re.match(r"[a-z]+:", link):
                continue  # a web link
            target, _, anchor = link.partition("#")
            path = (page.parent / target).resolve() if target else page
            assert path.exists(), f"{name}: link to {link}: no such file"
            if anchor:
                assert path.suffix == ".md", f"{name}: link to {link}: not a Markdown page"
                headings = heading_anchors(path.read_text(encoding="utf-8"))
                assert anchor in headings, f"{name}: link to {link}: no such heading"


def heading_anchors(text: str) -> set[str]:
    """The anchors GitHub gives a page's headings: lowercase, punctuation dropped, spaces
    made hyphens, and "-1", "-2" ... after a repeated one."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.MULTILINE | re.DOTALL)
    anchors: set[str] = set()
    for heading in re.findall(r"^#{1,6} +(.+?) *$", text, re.MULTILINE):
        anchor = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        repeat, unique = 0, anchor
        while unique in anchors:
            repeat += 1
            unique = f"{anchor}-{repeat}"
        anchors.add(unique)
    return anchors


def test_quick_start_targets_exist_and_ci_runs_make_test() -> None:
    for target in ("deck", "test", "check", "lint", "install", "format", "bench"):
        assert re.search(rf"^{target}:", MAKEFILE, re.MULTILINE), target
        assert f"make {target}" in README, target
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "example", [e for e in console_examples() if "problem" not in e[1] and "--dry-run" not in e[0]]
)
def test_successful_examples_print_what_the_docs_show(
    example: tuple[str, str], shipped_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    command, shown = example
    # The import example reads the seed document; the ids example follows the question it
    # shows being added.
    shutil.copy(SEED, shipped_copy.parent)
    if command.startswith("qa2anki ids"):
        (added,) = re.findall(r"```yaml\n(  - q: .*?)```", "\n".join(PAGES.values()), re.DOTALL)
        with (shipped_copy / "01-python-fundamentals.yaml").open("a", encoding="utf-8") as file:
            file.write("\n" + added)
    monkeypatch.chdir(shipped_copy.parent)

    with fixed_key_suffix():  # the docs show new deck keys ending in "-3f9c"
        result = CliRunner().invoke(app, shlex.split(command)[1:])

    assert (result.exit_code, result.stdout) == (0, shown)


def test_error_example_is_what_check_prints(
    shipped_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The docs' example: gil loses its answer, decorators gains `tag:`, coroutines is gil."""
    ((command, shown),) = [example for example in console_examples() if "problem" in example[1]]
    gil_answer = "    a: It\u2019s a mutex that allows only one thread"
    replace(shipped_copy / "01-python-fundamentals.yaml", rf"^{gil_answer}.*\n", "")
    replace(
        shipped_copy / "02-intermediate-python.yaml",
        r"functionality of the function\.\n",
        r"\g<0>    tag: [syntax]\n",
    )
    replace(shipped_copy / "03-advanced-python-concurrency.yaml", r"id: coroutines", "id: gil")
    monkeypatch.chdir(shipped_copy.parent)

    result = CliRunner().invoke(app, shlex.split(command)[1:])

    assert (result.exit_code, result.stderr) == (1, shown)


def test_dry_run_example_is_what_build_prints(
    shipped_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The docs' example: edit list-vs-tuple, move gil, delete name-main, add walrus-operator."""
    ((command, shown),) = [example for example in console_examples() if "--dry-run" in example[0]]
    fundamentals = shipped_copy / "01-python-fundamentals.yaml"
    replace(fundamentals, "A list is mutable,", "A list is **mutable**,")
    gil = re.search(r"^  - id: gil\n(    .*\n)+", fundamentals.read_text(encoding="utf-8"), re.M)
    assert gil is not None
    replace(fundamentals, re.escape(gil[0]), "")
    replace(fundamentals, r"^  - id: name-main\n(    .*\n)+", "")
    with fundamentals.open("a", encoding="utf-8") as file:
        file.write(
            "  - id: walrus-operator\n    q: What does the walrus operator `:=` do?\n"
            "    a: It assigns a value inside an expression.\n"
        )
    with (shipped_copy / "03-advanced-python-concurrency.yaml").open("a", encoding="utf-8") as f:
        f.write(gil[0])
    monkeypatch.chdir(shipped_copy.parent)

    with fixed_key_suffix():  # the docs show new deck keys ending in "-3f9c"
        result = CliRunner().invoke(app, shlex.split(command)[1:])

    assert (result.exit_code, result.stdout) == (0, shown)


def replace(path: Path, pattern: str, replacement: str) -> None:
    """Make one regex replacement in a file; fail if the pattern is not there."""
    text, count = re.subn(
        pattern, replacement, path.read_text(encoding="utf-8"), count=1, flags=re.MULTILINE
    )
    assert count == 1, pattern
    path.write_text(text, encoding="utf-8")


def test_robustness_page_is_generated_from_the_tests() -> None:
    page = (ROOT / "docs" / "robustness.md").read_text(encoding="utf-8")

    assert page == robustness.render(), "run: .venv/bin/python tests/robustness.py"
    assert "(docs/robustness.md)" in README
    assert "(robustness.md)" in COMMANDS
    for case in robustness.fixture_cases():
        assert f"### `{case}`" in page


@pytest.mark.parametrize(
    "case",
    [case for _, cases in robustness.SECTIONS for case in cases],
    ids=lambda case: case.test.split("::")[1],
)
def test_robustness_cases_name_tests_that_exist(case: robustness.Case) -> None:
    module, function = case.test.split("::")
    source = (ROOT / "tests" / module).read_text(encoding="utf-8")

    assert f"def {function}(" in source
    assert case.quoted in source


def test_the_note_types_example_is_a_topic_that_builds_the_cards_it_says(tmp_path: Path) -> None:
    page = (ROOT / "docs" / "format.md").read_text(encoding="utf-8")
    section = page.split("## Cloze and reversed cards", 1)[1]
    example = re.search(r"```yaml\n(.*?)\n```\n", section, re.DOTALL)
    assert example is not None
    (tmp_path / "deck.yaml").write_text("key: example\nname: Example\n", encoding="utf-8")
    (tmp_path / "01-recall.yaml").write_text(example[1] + "\n", encoding="utf-8")

    rendered = render_deck(load_deck(tmp_path))

    made = {item.question.id: (item.question.type, len(cards(item))) for item in rendered.questions}
    assert made == {
        "list-vs-tuple-cloze": ("cloze", 2),
        "comprehension": ("cloze", 1),
        "capital-france": ("reversed", 2),
        "gil": ("basic", 1),
    }
