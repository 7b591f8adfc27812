"""The ``qa2anki`` command line: parse options, call the library, turn errors into exit codes.

Heavy modules (genanki, Pygments, markdown-it) are imported inside the commands so that
``--help`` and ``--version`` start quickly.
"""

from __future__ import annotations

import functools
import io
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, NoReturn, ParamSpec, TypeVar, cast

import typer

from qa2anki import __version__
from qa2anki.errors import OutputError, Qa2AnkiError, ValidationError

if TYPE_CHECKING:
    from qa2anki.build import PreviewResult
    from qa2anki.importer import ImportResult

app = typer.Typer(
    name="qa2anki",
    help="Turn a folder of questions and answers (YAML + Markdown) into an Anki deck.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

SourceArgument = Annotated[
    Path,
    typer.Argument(
        metavar="SOURCE", help="The source folder: deck.yaml and one YAML file per topic."
    ),
]


# Exit status of a bug (sysexits' EX_SOFTWARE): 1 is a problem in the user's input, 2 a usage
# error.
EXIT_INTERNAL_ERROR = 70

P = ParamSpec("P")
R = TypeVar("R")


def _reports_errors(*, writes: bool | str = False) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Turn errors escaping a command into messages: user errors exit 1, bugs exit 70.

    The command takes the context as ``ctx`` (for the root's ``--debug``).  ``writes`` says
    whether it writes files, or names the option that makes it write: an error then says that
    nothing was written.
    """

    def decorate(command: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(command)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            ctx = cast("typer.Context", kwargs["ctx"])
            debug = bool(ctx.find_root().params.get("debug"))
            try:
                return command(*args, **kwargs)
            except (typer.Exit, typer.Abort, typer.TyperException):
                raise
            except Qa2AnkiError as exc:
                wrote = kwargs.get(writes, False) if isinstance(writes, str) else writes
                _fail(exc, "nothing was written" if wrote else "", debug=debug)
            except BrokenPipeError:
                # The reader went away (`qa2anki build --dry-run | head`): stop quietly.
                _silence_stdout()
                raise typer.Exit(1) from None
            except Exception as exc:
                _show_traceback(exc, debug=debug)
                typer.secho(
                    f"qa2anki: internal error: {type(exc).__name__}: {exc}",
                    fg=typer.colors.RED,
                    err=True,
                )
                typer.echo(
                    "This is a bug in qa2anki. Please report it with the output of the same "
                    "command run as 'qa2anki --debug ...'.",
                    err=True,
                )
                raise typer.Exit(EXIT_INTERNAL_ERROR) from None

        return run

    return decorate


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that flushing it at exit raises nothing more."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        pass  # not a real file (under a test runner): nothing will be flushed to a pipe


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
    debug: Annotated[
        bool,
        typer.Option("--debug", help="On an error, also show its traceback (for bug reports)."),
    ] = False,
) -> None:
    """Turn a folder of questions and answers (YAML + Markdown) into an Anki deck."""


@app.command()
@_reports_errors(writes=True)
def new(
    ctx: typer.Context,
    folder: Annotated[
        Path,
        typer.Argument(
            metavar="DIR", help="The folder to start the deck in (made if it does not exist)."
        ),
    ] = Path(),
    *,
    name: Annotated[
        str | None,
        typer.Option("--name", help="The deck's name.", show_default="made from DIR's name"),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Write into DIR even if it is not empty.")
    ] = False,
) -> None:
    """Start a deck: DIR/questions/ with an example topic, ready to build and edit."""
    from qa2anki.new import SOURCE_FOLDER, new_deck

    made = new_deck(folder, name, force=force)
    typer.echo(f"Started the deck '{made.name}' (key '{made.key}') in {folder}:")
    for file in made.files:
        typer.echo(f"  {file}")
    typer.echo("Next:")
    if folder.resolve() != Path.cwd():
        import shlex

        typer.echo(f"  cd {shlex.quote(str(folder))}")
    typer.echo("  qa2anki preview --open   # see the cards")
    typer.echo(
        f"  qa2anki build            # write build/{made.key}.apkg; "
        "import it in Anki (File > Import)"
    )
    typer.echo(f"  qa2anki check            # after you edit {SOURCE_FOLDER}/*.yaml")


@app.command()
@_reports_errors(writes=True)
def build(
    ctx: typer.Context,
    source: SourceArgument = Path("questions"),
    *,
    output: Annotated[
        str | None,
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
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Write even inside SOURCE or over a file that is not a deck qa2anki wrote.",
        ),
    ] = False,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet",
            "-q",
            help="Print only problems (and --json's output): no report.",
        ),
    ] = False,
) -> None:
    """Validate the sources, write the .apkg deck and say what changed since the last build.

    Nothing is written when the sources have problems.
    """
    from qa2anki import build as pipeline
    from qa2anki.state import describe_plan

    result = pipeline.build_deck(
        source,
        _output_file(output),
        dry_run=dry_run,
        force=force,
        cache_dir=pipeline.DEFAULT_CACHE_DIR,
    )
    deck = result.deck
    _warn(deck.warnings)
    if json_output:
        import json

        report = {
            "deck": deck.name,
            "output": str(result.output),
            "state_file": str(result.state_file),
            "dry_run": result.dry_run,
            "notes": deck.question_count,
            "topics": len(deck.topics),
            "media_files": len(deck.media.files),
            "media_bytes": deck.media.size,
            "warnings": [str(warning) for warning in deck.warnings],
            **result.plan.to_json(),
        }
        typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    if quiet:
        return
    notes = f"{_count(deck.question_count, 'note')} in {_count(len(deck.topics), 'topic')}"
    if deck.media.files:
        notes += f" with {_count(len(deck.media.files), 'image')} ({_size(deck.media.size)})"
    if dry_run:
        typer.echo(f"Dry run: would write {notes} to {result.output}; nothing was written.")
    else:
        typer.echo(f"Wrote {notes} to {result.output}")
    for line in describe_plan(result.plan, deck.name, result.state_file, verbose=dry_run):
        typer.echo(line)


@app.command()
@_reports_errors(writes=True)
def preview(
    ctx: typer.Context,
    source: SourceArgument = Path("questions"),
    *,
    output: Annotated[
        str | None,
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
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Write even inside the source folder or over a file that is not a preview.",
        ),
    ] = False,
    watch: Annotated[
        bool,
        typer.Option(
            "--watch",
            help="Serve the page on this computer and rebuild it whenever a source changes; "
            "the page reloads itself. Ctrl-C stops.",
        ),
    ] = False,
    port: Annotated[
        int,
        typer.Option(
            "--port", help="With --watch: the port to serve on (0: any free one).", min=0, max=65535
        ),
    ] = 0,
) -> None:
    """Validate the sources and write one HTML page showing every card, light and night."""
    if watch:
        _watch_preview(source, _output_file(output), force=force, port=port, open_page=open_page)
        return
    from qa2anki.build import build_preview

    result = build_preview(source, _output_file(output), force=force)
    _report_preview(result)
    if open_page:
        _open_page(result.output.resolve().as_uri(), result.output)


def _watch_preview(
    source: Path, output: Path | None, *, force: bool, port: int, open_page: bool
) -> None:
    from qa2anki.watch import LivePreview

    live = LivePreview(source, output, force=force)
    address = live.serve(port)  # first: a port in use is refused before anything is written
    try:
        _report_preview(live.build())
    except Qa2AnkiError:
        live.close()
        raise
    typer.echo(f"Serving the preview at {address}; it reloads when a source changes. Ctrl-C stops.")
    if open_page:
        _open_page(address, address)

    def report(changed: list[Path], result: PreviewResult | Qa2AnkiError) -> None:
        typer.echo("Changed: " + ", ".join(str(path) for path in changed))
        if isinstance(result, Qa2AnkiError):
            typer.echo(f"{_print_problems(result)} found; the page is as it was.", err=True)
        else:
            _report_preview(result)

    live.watch(report)
    typer.echo("Stopped.")


def _report_preview(result: PreviewResult) -> None:
    deck = result.deck
    _warn(deck.warnings)
    typer.echo(
        f"Wrote {_count(result.cards, 'card')} in {_count(len(deck.topics), 'topic')} "
        f"to {result.output}"
    )


def _open_page(address: str, shown: object) -> None:
    import webbrowser

    if not webbrowser.open(address):
        typer.echo(f"Found no web browser to open; open {shown} yourself.", err=True)


@app.command()
@_reports_errors()
def check(ctx: typer.Context, source: SourceArgument = Path("questions")) -> None:
    """Validate the sources without writing anything; report every problem at once."""
    from qa2anki.build import check_sources

    deck = check_sources(source)
    _warn(deck.warnings)
    warned = f" ({_count(len(deck.warnings), 'warning')})" if deck.warnings else ""
    typer.echo(
        f"OK: {_count(deck.question_count, 'question')} in {_count(len(deck.topics), 'topic')} "
        f"in {source}{warned}"
    )


@app.command("import")
@_reports_errors(writes=True)
def import_markdown(
    ctx: typer.Context,
    markdown: Annotated[
        list[Path],
        typer.Argument(
            metavar="MARKDOWN",
            help="Markdown documents of questions and answers, read in this order.",
            show_default=False,
        ),
    ],
    *,
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", metavar="DIR", help="The source folder to write the deck into."
        ),
    ] = Path("questions"),
    name: Annotated[
        str | None,
        typer.Option(
            "--name", help="The deck's name.", show_default="the title, or the file's name"
        ),
    ] = None,
    key: Annotated[
        str | None,
        typer.Option("--key", help="The deck's key.", show_default="made from the name"),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite files that exist in DIR.")
    ] = False,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict", help="Write nothing if a question has no answer (instead of skipping it)."
        ),
    ] = False,
    update: Annotated[
        bool,
        typer.Option(
            "--update",
            help="Import again into DIR's deck, keeping the ids (and so the reviews) of the "
            "questions it has.",
        ),
    ] = False,
    question_level: Annotated[
        int | None,
        typer.Option(
            "--question-level",
            min=1,
            max=6,
            metavar="N",
            help="Headings of this level (## is 2) are questions, their sections the answers.",
            show_default="the level whose headings are mostly questions",
        ),
    ] = None,
    topic_level: Annotated[
        int | None,
        typer.Option(
            "--topic-level",
            min=1,
            max=6,
            metavar="N",
            help="Headings of this level start topics; deeper ones are part of answers.",
            show_default="every heading above the question level",
        ),
    ] = None,
) -> None:
    """Turn Markdown Q&A documents into a source folder (nothing is written on error)."""
    from qa2anki.importer import import_markdown as import_documents

    result = import_documents(
        markdown,
        output,
        name=name,
        key=key,
        force=force,
        strict=strict,
        update=update,
        question_level=question_level,
        topic_level=topic_level,
    )
    _print_import_summary(result)
    typer.echo(
        f"Wrote {_count(result.question_count, 'question')} in "
        f"{_count(len(result.files), 'topic')} to {result.output} "
        f"(deck '{result.name}', key '{result.key}')"
    )


def _print_skipped(result: ImportResult) -> None:
    """Say what text the import left out, with its lines."""
    from qa2anki.reader import BACK_TO_TOP

    unanswered_topics = {question.topic for question in result.unanswered}
    links = [section for section in result.skipped if section.what == BACK_TO_TOP]
    for section in result.skipped:
        where = f"{section.path}:{section.line}" + (
            f"-{section.end}" if section.end > section.line else ""
        )
        what = section.what
        if what == "no questions" and section.name in unanswered_topics:
            what = "no answered questions"
        if section.name is not None:
            typer.echo(f"Skipped '{section.name}' ({where}): {what}")
        elif what != BACK_TO_TOP:
            typer.echo(f"Skipped {what} ({where})")
    if links:
        first = links[0]
        typer.echo(
            f"Skipped {_count(len(links), 'link')} back to the top "
            f"(first at {first.path}:{first.line})"
        )


def _print_import_summary(result: ImportResult) -> None:
    """Say, before the closing line, what an import read, left out, kept and copied."""
    for file in result.files:
        left_out = sum(1 for q in result.unanswered if q.topic == file.topic.name)
        typer.echo(
            f"{file.topic.name}: {_count(len(file.topic.questions), 'question')}"
            + (f", {left_out} skipped (no answer)" if left_out else "")
        )
    for question in result.unanswered:
        flat = " ".join(question.q.split())
        shown = flat if len(flat) <= 60 else flat[:57] + "..."
        what = f"question '{shown}'" if shown else "a question"
        typer.echo(f"Skipped {what} ({question.path}:{question.line}): {question.why}")
    _print_skipped(result)
    if result.matches is not None:
        matches = result.matches
        added = result.question_count - len(matches.kept)
        typer.echo(
            f"Kept the ids of {_count(len(matches.kept), 'question')} "
            f"({len(matches.similar)} with edited text), {added} new"
        )
        if matches.similar:
            typer.echo("Kept for edited text: " + ", ".join(matches.similar))
        if matches.removed:
            typer.echo(
                "No longer in the documents: "
                + ", ".join(matches.removed)
                + " (their notes stay in Anki: see the next build's report)"
            )
    for path in result.removed_files:
        typer.echo(f"Removed {path}: the documents no longer make this topic")
    for html in result.html:
        typer.echo(
            f"HTML {html.kind}: {_count(html.count, 'time')} (first at {html.path}:{html.line}), "
            f"{html.outcome}"
        )
    for warning in result.image_warnings:
        typer.echo(str(warning))
    if result.web_images:
        path, line = result.web_images[0]
        typer.echo(
            f"Images from the web: {_count(len(result.web_images), 'image')} (first at "
            f"{path}:{line}), made links: cards show no images from the web (save one beside "
            "the topic file and give its path to show it)"
        )
    if result.images:
        typer.echo(f"Copied {_count(len(result.images), 'image')} of the documents")


@app.command()
@_reports_errors(writes="write")
def ids(
    ctx: typer.Context,
    source: SourceArgument = Path("questions"),
    write: Annotated[
        bool, typer.Option("--write", help="Insert the missing ids into the YAML files.")
    ] = False,
) -> None:
    """List the questions that have no id; with --write, add generated ids to the files."""
    from qa2anki.ids import plan_ids, write_ids
    from qa2anki.loader import ids_command

    plan = plan_ids(source)
    if write:
        write_ids(plan)
    if not plan.new_ids:
        total = plan.deck.question_count
        typer.echo(f"All {_count(total, 'question')} in {source} have ids.")
        return
    for new_id in plan.new_ids:
        where = f"{new_id.question.path}:{new_id.question.line}"
        if write:
            typer.echo(f"{where}: added id '{new_id.id}'")
        else:
            typer.echo(f"{where}: question has no id (suggested: '{new_id.id}')")
    count = len(plan.new_ids)
    if write:
        files = len({new_id.question.path for new_id in plan.new_ids})
        typer.echo(f"Added {_count(count, 'id')} to {_count(files, 'file')}.")
    else:
        command = ids_command(source)
        them = "it" if count == 1 else "them"
        typer.echo(f"{_count(count, 'question')} without an id; add {them} with: {command}")


@app.command()
@_reports_errors()
def schema(
    ctx: typer.Context,
    kind: Annotated[
        Literal["deck", "topic"],
        typer.Argument(metavar="KIND", help="deck (for deck.yaml) or topic (for topic files)."),
    ],
) -> None:
    """Print the JSON Schema of deck.yaml or of topic files, for editors."""
    from qa2anki.schema import schema_json

    typer.echo(schema_json(kind), nl=False)


def _output_file(output: str | None) -> Path | None:
    """Return an output option as a path; a name that ends with a slash, or with "/." (which
    ``Path`` would drop), is a folder's."""
    if output is not None and output.replace(os.sep, "/").endswith(("/", "/.")):
        raise OutputError(f"{output}: is a folder, not a file")
    return None if output is None else Path(output)


def _fail(exc: Qa2AnkiError, consequence: str, *, debug: bool) -> NoReturn:
    """Print a user error as `path:line: message` lines and exit with status 1."""
    _show_traceback(exc, debug=debug)
    summary = f"{_print_problems(exc)} found"
    if isinstance(exc, ValidationError):
        typer.echo(f"{summary}; {consequence}." if consequence else f"{summary}.", err=True)
    raise typer.Exit(1)


def _print_problems(exc: Qa2AnkiError) -> str:
    """Print an error's problems in red, one a line; return how many ("2 problems")."""
    problems = exc.problems if isinstance(exc, ValidationError) else [exc]
    for problem in problems:
        typer.secho(f"{problem}", fg=typer.colors.RED, err=True)
    return _count(len(problems), "problem")


def _warn(warnings: Sequence[Qa2AnkiError]) -> None:
    """Print what the cards will not show as written; a warning does not stop a command."""
    for warning in warnings:
        typer.secho(
            f"{warning.location()}warning: {warning.message}", fg=typer.colors.YELLOW, err=True
        )


def _show_traceback(exc: BaseException, *, debug: bool) -> None:
    """With --debug, print the traceback of an error before its message."""
    if debug:
        typer.echo("".join(traceback.format_exception(exc)).rstrip("\n"), err=True)


def _size(size: int) -> str:
    """Show a size in bytes as people read it: 512 bytes, 3.4 KiB, 1.2 MiB."""
    if size < 1024:
        return _count(size, "byte")
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / (1024 * 1024):.1f} MiB"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def main() -> None:
    """Run the command line."""
    app(prog_name="qa2anki")
