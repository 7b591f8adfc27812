"""The validated deck, as plain data: what the loader returns and every later stage reads."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from qa2anki.errors import SourceError
    from qa2anki.media import Media


NOTE_TYPES = ("basic", "reversed", "cloze")


# Tuples, like RenderedQuestion below: a large deck has many questions, and a tuple is made
# in a third of the time of a frozen dataclass.
class Question(NamedTuple):
    """One question of a topic, its text still in Markdown."""

    id: str
    q: str
    a: str
    tags: tuple[str, ...]
    path: Path
    line: int
    q_line: int
    """The line of the question text's first line in the file."""
    a_line: int
    """The line of the answer text's first line in the file."""
    type: str = "basic"
    """Its note type: "basic", "reversed" (a card each way) or "cloze" (``q`` holds the cloze
    text, ``a`` the extra)."""


@dataclass(frozen=True)
class Topic:
    """One topic file: a subdeck and a tag."""

    slug: str
    name: str
    tags: tuple[str, ...]
    questions: tuple[Question, ...]
    path: Path


@dataclass(frozen=True)
class Deck:
    """The whole source folder: ``deck.yaml`` and its topics, in file-name order."""

    key: str
    name: str
    description: str
    topics: tuple[Topic, ...]
    source: Path
    media: Media
    """The images the texts show."""
    warnings: tuple[SourceError, ...]
    """What the cards will not show as written (raw HTML that is dropped), in file order."""

    @property
    def question_count(self) -> int:
        return sum(len(topic.questions) for topic in self.topics)


class RenderedQuestion(NamedTuple):
    """A question with its card HTML, ready to be packaged."""

    question: Question
    topic: Topic
    question_html: str
    answer_html: str


@dataclass(frozen=True)
class RenderedDeck:
    """The deck with all its HTML rendered: the input of packaging."""

    deck: Deck
    description_html: str
    questions: tuple[RenderedQuestion, ...]
