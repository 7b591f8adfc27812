"""qa2anki: turn a folder of questions and answers into an Anki deck that re-imports cleanly.

The public API is the pipeline and its errors::

    from qa2anki import build_deck
    result = build_deck(Path("questions"))      # load → validate → render → package → write
    print(result.output)

The heavy stages load on first use, so that importing qa2anki (and ``qa2anki --help``) is fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from qa2anki.errors import OutputError, Qa2AnkiError, SourceError, ValidationError

if TYPE_CHECKING:
    from qa2anki.build import BuildResult, PreviewResult, build_deck, build_preview, check_sources
    from qa2anki.importer import import_markdown
    from qa2anki.loader import load_deck

__version__ = "0.1.0"

__all__ = [
    "BuildResult",
    "OutputError",
    "PreviewResult",
    "Qa2AnkiError",
    "SourceError",
    "ValidationError",
    "__version__",
    "build_deck",
    "build_preview",
    "check_sources",
    "import_markdown",
    "load_deck",
]

_LAZY = {
    "BuildResult": "qa2anki.build",
    "PreviewResult": "qa2anki.build",
    "build_deck": "qa2anki.build",
    "build_preview": "qa2anki.build",
    "check_sources": "qa2anki.build",
    "import_markdown": "qa2anki.importer",
    "load_deck": "qa2anki.loader",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'qa2anki' has no attribute {name!r}")
