"""The start-up floors: a bare Typer app shaped like qa2anki's (a --version option on the
app, a command), with Typer's default settings.  `--version` is the floor of `qa2anki --help`
and `--version`; `build SOURCE -o OUTPUT` that of a build: it takes the same arguments and
imports the libraries a build uses, and does nothing else."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(add_completion=False)


def _show_version(value: bool) -> None:
    if value:
        typer.echo("bare 0")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_show_version, is_eager=True)
    ] = False,
) -> None:
    """Do nothing."""


@app.command()
def run() -> None:
    """Do nothing."""


@app.command()
def build(source: Path, output: Annotated[Path, typer.Option("--output", "-o")]) -> None:
    """Import what a build of qa2anki's uses; do nothing with it."""
    import sqlite3  # noqa: F401, PLC0415

    import genanki  # noqa: F401, PLC0415
    import markdown_it  # noqa: F401, PLC0415
    import mdit_py_plugins.dollarmath  # noqa: PLC0415
    import mdit_py_plugins.texmath  # noqa: F401, PLC0415
    import nh3  # noqa: F401, PLC0415
    import pygments.formatters.html  # noqa: PLC0415
    import pygments.lexers  # noqa: F401, PLC0415
    import yaml  # noqa: F401, PLC0415


if __name__ == "__main__":
    app()
