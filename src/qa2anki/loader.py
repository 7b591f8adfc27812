"""Read a source folder into a validated :class:`~qa2anki.model.Deck`.

The YAML is composed into nodes rather than loaded into Python objects, so that every
value keeps its line number and every scalar is read as the text the user typed (``a: yes``
is the answer "yes", not ``True``).  All problems in all files are collected and raised
together as one :class:`~qa2anki.errors.ValidationError`.
"""

from __future__ import annotations

import codecs
import difflib
import re
import shlex
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import yaml

from qa2anki import cloze
from qa2anki.errors import SourceError, ValidationError
from qa2anki.media import find_media
from qa2anki.model import NOTE_TYPES, Deck, Question, Topic
from qa2anki.render import dropped_html, render_markdown

DECK_FILE = "deck.yaml"
DECK_FILE_MISNAMED = "deck.yml"
TOPIC_SUFFIXES = (".yaml", ".yml")
# A topic file usually holds a few dozen questions in a few kilobytes, and a topic of 5,000
# (a deck of 100,000 questions in 20 topics) about 1.3 MiB.  A limit far above that keeps a stray
# log file or a crafted input from costing minutes of parsing and gigabytes of memory.
MAX_FILE_BYTES = 4 * 1024 * 1024

SLUG_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
SLUG_MAX = 64
# Characters a field cannot hold: Anki splits fields on U+001F, and the rest are invisible.
# Tab and newline are allowed in text.
CONTROL_CHARACTERS = r"\x00-\x08\x0b-\x1f\x7f-\x9f"
CONTROL_RE = re.compile(f"[{CONTROL_CHARACTERS}]")
TAG_RE = re.compile(rf"[^\s\"{CONTROL_CHARACTERS}]+")
# A "\ud83d\ude00" escape in double quotes gives the two halves of a UTF-16 surrogate pair,
# which are joined into the character they encode; a lone half is no character at all.
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
# Either of the above: text without them needs neither check.
_UNUSUAL_RE = re.compile(f"[{CONTROL_CHARACTERS}\ud800-\udfff]")
_SURROGATE_FIX = "write the character itself, or a \\U escape such as \\U0001F600"


def not_utf8(data: bytes, error: UnicodeDecodeError) -> tuple[int, str]:
    """Return the line of the first byte that is not UTF-8, and what to tell the user."""
    line = data[: error.start].count(b"\n") + 1
    return line, f"not valid UTF-8 (byte 0x{data[error.start]:02x}); save the file as UTF-8"


def _character_problem(key: str, value: str | None) -> str | None:
    """Say what makes text unusable in a field: half a surrogate pair (``value`` is None
    then) or a control character."""
    if value is None:
        return f"'{key}' contains half of a UTF-16 surrogate pair; {_SURROGATE_FIX}"
    control = CONTROL_RE.search(value)
    if control:
        return f"'{key}' contains the control character U+{ord(control[0]):04X}; remove it"
    return None


def _whole_characters(value: str) -> str | None:
    """Join the surrogate pairs in ``value``; None when a lone half is left."""
    if not _SURROGATE_RE.search(value):
        return value
    try:
        return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le")
    except UnicodeDecodeError:
        return None


# An optional "01-" or "01_" in front of a topic file's name orders the topics.
ORDER_PREFIX_RE = re.compile(r"^[0-9]+[-_]")

# The keys each mapping may have; the first two of a file's keys are required.
DECK_KEYS = ("key", "name", "description")
TOPIC_KEYS = ("topic", "questions", "tags", "type")
QUESTION_KEYS = ("id", "q", "a", "tags", "type", "text", "extra")
# Words people reach for first; difflib alone would not connect them to the short keys.
SYNONYMS = {
    "question": "q",
    "answer": "a",
    "tag": "tags",
    "title": "name",
    "slug": "id",
    "name": "topic",
    "deck": "name",
}

_NULL_TAG = "tag:yaml.org,2002:null"
_STANDARD_TAG = "tag:yaml.org,2002:"


class _RefusedYAML(yaml.MarkedYAMLError):
    """YAML that is valid but refused: an alias, or a tag outside YAML's standard types."""


class _SafeComposer(yaml.SafeLoader):
    """PyYAML's safe loader, refusing aliases and foreign tags while composing.

    Aliases are refused so that no file can expand without bound ("billion laughs"): the
    first ``*name`` stops the file.  Nothing is ever constructed from a tag, but a tag such
    as ``!!python/object`` is a sign of a file meant for another program, so it is named.
    """

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise _RefusedYAML(
                problem="YAML aliases (*name) are not supported", problem_mark=event.start_mark
            )
        node = super().compose_node(parent, index)
        if node is not None and _is_foreign_tag(node.tag):
            shown = node.tag.replace(_STANDARD_TAG, "!!", 1)
            raise _RefusedYAML(
                problem=f"the YAML tag {_quote(shown)} is not supported",
                problem_mark=node.start_mark,
            )
        return node

    def get_single_node(self) -> yaml.Node | None:
        try:
            return super().get_single_node()
        except yaml.MarkedYAMLError as exc:
            opened = self._left_open(exc)
            if opened is None:
                raise
            mark, character = opened
            raise yaml.MarkedYAMLError(
                problem=_NEVER_CLOSED[character], problem_mark=mark
            ) from None

    def _left_open(self, exc: yaml.MarkedYAMLError) -> tuple[yaml.Mark, str] | None:
        """Return where the quote, '[' or '{' starts that is still open at the end of the file,
        and which it is, when that is why parsing failed."""
        if exc.problem == "found unexpected end of stream":  # in a quoted scalar
            mark = exc.context_mark
        elif (
            isinstance(exc, yaml.parser.ParserError)
            and self.flow_level
            and self.tokens  # the first is the token the parser refused
            and isinstance(self.tokens[0], yaml.StreamEndToken)
        ):
            # Every token before the end was parsed: the innermost open collection is the one
            # whose end was looked for.
            mark = self.marks[-1]
        else:
            return None
        if mark is None or not mark.buffer or mark.buffer[mark.pointer] not in _NEVER_CLOSED:
            return None
        return mark, mark.buffer[mark.pointer]


# What to say of a quote or bracket that the end of the file leaves open.
_NEVER_CLOSED = {
    "[": "the '[' on this line is never closed; end the list with ']'",
    "{": "the '{' on this line is never closed; end the mapping with '}'",
    '"': "the '\"' on this line is never closed; end the text with '\"'",
    "'": 'the "\'" on this line is never closed; end the text with "\'"',
}


def _is_foreign_tag(tag: str) -> bool:
    return not tag.startswith(_STANDARD_TAG) or tag.startswith(f"{_STANDARD_TAG}python/")


def _line(node: yaml.Node) -> int:
    return _mark_line(node.start_mark)


def _mark_line(mark: yaml.Mark) -> int:
    """Return the line of ``mark``: the end of a file that ends with a line break, where an
    empty value or a missing token can be found, is on its last line, not on the empty one
    after it."""
    if mark.column == 0 and mark.line and mark.buffer and mark.pointer == len(mark.buffer) - 1:
        return mark.line
    return mark.line + 1


@dataclass(frozen=True)
class MissingId:
    """A question that has no ``id`` yet, and where in its file one belongs."""

    question: Question  # its ``id`` is ""
    index: int  # the character offset in the file's text where the question's mapping starts
    column: int
    flow: bool  # written as a flow mapping: ``- {q: ..., a: ...}``


@dataclass
class _Problems:
    """Collects source errors across every file of a folder.

    When ``missing_ids`` is a list, questions without an ``id`` are recorded there instead of
    being reported.
    """

    items: list[SourceError] = field(default_factory=list)
    missing_ids: list[MissingId] | None = None

    def add(self, path: Path, line: int | None, message: str) -> None:
        self.items.append(SourceError(message, path, line))


def ids_command(source: Path) -> str:
    """Return the command that adds the missing ids to the sources in ``source``."""
    if source == Path("questions"):
        return "qa2anki ids --write"
    return f"qa2anki ids {shlex.quote(str(source))} --write"


def load_deck(source: Path, *, check_images: bool = True) -> Deck:
    """Read and validate the deck in ``source``, reporting every problem at once.

    With ``check_images`` false the images are neither looked for nor checked (the deck has
    none): the importer reads back the YAML it is about to write, before any image is there.

    Raises:
        ValidationError: the sources have problems; ``problems`` holds each of them.
    """
    return _load(source, _Problems(), check_images=check_images)


def load_deck_allowing_missing_ids(source: Path) -> tuple[Deck, list[MissingId]]:
    """Read and validate the deck in ``source``, except that questions may lack an ``id``.

    Such questions are in the deck with the ``id`` "", and listed with where their ids belong.

    Raises:
        ValidationError: the sources have other problems; ``problems`` holds each of them.
    """
    problems = _Problems(missing_ids=[])
    deck = _load(source, problems)
    return deck, list(problems.missing_ids or ())


def _load(source: Path, problems: _Problems, *, check_images: bool = True) -> Deck:
    entries = _list_folder(source, problems)
    header = _read_deck_header(source, entries, problems)
    topics = [
        topic
        for path in _topic_files(source, entries, problems)
        if (topic := _read_topic_file(path, problems)) is not None
    ]
    _check_unique_across_topics(topics, problems)
    texts = [
        (question.path, line, text)
        for topic in topics
        for question in topic.questions
        for line, text in ((question.q_line, question.q), (question.a_line, question.a))
        if text
    ]
    if header is not None and header.description:
        texts.append((source / DECK_FILE, header.description_line, header.description))
    media, media_problems = find_media(texts if check_images else [], source)
    for path, line, message in media_problems:
        problems.add(path, line, message)
    if problems.items or header is None:
        raise ValidationError(sorted(problems.items, key=lambda p: (str(p.path), p.line or 0)))
    warnings = sorted(
        (
            SourceError(message, path, line + offset)
            for path, line, text in texts
            for offset, message in dropped_html(text)
        ),
        key=lambda w: (str(w.path), w.line or 0),
    )
    return Deck(
        key=header.key,
        name=header.name,
        description=header.description,
        topics=tuple(topics),
        source=source,
        media=media,
        warnings=tuple(warnings),
    )


def _list_folder(source: Path, problems: _Problems) -> list[Path]:
    """Return the folder's entries in name order; raise at once when it cannot be read."""
    try:
        return sorted(source.iterdir())
    except FileNotFoundError:
        problems.add(source, None, "no such folder (to start a deck, run: qa2anki new)")
    except NotADirectoryError:
        problems.add(source, None, "not a folder")
    except OSError as exc:
        problems.add(source, None, f"cannot read: {exc.strerror or exc}")
    raise ValidationError(problems.items)


class DeckHeader(NamedTuple):
    """What ``deck.yaml`` says."""

    key: str
    name: str
    description: str
    description_line: int


def _read_deck_header(source: Path, entries: list[Path], problems: _Problems) -> DeckHeader | None:
    names = {path.name: path for path in entries}
    if DECK_FILE in names:
        return _read_deck_file(names[DECK_FILE], problems)
    if DECK_FILE_MISNAMED in names:
        problems.add(names[DECK_FILE_MISNAMED], None, f"rename this file to {DECK_FILE}")
    else:
        problems.add(
            source / DECK_FILE,
            None,
            f"missing: every source folder needs a {DECK_FILE} with 'key' and 'name'",
        )
    return None


def _topic_files(source: Path, entries: list[Path], problems: _Problems) -> list[Path]:
    paths = [
        path
        for path in entries
        if path.suffix in TOPIC_SUFFIXES
        and path.name not in (DECK_FILE, DECK_FILE_MISNAMED)
        and not path.name.startswith(".")
    ]
    if not paths:
        problems.add(
            source,
            None,
            f"no topic files: a topic is a .yaml or .yml file in this folder other than "
            f"{DECK_FILE}, such as 01-basics.yaml",
        )
    return paths


def _read_text(path: Path, problems: _Problems) -> str | None:
    """Read a source file as UTF-8 text; report why not and return None when it cannot be."""
    try:
        # Only regular files are opened: a folder, a FIFO or a device named *.yaml is reported.
        if not stat.S_ISREG(path.stat().st_mode):
            problems.add(path, None, "not a regular file")
            return None
        with path.open("rb") as file:
            # Read one byte past the limit, so that a file growing meanwhile is caught too.
            data = file.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        problems.add(path, None, f"cannot read: {exc.strerror or exc}")
        return None
    if len(data) > MAX_FILE_BYTES:
        problems.add(
            path,
            None,
            f"file is larger than {MAX_FILE_BYTES // 1024 // 1024} MiB; split it into several "
            "topic files",
        )
        return None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        problems.add(path, 1, "file is UTF-16 (it starts with a UTF-16 BOM); save it as UTF-8")
        return None
    try:
        # A UTF-8 byte order mark, which some Windows editors write, is dropped by the parser.
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.add(path, *not_utf8(data, exc))
        return None


def _compose(path: Path, problems: _Problems) -> yaml.Node | None:
    """Parse one file into a node tree; report why not and return None when it cannot be."""
    text = _read_text(path, problems)
    if text is None:
        return None
    hidden = _hidden_line_breaks(text)
    for line, character in hidden:
        name = _HIDDEN_BREAKS[character]
        problems.add(
            path,
            line,
            f"YAML reads the character U+{ord(character):04X} ({name}) as a line break, where "
            "most editors show none; remove it, or use an ordinary line break",
        )
    if hidden:
        return None
    node: yaml.Node | None = None
    try:
        node = _compose_text(text)
    except yaml.reader.ReaderError as exc:
        where = text[: exc.position].count("\n") + 1
        problems.add(path, where, f"invalid YAML: character U+{exc.character:04X} is not allowed")
    except RecursionError:
        problems.add(path, None, "invalid YAML: nested too deeply")
    except yaml.MarkedYAMLError as exc:
        problems.add(
            path,
            _error_line(exc),
            f"invalid YAML: {_explain(exc.problem or exc.context or '')}",
        )
    except yaml.YAMLError as exc:
        problems.add(path, None, f"invalid YAML: {exc}")
    else:
        if node is None:
            problems.add(path, 1, "file is empty")
    return node


# Characters that YAML reads as line breaks but most editors do not show as one: with them,
# YAML's lines are not the user's.  Raw in a file they are refused, wherever they are (in a
# comment too, where the rest of the line would become YAML).
_HIDDEN_BREAKS = {"\x85": "next line", "\u2028": "line separator", "\u2029": "paragraph separator"}
_HIDDEN_BREAK_RE = re.compile(f"[{''.join(_HIDDEN_BREAKS)}]")


def _hidden_line_breaks(text: str) -> list[tuple[int, str]]:
    """Return each line, counted by "\\n" as editors count, that holds a character in
    ``_HIDDEN_BREAKS``, with the first such character on it."""
    if not _HIDDEN_BREAK_RE.search(text):
        return []
    found = []
    for number, line in enumerate(text.split("\n"), start=1):
        character = _HIDDEN_BREAK_RE.search(line)
        if character:
            found.append((number, character[0]))
    return found


def _error_line(exc: yaml.MarkedYAMLError) -> int | None:
    """Return the line to report a YAML error on."""
    if exc.context == "while scanning a simple key":
        # A key without its ':' is found out only at the next token, which may be lines later
        # or the end of the file: the key's own line is the one to fix.
        mark = exc.context_mark
    else:
        mark = exc.problem_mark or exc.context_mark
    return _mark_line(mark) if mark is not None else None


def _compose_text(text: str) -> yaml.Node | None:
    """Compose YAML text into nodes: with libyaml when it is there, else in pure Python.

    libyaml accepts a few things PyYAML refuses and cannot refuse aliases while composing, so
    its result is used only when it is certain to be PyYAML's too; anything else (and every
    error) goes through the pure-Python composer, whose messages are the ones users see.
    This fast path pays: composing 1,000 questions takes 0.18 s in pure Python and 0.01 s
    with libyaml, 10,000 take 2.0 s and 0.11 s (``make bench``, bench/README.md), and every
    build composes every file.
    """
    if _FastComposer is not None and _libyaml_reads_like_pyyaml(text):
        try:
            node: yaml.Node | None = yaml.compose(text, Loader=_FastComposer)
        except yaml.YAMLError:
            pass
        else:
            if node is None or _plain_tree(node, text):
                return node
    return yaml.compose(text, Loader=_SafeComposer)


_FastComposer = getattr(yaml, "CSafeLoader", None) if yaml.__with_libyaml__ else None
# Scalar styles in which a tab is text to both parsers (libyaml also lets tabs separate tokens).
_TAB_STYLES = frozenset("|>'\"")


def _libyaml_reads_like_pyyaml(text: str) -> bool:
    """Rule out characters PyYAML refuses, and byte order marks (which libyaml does not count
    in character offsets)."""
    return "\ufeff" not in text and not yaml.reader.Reader.NON_PRINTABLE.search(text)


def _plain_tree(root: yaml.Node, text: str) -> bool:
    """Tell whether PyYAML composes the same tree from ``text``, with the same lines.

    That is so when no node is reused (as an alias would be) or has a foreign tag, no value
    is empty, and every tab is inside quoted or block text, where both read it as text.
    """
    tabs = text.count("\t")
    # Only a node with an anchor (&name) can be reused; without an "&", none is looked for.
    seen: set[int] | None = set() if "&" in text else None
    tags: set[str] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if seen is not None:
            if id(node) in seen:
                return False
            seen.add(id(node))
        tags.add(node.tag)
        value = node.value
        if isinstance(node, yaml.ScalarNode):
            if not value and not node.style:
                return False  # an empty value: libyaml may place it on another line
            if node.style in _TAB_STYLES:
                tabs -= value.count("\t")
        elif isinstance(node, yaml.SequenceNode):
            stack += value
        else:
            for pair in value:
                stack += pair
    return tabs == 0 and not any(map(_is_foreign_tag, tags))


class _Mapping:
    """A YAML mapping node checked against the keys it may have."""

    def __init__(self, node: yaml.MappingNode, path: Path, problems: _Problems, what: str) -> None:
        self.node = node
        self.path = path
        self.problems = problems
        self._what = what
        self.values: dict[str, yaml.Node] = {}
        self.key_nodes: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str):
                self.error(key_node, f"{self.what} has a key that is not text")
            elif key in self.values:
                first = _line(self.values[key])
                message = f"{self.what} has {_quote(key)} twice (first at line {first})"
                self.error(key_node, message)
            else:
                self.values[key] = value_node
                self.key_nodes[key] = key_node

    @property
    def what(self) -> str:
        """How messages name the mapping: a question by its id, if it has one that reads as
        text (worked out for a message only: most questions have none)."""
        if self._what == "question":
            for key_node, value_node in self.node.value:
                if (
                    key_node.value == "id"
                    and isinstance(value_node, yaml.ScalarNode)
                    and value_node.tag != _NULL_TAG
                    and value_node.value
                ):
                    return f"question {_quote(value_node.value)}"
        return self._what

    def error(self, node: yaml.Node, message: str) -> None:
        self.problems.add(self.path, _line(node), message)

    def check_keys(self, allowed: tuple[str, ...]) -> None:
        for key, key_node in self.key_nodes.items():
            if key not in allowed:
                hint = _did_you_mean(key, allowed)
                self.error(key_node, f"{self.what} has unknown key {_quote(key)}{hint}")

    def text(self, key: str, *, required: bool = True, single_line: bool = False) -> str | None:
        """Return the text under ``key``, reporting it when it is missing, empty or not text."""
        node = self.values.get(key)
        if node is None:
            if required:
                self.error(self.node, f"{self.what} has no '{key}'")
            return None
        if not isinstance(node, yaml.ScalarNode):
            self.error(node, f"'{key}' must be text, not {_kind(node)}")
            return None
        value = "" if node.tag == _NULL_TAG else node.value
        if _UNUSUAL_RE.search(value):
            whole = _whole_characters(value)
            problem = _character_problem(key, whole)
            if whole is None or problem:
                self.error(node, problem or "")
                return None
            value = whole
        value = clean_text(value)
        if not value:
            if required:
                self.error(node, f"{self.what} has an empty '{key}'")
            return None
        if single_line and "\n" in value:
            self.error(node, f"'{key}' must be a single line")
            return None
        return value

    def text_line(self, key: str) -> int:
        """Return the line of the first line of the text under ``key`` (0 if there is none).

        The lines of a block scalar (``|``) are the file's, from the line after its indicator;
        other scalars are folded into fewer lines, and start on the value's own line.
        """
        node = self.values.get(key)
        if not isinstance(node, yaml.ScalarNode):
            return 0
        if node.style not in ("|", ">"):
            return _line(node)
        lines = node.value.split("\n")
        blank = next((n for n, line in enumerate(lines) if line.strip()), 0)
        return node.start_mark.line + 2 + blank

    def note_type(self, default: str) -> str | None:
        """Return the note type under ``type`` (``default`` without one); None if not one."""
        if "type" not in self.values:
            return default
        value = self.text("type", single_line=True)
        if value is None:
            return None
        if value not in NOTE_TYPES:
            self.error(
                self.values["type"],
                f"type {_quote(value)} is not one of {', '.join(NOTE_TYPES)}"
                + _did_you_mean(value, NOTE_TYPES),
            )
            return None
        return value

    def slug(self, key: str, what: str) -> str | None:
        """Return the slug under ``key``, reporting it when it is not one."""
        value = self.text(key, single_line=True)
        if value is None:
            return None
        if not SLUG_RE.fullmatch(value) or len(value) > SLUG_MAX:
            suggestion = _slugify(value)
            hint = f" (e.g. '{suggestion}')" if suggestion else ""
            self.error(
                self.values[key],
                f"{what} {_quote(value)} is not a slug: use lowercase letters, digits and single "
                f"hyphens, at most {SLUG_MAX} characters{hint}",
            )
            return None
        return value

    def tags(self) -> tuple[str, ...]:
        """Return the tags under ``tags``, reporting any that Anki could not store."""
        node = self.values.get("tags")
        if node is None or (isinstance(node, yaml.ScalarNode) and node.tag == _NULL_TAG):
            return ()
        if not isinstance(node, yaml.SequenceNode):
            self.error(node, f"'tags' must be a list of tags, not {_kind(node)}")
            return ()
        tags = []
        for item in node.value:
            if not isinstance(item, yaml.ScalarNode):
                self.error(item, f"a tag must be a single word, not {_kind(item)}")
                continue
            value = _whole_characters(item.value)
            if value is None:
                self.error(
                    item, f"a tag contains half of a UTF-16 surrogate pair; {_SURROGATE_FIX}"
                )
            elif not TAG_RE.fullmatch(value):
                rule = "tags cannot be empty or contain spaces, quotes or control characters"
                self.error(item, f"tag {_quote(item.value)} is not valid: {rule}")
            else:
                tags.append(value)
        return tuple(tags)


def _read_file_mapping(
    path: Path, problems: _Problems, what: str, keys: tuple[str, ...]
) -> _Mapping | None:
    """Parse a file whose top level must be a mapping; its first two keys are required."""
    node = _compose(path, problems)
    if node is None:
        return None
    if not isinstance(node, yaml.MappingNode):
        required = f"'{keys[0]}' and '{keys[1]}'"
        problems.add(path, _line(node), f"expected a mapping with {required}, not {_kind(node)}")
        return None
    mapping = _Mapping(node, path, problems, what)
    mapping.check_keys(keys)
    return mapping


def read_deck_file(path: Path) -> tuple[DeckHeader | None, list[SourceError]]:
    """Read a ``deck.yaml`` on its own: what it says, or None, and its problems."""
    problems = _Problems()
    header = _read_deck_file(path, problems)
    return (header if not problems.items else None), problems.items


def _read_deck_file(path: Path, problems: _Problems) -> DeckHeader | None:
    deck = _read_file_mapping(path, problems, "deck", DECK_KEYS)
    if deck is None:
        return None
    key = deck.slug("key", "deck key")
    name = deck.text("name", single_line=True)
    if name is not None and not valid_deck_name(name):
        deck.error(deck.values["name"], f"deck name {_quote(name)} has an empty part between '::'")
        name = None
    description = deck.text("description", required=False) or ""
    if key is None or name is None:
        return None
    return DeckHeader(key, name, description, deck.text_line("description"))


def _topic_slug(path: Path) -> str:
    return ORDER_PREFIX_RE.sub("", path.stem)


def _read_topic_file(path: Path, problems: _Problems) -> Topic | None:
    slug = _topic_slug(path)
    if not SLUG_RE.fullmatch(slug):
        problems.add(
            path,
            None,
            f"file name gives the topic slug {_quote(slug)}, which is not a slug: name topic files "
            f"like '01-{_slugify(slug) or 'my-topic'}.yaml'",
        )
    topic = _read_file_mapping(path, problems, "topic", TOPIC_KEYS)
    if topic is None:
        return None
    name = topic.text("topic", single_line=True)
    if name is not None and "::" in name:
        topic.error(
            topic.values["topic"], f"topic {_quote(name)} contains '::': a topic is one subdeck"
        )
        name = None
    tags = topic.tags()
    # A type that is not one (already reported) checks its questions' texts no further.
    questions = tuple(_read_questions(topic, topic.note_type("basic")))
    # A topic with problems is still returned, so that its questions take part in the checks
    # across files; the problems already recorded keep it from ever being built.
    return Topic(slug=slug, name=name or "", tags=tags, questions=questions, path=path)


def _read_questions(topic: _Mapping, default_type: str | None) -> Iterator[Question]:
    node = topic.values.get("questions")
    if node is None:
        topic.error(topic.node, "topic has no 'questions'")
        return
    if (isinstance(node, yaml.ScalarNode) and node.tag == _NULL_TAG) or (
        isinstance(node, yaml.SequenceNode) and not node.value
    ):
        topic.error(node, "topic has no questions")
        return
    if not isinstance(node, yaml.SequenceNode):
        topic.error(node, f"'questions' must be a list, not {_kind(node)}")
        return
    for item in node.value:
        if not isinstance(item, yaml.MappingNode):
            topic.error(
                item, f"a question must be a mapping with 'id', 'q' and 'a', not {_kind(item)}"
            )
            continue
        question = _Mapping(item, topic.path, topic.problems, "question")
        missing_ids = topic.problems.missing_ids
        if "id" in question.values:
            qid = question.slug("id", "question id")
        elif missing_ids is not None:
            qid = ""
        else:
            question.error(
                item,
                "question has no 'id'; add the missing ids with: " + ids_command(topic.path.parent),
            )
            qid = None
        question.check_keys(QUESTION_KEYS)
        if default_type is None and "type" not in question.values:
            note_type = None  # the topic's type is not one (reported): its own type is unknown
        else:
            note_type = question.note_type(default_type or "basic")
        q, a, q_key, a_key = _question_texts(question, note_type)
        tags = question.tags()
        if qid is not None:
            # Yielded even without its text, so that its id is still checked for duplicates.
            found = Question(
                id=qid,
                q=q or "",
                a=a or "",
                tags=tags,
                path=topic.path,
                line=_line(item),
                q_line=question.text_line(q_key),
                a_line=question.text_line(a_key),
                type=note_type or "basic",
            )
            if not qid and missing_ids is not None:
                mark = item.start_mark
                missing_ids.append(MissingId(found, mark.index, mark.column, bool(item.flow_style)))
            yield found


def _question_texts(
    question: _Mapping, note_type: str | None
) -> tuple[str | None, str | None, str, str]:
    """Read a question's texts: ``q`` and ``a``, or for a cloze ``text`` and ``extra``; return
    them and their keys.  Of a question whose type is not one, only what is there is read."""
    cloze_keys = ("text", "extra")
    if note_type is None:
        key, extra = cloze_keys if "text" in question.values else ("q", "a")
        return question.text(key, required=False), question.text(extra, required=False), key, extra
    keys = cloze_keys if note_type == "cloze" else ("q", "a")
    for key in ("q", "a") if note_type == "cloze" else cloze_keys:
        if key in question.values:
            question.error(
                question.key_nodes[key],
                f"{question.what} is a cloze: it has 'text' (and 'extra'), not '{key}'"
                if note_type == "cloze"
                else f"'{key}' is for cloze questions (type: cloze); a {note_type} question has "
                "'q' and 'a'",
            )
    if note_type != "cloze":
        return question.text("q"), question.text("a"), "q", "a"
    text = question.text("text")
    if text is not None:
        line = question.text_line("text")
        node = question.values["text"]
        # Only a literal block keeps the file's lines; in other text, problems are at its start.
        folded = isinstance(node, yaml.ScalarNode) and node.style != "|"
        for offset, message in cloze.problems(text, render_markdown(text, cloze=True)):
            question.problems.add(question.path, line if folded else line + offset, message)
    return text, question.text("extra", required=False) or "", *keys


def _check_unique_across_topics(topics: list[Topic], problems: _Problems) -> None:
    _report_duplicates(
        (
            (question.id, question.path, question.line)
            for topic in topics
            for question in topic.questions
            if question.id
        ),
        problems,
        lambda qid: f"duplicate question id '{qid}'",
    )
    _report_duplicates(
        ((topic.slug, topic.path, None) for topic in topics),
        problems,
        lambda slug: f"duplicate topic slug '{slug}' (the file name without its number)",
    )
    _report_duplicates(
        ((topic.name, topic.path, None) for topic in topics if topic.name),
        problems,
        lambda name: f"duplicate topic {_quote(name)}: two files would fill one subdeck",
    )


def _report_duplicates(
    entries: Iterator[tuple[str, Path, int | None]],
    problems: _Problems,
    message: Callable[[str], str],
) -> None:
    # Case-insensitive, as Anki's deck names are ("SQL" and "sql" are one subdeck); ids and
    # slugs are lowercase already.
    seen: dict[str, tuple[Path, int | None]] = {}
    for value, path, line in entries:
        if value.casefold() in seen:
            first_path, first_line = seen[value.casefold()]
            first = f"{first_path}:{first_line}" if first_line is not None else str(first_path)
            problems.add(path, line, f"{message(value)} (first at {first})")
        else:
            seen[value.casefold()] = (path, line)


# PyYAML's words for the mistakes people make most, in the words of the person who made them.
_YAML_PROBLEMS = {
    "expected <block end>, but found": "inconsistent indentation",
    "found character '\\t' that cannot start any token": "a tab character: indent with spaces",
    "mapping values are not allowed here": (
        "unexpected ':' (put text that contains ': ' in quotes, or fix the indentation)"
    ),
    "found unexpected end of stream": "unclosed quote or bracket",
    "but found another document": "a second document ('---'): keep one document per file",
}


def _explain(problem: str) -> str:
    for pattern, explanation in _YAML_PROBLEMS.items():
        if problem.startswith(pattern):
            return explanation
    return problem


def clean_text(value: str) -> str:
    """Drop trailing white space on every line and blank lines around the text."""
    return "\n".join(map(str.rstrip, value.splitlines())).strip("\n")


def _quote(value: str, limit: int = 60) -> str:
    """Quote a value from the sources for a one-line message: escaped, and cut when long."""
    shown = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in value)
    if len(shown) > limit:
        shown = shown[: limit - 1] + "…"
    return f"'{shown}'"


def valid_deck_name(name: str) -> bool:
    """Tell whether a deck name has no empty part between its '::'s (Anki's subdecks)."""
    return all(part.strip() for part in name.split("::"))


def _kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return "text"


def _did_you_mean(key: str, allowed: tuple[str, ...]) -> str:
    synonym = SYNONYMS.get(key.lower())
    if synonym in allowed:
        return f" (did you mean '{synonym}'?)"
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    if close:
        return f" (did you mean '{close[0]}'?)"
    return f" (expected one of: {', '.join(allowed)})"


def _slugify(text: str) -> str:
    return "-".join(re.findall(r"[a-z0-9]+", text.lower()))[:SLUG_MAX].strip("-")
