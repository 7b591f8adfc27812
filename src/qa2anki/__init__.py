"""qa2anki: turn a folder of questions and answers into an Anki deck that re-imports cleanly."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
