"""Import Markdown Q&A documents as a source folder (``deck.yaml`` + topic files).

The documents are read by ``qa2anki.reader``; this module names the deck and the topic files,
gives each question an id (keeping those of a deck imported before, see ``match_ids``), copies
the documents' images and writes it all at once, or nothing.
"""

from __future__ import annotations

import difflib
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from html import escape
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

import yaml

from qa2anki import markup
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
from qa2anki.loader import (
    DECK_FILE,
    SLUG_MAX,
    SLUG_RE,
    TOPIC_SUFFIXES,
    DeckHeader,
    load_deck,
    not_utf8,
    read_deck_file,
    valid_deck_name,
)
from qa2anki.media import image_refs, is_link
from qa2anki.model import Deck
from qa2anki.reader import (
    DocumentReader,
    ImportedQuestion,
    ImportedTopic,
    SkippedSection,
    UnansweredQuestion,
    name_from_file,
)
from qa2anki.render import inline_tokens
from qa2anki.state import read_state, state_path

TOPIC_SLUG_WORDS = 6
TOPIC_SLUG_LENGTH = 40
FALLBACK_TOPIC_SLUG = "topic"
# What a literal block (`|`) can hold as it is: YAML's printable characters without its
# other line breaks (U+0085, U+2028, U+2029) and without a byte order mark.
_LITERAL_CHARACTERS_RE = re.compile(
    "[\t\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]*"
)


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
        parsed = DocumentReader(
            path,
            text,
            problems,
            strict=strict,
            question_level=question_level,
            topic_level=topic_level,
        ).read()
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
        default_name=name_from_file(paths[0]),
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
