"""Read Markdown Q&A documents and write them as a source folder (``deck.yaml`` + topic files).

The reader understands what people write in their notes::

    # Python Interview              <- a lone level-1 heading is the document's title
    ## 1-10: **Basics**             <- any other heading starts a topic ("Basics")

    1. **Q**: What is a list?       <- `Q:`, `**Q**:`, `**Q:**`, `Question:` ..., in a list
       **A**: A mutable sequence.      item or not; the answer runs on in the item's lines
                                       (or, outside a list, until the next question)
    Q: How do you make a class?
    A:
    ```python                       <- a fence (here or right after `A:`) or, in an answer,
    class C: ...                       an indented code block: a `Q:` in code is code
    ```

Sections without questions (a preface, "Next Steps") are skipped and listed; anything that
looks like part of a question but is not (an answer without a question, a question without
an answer, an unclosed code fence, text between the questions) is reported with its line.
"""

from __future__ import annotations

import difflib
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from html import escape
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote

import yaml
from markdown_it import MarkdownIt

from qa2anki import cloze, markup
from qa2anki.errors import OutputError, SourceError, StateError, ValidationError
from qa2anki.files import write_files
from qa2anki.ids import (
    STOP_WORDS,
    make_unique,
    new_deck_key,
    question_id,
    slug_from_words,
    slug_words,
)
from qa2anki.layout import MARKER_RE as _MARKER_RE
from qa2anki.layout import (
    Details,
    Table,
    is_answer_label,
    is_label_heading,
    is_question,
    marker_word,
    question_text,
    read_layout,
    strip_emphasis,
    unquote_questions,
)
from qa2anki.loader import (
    CONTROL_RE,
    DECK_FILE,
    SLUG_MAX,
    SLUG_RE,
    TOPIC_SUFFIXES,
    DeckHeader,
    clean_text,
    load_deck,
    not_utf8,
    read_deck_file,
    valid_deck_name,
)
from qa2anki.media import image_refs, is_link
from qa2anki.model import Deck
from qa2anki.render import inline_tokens, render_markdown
from qa2anki.state import read_state, state_path

_HEADING_RE = re.compile(r" {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*$")
_HEADING_CLOSE_RE = re.compile(r"(?:^|[ \t]+)#+$")
_RULE_RE = re.compile(r" {0,3}(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,})$")
_SETEXT_RE = re.compile(r" {0,3}(=+|-+)[ \t]*")
_FENCE_OPEN_RE = re.compile(r"(?P<indent> *)(?P<fence>`{3,}(?=[^`]*$)|~{3,})(?P<info>.*)$")
_FENCE_CLOSE_RE = re.compile(r"[ \t]*(?P<fence>`{3,}|~{3,})[ \t]*$")
_BULLET_RE = re.compile(r" *(?:[-*+]|[0-9]{1,9}[.)])(?: |$)")
_ITEM_RE = re.compile(r"(?P<indent> *)(?:(?P<bullet>[-*+]|[0-9]{1,9}[.)])(?P<gap> {1,4}))?")
# A line's indentation and list marker, where tabs count as spaces to the next tab stop.
_INDENT_RE = re.compile(r"[ \t]*(?:(?:[-*+]|[0-9]{1,9}[.)])[ \t]+)?")
# "1-10: " (any dash) or "3. " before a heading's text numbers the sections; it is no name.
_SECTION_NUMBER_RE = re.compile(r"[0-9]+(?:[ \t]*[-\u2013\u2014][ \t]*[0-9]+)?[ \t]*[:.)][ \t]+")
# Emoji and marks before a heading's name: "🔹 ", "# 1. INTRODUCTION".
_MARKS_RE = re.compile(r"^[^\w\s`*_\[(<\\'\"]+\s*")
# A line that starts a new Markdown block, so a line break before it is no line break.
_BLOCK_START_RE = re.compile(r" {0,3}(?:[-*+][ \t]|[0-9]{1,9}[.)][ \t]|#|>|```|~~~|\|)")
_NOT_TEXT_RE = re.compile(r"[\ufffe\uffff]")
# What people write where an answer is still to come ("todo" is also Spanish, "??" an
# operator: only the capitalised markers count).
_PLACEHOLDER_RE = re.compile(
    r"[\s*_-]*(?:TODO|To[Dd]o|TBD|(?i:answer here|your answer here|coming soon|to be "
    r"(?:completed|added|written|done))|\.\.\.|…)[\s*_.!-]*"
)
# What shows nothing: line breaks, spaces.
_NOTHING_RE = re.compile(r"(?i)(?:\s|<br\s*/?>|&nbsp;|\\)*")
# YAML front matter: "---" on the first line, then "key: value" lines up to the next "---".
_FRONT_MATTER_END_RE = re.compile(r"(?:---|\.\.\.)[ \t]*")

BACK_TO_TOP = "a link back to the top"
STRAY = "text after a question, in no answer"
"""What a skipped "↥ back to top" link is (``SkippedSection.what``)."""
TOPIC_SLUG_WORDS = 6
TOPIC_SLUG_LENGTH = 40
FALLBACK_TOPIC_SLUG = "topic"
# What a literal block (`|`) can hold as it is: YAML's printable characters without its
# other line breaks (U+0085, U+2028, U+2029) and without a byte order mark.
_LITERAL_CHARACTERS_RE = re.compile(
    "[\t\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]*"
)


@dataclass(frozen=True)
class ImportedQuestion:
    """One question read from a document, its text in Markdown."""

    q: str
    a: str
    path: Path
    line: int
    end: int = field(default=0, compare=False)
    """The last line of its text."""
    a_line: int = field(default=0, compare=False)
    """The line of the answer's first line."""
    type: str = "basic"
    """"cloze" for a question with deletions (``{{c1::...}}``): ``q`` is its text, ``a`` its
    extra, which may be empty."""

    def lines(self) -> tuple[tuple[str, int], ...]:
        """The question and the answer, each with the line its text starts on."""
        return ((self.q, self.line), (self.a, self.a_line or self.line))


@dataclass(frozen=True)
class ImportedTopic:
    """A section of a document that has questions."""

    name: str
    questions: tuple[ImportedQuestion, ...]
    path: Path
    line: int


@dataclass(frozen=True)
class SkippedSection:
    """Text that is in no question: a section without questions (a preface, "Next Steps"),
    or the text of a section before its first question."""

    name: str | None  # None: the text before the document's first heading
    path: Path
    line: int
    end: int
    what: str = "no questions"


@dataclass(frozen=True)
class UnansweredQuestion:
    """A question that has no answer to import (none, an empty one, or a placeholder)."""

    q: str
    topic: str
    path: Path
    line: int
    why: str
    start: int = 0
    end: int = 0
    """The first and last line of its text."""


@dataclass(frozen=True)
class ImportedDocuments:
    """What the documents hold, in their order."""

    title: str | None  # the first document title found
    default_name: str  # a deck name made from the first document's file name
    topics: tuple[ImportedTopic, ...]
    skipped: tuple[SkippedSection, ...]
    unanswered: tuple[UnansweredQuestion, ...] = ()
    structure: tuple[tuple[Path, int], ...] = ()
    """The lines that name things: topic headings, the title, a question table's header."""
    web_images: tuple[tuple[Path, int], ...] = ()
    """Where images from the web were made links (cards load no images from the web)."""


@dataclass(frozen=True)
class TopicFile:
    """A topic file to write."""

    name: str  # the file's name, e.g. "01-basics.yaml"
    topic: ImportedTopic
    ids: tuple[str, ...]


@dataclass(frozen=True)
class RawHtml:
    """One kind of raw HTML in the documents (``<br>``, ``<img src=https:…>``): how often it
    is there, where first, and what the cards make of it."""

    kind: str
    count: int
    path: Path
    line: int
    outcome: str


@dataclass(frozen=True)
class ImportResult:
    """What an import wrote."""

    name: str
    key: str
    files: tuple[TopicFile, ...]
    skipped: tuple[SkippedSection, ...]
    output: Path
    html: tuple[RawHtml, ...] = ()
    """The raw HTML of the questions and answers, by kind, in the order first found."""
    unanswered: tuple[UnansweredQuestion, ...] = ()
    """The questions left out because they have no answer, in document order."""
    matches: IdMatches | None = None
    """Importing over a deck (``update``, ``force``): the ids kept and removed."""
    removed_files: tuple[Path, ...] = ()
    images: tuple[str, ...] = ()
    """The documents' images copied into ``output``, by the paths the topic files give."""
    web_images: tuple[tuple[Path, int], ...] = ()
    """Where images from the web were made links (see ``link_web_images``)."""
    image_warnings: tuple[SourceError, ...] = ()
    """Images that could not be copied (not found, outside the document's folder)."""
    """With ``update``: the deck's topic files that the documents no longer make."""

    @property
    def question_count(self) -> int:
        return sum(len(file.topic.questions) for file in self.files)


def import_markdown(
    documents: Sequence[Path],
    output: Path,
    *,
    name: str | None = None,
    key: str | None = None,
    force: bool = False,
    strict: bool = False,
    update: bool = False,
    question_level: int | None = None,
    topic_level: int | None = None,
) -> ImportResult:
    """Read Markdown Q&A documents and write them as a source folder in ``output``.

    Args:
        documents: the Markdown files, read in this order.
        output: the folder to write ``deck.yaml`` and one topic file per section into.
        name: the deck's name; by default the documents' title, or the first file's name.
        key: the deck's key; by default the key of the deck already in ``output`` (with
            ``force``), or one made from the deck's name with a random suffix.
        force: overwrite files that exist in ``output``.
        strict: make a question without an answer a problem rather than leave it out.
        update: ``output`` holds the deck imported before: replace its topic files, keeping
            the id of each question it still has (see ``match_ids``), so that Anki updates
            those notes with their reviews.
        question_level, topic_level: the heading levels of questions and of topics; by
            default found from the documents (see ``layout.read_layout``).

    Raises:
        ValidationError: the documents or options have problems, or files would be
            overwritten; nothing was written.
        OutputError: the files could not be written; ``output`` is as it was.
    """
    imported = read_documents(
        documents, strict=strict, question_level=question_level, topic_level=topic_level
    )
    previous = _previous_deck(output) if update else _deck_to_keep(output) if force else None
    existing = _existing_deck(output, force=force or update)
    if existing is not None:
        # Importing again into a deck's folder keeps its key, and so every note's GUID, and
        # its name (Anki matches decks by name) and description, unless options say otherwise.
        key = key or existing.key
        name = name or existing.name
    deck_name, deck_key = _deck_name_and_key(imported, name, key)
    recorded = _recorded_questions(output, deck_key)
    matches = (
        match_ids(imported.topics, previous, recorded) if previous is not None or recorded else None
    )
    had = {q.id for topic in previous.topics for q in topic.questions} if previous else set()
    files = plan_topic_files(
        imported.topics, matches.kept if matches else None, had | set(recorded)
    )
    description = existing.description if existing is not None else ""
    texts = {DECK_FILE: deck_yaml(deck_key, deck_name, description)}
    texts.update({file.name: topic_yaml(file.topic, file.ids) for file in files})
    # --update replaces the deck's topic files; --force only those of the same names.
    topic_files = [topic.path for topic in previous.topics] if previous and update else []
    stale = [path for path in topic_files if path.name not in texts]
    _check_output(output, texts, force=force or update, replaced={path.name for path in stale})
    images, image_warnings = document_images(imported.topics)
    new_images = _images_to_write(output, images, force=force or update)
    _check_reads_back(texts, files)
    _replace_files(output, texts, stale, new_images)
    return ImportResult(
        deck_name,
        deck_key,
        tuple(files),
        imported.skipped,
        output,
        raw_html(imported.topics),
        imported.unanswered,
        matches,
        tuple(stale),
        images=tuple(images),
        image_warnings=tuple(image_warnings),
        web_images=imported.web_images,
    )


def document_images(
    topics: Sequence[ImportedTopic],
) -> tuple[dict[str, bytes], list[SourceError]]:
    """Read the local images the questions show from beside their documents.

    Each is named by its path in the text (``images/a.png``), which the topic files will give
    from ``output``; one that cannot be put there (not found, outside the document's folder)
    is a warning: the deck builds once the image is in place.
    """
    images: dict[str, bytes] = {}
    warnings: list[SourceError] = []
    for topic in topics:
        for question in topic.questions:
            refs = [(ref, first) for text, first in question.lines() for ref in image_refs(text)]
            for ref, first in refs:
                if not ref.src or is_link(ref.src):
                    continue  # a URL: the raw HTML report and the build say what to do
                where = (question.path, first + ref.offset)
                src = unquote(ref.src)
                name = PurePosixPath(src.replace("\\", "/"))
                if name.is_absolute() or ".." in name.parts or re.match(r"[A-Za-z]:", src):
                    warnings.append(
                        SourceError(
                            f"warning: the image {src} is outside the document's folder: copy "
                            "it into the deck's folder and give its path from there",
                            *where,
                        )
                    )
                    continue
                try:
                    data = (question.path.parent / src).read_bytes()
                except OSError:
                    warnings.append(
                        SourceError(
                            f"warning: the image {src} was not found: copy it into the deck's "
                            "folder at that path",
                            *where,
                        )
                    )
                    continue
                images.setdefault(str(name), data)
    return images, warnings


def _images_to_write(output: Path, images: Mapping[str, bytes], *, force: bool) -> dict[str, bytes]:
    """The images ``output`` does not already hold; one it holds with other bytes is a problem
    without ``force``."""
    new = {}
    problems = []
    for name, data in images.items():
        target = output / name
        try:
            same = target.read_bytes() == data
        except OSError:
            same = False
        if same:
            continue
        if target.exists() and not force:
            problems.append(SourceError("exists; use --force to overwrite it", target))
        new[name] = data
    if problems:
        raise ValidationError(problems)
    return new


def _replace_files(
    output: Path,
    texts: Mapping[str, str],
    stale: Sequence[Path],
    images: Mapping[str, bytes] | None = None,
) -> None:
    """Write ``texts`` and ``images`` into ``output`` and remove the ``stale`` topic files,
    all or nothing.

    The stale files are first moved aside under hidden names (which no loader reads), and
    moved back if anything fails.
    """
    aside: list[tuple[Path, Path]] = []

    def put_back() -> None:
        for path, hidden in reversed(aside):
            hidden.replace(path)

    for path in stale:
        hidden = path.with_name(f".{path.name}.replaced")
        try:
            path.replace(hidden)
        except OSError as exc:
            put_back()
            raise OutputError(f"cannot remove: {exc.strerror or exc}", path) from None
        aside.append((path, hidden))
    try:
        write_files(
            output,
            {**{name: text.encode("utf-8") for name, text in texts.items()}, **(images or {})},
        )
    except OutputError:
        put_back()
        raise
    for _, hidden in aside:
        hidden.unlink(missing_ok=True)


def _recorded_questions(output: Path, key: str) -> dict[str, tuple[str, str]]:
    """Return, from the state file in ``output``, each question's topic and text by id: every
    question that builds of this deck (this key) have put in Anki."""
    try:
        state = read_state(state_path(output))
    except StateError:
        return {}  # damaged: the next build says so
    if state.key != key:
        return {}
    root = f"{state.deck}::"
    return {
        qid: (entry.deck.removeprefix(root), entry.question) for qid, entry in state.notes.items()
    }


def _deck_to_keep(output: Path) -> Deck | None:
    """Return the deck ``--force`` imports over, whose ids it keeps: None if there is none
    that loads (its ``deck.yaml``'s problems are reported by ``_existing_deck``)."""
    try:
        return load_deck(output, check_images=False) if (output / DECK_FILE).is_file() else None
    except ValidationError:
        return None


def _previous_deck(output: Path) -> Deck:
    """Return the deck ``--update`` updates.

    Raises:
        ValidationError: ``output`` holds no valid deck.
    """
    if not (output / DECK_FILE).is_file():
        raise ValidationError(
            [
                SourceError(
                    f"--update needs the deck imported before, but there is no {DECK_FILE}", output
                )
            ]
        )
    return load_deck(output, check_images=False)


def raw_html(topics: Sequence[ImportedTopic]) -> tuple[RawHtml, ...]:
    """Count the raw HTML tags of the questions and answers by kind, and say what becomes of
    each kind on the cards (see qa2anki.markup)."""
    found: dict[str, RawHtml] = {}
    for topic in topics:
        for question in topic.questions:
            for text, first in question.lines():
                for token, offset in inline_tokens(text) if "<" in text else ():
                    if token.type != "html_inline" or token.content.startswith("</"):
                        continue  # a closing tag goes with its opening one
                    kind, outcome = _html_kind(token.content)
                    seen = found.get(kind)
                    found[kind] = (
                        RawHtml(kind, 1, question.path, first + offset, outcome)
                        if seen is None
                        else RawHtml(kind, seen.count + 1, seen.path, seen.line, seen.outcome)
                    )
    return tuple(found.values())


def _html_kind(raw: str) -> tuple[str, str]:
    tag = markup.parse_tag(raw)
    if tag is None:
        return ("<!-- -->" if raw.startswith("<!--") else "<!…>"), "shown as text"
    kind = f"<{tag.name}>"
    src = markup.image_src(raw)
    if src is not None and is_link(src):
        return "<img src=link>", (
            "refused by check and build: save each image beside the topic file and give its path"
        )
    kept = markup.keep(raw)
    if kept.html is None:
        return kind, "shown as text"
    return kind, "kept, without some of its attributes" if kept.dropped else "kept"


def read_documents(
    paths: Sequence[Path],
    *,
    strict: bool = False,
    question_level: int | None = None,
    topic_level: int | None = None,
) -> ImportedDocuments:
    """Read every document; report every problem in all of them at once.

    A question without an answer is left out and listed, or with ``strict`` is a problem.

    Raises:
        ValidationError: a document cannot be read or has problems, or none has questions.
    """
    problems: list[SourceError] = []
    if question_level is not None and topic_level is not None and topic_level >= question_level:
        problems.append(
            SourceError(
                f"--topic-level {topic_level} must be above --question-level {question_level} "
                "(a smaller number)"
            )
        )
    title: str | None = None
    topics: list[ImportedTopic] = []
    skipped: list[SkippedSection] = []
    unanswered: list[UnansweredQuestion] = []
    structure: list[tuple[Path, int]] = []
    for path in paths:
        text = _read_text(path, problems)
        if text is None:
            continue
        reader = _DocumentReader(
            path,
            text,
            problems,
            strict=strict,
            question_level=question_level,
            topic_level=topic_level,
        )
        parsed = reader.read()
        title = title or parsed.title
        topics.extend(parsed.topics)
        skipped.extend(parsed.skipped)
        unanswered.extend(parsed.unanswered)
        structure.extend((path, line) for line in parsed.structure)
    _check_topic_names(topics, problems)
    topics, web_images = link_web_images(topics)
    if not problems and not topics:
        where = paths[0] if len(paths) == 1 else None
        if unanswered:
            first = unanswered[0]
            message = (
                f"no answered questions found: {len(unanswered)} without an answer (the first "
                f"at {first.path}:{first.line})"
            )
        else:
            message = (
                "no questions found: mark them as 'Q:' and 'A:' lines, headings, bold lines, "
                "<details> blocks or a table with Question and Answer columns"
            )
        problems.append(SourceError(message, where))
    if problems:
        raise ValidationError(problems)
    return ImportedDocuments(
        title=title,
        default_name=_name_from_file(paths[0]),
        topics=tuple(topics),
        skipped=tuple(skipped),
        unanswered=tuple(unanswered),
        structure=tuple(structure),
        web_images=tuple(web_images),
    )


def link_web_images(
    topics: Sequence[ImportedTopic],
) -> tuple[list[ImportedTopic], list[tuple[Path, int]]]:
    """Make each image from the web (``![badge](https://...)``, ``<img src="https://...">``) a
    link to it, or its alt text inside a link: cards show no images from the web (a build
    refuses them), and the deck then builds as imported. Return the topics and where each was.
    """
    found: list[tuple[Path, int]] = []
    linked = []
    for topic in topics:
        questions = []
        for question in topic.questions:
            texts = []
            for text, first in question.lines():
                with_links, lines = _link_web_images(text)
                texts.append(with_links)
                found.extend((question.path, first + line) for line in lines)
            questions.append(replace(question, q=texts[0], a=texts[1]))
        linked.append(replace(topic, questions=tuple(questions)))
    return linked, found


_MD_IMAGE_RE = re.compile(
    r"!\[(?P<alt>(?:[^\]\\]|\\.)*)\]\(\s*<?(?P<src>[^)\s>]+)>?(?:\s+[^)]*)?\)"
)
_IMG_TAG_RE = re.compile(r"<[iI][mM][gG]\b[^>]*>")


def _link_web_images(text: str) -> tuple[str, list[int]]:
    """Link the web images of one text; return it and the lines they were on (from 0)."""
    if "http" not in text:
        return text, []
    web: list[tuple[str, bool, int]] = []  # src, inside a link, line
    depth = 0
    for token, line in inline_tokens(text):
        depth += {"link_open": 1, "link_close": -1}.get(token.type, 0)
        src = (
            str(token.attrGet("src") or "")
            if token.type == "image"
            else markup.image_src(token.content) or ""
            if token.type == "html_inline"
            else ""
        )
        if src.lower().startswith(("http:", "https:")):
            web.append((src, depth > 0, line))
    if not web:
        return text, []
    pending = list(web)

    def link(match: re.Match[str]) -> str:
        raw = match.group()
        src = match["src"] if raw.startswith("!") else markup.image_src(raw) or ""
        if not pending or pending[0][0] != src:
            return raw
        _, in_link, _ = pending.pop(0)
        if raw.startswith("!"):
            alt = match["alt"] or "image"
            return alt if in_link else f"[{alt}]({src})"
        tag = markup.parse_tag(raw)
        alt = next((value for name, value in tag.attrs if name == "alt"), None) if tag else None
        shown = escape(alt or "image")
        return shown if in_link else f'<a href="{escape(src)}">{shown}</a>'

    linked = re.sub(f"{_MD_IMAGE_RE.pattern}|{_IMG_TAG_RE.pattern}", link, text)
    return linked, [line for _, _, line in web[: len(web) - len(pending)]]


def plan_topic_files(
    topics: Sequence[ImportedTopic],
    kept: Mapping[ImportedQuestion, str] | None = None,
    reserved: Iterable[str] = (),
) -> list[TopicFile]:
    """Name a file for each topic (``01-basics.yaml``) and choose each question's id: the one
    in ``kept`` (see ``match_ids``), or a new one, never one of ``reserved`` (the ids a deck
    had: a new question on an old id would update another question's note)."""
    kept = kept or {}
    width = max(2, len(str(len(topics))))
    slugs: set[str] = set()
    ids: set[str] = {*kept.values(), *reserved}
    files = []
    for number, topic in enumerate(topics, start=1):
        slug = slug_from_words(slug_words(topic.name), TOPIC_SLUG_WORDS, TOPIC_SLUG_LENGTH)
        slug = make_unique(slug or FALLBACK_TOPIC_SLUG, slugs)
        slugs.add(slug)
        topic_ids = []
        for question in topic.questions:
            qid = kept.get(question) or question_id(question.q, ids)
            ids.add(qid)
            topic_ids.append(qid)
        files.append(TopicFile(f"{number:0{width}d}-{slug}.yaml", topic, tuple(topic_ids)))
    return files


@dataclass(frozen=True)
class IdMatches:
    """How ``--update`` matched the imported questions to the deck's: by id, each kept one."""

    kept: Mapping[ImportedQuestion, str]
    similar: tuple[str, ...]
    """The ids kept for a question whose text changed."""
    removed: tuple[str, ...]
    """The ids of the deck's questions that no imported question matched."""


def match_ids(
    topics: Sequence[ImportedTopic],
    previous: Deck | None,
    recorded: Mapping[str, tuple[str, str]] | None = None,
) -> IdMatches:
    """Give each imported question the id of one of the deck's questions, each id once: the
    one with the same text in the same topic, else with the same text, else an edited one.

    An edited question keeps an id only when its question and its answer are both alike (see
    SIMILAR, ANSWER_SIMILAR), the most alike pairs first: a wrong match is worse than none,
    as it would put another question on a note, with that note's reviews.

    ``recorded`` (id: topic and question text, from the state file) adds the questions that
    builds have put in Anki and the sources no longer have (their topic files were removed).
    """
    new = [(topic.name, question) for topic in topics for question in topic.questions]
    # Each question the deck had: its topic, id, question and answer ("" where unknown).
    old = [
        (topic.name, question.id, question.q, question.a)
        for topic in (previous.topics if previous else ())
        for question in topic.questions
    ]
    in_deck = {qid for _, qid, _, _ in old}
    old += [
        (topic, qid, text, "")
        for qid, (topic, text) in (recorded or {}).items()
        if qid not in in_deck
    ]
    by_text: dict[str, list[int]] = {}
    for number, (_, _, text, _) in enumerate(old):
        by_text.setdefault(text, []).append(number)
    # Every candidate pair, scored: the same text in the same topic first, then the same text,
    # then an edited question; within each, the more alike answer (and question) first.
    pairs = []
    for index, (topic_name, after) in enumerate(new):
        same = by_text.get(after.q)
        for number in same or range(len(old)):
            topic, _, text, answer = old[number]
            if same:
                tier = 3 if topic == topic_name else 2
                pairs.append((tier + _similarity(answer, after.a), index, number))
            elif (alike := _alike(text, answer, after.q, after.a)) is not None:
                pairs.append((1 + alike, index, number))
    pairs.sort(key=lambda pair: (-pair[0], pair[1], pair[2]))
    kept: dict[ImportedQuestion, str] = {}
    taken: set[str] = set()
    similar = []
    for score, index, number in pairs:
        imported, qid = new[index][1], old[number][1]
        if imported not in kept and qid not in taken:
            kept[imported] = qid
            taken.add(qid)
            if score < 2:
                similar.append(qid)
    removed = tuple(qid for _, qid, _, _ in old if qid not in taken)
    return IdMatches(kept, tuple(similar), removed)


# How alike an edited question must be to keep an id (see _alike): the share of telling words
# (those an id is made of) the questions and the answers share, of all those of either.
SIMILAR = 0.6
ANSWER_SIMILAR = 0.5
# A typo fixed ("lsit"): how alike the question's characters (difflib's ratio) must be.
TYPO_SIMILAR = 0.85
# A question reworded, its answer kept: how alike the answers' characters, how long.
SAME_ANSWER = 0.9
SAME_ANSWER_LENGTH = 30


def _alike(q_before: str, a_before: str, q_after: str, a_after: str) -> float | None:
    """Return how alike an edited question is to one the deck had (0 to 1, below 1), or None
    when it is another question.

    It is the same question when its words and its answer's are mostly the same ("the capital
    city of France", answer "Paris, on the Seine", was "the capital of France", "Paris"), when
    only a typo changed in it, or when it was reworded and its long answer kept.  "A list and
    a set" with its own answer is not "a list and a tuple".
    """
    words = _similarity(q_before, q_after)
    answer = _similarity(a_before, a_after)
    score = (words + answer) / 2.001  # below 1: never as alike as the same text
    if words >= SIMILAR and answer >= ANSWER_SIMILAR:
        return score
    if answer >= ANSWER_SIMILAR and _ratio(q_before, q_after) >= TYPO_SIMILAR:
        return score
    if (
        len(a_after) >= SAME_ANSWER_LENGTH
        and words >= SIMILAR / 2
        and _ratio(a_before, a_after) >= SAME_ANSWER
    ):
        return score
    return None


def _ratio(a: str, b: str) -> float:
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return matcher.ratio() if matcher.real_quick_ratio() >= TYPO_SIMILAR / 2 else 0.0


def _similarity(a: str, b: str) -> float:
    """Return the share of telling words the two texts have in common (0 to 1)."""
    words_a, words_b = _telling_words(a), _telling_words(b)
    if not words_a or not words_b:
        return 0.0
    return len(words_a & words_b) / len(words_a | words_b)


def _telling_words(text: str) -> frozenset[str]:
    return frozenset(word for word in slug_words(text) if word not in STOP_WORDS)


def deck_yaml(key: str, name: str, description: str = "") -> str:
    """Return the text of a ``deck.yaml``."""
    return (
        "# `key` namespaces every note's id: never change it once the deck is in use.\n"
        f"key: {yaml_scalar(key, 0)}\n"
        f"name: {yaml_scalar(name, 0)}\n"
        + (f"description: {yaml_scalar(description, 0)}\n" if description else "")
    )


def _existing_deck(output: Path, *, force: bool) -> DeckHeader | None:
    """Return what the ``deck.yaml`` already in ``output`` says, if ``force`` is to replace it.

    Raises:
        ValidationError: it has problems: without its key, a new one would make every note
            new to Anki, so it must be fixed first.
    """
    path = output / DECK_FILE
    if not force or not path.is_file():
        return None
    header, problems = read_deck_file(path)
    if header is None:
        problems.append(
            SourceError(
                "import keeps the key of this deck.yaml (and so the notes in Anki): fix it, "
                "or remove it to start a new deck",
                path,
            )
        )
        raise ValidationError(problems)
    return header


def topic_yaml(topic: ImportedTopic, ids: Sequence[str]) -> str:
    """Return the text of a topic file: readable YAML, block scalars for multi-line text."""
    entries = [
        f"  - id: {yaml_scalar(qid, 4)}\n"
        + (
            f"    type: cloze\n    text: {yaml_scalar(question.q, 4)}\n"
            + (f"    extra: {yaml_scalar(question.a, 4)}\n" if question.a else "")
            if question.type == "cloze"
            else f"    q: {yaml_scalar(question.q, 4)}\n    a: {yaml_scalar(question.a, 4)}\n"
        )
        for question, qid in zip(topic.questions, ids, strict=True)
    ]
    return f"topic: {yaml_scalar(topic.name, 0)}\nquestions:\n" + "\n".join(entries)


def yaml_scalar(value: str, indent: int) -> str:
    """Write ``value`` as the YAML scalar that follows ``key: `` in a mapping at ``indent``.

    Multi-line text is a literal block (``|``) whenever its lines can be written as they are;
    one-line text is plain unless it has to be quoted.  The loader reads the scalar back as
    ``value`` (it drops the line break that ends a block).
    """
    if "\n" in value and _literal_block_can_hold(value):
        margin = " " * (indent + 2)
        return "|" + "".join(f"\n{margin}{line}" if line else "\n" for line in value.split("\n"))
    scalar = _dump_scalar(value, None)
    if "\n" in scalar:
        # Double quotes write any text on one line, with escapes: no indentation to get wrong.
        scalar = _dump_scalar(value, '"')
    return scalar


def _literal_block_can_hold(value: str) -> bool:
    lines = value.split("\n")
    return (
        lines[0][:1] not in ("", " ")  # a block's first line sets its indentation
        and lines[-1] != ""  # a block ends in exactly one line break
        and all(line == line.rstrip(" \t") for line in lines)
        and _LITERAL_CHARACTERS_RE.fullmatch(value) is not None
    )


def _dump_scalar(value: str, style: str | None) -> str:
    dumped: str = yaml.dump(
        {"k": value}, allow_unicode=True, width=1_000_000, default_style=style, sort_keys=False
    )
    return dumped.removeprefix('"k": ' if style else "k: ").removesuffix("\n")


def clean_markdown(lines: Sequence[str], code: Sequence[bool]) -> str:
    """Join a question's or answer's lines as the loader would read them back.

    Two spaces at the end of a line are a Markdown line break; the source format drops
    trailing spaces, so such a break becomes a backslash, which it keeps.
    """
    joined = []
    for number, line in enumerate(lines):
        following = lines[number + 1] if number + 1 < len(lines) else ""
        if (
            line.endswith("  ")
            and line.strip()
            and not code[number]
            and following.strip()
            and not code[number + 1]
            and not _BLOCK_START_RE.match(line)
            and not _BLOCK_START_RE.match(following)
        ):
            joined.append(line.rstrip() + "\\")
        else:
            joined.append(line)
    return clean_text("\n".join(joined))


@dataclass
class _Draft:
    """A question being read."""

    line: int
    item_indent: int | None  # the content indent of its list item; None outside a list
    q: list[str] = field(default_factory=list)
    q_code: list[bool] = field(default_factory=list)
    a_line: int | None = None
    a: list[str] = field(default_factory=list)
    a_code: list[bool] = field(default_factory=list)
    a_numbers: list[int] = field(default_factory=list)  # the line each answer line is on
    after_blank: bool = False
    # The least indentation of the indented code block the answer's last text is in, if any.
    code_indent: int | None = None
    # No 'Q:' label marks it: a heading, a bold line, a <details> summary or a table row.
    unlabelled: bool = False
    heading: bool = False  # a heading: its answer runs to the next heading of its level
    level: int = 0  # the heading's level
    end: int = 0  # the last line with text

    def add(
        self, number: int, line: str, *, code: bool = False, code_indent: int | None = None
    ) -> None:
        lines, flags = (self.q, self.q_code) if self.a_line is None else (self.a, self.a_code)
        lines.append(line)
        flags.append(code)
        if self.a_line is not None:
            self.a_numbers.append(number)
        self.after_blank = not line.strip()
        if line.strip():
            self.code_indent = code_indent
            self.end = number

    def answer_started(self) -> bool:
        return self.a_line is not None and any(line.strip() for line in self.a)


@dataclass
class _Section:
    name: str | None  # None: the text before the first heading
    level: int
    line: int
    questions: list[ImportedQuestion] = field(default_factory=list)
    text: list[int] = field(default_factory=list)  # the lines of text in no question
    heading_lines: int = 1  # 2 for a setext heading's text and underline


@dataclass(frozen=True)
class _ParsedDocument:
    title: str | None
    topics: list[ImportedTopic]
    skipped: list[SkippedSection]
    unanswered: list[UnansweredQuestion]
    structure: list[int]


class _DocumentReader:
    """Reads one document line by line into sections of questions."""

    def __init__(
        self,
        path: Path,
        text: str,
        problems: list[SourceError],
        *,
        strict: bool = False,
        question_level: int | None = None,
        topic_level: int | None = None,
    ) -> None:
        self.path = path
        self.strict = strict
        self.unanswered: list[UnansweredQuestion] = []
        text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
        self.lines = text.split("\n")
        self.structure: list[int] = []
        self.front_title = self._read_front_matter()
        self.lines = unquote_questions(self.lines)
        self.layout = read_layout(
            self.lines, question_level=question_level, topic_level=topic_level
        )
        for index, line in self.layout.unwrapped.items():
            self.lines[index] = line
            if not line:
                self.structure.append(index + 1)  # a wrapping tag alone on its line
        self.title: tuple[int, str] | None = None  # a heading that titles the next question
        self.problems = problems
        self.sections = [_Section(None, 0, 1)]
        self.skipped: list[SkippedSection] = []  # text in no section's count: links to the top
        self.draft: _Draft | None = None

    def error(self, line: int, message: str) -> None:
        self.problems.append(SourceError(message, self.path, line))

    def _read_front_matter(self) -> str | None:
        """Blank out YAML front matter (``---``, ``title: ...``, ``---``); return its title."""
        lines = self.lines
        if not lines or lines[0].rstrip() != "---":
            return None
        end = next(
            (n for n in range(1, len(lines)) if _FRONT_MATTER_END_RE.fullmatch(lines[n])), None
        )
        if end is None:
            return None
        try:
            data = yaml.safe_load("\n".join(lines[1:end]))
        except yaml.YAMLError:
            return None
        if not isinstance(data, dict):
            return None
        self.structure.extend(range(1, end + 2))
        self.lines[: end + 1] = [""] * (end + 1)
        title = data.get("title")
        return " ".join(title.split()) if isinstance(title, str) and title.strip() else None

    def read(self) -> _ParsedDocument:
        lines = self.lines
        index = 0
        while index < len(lines):
            index = self._read_line(index, lines[index])
        self._finish_question(at_end=True)
        return self._result()

    def _read_line(self, index: int, raw: str) -> int:
        """Read the line at ``index`` (and any code block it opens); return the next index."""
        number = index + 1
        line = _expand_indent(raw)
        if self._read_indented_code(number, raw, line):
            return index + 1
        after = self._read_block(index)
        if after is not None:
            return after
        fence = _FENCE_OPEN_RE.fullmatch(line)
        if fence:
            return self._read_fence(index, line, fence)
        return self._read_block_line(index, line)

    def _read_block(self, index: int) -> int | None:
        """Read the block that starts at ``index`` if the layout knows it; return the next index."""
        layout = self.layout
        if index in layout.unclosed_details:
            self.error(index + 1, "a <details> block that is never closed (no </details>)")
        readers: tuple[tuple[Mapping[int, Any], Callable[[int, Any], int]], ...] = (
            (layout.details, self._read_details),
            (layout.tables, self._read_table),
            (layout.item_fences, self._read_item_fence),
            (layout.top_links, self._skip_top_link),
            (layout.contents, self._skip_contents),
            (layout.comments, self._skip_comment),
        )
        for blocks, read in readers:
            if index in blocks:
                return read(index, blocks[index])
        return None

    def _skip_top_link(self, index: int, end: int) -> int:
        self.skipped.append(SkippedSection(None, self.path, index + 1, end, BACK_TO_TOP))
        return end

    def _skip_comment(self, index: int, end: int) -> int:
        """An HTML comment on lines of its own: Markdown shows nothing of it."""
        self.structure.extend(range(index + 1, end + 1))
        return end

    def _skip_contents(self, index: int, end: int) -> int:
        """A table of contents: no questions, whatever the level of its heading."""
        self._finish_question()
        text = [number + 1 for number in range(index, end) if self.lines[number].strip()]
        name = _topic_name(self.layout.headings[index][1])
        self.skipped.append(SkippedSection(name, self.path, index + 1, text[-1]))
        return end

    def _read_block_line(self, index: int, line: str) -> int:
        """Read a line that is no code: a heading, a rule, a question, an answer or text."""
        number = index + 1
        item = _ITEM_RE.match(line)
        assert item is not None  # every part of it is optional
        heading = _HEADING_RE.fullmatch(line)
        if heading:
            text = _HEADING_CLOSE_RE.sub("", heading[2] or "")
            self._read_heading(index, [line], text, len(heading[1]))
            return index + 1
        marker = _MARKER_RE.match(line, item.end())
        underline = self._setext_underline(index, line, marker)
        if underline:
            level = 1 if underline.startswith("=") else 2
            self._read_heading(index, [line, self.lines[index + 1]], line, level)
            return index + 2
        if self._read_unlabelled(index, line, item):
            return index + 1
        if marker:
            return self._read_marker(index, line[marker.end() :], marker, item)
        self._read_text_line(number, line)
        return index + 1

    def _read_unlabelled(self, index: int, line: str, item: re.Match[str]) -> bool:
        """Read a rule, or a question in a list item's heading or a bold line, if ``line`` is
        one of them."""
        number = index + 1
        draft = self.draft
        if item["bullet"] and index in self.layout.headings:
            # "1. ### What is a closure": a heading in a list item, its answer indented below.
            level, text = self.layout.headings[index]
            self._read_heading(index, [line], text, level, item_indent=item.end())
        elif _RULE_RE.fullmatch(line):
            if draft is not None and draft.heading:
                self._add(number, line)
            else:
                self._finish_question()
        elif index in self.layout.bold and (draft is None or not draft.heading):
            self._finish_question()
            q, rest = self.layout.bold[index]
            self.draft = _Draft(number, item.end() if item["bullet"] else None, unlabelled=True)
            self._add(number, q)
            self.draft.a_line = number
            if rest:
                # "**What is X?** It is Y." or "**What is X?** Ans: Y."
                marker = _MARKER_RE.match(rest)
                self._add(number, rest[marker.end() :] if marker else rest)
        else:
            return False
        return True

    def _read_heading(
        self,
        index: int,
        lines: Sequence[str],
        text: str,
        level: int,
        item_indent: int | None = None,
    ) -> None:
        """A heading starts a topic or a question, or is part of an answer."""
        number = index + 1
        if self.title is not None:
            # A heading that titled no question: it names nothing.
            self.structure.append(self.title[0])
            self.title = None
        known = index in self.layout.headings
        role = self.layout.heading_role(index, level) if known else "topic"
        if role == "text":
            role = self._heading_in_answer(number, lines, text, level)
        if role == "text":
            return
        self._finish_question(at_end=role != "question")
        if role == "group":
            self.structure.extend(range(number, number + len(lines)))
        elif role == "end":
            for offset, line in enumerate(lines):
                self._outside_question(number + offset, line)
        elif role == "title":
            self.title = (number, "" if is_label_heading(text) else question_text(text))
        elif role == "question":
            self.draft = _Draft(number, item_indent, unlabelled=True, heading=True, level=level)
            if is_label_heading(text):
                # "### Question 3": the question is the text under it, up to its answer.
                self.draft.end = number
            else:
                self._add(number, question_text(text))
                self.draft.a_line = number
        else:
            self._check_characters(number, text)
            self.sections.append(
                _Section(_topic_name(text), level, number, heading_lines=len(lines))
            )

    def _heading_in_answer(self, number: int, lines: Sequence[str], text: str, level: int) -> str:
        """Read a heading below the question level: part of an answer ("text"), unless it says
        the answer follows, asks outside any answer ("question"), or ends a question of its
        level ("end")."""
        draft = self.draft
        if (
            draft is not None
            and draft.unlabelled
            and not draft.answer_started()
            and is_answer_label(text)
        ):
            # "### Answer" under a question that no label marks says no more than "A:".
            draft.a_line = draft.a_line or number
            draft.end = number + len(lines) - 1
            return "text"
        if (draft is None or not draft.heading or level > draft.level) and (
            draft is not None or not is_question(text)
        ):
            for offset, line in enumerate(lines):
                if draft is None:
                    self._outside_question(number + offset, line)
                else:
                    self._add(number + offset, line)
            return "text"
        # A deeper heading outside any answer ("### Coding exercises", then "#### 1. What is
        # the output of this code"), or the next one of the same level.
        return "question" if is_question(text) else "end"

    def _read_details(self, index: int, details: Details) -> int:
        """A <details> block: a question (its summary) and its answer, or an answer."""
        number = index + 1
        draft = self.draft
        if details.answer_only:
            if draft is None or (draft.answer_started() and not draft.unlabelled):
                self.error(number, "an answer without a question (no question before it)")
                return details.end + 1
            if draft.answer_started():
                # "What is the output of this code?", the code, then the hidden answer: the
                # code is part of the question.
                start = next(n for n, line in enumerate(draft.a) if line.strip())
                draft.q += ["", *draft.a[start:]]
                draft.q_code += [False, *draft.a_code[start:]]
                draft.a, draft.a_code, draft.a_numbers = [], [], []
            draft.a_line = draft.a_line or number
        elif draft is not None and draft.answer_started() and not is_question(details.summary):
            # A collapsed part of an answer.
            for offset, line in enumerate(self.lines[index : details.end + 1]):
                self._add(number + offset, line)
            return details.end + 1
        else:
            self._finish_question()
            self.draft = _Draft(number, None, unlabelled=True)
            self._add(number, details.summary)
            self.draft.a_line = number
        for line_index, text in details.body:
            self._add(line_index + 1, text)
        assert self.draft is not None
        self.draft.end = details.end + 1
        if not details.answer_only:
            self._finish_question()
        return details.end + 1

    def _read_table(self, index: int, table: Table) -> int:
        """A table with a question and an answer column: a question per row."""
        self._finish_question()
        self.structure.extend((index + 1, index + 2))
        for row in table.rows:
            number = row.line + 1
            self.draft = _Draft(number, None, unlabelled=True)
            self._add(number, row.q)
            self.draft.a_line = number
            self._add(number, row.a)
            self._finish_question()
        return table.end

    def _read_item_fence(self, index: int, end: int) -> int:
        """A code block opened on a list item's line (``- ```bash``)."""
        lines = [_expand_indent(raw) for raw in self.lines[index:end]]
        item = _ITEM_RE.match(lines[0])
        assert item is not None  # every part of it is optional
        fence = _FENCE_OPEN_RE.fullmatch(lines[0], item.end())
        closed = len(lines) > 1 and _FENCE_CLOSE_RE.fullmatch(lines[-1])
        if fence is None or not closed:
            opening = fence["fence"] if fence else "```"
            self.error(index + 1, f"code block ({opening}) is never closed")
            self.draft = None
            return end
        draft = self.draft
        indent = len(lines[0]) - len(lines[0].lstrip(" "))
        if draft is None or (
            draft.item_indent is not None
            and draft.after_blank
            and indent < draft.item_indent
            and draft.answer_started()
        ):
            self._finish_question()
            self._outside_question(index + 1, lines[0].rstrip(), last=end)
            return end
        base = draft.item_indent or 0
        self._add_code(index, [_dedent(line, base) for line in lines])
        return end

    def _setext_underline(self, index: int, line: str, marker: re.Match[str] | None) -> str:
        """Return the ``===`` or ``---`` under a heading's text, or "" when ``line`` is none.

        Only a line that stands after a blank line, and is no question or answer, counts: a
        rule right under an answer's last line ends the answer rather than making a heading.
        """
        lines = self.lines
        if (
            index + 1 < len(lines)
            and (index == 0 or not lines[index - 1].strip())
            and line.strip()
            and len(line) - len(line.lstrip(" ")) <= 3
            and marker is None
            and not _BLOCK_START_RE.match(line)
            and not _RULE_RE.fullmatch(line)
        ):
            underline = _SETEXT_RE.fullmatch(lines[index + 1])
            return underline[1] if underline else ""
        return ""

    def _read_indented_code(self, number: int, raw: str, line: str) -> bool:
        """Add the line to the answer if it is in an indented code block there.

        Whether it is depends on the text before it (a blank line, a list in the answer), so
        the answer's own Markdown decides, read as the card will read it.
        """
        draft = self.draft
        if draft is None or draft.a_line is None:
            return False
        base = draft.item_indent or 0
        indent = len(line) - len(line.lstrip(" "))
        if indent < base + 4:
            return False
        # Outside a list the line is kept as it is, tabs and all; in a list item, the item's
        # indentation goes.
        text = raw if draft.item_indent is None else _dedent(line, base)
        if draft.code_indent is not None and indent >= draft.code_indent:
            # At least as indented as the block's lines so far: the block goes on.
            indent = draft.code_indent
        elif not _ends_in_indented_code([*draft.a, text]):
            return False
        self._add(number, text, code=True, code_indent=indent)
        return True

    def _read_marker(
        self, index: int, rest: str, marker: re.Match[str], item: re.Match[str]
    ) -> int:
        """Read a line starting with 'Q:' or 'A:'; return the next index."""
        number = index + 1
        word = marker_word(marker)
        if marker["wrap"] and word.startswith("Q"):
            # "**Q: What is a prop?**": the label and the whole question in one bold span,
            # the answer below it, as under a bold question.
            self._finish_question()
            self.draft = _Draft(number, item.end() if item["bullet"] else None, unlabelled=True)
            self._add(number, rest.rstrip().removesuffix(marker["wrap"]).rstrip())
            self.draft.a_line = number
            return index + 1
        if word.startswith("Q"):
            self._finish_question()
            indent = item.end() if item["bullet"] else None
            self.draft = _Draft(number, indent)
            if self.title is not None:
                # "### 1. Two Sum", then "**Question:** ...": the heading names the question.
                line, title = self.title
                self.title = None
                self.structure.append(line)
                if title:
                    self.draft.q, self.draft.q_code = [f"**{title}**", ""], [False, False]
            return self._read_first_line(index, rest)
        draft = self.draft
        if draft is None:
            self.error(number, "an answer without a question (no 'Q:' before this 'A:')")
        elif draft.unlabelled and not draft.answer_started():
            # "**Answer:**" under a question that no label marks.
            draft.a_line = draft.a_line or number
            draft.end = number
            return self._read_first_line(index, rest)
        elif draft.a_line is not None:
            self.error(
                number,
                f"a second answer for the question at line {draft.line} (no 'Q:' before this 'A:')",
            )
        else:
            draft.a_line = number
            draft.end = number
            return self._read_first_line(index, rest)
        return index + 1

    def _read_first_line(self, index: int, rest: str) -> int:
        """Add the text after 'Q:' or 'A:', and the code block a fence there opens."""
        fence = _FENCE_OPEN_RE.fullmatch(rest)
        if fence is None:
            self._add(index + 1, rest)
            return index + 1
        end = self._fence_end(index, fence["fence"])
        if end is None:
            return len(self.lines)
        assert self.draft is not None
        base = self.draft.item_indent or 0
        self._add_code(
            index, [rest, *(_dedent(text, base) for text in self.lines[index + 1 : end + 1])]
        )
        return end + 1

    def _read_text_line(self, number: int, line: str) -> None:
        draft = self.draft
        if draft is None:
            self._outside_question(number, line)
            return
        indent = len(line) - len(line.lstrip(" "))
        if (
            draft.unlabelled
            and draft.item_indent is not None
            and indent < draft.item_indent
            and _BULLET_RE.match(line)
        ):
            # The next item of the list the question is in.
            self._finish_question()
            self._outside_question(number, line)
            return
        if (
            draft.unlabelled
            and draft.item_indent is not None
            and line.strip()
            and indent < draft.item_indent
            and not draft.answer_started()
        ):
            # "1. **What is X?**", then the answer outside the list.
            draft.item_indent = None
        if (
            draft.item_indent is not None
            and line.strip()
            and draft.after_blank
            and indent < draft.item_indent
            and (draft.answer_started() or draft.a_line is None)
        ):
            # Less indented than its list item after a blank line: the item has ended.
            self._finish_question()
            self._outside_question(number, line)
            return
        self._add(number, _dedent(line, draft.item_indent or 0))

    def _fence_end(self, index: int, opening: str) -> int | None:
        """Return the index of the line that closes the fence opened at ``index``.

        A fence that is never closed is reported; the rest of the document is in its block,
        so there is no more to read.
        """
        for end in range(index + 1, len(self.lines)):
            closing = _FENCE_CLOSE_RE.fullmatch(self.lines[end])
            if (
                closing
                and closing["fence"][0] == opening[0]
                and len(closing["fence"]) >= len(opening)
            ):
                return end
        self.error(index + 1, f"code block ({opening}) is never closed")
        self.draft = None
        return None

    def _read_fence(self, index: int, line: str, fence: re.Match[str]) -> int:
        lines = self.lines
        end = self._fence_end(index, fence["fence"])
        if end is None:
            return len(lines)
        indent = len(fence["indent"])
        draft = self.draft
        # Inside a list item, the item's indentation goes; elsewhere the fence's own.
        base = (
            (0 if index in self.layout.nested_fences else indent)
            if draft is None or draft.item_indent is None
            else min(indent, draft.item_indent)
        )
        block = [_dedent(text, base) for text in [line, *lines[index + 1 : end + 1]]]
        if draft is not None and not (
            draft.item_indent is not None
            and draft.after_blank
            and indent < draft.item_indent
            and draft.answer_started()
        ):
            self._add_code(index, block)
        else:
            self._finish_question()
            self._outside_question(index + 1, block[0].rstrip(), last=end + 1)
        return end + 1

    def _add_code(self, index: int, block: Sequence[str]) -> None:
        """Add the lines of a fenced code block that starts at ``index``."""
        for offset, code_line in enumerate(block):
            self._add(index + 1 + offset, code_line.rstrip(), code=True)

    def _add(
        self, number: int, text: str, *, code: bool = False, code_indent: int | None = None
    ) -> None:
        assert self.draft is not None
        self._check_characters(number, text)
        self.draft.add(number, text, code=code, code_indent=code_indent)

    def _check_characters(self, number: int, text: str) -> None:
        bad = CONTROL_RE.search(text.replace("\t", " ")) or _NOT_TEXT_RE.search(text)
        if bad:
            self.error(
                number, f"the control character U+{ord(bad[0]):04X} cannot be imported; remove it"
            )

    def _outside_question(self, number: int, line: str, last: int | None = None) -> None:
        """Text that is in no question, from ``number`` to ``last`` (a code block's lines): a
        section's introduction is fine, stray text is not."""
        if not line.strip():
            return
        last = last or number
        section = self.sections[-1]
        if not section.questions:
            section.text.extend(sorted({number, last}))
        elif self.strict:
            self.error(
                number,
                "text after a question that is not part of its answer: indent it to add it to "
                "the answer, or remove it",
            )
        else:
            self._skip_stray(number, last)

    def _skip_stray(self, first: int, last: int) -> None:
        """Text after a question that is in no answer: skipped and listed, run by run."""
        section = self.sections[-1]
        name = section.name or self.front_title or _name_from_file(self.path)
        previous = self.skipped[-1] if self.skipped else None
        if (
            previous is not None
            and previous.what == STRAY
            and previous.path == self.path
            and previous.name == name
            and not any(q.end > previous.end for q in section.questions)
        ):
            self.skipped[-1] = SkippedSection(name, self.path, previous.line, last, STRAY)
        else:
            self.skipped.append(SkippedSection(name, self.path, first, last, STRAY))

    def _finish_question(self, *, at_end: bool = False) -> None:
        """End the question being read; ``at_end``: the end of its topic or document, where
        text under a last ``---`` rule is a footer, not part of the answer."""
        draft, self.draft = self.draft, None
        if draft is None:
            return
        if at_end and draft.heading:
            self._cut_footer(draft)
        while draft.a and (not draft.a[-1].strip() or _RULE_RE.fullmatch(draft.a[-1])):
            # A rule under a heading question's answer parts it from the next.
            del draft.a[-1], draft.a_code[-1], draft.a_numbers[-1]
        q = clean_markdown(draft.q, draft.q_code)
        a = clean_markdown(draft.a, draft.a_code)
        is_cloze = bool(q) and _is_cloze(q)
        if _NOTHING_RE.fullmatch(a) or (is_cloze and _PLACEHOLDER_RE.fullmatch(a)):
            a = ""  # "<br>" alone; a cloze needs no answer
        end = max(draft.end, draft.line)
        span = (draft.line, end)
        a_line = next(
            (n for n, line in zip(draft.a_numbers, draft.a, strict=True) if line.strip()),
            draft.line,
        )
        if is_cloze:
            question = ImportedQuestion(q, a, self.path, draft.line, end, a_line, "cloze")
            self.sections[-1].questions.append(question)
        elif not q:
            self._unanswered(
                draft.line,
                span,
                q,
                "a question without text" + ("" if draft.unlabelled else " (nothing after 'Q:')"),
            )
        elif draft.a_line is None:
            why = "a question without an answer" + (
                " (no '#### Answer' or 'Answer:' under it)"
                if draft.unlabelled
                else " (no 'A:' after this 'Q:')"
            )
            self._unanswered(draft.line, span, q, why)
        elif not a:
            why = "an empty answer" + ("" if draft.unlabelled else " (nothing after 'A:')")
            self._unanswered(draft.a_line, span, q, why)
        elif _PLACEHOLDER_RE.fullmatch(a):
            self._unanswered(draft.a_line, span, q, f"a placeholder answer ('{a}')")
        else:
            self.sections[-1].questions.append(
                ImportedQuestion(q, a, self.path, draft.line, end, a_line)
            )

    def _cut_footer(self, draft: _Draft) -> None:
        """Move the text under the answer's last rule, if any, out of it (a "Thanks for
        reading!" at the end of a document)."""
        rules = [
            n for n, line in enumerate(draft.a) if not draft.a_code[n] and _RULE_RE.fullmatch(line)
        ]
        if not rules or not any(line.strip() for line in draft.a[: rules[-1]]):
            return
        cut = rules[-1]
        footer = draft.a[cut + 1 :]
        if not any(line.strip() for line in footer):
            return
        numbers = draft.a_numbers[cut + 1 :]
        text = [n for n, line in zip(numbers, footer, strict=True) if line.strip()]
        del draft.a[cut:], draft.a_code[cut:], draft.a_numbers[cut:]
        self._skip_stray(text[0], text[-1])
        kept = [n for n, line in zip(draft.a_numbers, draft.a, strict=True) if line.strip()]
        draft.end = kept[-1] if kept else draft.line

    def _unanswered(self, line: int, span: tuple[int, int], q: str, why: str) -> None:
        """A question that has no answer: a problem when strict, else left out and listed."""
        if self.strict:
            self.error(line, why)
        else:
            topic = self.sections[-1].name or _name_from_file(self.path)
            self.unanswered.append(UnansweredQuestion(q, topic, self.path, line, why, *span))

    def _result(self) -> _ParsedDocument:
        headings = self.sections[1:]
        title = self.front_title
        level_one = [section for section in headings if section.level == 1]
        if title is None and headings and headings[0].level == 1 and len(level_one) == 1:
            title = headings[0].name
        topics = []
        skipped = list(self.skipped)
        structure = list(self.structure)
        for section in self.sections:
            name = section.name
            if name is None:
                name = title or _name_from_file(self.path)
            if section.name is not None and (section.questions or section.name == title):
                structure.extend(range(section.line, section.line + section.heading_lines))
            text = section.text
            if section.questions:
                line = section.line if section.name is not None else section.questions[0].line
                topics.append(ImportedTopic(name, tuple(section.questions), self.path, line))
                if text:
                    what = "text before its first question"
                    skipped.append(SkippedSection(name, self.path, text[0], text[-1], what))
            elif section.name is not None and section.name != title:
                end = text[-1] if text else section.line + section.heading_lines - 1
                skipped.append(SkippedSection(section.name, self.path, section.line, end))
            elif text:
                what = (
                    "text before the first topic"
                    if section.name
                    else "the text before the first heading"
                )
                skipped.append(SkippedSection(section.name, self.path, text[0], text[-1], what))
        # A line that names nothing but lies in a question or skipped text is theirs.
        spans = [
            *((q.line, q.end) for topic in topics for q in topic.questions),
            *((q.start, q.end) for q in self.unanswered),
            *((s.line, s.end) for s in skipped),
        ]
        structure = [n for n in structure if not any(a <= n <= b for a, b in spans)]
        return _ParsedDocument(title, topics, skipped, self.unanswered, structure)


def _is_cloze(text: str) -> bool:
    """Whether a question is a cloze text: it has deletions, all of them well written."""
    return "{{c" in text and not cloze.problems(text, render_markdown(text, cloze=True))


def _read_text(path: Path, problems: list[SourceError]) -> str | None:
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        problems.append(SourceError("is a folder, not a Markdown file", path))
        return None
    except OSError as exc:
        problems.append(SourceError(f"cannot read: {exc.strerror or exc}", path))
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, message = not_utf8(data, exc)
        problems.append(SourceError(message, path, line))
        return None


@cache
def _block_parser() -> MarkdownIt:
    # The blocks the cards' Markdown has (render.py adds tables to CommonMark).
    return MarkdownIt("commonmark").enable("table")


def _ends_in_indented_code(lines: Sequence[str]) -> bool:
    """Tell whether the last of these Markdown lines is in an indented code block."""
    last = len(lines) - 1
    return any(
        token.type == "code_block" and token.map is not None and token.map[0] <= last < token.map[1]
        for token in _block_parser().parse("\n".join(lines))
    )


def _expand_indent(line: str) -> str:
    """Turn tabs in a line's indentation and list marker into spaces, as Markdown reads them."""
    prefix = _INDENT_RE.match(line)
    assert prefix is not None  # every part of it is optional
    return line[: prefix.end()].expandtabs(4) + line[prefix.end() :]


def _dedent(line: str, indent: int) -> str:
    """Remove up to ``indent`` leading spaces."""
    spaces = len(line) - len(line.lstrip(" "))
    return line[min(spaces, indent) :]


def _topic_name(heading: str) -> str:
    """Return a heading's text without its number and the emphasis around it."""
    name = _MARKS_RE.sub("", heading.strip())
    name = _SECTION_NUMBER_RE.sub("", name, count=1) if _SECTION_NUMBER_RE.match(name) else name
    return " ".join(strip_emphasis(name).split())


def _name_from_file(path: Path) -> str:
    """Make a name from a file name: ``python-notes.md`` gives "Python notes"."""
    words = " ".join(re.split(r"[-_\s]+", path.stem)).strip()
    return words[:1].upper() + words[1:] if words else "Imported questions"


def _check_topic_names(topics: Sequence[ImportedTopic], problems: list[SourceError]) -> None:
    seen: dict[str, ImportedTopic] = {}
    for topic in topics:
        if not topic.name:
            problems.append(
                SourceError("a heading without text cannot name a topic", topic.path, topic.line)
            )
        if "::" in topic.name:
            problems.append(
                SourceError(
                    f"topic '{topic.name}' contains '::', which Anki reads as a subdeck",
                    topic.path,
                    topic.line,
                )
            )
        first = seen.setdefault(topic.name.casefold(), topic)
        if first is not topic:
            problems.append(
                SourceError(
                    f"a second topic named '{topic.name}' (first at {first.path}:{first.line}): "
                    "rename one of the headings",
                    topic.path,
                    topic.line,
                )
            )


def _deck_name_and_key(
    imported: ImportedDocuments, name: str | None, key: str | None
) -> tuple[str, str]:
    problems = []
    deck_name = " ".join((name if name is not None else imported.title or "").split())
    deck_name = deck_name or imported.default_name
    if not valid_deck_name(deck_name):
        problems.append(
            SourceError(f"deck name '{deck_name}' has an empty part between '::'; use --name")
        )
    if key is None:
        deck_key = new_deck_key(deck_name)
    elif SLUG_RE.fullmatch(key) and len(key) <= SLUG_MAX:
        deck_key = key
    else:
        deck_key = ""
        problems.append(
            SourceError(
                f"--key '{key}' is not a slug: use lowercase letters, digits and single hyphens, "
                f"at most {SLUG_MAX} characters"
            )
        )
    if problems:
        raise ValidationError(problems)
    return deck_name, deck_key


def _check_output(
    output: Path, texts: dict[str, str], *, force: bool, replaced: set[str] | None = None
) -> None:
    """Refuse to overwrite files without ``force``, and to mix with other topic files (but
    those ``replaced``, which the import removes)."""
    problems = []
    if output.exists() and not output.is_dir():
        problems.append(SourceError("exists and is not a folder", output))
    elif output.is_dir():
        try:
            entries = sorted(output.iterdir())
        except OSError as exc:
            raise ValidationError(
                [SourceError(f"cannot read: {exc.strerror or exc}", output)]
            ) from None
        for path in entries:
            if path.name in texts:
                if not force:
                    problems.append(SourceError("exists; use --force to overwrite it", path))
            elif (
                path.suffix in TOPIC_SUFFIXES
                and not path.name.startswith(".")
                and path.name not in (replaced or set())
            ):
                problems.append(
                    SourceError(
                        "would be read as a topic of the imported deck; move it away or import "
                        "into another folder",
                        path,
                    )
                )
    if problems:
        raise ValidationError(problems)


def _check_reads_back(texts: dict[str, str], files: Sequence[TopicFile]) -> None:
    """Load the files to be written with the project's loader: they must give the same text."""
    with tempfile.TemporaryDirectory(prefix="qa2anki-") as scratch:
        folder = Path(scratch)
        for file_name, text in texts.items():
            (folder / file_name).write_text(text, encoding="utf-8")
        # Images are the documents' to bring: only the text must read back the same.
        deck = load_deck(folder, check_images=False)
    loaded = [(t.name, [(q.id, q.q, q.a, q.type) for q in t.questions]) for t in deck.topics]
    written = [
        (
            f.topic.name,
            [(qid, q.q, q.a, q.type) for qid, q in zip(f.ids, f.topic.questions, strict=True)],
        )
        for f in files
    ]
    if loaded != written:
        raise AssertionError("the written sources do not read back as the imported questions")
