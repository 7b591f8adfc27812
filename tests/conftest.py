"""Shared paths and helpers for the tests."""

from __future__ import annotations

import shutil
import struct
import textwrap
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import settings

from qa2anki import build

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "questions"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
INVALID = FIXTURES / "invalid"

DECK_YAML = "key: test-deck\nname: Test Deck\n"

# No time limit per example: on a busy machine (a CI runner, tests running side by side) a
# first example that loads a lexer can take longer than Hypothesis's default 200 ms, which
# would fail a test that is right.
settings.register_profile("qa2anki", deadline=None)
settings.load_profile("qa2anki")


def write_sources(folder: Path, files: Mapping[str, str]) -> Path:
    """Write a source folder from {file name: YAML text}; the text is dedented."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return folder


def png_bytes(width: int = 2, height: int = 1, rgb: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """Return a valid PNG of one colour (browsers and Anki decode it)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\0" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


@pytest.fixture(autouse=True)
def _render_cache_outside_the_project(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keep the command line's render cache (build/.cache) out of the working tree."""
    monkeypatch.setattr(build, "DEFAULT_CACHE_DIR", tmp_path_factory.mktemp("render-cache"))


# The random suffix of a new deck's key ("my-deck-3f9c") as the docs and fixtures show it.
KEY_SUFFIX = "3f9c"


@contextmanager
def fixed_key_suffix() -> Iterator[str]:
    """Make every new deck key end in KEY_SUFFIX instead of four random hex digits."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("qa2anki.ids.secrets.token_hex", lambda nbytes: KEY_SUFFIX)
        yield KEY_SUFFIX


@pytest.fixture
def shipped_copy(tmp_path: Path) -> Path:
    """A private copy of the project's own questions/ folder, free to edit."""
    return Path(shutil.copytree(QUESTIONS, tmp_path / "questions"))


@pytest.fixture
def small_sources(tmp_path: Path) -> Path:
    """A two-topic deck with a code answer."""
    return write_sources(
        tmp_path / "small",
        {
            "deck.yaml": DECK_YAML,
            "01-basics.yaml": """\
                topic: Basics
                tags: [starter]
                questions:
                  - id: first
                    q: What is **one**?
                    a: The number `1`.
                  - id: second
                    q: What is two?
                    a: |
                      ```python
                      print(1 + 1)
                      ```
                    tags: [code]
                """,
            "02-more.yaml": """\
                topic: More
                questions:
                  - id: third
                    q: What is three?
                    a: Three.
                """,
        },
    )
