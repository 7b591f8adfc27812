"""Write docs/robustness.md from the tests: every kind of bad input tried, and what users see.

Run ``python tests/robustness.py`` to rewrite the page; ``tests/test_docs.py`` fails when the
committed page differs from what this module generates, when a case below names a test that
does not exist, or when the message a case quotes is not in that test's module.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
INVALID = TESTS / "fixtures" / "invalid"
PAGE = ROOT / "docs" / "robustness.md"


@dataclass(frozen=True)
class Case:
    """One kind of bad input that is not a fixture folder, and the test that tries it."""

    tried: str
    sees: str
    test: str  # "test_module.py::test_function"
    quoted: str  # text of ``sees`` that the test's module must contain


SOURCE_CASES = [
    Case(
        "An image over 10 MiB (a sparse file, so the test takes no room)",
        "`PATH:LINE: image 'big.png' is 10.0 MiB, over the limit of 10 MiB: make it smaller …`",
        "test_media.py::test_a_file_over_the_size_limit_is_refused",
        "over the limit of 10 MiB",
    ),
    Case(
        "A topic file larger than 4 MiB (checked before it is parsed)",
        "`PATH: file is larger than 4 MiB; split it into several topic files`",
        "test_loader.py::test_a_file_over_the_size_limit_is_refused_before_parsing",
        "file is larger than 4 MiB; split it into several topic files",
    ),
    Case(
        'The "billion laughs" fixture, timed and its memory traced',
        "Its one-line error within 2 seconds, using less than 10 MiB",
        "test_loader.py::test_billion_laughs_fails_fast_in_little_memory",
        "billion-laughs",
    ),
    Case(
        "Brackets nested 5,000 deep",
        "`PATH: invalid YAML: nested too deeply`",
        "test_loader.py::test_deeply_nested_yaml_is_an_error_not_a_crash",
        "invalid YAML: nested too deeply",
    ),
    Case(
        "A UTF-8 byte order mark at the start of `deck.yaml` and a topic file",
        "Nothing: the files load as if it were not there",
        "test_loader.py::test_a_utf8_bom_is_accepted",
        "test_a_utf8_bom_is_accepted",
    ),
    Case(
        "A folder, a broken link and a FIFO named like topic files",
        "`PATH: not a regular file` or `PATH: cannot read: …`; a FIFO is never opened",
        "test_loader.py::test_entries_that_are_not_regular_files_are_reported_not_opened",
        "not a regular file",
    ),
    Case(
        "A source folder that does not exist, or is a file",
        "`SOURCE: no such folder (to start a deck, run: qa2anki new)`, `SOURCE: not a folder`",
        "test_loader.py::test_a_source_that_is_a_file",
        "not a folder",
    ),
    Case(
        "Any bytes at all as a topic file (Hypothesis: random bytes, random text, shuffled "
        "pieces of YAML)",
        "Either a deck, or one-line `PATH:LINE: message` problems; never another error",
        "test_loader.py::test_any_file_content_loads_or_fails_with_our_error",
        "ValidationError",
    ),
]

TEXT_CASES = [
    Case(
        "In questions, answers and a topic name: `<script>`, `<b onclick=… style=…>`, "
        "`<svg onload=…>`, `<iframe>`, `<style>`, `javascript:` links, `{{Question}}`, "
        "`{{FrontSide}}`, `{{c1::secret}}`, `&amp;`, `&#60;script&#62;`, `[sound:boom.mp3]`, "
        "comments",
        "Each shown literally on the card as Anki itself renders it, or, for an allowed tag "
        "(`<b>`, `<a>`), kept without the attribute or link; no script, event attribute or "
        "`javascript:` link in the card's HTML",
        "test_anki_roundtrip.py::test_hostile_text_shows_literally_and_never_runs",
        "<script>alert(1)</script>",
    ),
    Case(
        "Any Unicode text in `q` and `a` (Hypothesis), imported into Anki",
        "The card shows the same text as the rendered Markdown; words of letters and "
        "`{}<>&;\"'=/%?,` show exactly as typed",
        "test_anki_roundtrip.py::test_any_text_imports_into_anki_and_shows_what_was_rendered",
        "ANY_TEXT",
    ),
    Case(
        "Math that is not meant as math: `$5 and $10`, `\\$1`, `\\\\(z\\\\)`, `$x$` in code, "
        "`\\(w\\)` in a code block, a topic named `Math \\(t\\)`, and a formula with "
        "`\\href{javascript:…}` (or `\\class`, `\\style`, `\\data`, `\\require`)",
        "Shown as typed; in Anki, MathJax reads only the formulas written as math; `check` warns "
        "about the formula it shows as its TeX source",
        "test_anki_roundtrip.py::test_math_reaches_mathjax_and_nothing_else_does",
        "$1 and $5 and $10",
    ),
]

OUTPUT_CASES = [
    Case(
        "An image replaced between the check of the sources and the writing of the deck",
        "`PATH: changed while the deck was being built; build again`; no deck, no state file",
        "test_media.py::test_an_image_that_changes_during_the_build_stops_it_and_writes_nothing",
        "changed while the deck was being built; build again",
    ),
    Case(
        "Invalid sources, with yesterday's deck at the output",
        "The problems; nothing is written, and the old deck is unchanged to the byte",
        "test_build.py::test_invalid_sources_write_nothing_and_keep_the_old_deck",
        "yesterday",
    ),
    Case(
        "A full disk while the deck is written",
        "`OUTPUT: cannot write: No space left on device`; the old deck is unchanged and no "
        "temporary file is left",
        "test_build.py::test_a_full_disk_keeps_the_old_deck_and_leaves_no_temporary_file",
        "cannot write: No space left on device",
    ),
    Case(
        "No permission to write beside the output",
        "`OUTPUT: cannot write: Permission denied`; the old deck is unchanged",
        "test_build.py::test_a_permission_error_keeps_the_old_deck",
        "cannot write: Permission denied",
    ),
    Case(
        "A build killed (SIGKILL) half-way through writing",
        "The old deck is intact; a later build removes the half-written `.qa2anki-*.tmp` "
        "once it is an hour old",
        "test_build.py::test_a_build_killed_mid_write_keeps_the_old_deck",
        "SIGKILL",
    ),
    Case(
        "Two builds writing the same output at the same time",
        "Both succeed; one complete, valid deck is left, and no temporary file",
        "test_build.py::test_two_builds_racing_to_one_output_leave_one_valid_deck",
        "race",
    ),
    Case(
        "An output that exists and is not a qa2anki deck: a text file, an empty or broken "
        "zip, an `.apkg` from another tool, a link to such a file",
        "`OUTPUT: is not a deck written by qa2anki: not replacing it (use --force to replace "
        "it)`; the file is unchanged",
        "test_build.py::test_a_file_that_is_not_a_deck_is_not_replaced",
        "is not a deck written by qa2anki: not replacing it (use --force to replace it)",
    ),
    Case(
        "An output inside the source folder",
        "`OUTPUT: is inside the source folder SOURCE: write the deck somewhere else (or use "
        "--force)`",
        "test_build.py::test_output_inside_the_source_folder_is_refused",
        "write the deck somewhere",
    ),
    Case(
        "A preview written over a file that is not a qa2anki preview, or inside the sources",
        "`OUTPUT: is not a preview written by qa2anki: not replacing it (use --force to "
        "replace it)`, or `… write the preview somewhere else (or use --force)`",
        "test_preview.py::test_preview_refuses_files_it_did_not_write_and_the_sources",
        "is not a preview written by qa2anki",
    ),
    Case(
        "A file where the output's folder should be (`-o notes.txt/deck.apkg`)",
        "`OUTPUT: cannot write: notes.txt is a file, not a folder`",
        "test_build.py::test_a_file_in_the_way_of_the_output_folder_is_named",
        "is a file, not a folder",
    ),
    Case(
        "A state file (`qa2anki.lock`) with merge conflict markers, broken JSON, or content "
        "qa2anki does not write",
        "`qa2anki.lock:LINE: damaged state file: …; delete it and build again to start "
        "afresh`; nothing is written",
        "test_state.py::test_a_damaged_state_file_is_reported_with_its_line",
        "unresolved merge conflict markers",
    ),
    Case(
        "Sources (and their state file) taken back to older content, e.g. by `git revert`",
        "The reverted notes are stamped later than what Anki has, so the import updates them",
        "test_anki_roundtrip.py::test_a_reverted_edit_reaches_anki",
        "git revert",
    ),
    Case(
        "An output that is a folder, or whose name is too long",
        "`OUTPUT: is a folder, not a file`, `OUTPUT: cannot write: File name too long`",
        "test_build.py::test_output_that_is_a_folder_is_refused",
        "is a folder, not a file",
    ),
]

CLI_CASES = [
    Case(
        "Any of the above on the command line",
        "The messages on stderr and exit status 1; never a traceback",
        "test_cli.py::test_check_prints_every_problem_and_exits_1",
        "Traceback",
    ),
    Case(
        "A bug (an unexpected exception inside qa2anki)",
        "`qa2anki: internal error: …` and how to report it, exit status 70; no traceback",
        "test_cli.py::test_a_bug_is_one_message_and_exit_70_without_traceback",
        "qa2anki: internal error: ",
    ),
    Case(
        "`-o OUTPUT/` (or `OUTPUT/.`): an output name that ends with a slash (or with `/.`)",
        "`OUTPUT/: is a folder, not a file`, exit status 1; nothing is written",
        "test_cli.py::test_an_output_name_ending_with_a_slash_is_a_folder",
        "is a folder, not a file",
    ),
    Case(
        "A reader that goes away (`qa2anki build --dry-run | head -1`)",
        "Output stops quietly, exit status 1; no internal error",
        "test_cli.py::test_a_reader_that_goes_away_stops_the_output_quietly",
        "head -1",
    ),
    Case(
        "`qa2anki --debug …` with a problem or a bug",
        "The traceback, then the usual messages",
        "test_cli.py::test_debug_shows_the_traceback_of_a_bug",
        "--debug",
    ),
]

SECTIONS = [
    ("Other source problems", SOURCE_CASES),
    ("Text on the cards", TEXT_CASES),
    ("Writing the deck", OUTPUT_CASES),
    ("The command line", CLI_CASES),
]


def fixture_cases() -> list[str]:
    return sorted(path.name for path in INVALID.iterdir() if path.is_dir())


def render() -> str:
    """Return the page's Markdown."""
    lines = [
        "# Broken and hostile input",
        "",
        "Every kind of bad input the tests try, and exactly what you see. This page is",
        "generated by `tests/robustness.py` from the tests (`make test` fails when it is out of",
        "date), so it says what the code does.",
        "",
        "## Source files",
        "",
        "Each case is a folder in `tests/fixtures/invalid/`. `qa2anki check CASE` prints these",
        'lines to stderr, then "N problems found.", and exits with status 1; `qa2anki build`',
        'prints the same, ending "nothing was written.", and writes nothing.',
        "",
    ]
    for case in fixture_cases():
        about = (INVALID / case / "about.txt").read_text(encoding="utf-8").strip()
        expected = (INVALID / case / "expected.txt").read_text(encoding="utf-8")
        lines += [f"### `{case}`", "", about, "", "```text", *expected.splitlines(), "```", ""]
    for title, cases in SECTIONS:
        lines += [f"## {title}", "", "| tried | what you see | test |", "|---|---|---|"]
        lines += [f"| {cell(case.tried)} | {cell(case.sees)} | `{case.test}` |" for case in cases]
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def cell(text: str) -> str:
    return text.replace("|", "\\|")


if __name__ == "__main__":
    PAGE.parent.mkdir(exist_ok=True)
    PAGE.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {PAGE.relative_to(ROOT)}\n")
