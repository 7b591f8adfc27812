"""Start a deck: a project folder with a source folder of one example topic, ready to build.

The layout is the one every command expects by default: ``questions/`` holds the sources,
``build/`` (ignored by git) the decks.  Each YAML file names its JSON Schema, written beside it
in ``.qa2anki/``, so that editors with a YAML language server complete and check its keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from qa2anki.errors import SourceError, ValidationError
from qa2anki.files import write_files
from qa2anki.ids import new_deck_key
from qa2anki.importer import deck_yaml
from qa2anki.loader import CONTROL_RE, DECK_FILE, valid_deck_name
from qa2anki.schema import schema_json

SOURCE_FOLDER = "questions"
SCHEMA_FOLDER = ".qa2anki"
TOPIC_FILE = "01-first-steps.yaml"

EXAMPLE_TOPIC = """\
topic: First Steps
questions:
  - id: what-is-this-deck
    q: What is this deck for?
    a: |
      Questions you want to remember. Edit this file, or add topic files beside it
      (`02-next-topic.yaml`), then build again: Anki updates exactly what you changed
      and keeps your reviews.
  - id: reverse-a-list
    q: How do you reverse a list in Python?
    a: |
      Slice it with a step of -1, or reverse it in place:

      ```python
      items = [1, 2, 3]
      print(items[::-1])  # [3, 2, 1]
      items.reverse()
      ```
  - id: good-flashcard
    q: What makes a good flashcard?
    a: |
      - one fact per card
      - a question with one right answer
      - an answer you can say in one breath
  - id: list-vs-tuple
    type: cloze
    text: A {{c1::list}} can change after it is made; a {{c2::tuple}} cannot.
    extra: A cloze makes one card per number, hiding that number's words.
"""


@dataclass(frozen=True)
class NewDeck:
    """What ``new`` wrote."""

    folder: Path
    name: str
    key: str
    files: tuple[str, ...]
    """The files written, relative to ``folder``."""


def new_deck(folder: Path, name: str | None = None, *, force: bool = False) -> NewDeck:
    """Write a new deck's project into ``folder``: its sources, their schemas, a .gitignore.

    Raises:
        ValidationError: ``folder`` is a file, or is not empty (without ``force``), or holds
            one of the files already, or the name is not usable; nothing was written.
        OutputError: the files could not be written; ``folder`` is as it was.
    """
    deck_name = " ".join((_name_from_folder(folder) if name is None else name).split())
    problems = _name_problems(deck_name)
    if folder.exists() and not folder.is_dir():
        problems.append(SourceError("is a file, not a folder", folder))
    elif folder.is_dir() and any(folder.iterdir()) and not force:
        problems.append(
            SourceError(
                "is not empty: start the deck in a new folder (qa2anki new my-deck), "
                "or use --force to write its files here",
                folder,
            )
        )
    if problems:
        raise ValidationError(problems)
    key = new_deck_key(deck_name)
    sources = f"../{SCHEMA_FOLDER}"
    files = {
        f"{SOURCE_FOLDER}/{DECK_FILE}": _schema_line(f"{sources}/deck.schema.json")
        + deck_yaml(key, deck_name),
        f"{SOURCE_FOLDER}/{TOPIC_FILE}": _schema_line(f"{sources}/topic.schema.json")
        + EXAMPLE_TOPIC,
        f"{SCHEMA_FOLDER}/deck.schema.json": schema_json("deck"),
        f"{SCHEMA_FOLDER}/topic.schema.json": schema_json("topic"),
        ".gitignore": "# Decks, previews and the render cache: made again by `qa2anki build`.\n"
        "build/\n",
    }
    # --force lets the files in beside others, never over them: a deck.yaml holds a key.
    in_the_way = [
        SourceError("exists; qa2anki new never replaces a file: move it away first", folder / path)
        for path in files
        if (folder / path).exists()
    ] + [
        SourceError("is a file, where qa2anki new writes a folder: move it away first", parent)
        for parent in dict.fromkeys((folder / path).parent for path in files)
        if parent.exists() and not parent.is_dir()
    ]
    if in_the_way:
        raise ValidationError(in_the_way)
    write_files(folder, {path: text.encode("utf-8") for path, text in files.items()})
    return NewDeck(folder, deck_name, key, tuple(files))


def _name_problems(name: str) -> list[SourceError]:
    if not name:
        return [SourceError("the deck name is empty; give one with --name")]
    if CONTROL_RE.search(name):
        return [SourceError("the deck name contains a control character; give one with --name")]
    if not valid_deck_name(name):
        return [SourceError(f"deck name '{name}' has an empty part between '::'; use --name")]
    return []


def _schema_line(schema: str) -> str:
    return f"# yaml-language-server: $schema={schema}\n"


def _name_from_folder(folder: Path) -> str:
    """Return a deck name from the folder's name: "my_deck" gives "My Deck"."""
    words = folder.resolve().name.replace("_", " ").replace("-", " ").split()
    name = " ".join(word[:1].upper() + word[1:] for word in words)
    return name or "My Deck"
