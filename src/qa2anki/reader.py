"""Read one Markdown document of questions and answers into its topics, line by line.

What is a question is decided from the document's structure (``layout.read_layout``, from
markdown-it's tokens); this module collects each question's text, as the card will read it::

    # Python Interview              <- a lone level-1 heading is the document's title
    ## 1-10: **Basics**             <- any other heading starts a topic ("Basics")

    1. **Q**: What is a list?       <- `Q:`, `**Q**:`, `**Q:**`, `Question:` ..., in a list
       **A**: A mutable sequence.      item or not; the answer runs on in the item's lines
                                       (or, outside a list, until the next question)
    ### What is a tuple?            <- or a heading at the question level, a bold line, a
    An immutable sequence.             <details> block, a table row ...

Every line ends up in a question, in the list of questions without an answer, or in the
skipped text, with its lines; what looks like part of a question but is not (an answer
without a question, an unclosed code fence) is reported with its line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from qa2anki import cloze
from qa2anki.errors import SourceError
from qa2anki.layout import MARKER_RE as _MARKER_RE
from qa2anki.layout import (
    TEXT_STARTS,
    Details,
    Table,
    block_parser,
    html_headings,
    is_answer_label,
    is_label_heading,
    is_question,
    marker_word,
    question_text,
    read_layout,
    reference_definitions,
    strip_emphasis,
    unquote_questions,
    used_definitions,
)
from qa2anki.loader import CONTROL_RE, clean_text
from qa2anki.render import render_markdown

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
_MARKS_RE = re.compile(rf"^[^\w\s{TEXT_STARTS}]+\s*")
# A line that starts a new Markdown block, so a line break before it is no line break.
_BLOCK_START_RE = re.compile(r" {0,3}(?:[-*+][ \t]|[0-9]{1,9}[.)][ \t]|#|>|```|~~~|\|)")
_NOT_TEXT_RE = re.compile(r"[\ufffe\uffff]")
# What people write where an answer is still to come ("todo" is also Spanish, "??" an
# operator: only the capitalised markers count); in Chinese "to be added", "to be improved",
# "not finished".
_PLACEHOLDER_RE = re.compile(
    r"[\s*_-]*(?:TODO|To[Dd]o|TBD|(?i:answer here|your answer here|coming soon|to be "
    r"(?:completed|added|written|done))|\.\.\.|…|待补充|待完善|未完成|TBA)[\s*_.!。-]*"
)
# What shows nothing: line breaks, spaces.
_NOTHING_RE = re.compile(r"(?i)(?:\s|<br\s*/?>|&nbsp;|\\)*")
# YAML front matter: "---" on the first line, then "key: value" lines up to the next "---".
_FRONT_MATTER_END_RE = re.compile(r"(?:---|\.\.\.)[ \t]*")

BACK_TO_TOP = "a link back to the top"
STRAY = "text after a question, in no answer"


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


def clean_markdown(lines: Sequence[str], code: Sequence[bool]) -> str:
    """Join a question's or answer's lines as the loader would read them back.

    Two spaces at the end of a line are a Markdown line break; the source format drops
    trailing spaces, so such a break becomes a backslash, which it keeps.  Indentation that
    all of the text has (an answer indented past its list item's, as Notion writes it) goes,
    and so do blank lines after the first of a run outside code.
    """
    # Code lines count too, so that code keeps its own indentation; an answer of code alone
    # keeps all of it (four spaces make it code).
    if any(line.strip() and not is_code for line, is_code in zip(lines, code, strict=True)):
        common = min(len(line) - len(line.lstrip(" ")) for line in lines if line.strip())
        lines = [_dedent(line, common) for line in lines]
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
        elif line.strip() or code[number] or (joined and joined[-1].strip()):
            joined.append(line)  # of blank lines outside code, one (Markdown reads no more)
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
class ParsedDocument:
    """What one document holds."""

    title: str | None
    topics: list[ImportedTopic]
    skipped: list[SkippedSection]
    unanswered: list[UnansweredQuestion]
    structure: list[int]


class DocumentReader:
    """Reads one document line by line into sections of questions; its problems are added
    to ``problems``.  With ``strict``, a question without an answer and text after a question
    that is in no answer are problems rather than left out and listed."""

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
        self.lines, blanked = html_headings(self.lines)
        self.lines, self.definitions, taken = reference_definitions(self.lines)
        self.structure.extend(index + 1 for index in [*blanked, *taken])
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

    def read(self) -> ParsedDocument:
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
            if item["bullet"] and draft.item_indent is not None and item.end() > draft.item_indent:
                # "  - A: ..." in an item of the question's item: the answer is its content.
                draft.item_indent = item.end()
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
        name = section.name or self.front_title or name_from_file(self.path)
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
        # A question keeps its text as written, as its id and --update are made from it.
        q = clean_markdown(draft.q, draft.q_code)
        a = used_definitions(clean_markdown(draft.a, draft.a_code), self.definitions)
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
            topic = self.sections[-1].name or name_from_file(self.path)
            self.unanswered.append(UnansweredQuestion(q, topic, self.path, line, why, *span))

    def _result(self) -> ParsedDocument:
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
                name = title or name_from_file(self.path)
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
        return ParsedDocument(title, topics, skipped, self.unanswered, structure)


def _is_cloze(text: str) -> bool:
    """Whether a question is a cloze text: it has deletions, all of them well written."""
    return "{{c" in text and not cloze.problems(text, render_markdown(text, cloze=True))


def _ends_in_indented_code(lines: Sequence[str]) -> bool:
    """Tell whether the last of these Markdown lines is in an indented code block."""
    last = len(lines) - 1
    return any(
        token.type == "code_block" and token.map is not None and token.map[0] <= last < token.map[1]
        for token in block_parser().parse("\n".join(lines))
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


# Inline HTML in a heading (an anchor, a logo, a line break): no part of a name.
_INLINE_TAG_RE = re.compile(
    r"(?i)</?(?:a|img|br|b|i|em|strong|code|span|small|big|sup|sub|font|kbd)(?:\s[^<>]*)?/?>"
)


def _topic_name(heading: str) -> str:
    """Return a heading's text without its number and the emphasis around it."""
    name = _MARKS_RE.sub("", _INLINE_TAG_RE.sub(" ", heading).strip())
    name = _SECTION_NUMBER_RE.sub("", name, count=1) if _SECTION_NUMBER_RE.match(name) else name
    return " ".join(strip_emphasis(name).split())


def name_from_file(path: Path) -> str:
    """Make a name from a file name: ``python-notes.md`` gives "Python notes"."""
    words = " ".join(re.split(r"[-_\s]+", path.stem)).strip()
    return words[:1].upper() + words[1:] if words else "Imported questions"
