"""The start-up floor for `qa2anki --help` and `--version`: a bare Typer app shaped like
qa2anki's (a --version option on the app, one command), with Typer's default settings."""

from __future__ import annotations

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


if __name__ == "__main__":
    app()
