"""The ``qa2anki`` command line: parse options, call the library, turn errors into exit codes.

Heavy modules (genanki, Pygments, markdown-it) are imported inside the commands so that
``--help`` and ``--version`` start quickly.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from qa2anki import __version__
from qa2anki.errors import Qa2AnkiError, ValidationError

app = typer.Typer(
    name="qa2anki",
    help="Turn a folder of questions and answers (YAML + Markdown) into an Anki deck.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

SourceArgument = Annotated[
    Path,
    typer.Argument(
        metavar="SOURCE", help="The source folder: deck.yaml and one YAML file per topic."
    ),
]


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"qa2anki {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Show the version and exit.", callback=_show_version, is_eager=True
        ),
    ] = False,
) -> None:
    """Turn a folder of questions and answers (YAML + Markdown) into an Anki deck."""


@app.command()
def build(
    source: SourceArgument = Path("questions"),
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="OUTPUT",
            help="Where to write the deck.",
            show_default="build/<key>.apkg",
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Show what the build would change in Anki; write nothing."),
    ] = False,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the result and plan as JSON.")
    ] = False,
) -> None:
    """Validate the sources, write the .apkg deck and say what changed since the last build.

    Nothing is written when the sources have problems.
    """
    from qa2anki.build import build_deck
    from qa2anki.state import describe_plan

    try:
        result = build_deck(source, output, dry_run=dry_run)
    except Qa2AnkiError as exc:
        _fail(exc, "nothing was written")
    deck = result.deck
    if json_output:
        report = {
            "deck": deck.name,
            "output": str(result.output),
            "state_file": str(result.state_file),
            "dry_run": result.dry_run,
            "notes": deck.question_count,
            "topics": len(deck.topics),
            **result.plan.to_json(),
        }
        typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    notes = f"{_count(deck.question_count, 'note')} in {_count(len(deck.topics), 'topic')}"
    if dry_run:
        typer.echo(f"Dry run: would write {notes} to {result.output}; nothing was written.")
    else:
        typer.echo(f"Wrote {notes} to {result.output}")
    for line in describe_plan(result.plan, deck.name, result.state_file, verbose=dry_run):
        typer.echo(line)


@app.command()
def preview(
    source: SourceArgument = Path("questions"),
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="OUTPUT",
            help="Where to write the HTML page.",
            show_default="build/preview.html",
        ),
    ] = None,
    open_page: Annotated[
        bool, typer.Option("--open", help="Open the page in the default web browser.")
    ] = False,
) -> None:
    """Validate the sources and write one HTML page showing every card, light and night."""
    from qa2anki.build import build_preview

    try:
        result = build_preview(source, output)
    except Qa2AnkiError as exc:
        _fail(exc, "nothing was written")
    deck = result.deck
    typer.echo(
        f"Wrote {_count(deck.question_count, 'card')} in {_count(len(deck.topics), 'topic')} "
        f"to {result.output}"
    )
    if open_page:
        import webbrowser

        if not webbrowser.open(result.output.resolve().as_uri()):
            typer.echo(f"Found no web browser to open; open {result.output} yourself.", err=True)


@app.command()
def check(source: SourceArgument = Path("questions")) -> None:
    """Validate the sources without writing anything; report every problem at once."""
    from qa2anki.build import check_sources

    try:
        deck = check_sources(source)
    except Qa2AnkiError as exc:
        _fail(exc)
    typer.echo(
        f"OK: {_count(deck.question_count, 'question')} in {_count(len(deck.topics), 'topic')} "
        f"in {source}"
    )


def _fail(exc: Qa2AnkiError, consequence: str = "") -> NoReturn:
    """Print a user error as `path:line: message` lines and exit with status 1."""
    problems = exc.problems if isinstance(exc, ValidationError) else [exc]
    for problem in problems:
        typer.secho(f"{problem}", fg=typer.colors.RED, err=True)
    if isinstance(exc, ValidationError):
        summary = f"{_count(len(problems), 'problem')} found"
        typer.echo(f"{summary}; {consequence}." if consequence else f"{summary}.", err=True)
    raise typer.Exit(1)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def main() -> None:
    """Run the command line."""
    app(prog_name="qa2anki")
