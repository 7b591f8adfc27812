"""Question ids: readable slugs made from question text, and adding missing ones to sources.

An id is part of a note's GUID, so it is written into the sources once and never changes:
ids are only ever added to questions that have none, by inserting one line into the YAML
text and leaving every other byte of the file as it was.
"""

from __future__ import annotations

import re
import secrets
import shutil
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from qa2anki import cloze
from qa2anki.errors import SourceError, ValidationError
from qa2anki.files import write_files
from qa2anki.loader import (
    SLUG_MAX,
    SLUG_RE,
    MissingId,
    load_deck,
    load_deck_allowing_missing_ids,
)
from qa2anki.model import Deck, Question

# Words that say little about a question; an id keeps the ones that do.
_STOP_WORDS = """
    a about after an and any are as at be been before being between both but by can could
    did do does doing during each explain for from had has have how i if in into is it its
    me mean means my of on or our should so some such tell than that the their them
    then there these they this those to us use used using was we were what when where which
    while who whom whose why will with would you your
"""
STOP_WORDS = frozenset(_STOP_WORDS.split())
ID_WORDS = 5  # at most this many words ...
ID_LENGTH = 40  # ... and this many characters, before any "-2" that makes an id unique
FALLBACK_ID = "question"


_POSSESSIVE_RE = re.compile(r"(?<=[A-Za-z])['\u2019]s\b")
_APOSTROPHE_RE = re.compile(r"(?<=[A-Za-z])['\u2019](?=[A-Za-z])")


def slug_words(text: str) -> list[str]:
    """Return the lowercase ASCII words of ``text``: accents dropped, punctuation split, and
    apostrophes kept inside words ("what's" is "what", "don't" is "dont")."""
    text = _APOSTROPHE_RE.sub("", _POSSESSIVE_RE.sub("", text))
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.findall(r"[a-z0-9]+", folded.lower())


def slug_from_words(words: Sequence[str], max_words: int, max_length: int) -> str:
    """Join the first words with hyphens, stopping before ``max_length`` characters."""
    slug = ""
    for word in words[:max_words]:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > max_length:
            break
        slug = candidate
    return slug or (words[0][:max_length] if words else "")


# Two bytes of randomness: "my-deck-3f9c".  A key namespaces every note's GUID, so two decks
# made under the same name (one imported beside another, say) must not share one.
KEY_SUFFIX_BYTES = 2


def new_deck_key(name: str) -> str:
    """Return a key for a new deck: its name as a slug, then a short random suffix."""
    suffix = secrets.token_hex(KEY_SUFFIX_BYTES)
    stem = slug_from_words(slug_words(name), SLUG_MAX, SLUG_MAX - len(suffix) - 1) or "deck"
    return f"{stem}-{suffix}"


def make_unique(slug: str, taken: set[str]) -> str:
    """Return ``slug``, or ``slug-2``, ``slug-3`` ... whichever is not in ``taken``."""
    candidate, number = slug, 1
    while candidate in taken:
        number += 1
        suffix = f"-{number}"
        candidate = slug[: SLUG_MAX - len(suffix)].rstrip("-") + suffix
    return candidate


# A code span's content: what lies between a run of backticks and the next run as long.
_CODE_SPAN_RE = re.compile(r"(?<!`)(?P<ticks>`+)(?!`)(?P<code>.+?)(?<!`)(?P=ticks)(?!`)", re.DOTALL)


def question_id(text: str, taken: set[str]) -> str:
    """Make a readable id for a question from its text, unique among ``taken``.

    The id keeps the question's telling words: "What is the difference between a list and a
    tuple?" gets ``difference-list-tuple``, and every word of its code: "What does the `with`
    statement do?" gets ``with-statement``.  The same text and ``taken`` always give the same
    id.  The caller adds the id to ``taken``.
    """
    # Markdown punctuation, inline code markers and cloze deletions' marks are not words;
    # their contents are (card 0 is no deletion's: each shows as its text, without its hint).
    words: list[str] = []
    telling: list[str] = []
    for part, in_code in _code_and_text(cloze.show_card(text, 0, answer=True)):
        for word in slug_words(part):
            words.append(word)
            if in_code or word not in STOP_WORDS:
                telling.append(word)
    telling = telling or words
    slug = slug_from_words(telling, ID_WORDS, ID_LENGTH) or FALLBACK_ID
    unique = make_unique(slug, taken)
    assert SLUG_RE.fullmatch(unique), unique
    assert len(unique) <= SLUG_MAX, unique
    return unique


def _code_and_text(text: str) -> Iterator[tuple[str, bool]]:
    """Split Markdown into its code spans and the text between them, in order."""
    end = 0
    for span in _CODE_SPAN_RE.finditer(text):
        yield text[end : span.start()], False
        yield span["code"], True
        end = span.end()
    yield text[end:], False


@dataclass(frozen=True)
class NewId:
    """An id for a question that has none, and where in its file it goes."""

    missing: MissingId
    id: str

    @property
    def question(self) -> Question:
        return self.missing.question


@dataclass(frozen=True)
class IdPlan:
    """The deck as loaded, and the ids its questions without one would get."""

    deck: Deck
    new_ids: tuple[NewId, ...]


def plan_ids(source: Path) -> IdPlan:
    """Load the sources allowing missing ids, and choose an id for each question without one.

    Ids are chosen in deck order, each unique against every id already in the deck.

    Raises:
        ValidationError: the sources have problems other than missing ids.
    """
    deck, missing = load_deck_allowing_missing_ids(source)
    taken = {question.id for topic in deck.topics for question in topic.questions}
    new_ids = []
    for item in missing:
        qid = question_id(item.question.q, taken)
        taken.add(qid)
        new_ids.append(NewId(item, qid))
    return IdPlan(deck, tuple(new_ids))


def write_ids(plan: IdPlan) -> None:
    """Insert the planned ids into the topic files, replacing them atomically.

    The edit is textual: one ``id:`` line (or ``id: ..., `` in a flow mapping) is inserted per
    question, and every other byte of the file stays as it was.  The edited files are loaded
    again before anything is written; if they do not give the same deck with the new ids,
    nothing is written.

    Raises:
        ValidationError: an id could not be inserted where it belongs; nothing was written.
        OutputError: a file could not be written.
    """
    by_file: dict[Path, list[NewId]] = {}
    for new_id in plan.new_ids:
        by_file.setdefault(new_id.question.path, []).append(new_id)
    edited = {path: insert_ids(path.read_bytes(), new_ids) for path, new_ids in by_file.items()}
    _check_edit(plan, edited)
    # Topic files all live directly in the source folder: one unit of files to replace.
    write_files(plan.deck.source, {path.name: content for path, content in edited.items()})


def insert_ids(content: bytes, new_ids: Iterable[NewId]) -> bytes:
    """Return a topic file's bytes with the ids inserted at the start of their questions."""
    text = content.decode("utf-8")
    newline = "\r\n" if "\r\n" in text else "\n"
    # From the end, so that the earlier offsets stay valid.
    for new_id in sorted(new_ids, key=lambda n: n.missing.index, reverse=True):
        where = new_id.missing
        if where.flow:
            at, inserted = where.index + 1, f"id: {new_id.id}, "
        else:
            at, inserted = where.index, f"id: {new_id.id}{newline}{' ' * where.column}"
        text = text[:at] + inserted + text[at:]
    return text.encode("utf-8")


def _check_edit(plan: IdPlan, edited: dict[Path, bytes]) -> None:
    """Load the sources as they would be after the edit; they must be the same questions."""
    source = plan.deck.source
    expected = {(n.question.path.name, n.question.line): n.id for n in plan.new_ids}
    with tempfile.TemporaryDirectory(prefix="qa2anki-") as scratch:
        copy = Path(scratch) / "source"
        shutil.copytree(source, copy, symlinks=False)
        for path, content in edited.items():
            (copy / path.name).write_bytes(content)
        try:
            after = load_deck(copy)
        except ValidationError:
            after = None
    problems = []
    if after is None or len(after.topics) != len(plan.deck.topics):
        problems = [
            SourceError(
                f"cannot insert the id '{n.id}' here; add it by hand",
                n.question.path,
                n.question.line,
            )
            for n in plan.new_ids
        ]
    else:
        for before_topic, after_topic in zip(plan.deck.topics, after.topics, strict=True):
            for before, now in zip(before_topic.questions, after_topic.questions, strict=False):
                wanted = before.id or expected.get((before.path.name, before.line))
                same = (before.q, before.a, before.tags) == (now.q, now.a, now.tags)
                if not same or now.id != wanted:
                    problems.append(
                        SourceError(
                            f"cannot insert the id '{wanted}' here; add it by hand",
                            before.path,
                            before.line,
                        )
                    )
            if len(before_topic.questions) != len(after_topic.questions):
                problems.append(
                    SourceError(
                        "cannot insert ids in this file; add them by hand", before_topic.path
                    )
                )
    if problems:
        raise ValidationError(problems)
