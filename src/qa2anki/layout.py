"""What the parts of a Markdown document of questions are, from markdown-it's block tokens.

``import`` reads a document's lines in order; this tells it, by line, where a question stands
that no ``Q:`` label marks: a heading at the document's question level, a bold line, a
``<details>`` block, a row of a question-and-answer table.
"""

from __future__ import annotations

import html
import re
import textwrap
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.common.utils import normalizeReference
from markdown_it.token import Token

# "Q", "Question" ..., perhaps numbered: "Q1", "Question 3".
WORDS = r"(?:Q|A|Ans|ANS|Question|Answer|Solution|QUESTION|ANSWER|SOLUTION)(?: ?[0-9]{1,4})?"
MARKER_RE = re.compile(
    rf"(?:(?P<emph>\*\*|__|\*|_)(?P<emphasized>{WORDS})(?:(?P=emph):|:(?P=emph))"
    rf"|(?P<plain>{WORDS}) ?::?|(?P<dotted>Ans|ANS)\."
    rf"|(?P<wrap>\*\*|__)(?P<wrapped>{WORDS}):(?=[ \t]+\S.*(?P=wrap)[ \t]*$))(?:[ \t]+|$)"
    # A full-width colon, as Chinese and Japanese text has it, needs no space after it.
    rf"|(?P<wide>{WORDS}) ?\uff1a[ \t]*"
    rf"|(?P<wemph>\*\*|__)(?P<wide_emph>{WORDS})(?:(?P=wemph)\uff1a|\uff1a(?P=wemph))[ \t]*"
)
_EMPHASIS_RE = re.compile(r"(\*\*|__|\*|_)(?P<text>.+)\1")
# A heading that only numbers a question, whose text follows it: "### Question 3".
_LABEL_HEADING_RE = re.compile(r"(?i)(?:Q|Question|Problem|Exercise) ?#?[0-9]{1,4}[.:)]?")
# A number before a heading's or bold line's text: "2. Implement debounce".
_NUMBERED_RE = re.compile(r"\W*[0-9]{1,4}[.)]\s")
_Q_LABEL_RE = re.compile(r"\W*(?:Q|Question) ?[0-9]{0,4}\s*[.:)]")
# Marks after a question: a difficulty (" ***"), a trailing emphasis marker left over.
_TRAIL_RE = re.compile(r"(?:\s+\*+)+$")
# A bold question at the start of a paragraph, and what follows it on its line.
_LEADING_BOLD_RE = re.compile(r"(\*\*|__)(?P<q>(?:(?!\1).)+)\1(?P<rest>.*)")
# Characters that start text, not decoration, before a question's or topic's words: code
# (`==`, `.NET`, `@Transactional`, `/etc`, `$PATH`, `--force`), Spanish's "¿" and "¡", and
# Markdown's own marks.
TEXT_STARTS = r"`*_\[(<\\'\"¿¡.@/=+$%&!?~^:;,{}\-"
# What stands before a question's words: emoji and other marks, "12.", "Q3:", "Question 4)".
_LEAD_RE = re.compile(
    rf"(?:[^\w\s{TEXT_STARTS}]+\s*|\[[ xX]\]\s+|(?:Q|Question) ?[0-9]{{0,4}}\s*[.:)]\s*"
    r"|[0-9]{1,4}\s*[.:)]\s+)+"
)
# The words that open a question, in interview questions and in the imperative.
_QUESTION_WORDS = (
    "what why how when where which who whom whose is are was were can could do does did "
    "should would will explain describe define compare differentiate distinguish implement "
    "write design"
)
QUESTION_WORDS = frozenset(_QUESTION_WORDS.split())
# A <details> summary that only hides the answer of the question before it, or a heading
# that only says the answer follows.
_ANSWER_LABEL_RE = re.compile(
    r"(?i)(?:(?:show|see|view|reveal|click(?: here)? (?:to|for)(?: see| show| reveal)?)"
    r" (?:the )?)?(?:answers?|solutions?|explanation|expand)\W*"
)
_SUMMARY_RE = re.compile(r"(?is)<summary\b[^>]*>(?P<text>.*?)</summary\s*>")
_DETAILS_OPEN_RE = re.compile(r"(?i)<details\b")
_DETAILS_CLOSE_RE = re.compile(r"(?i)</details\s*>")
_TAG_RE = re.compile(r"<[^>]*>")
_CODE_TAG_RE = re.compile(r"(?is)<code\b[^>]*>(.*?)</code\s*>")
_NUMBER_HEADER_RE = re.compile(r"#|no\.?|nr\.?|s\.? ?no\.?|number|id|")
_QUESTION_HEADERS = frozenset({"q", "question", "questions", "prompt", "front", "term"})
_ANSWER_HEADERS = frozenset({"a", "answer", "answers", "back", "definition", "explanation"})
# What wraps the body of a <details> block: "<br><b>" ... "</b>".
_BODY_START_RE = re.compile(r"(?i)^\s*(?P<tags>(?:<br\s*/?>\s*)*(?P<wrap><(?P<tag>b|strong|p)>)?)")
_BODY_END_RE = re.compile(r"(?i)</(?P<tag>b|strong|p)>\s*$")
_COMMENT_RE = re.compile(r"(?s)\s*<!--.*?-->\s*")
# A link back to the table of contents ("↥ back to top"), in HTML or Markdown.
_TOP_TEXT_RE = re.compile(r"(?i)[\W_]*(?:back to top|to top|top)[\W_]*")
_TOP_LINK_RE = re.compile(r"""href=["']?#|\]\(#""")
_CONTENTS_RE = re.compile(r"(?i)(?:table of )?contents|toc")
_QUOTE_RE = re.compile(r"^ {0,3}> ?")
# Notion writes its callouts as <aside>.
_WRAPPER_BLOCK_RE = re.compile(r"(?i)\s*</?(?:p|div|center|aside)\b")
_WRAPPER_TAG_RE = re.compile(r"(?i)</?(?:p|div|center|aside)\b[^>]*>")
_ANCHORS_RE = re.compile(r"(?i)(?:\s*<a\s+(?:name|id)=[^>]*>\s*</a>)+\s*")
_ITEM_FENCE_RE = re.compile(r" *(?:[-*+]|[0-9]{1,9}[.)]) +(?:`{3,}|~{3,})")
# More than half of a level's headings must be questions, and at least this many; a deeper
# level of questions, three quarters of its headings, that end in "?" or start with "Q.".
QUESTION_HEADINGS = 2
DEEPER_SHARE = 0.75


@dataclass(frozen=True)
class Details:
    """A ``<details>`` block: its summary and the lines of its body (Markdown, dedented)."""

    end: int  # the index of its closing line
    summary: str
    body: tuple[tuple[int, str], ...]  # (line index, text)
    answer_only: bool  # the summary says "Answer": the body answers the question before it


@dataclass(frozen=True)
class TableRow:
    line: int  # index
    q: str
    a: str


@dataclass(frozen=True)
class Table:
    end: int  # the index after its last line
    rows: tuple[TableRow, ...]


@dataclass
class Layout:
    """The questions of a document that no label marks, by line index."""

    question_levels: frozenset[int] = frozenset()
    # Levels whose questions are numbered: a numbered heading there is a question too.
    numbered_levels: frozenset[int] = frozenset()
    # Whether headings above the question level name the topics (not only the title): a
    # heading at the question level that asks nothing is then a question all the same.
    topics_above: bool = False
    levels_given: bool = False  # with --question-level every heading there is a question
    topic_level: int | None = None
    headings: dict[int, tuple[int, str]] = field(default_factory=dict)  # level, text
    # Headings that hold labelled questions below them: sections, whatever their level.
    labelled_sections: set[int] = field(default_factory=set)
    # A paragraph or list item that asks: its question, and the rest of its first line.
    bold: dict[int, tuple[str, str]] = field(default_factory=dict)
    details: dict[int, Details] = field(default_factory=dict)
    unclosed_details: set[int] = field(default_factory=set)
    tables: dict[int, Table] = field(default_factory=dict)
    # Fences that open on a list item's line (``- ```bash``): the index after the fence.
    item_fences: dict[int, int] = field(default_factory=dict)
    # Links back to the top of the document, by first line: the index after the link.
    top_links: dict[int, int] = field(default_factory=dict)
    # A table of contents under its heading: the index of the next heading.
    contents: dict[int, int] = field(default_factory=dict)
    # HTML comments on lines of their own: the index after the comment.
    comments: dict[int, int] = field(default_factory=dict)
    # Fences inside a list item or a quote, which keep their indentation in an answer.
    nested_fences: set[int] = field(default_factory=set)
    # Headings that title the one labelled question under them ("### 1. Two Sum").
    titles: set[int] = field(default_factory=set)
    # Lines of HTML blocks that only wrap what they hold (<p align="center">), unwrapped.
    unwrapped: dict[int, str] = field(default_factory=dict)

    @property
    def question_level(self) -> int | None:
        return min(self.question_levels, default=None)

    def heading_role(self, index: int, level: int) -> str:
        """What the heading at ``index`` is: "question", "topic", "text" (of an answer) or
        "group" (between the topic and the question level: it ends a question, no topic)."""
        q, t = self.question_level, self.topic_level
        labelled = index in self.labelled_sections
        if index in self.titles or (labelled and t is not None and level > t):
            role = "title"
        elif labelled:
            role = "topic"
        elif q is not None and level in self.question_levels:
            # A heading that asks nothing among the questions: a topic, or part of an answer.
            text = self.headings[index][1]
            numbered = level in self.numbered_levels and _NUMBERED_RE.match(strip_emphasis(text))
            asks = self.levels_given or self.topics_above or is_question(text) or bool(numbered)
            role = "question" if asks else "topic" if level == q else "text"
        elif q is not None and level > q:
            role = "text"
        elif t is not None and level > t:
            role = "text" if q is None else "group"
        else:
            role = "topic"
        return role


def question_text(text: str) -> str:
    """A heading's or bold line's question without the number, marks and emphasis around it."""
    text = " ".join(text.split())
    for _ in range(3):
        lead = _LEAD_RE.match(text)
        if lead:
            text = text[lead.end() :]
        emphasis = _EMPHASIS_RE.fullmatch(text)
        if emphasis:
            text = emphasis["text"].strip()
        text = _TRAIL_RE.sub("", text)
    return text


def is_question(text: str, *, strict: bool = False) -> bool:
    """Whether a heading or bold line reads as a question; ``strict``: it ends in "?" or
    starts with a label ("Q.", "Q3:")."""
    shown = question_text(text)
    if (
        has_question_mark(shown)
        or _Q_LABEL_RE.match(strip_emphasis(text))
        or is_label_heading(text)
    ):
        return True
    words = re.findall(r"[A-Za-z']+", shown[:40])
    return not strict and bool(words and words[0].lower() in QUESTION_WORDS)


def has_question_mark(text: str) -> bool:
    """Whether a text ends in a question mark (a full-width one in Chinese and Japanese)."""
    return text.endswith(("?", "\uff1f"))


def strip_emphasis(text: str) -> str:
    """The text without the emphasis around all of it (``**Basics**``: "Basics")."""
    text = text.strip()
    while emphasis := _EMPHASIS_RE.fullmatch(text):
        text = emphasis["text"].strip()
    return text


def marker_word(marker: re.Match[str]) -> str:
    """The word of a ``Q:`` or ``A:`` label: "Q", "Answer", "Ans" ..."""
    return str(
        marker["emphasized"]
        or marker["plain"]
        or marker["dotted"]
        or marker["wrapped"]
        or marker["wide"]
        or marker["wide_emph"]
    )


def is_label_heading(text: str) -> bool:
    """Whether a heading only numbers the question under it ("### Question 3")."""
    return bool(_LABEL_HEADING_RE.fullmatch(strip_emphasis(text).strip()))


def is_answer_label(text: str) -> bool:
    """Whether a heading or summary only says that the answer follows ("Answer", "Solution")."""
    return bool(_ANSWER_LABEL_RE.fullmatch(question_text(text)))


@cache
def block_parser() -> MarkdownIt:
    """The blocks the cards' Markdown has (render.py adds tables to CommonMark)."""
    return MarkdownIt("commonmark").enable("table")


def read_layout(
    lines: Sequence[str], *, question_level: int | None = None, topic_level: int | None = None
) -> Layout:
    """Find the questions of a document that no ``Q:`` label marks.

    The question level, unless given, is the heading level whose headings are mostly
    questions (see ``is_question``); a heading whose section has labelled questions is a
    topic, whatever its level.
    """
    tokens = block_parser().parse("\n".join(lines))
    layout = Layout(topic_level=topic_level, levels_given=question_level is not None)
    labelled = _labelled_lines(tokens)
    headings = _headings(tokens)
    layout.headings = {index: (level, text) for index, level, text in headings}
    own: Counter[int] = Counter()  # the labelled questions right under each heading
    for number, (index, level, _) in enumerate(headings):
        end = next((i for i, lv, _ in headings[number + 1 :] if lv <= level), len(lines))
        following = headings[number + 1][0] if number + 1 < len(headings) else len(lines)
        if any(index < line < end for line in labelled):
            layout.labelled_sections.add(index)
            own[index] = sum(index < line < following for line in labelled)
    layout.titles = _title_headings(headings, own)
    layout.question_levels = (
        frozenset({question_level})
        if question_level is not None
        else _question_levels(headings, layout.labelled_sections, topic_level)
    )
    for number, (index, _, text) in enumerate(headings):
        if _CONTENTS_RE.fullmatch(question_text(text)) and index not in layout.labelled_sections:
            following = headings[number + 1][0] if number + 1 < len(headings) else len(lines)
            layout.contents[index] = following
    levels = [level for _, level, _ in headings]
    title = levels[:1] == [1] and levels.count(1) == 1
    top = layout.question_level
    layout.topics_above = top is not None and any(
        level < top
        and not (title and number == 0)
        and index not in layout.contents
        and _holds_level(headings[number + 1 :], level, top)
        for number, (index, level, _) in enumerate(headings)
    )
    layout.numbered_levels = frozenset(
        level
        for level in layout.question_levels
        if sum(
            1
            for _, lv, text in headings
            if lv == level and is_question(text) and _NUMBERED_RE.match(strip_emphasis(text))
        )
        >= QUESTION_HEADINGS
    )
    if not labelled:
        layout.bold = _bold_lines(tokens)
    _find_blocks(tokens, lines, layout)
    return layout


def _holds_level(after: Sequence[tuple[int, int, str]], level: int, wanted: int) -> bool:
    """Whether a heading of ``level`` has a heading of level ``wanted`` in its section, whose
    headings are ``after`` it up to the next of its level or above."""
    for _, following, _ in after:
        if following <= level:
            return False
        if following == wanted:
            return True
    return False


def _title_headings(headings: Sequence[tuple[int, int, str]], own: Counter[int]) -> set[int]:
    """The headings that title one labelled question each, several under a topic heading of
    their own ("## Arrays", then "### 1. Two Sum" and "### 2. Max Profit", each over one
    "**Question:**"), where most headings of their level do so: they name their question
    rather than start a topic each."""
    levels = [level for _, level, _ in headings]
    title = levels[:1] == [1] and levels.count(1) == 1  # the document's title, no topic
    by_level: dict[int, list[int]] = {}
    under: Counter[int] = Counter()  # single-question headings under each heading
    parent_of: dict[int, int] = {}
    for number, (index, level, _) in enumerate(headings):
        if index not in own:
            continue
        by_level.setdefault(level, []).append(index)
        parent = next((i for i, lv, _ in reversed(headings[:number]) if lv < level), None)
        if own[index] == 1 and parent is not None and not (title and parent == headings[0][0]):
            parent_of[index] = parent
            under[parent] += 1
    titles: set[int] = set()
    for indexes in by_level.values():
        single = [i for i in indexes if i in parent_of and under[parent_of[i]] >= 2]
        if len(single) >= QUESTION_HEADINGS and 2 * len(single) > len(indexes):
            titles.update(single)
    return titles


def unquote_questions(lines: Sequence[str]) -> list[str]:
    """Return the lines with the quote marks taken off quotes that hold labelled questions
    (``> **Q:** ...``), which are then read like any other."""
    lines = list(lines)
    for token in block_parser().parse("\n".join(lines)):
        if token.type != "blockquote_open" or token.level != 0 or token.map is None:
            continue
        start, end = token.map
        inner = [_QUOTE_RE.sub("", line, count=1) for line in lines[start:end]]
        if any(_asks_with_label(line) for line in inner):
            lines[start:end] = inner
    return lines


def reference_definitions(lines: Sequence[str]) -> tuple[list[str], dict[str, str], list[int]]:
    """Take the link reference definitions (``[spec]: https://...``) out of the lines, so that
    none ends up in the answer it happens to stand under: each goes into the texts that use
    it (see ``used_definitions``).  Return the lines, each definition's text by its label
    (normalised, as Markdown matches labels), and the indices of the lines taken out."""
    env: dict[str, Any] = {}
    block_parser().parse("\n".join(lines), env)
    lines = list(lines)
    definitions: dict[str, str] = {}
    taken: list[int] = []
    for label, reference in env.get("references", {}).items():
        start, end = reference.get("map") or (0, 0)
        if not end or not _DEFINITION_START_RE.match(lines[start]):
            continue  # one in a quote or a list item stays where it is
        definitions[label] = "\n".join(line.strip() for line in lines[start:end])
        for index in range(start, end):
            lines[index] = ""
            taken.append(index)
    return lines, definitions, taken


_DEFINITION_START_RE = re.compile(r" {0,3}\[")


def used_definitions(text: str, definitions: Mapping[str, str]) -> str:
    """Return the text with the reference definitions it uses after it."""
    labels = (normalizeReference(label) for label in _LINK_LABEL_RE.findall(text))
    used = dict.fromkeys(label for label in labels if label in definitions)
    return "\n\n".join([text, "\n".join(definitions[label] for label in used)]) if used else text


# What may be a link's label: "[text]" in "[text][label]", "[label][]" and "[label]".
_LINK_LABEL_RE = re.compile(r"\[((?:[^\[\]\\]|\\.){1,999})\]")


def html_headings(lines: Sequence[str]) -> tuple[list[str], list[int]]:
    """Return the lines with each HTML heading block (``<h3>What is X?</h3>``, also over
    several lines) written as a Markdown heading, which is then read like any other; and the
    indices of the lines such a heading was taken from after its first (now blank)."""
    lines = list(lines)
    blanked: list[int] = []
    for token in block_parser().parse("\n".join(lines)):
        if token.type != "html_block" or token.level != 0 or token.map is None:
            continue
        heading = _HTML_HEADING_RE.fullmatch(token.content.strip())
        if heading is None:
            continue
        text = " ".join(heading["text"].split())
        start, end = token.map
        end = start + token.content.rstrip("\n").count("\n") + 1  # not the blank line after
        lines[start] = f"{'#' * int(heading['level'])} {text}" if text else ""
        for index in range(start + 1, end):
            lines[index] = ""
            blanked.append(index)
    return lines, blanked


# An HTML heading, its attributes (align="center") and all.
_HTML_HEADING_RE = re.compile(
    r"(?is)<h(?P<level>[1-6])(?:\s[^>]*)?>(?P<text>(?:(?!</?h[1-6]\b).)*)</h(?P=level)\s*>"
)


def _asks_with_label(line: str) -> bool:
    marker = MARKER_RE.match(line.lstrip())
    if marker and marker_word(marker).startswith("Q"):
        return True
    bold = _LEADING_BOLD_RE.fullmatch(line.strip())
    return bool(bold and is_question(bold["q"]))


def _headings(tokens: Sequence[Token]) -> list[tuple[int, int, str]]:
    return [
        (token.map[0], int(token.tag[1]), tokens[number + 1].content)
        for number, token in enumerate(tokens)
        if token.type == "heading_open" and token.map is not None
    ]


def _labelled_lines(tokens: Sequence[Token]) -> list[int]:
    """The lines that start with a ``Q:`` label."""
    found = []
    for number, token in enumerate(tokens):
        if (
            token.type == "inline"
            and token.map is not None
            and tokens[number - 1].type != "heading_open"
        ):
            for offset, line in enumerate(token.content.split("\n")):
                marker = MARKER_RE.match(line.lstrip())
                if marker and marker_word(marker).startswith("Q"):
                    found.append(token.map[0] + offset)
    return found


def _question_levels(
    headings: Sequence[tuple[int, int, str]], labelled: set[int], topic_level: int | None
) -> frozenset[int]:
    """The level whose headings are mostly questions, and deeper levels of clear questions
    (``#### Q. How does it work?`` under ``## Q. What is Node.js?``)."""
    counts: Counter[int] = Counter()
    questions: Counter[int] = Counter()
    clear: Counter[int] = Counter()
    for index, level, text in headings:
        if index in labelled or (topic_level is not None and level <= topic_level):
            continue
        counts[level] += 1
        questions[level] += is_question(text)
        clear[level] += is_question(text, strict=True)
    levels = [
        level
        for level in counts
        if questions[level] >= QUESTION_HEADINGS and 2 * questions[level] > counts[level]
    ]
    if not levels:
        return frozenset()
    top = max(levels, key=lambda level: (questions[level], level))
    deeper = {
        level
        for level in counts
        if level > top
        and clear[level] >= QUESTION_HEADINGS
        and clear[level] >= DEEPER_SHARE * counts[level]
    }
    return frozenset({top, *deeper})


def _bold_lines(tokens: Sequence[Token]) -> dict[int, tuple[str, str]]:
    """Paragraphs whose first line is all bold and reads as a question, the first in their
    list item if in one."""
    found: dict[int, tuple[str, str]] = {}
    numbered_bold = 0
    numbered_only: dict[int, tuple[str, str]] = {}
    asking: dict[int, list[tuple[int, str]]] = {}  # by list: its items that ask, unanswered
    answered: set[int] = set()  # the lists with items that ask and are answered
    current_list = -1
    for number, token in enumerate(tokens):
        if token.level == 0 and token.type in {"bullet_list_open", "ordered_list_open"}:
            current_list = number
        if token.type != "inline" or token.map is None or not token.children:
            continue
        opening = tokens[number - 1]
        in_item = number >= 2 and tokens[number - 2].type == "list_item_open"
        if opening.type != "paragraph_open" or not (opening.level == 0 or in_item):
            continue
        first = token.content.split("\n")[0].strip()
        bold = _bold_question(first, token.children)
        if bold is not None:
            question, rest, bold_asks, numbered = bold
            # "**2. Write the query.**" among numbered bold questions is one of them.
            (found if bold_asks else numbered_only)[token.map[0]] = (question, rest)
            numbered_bold += bold_asks and numbered
        elif in_item and opening.level == 2 and _asks_and_has_answer(tokens, number):
            # "1. What is a Pod?" with the answer below it in the item.
            found[token.map[0]] = (question_text(first), "")  # the answer: the next lines
            answered.add(current_list)
        elif in_item and opening.level == 2 and has_question_mark(question_text(first)):
            asking.setdefault(current_list, []).append((token.map[0], question_text(first)))
    for list_number, items in asking.items():
        if list_number in answered:
            # A question without an answer among answered ones: skipped and listed.
            found.update((line, (text, "")) for line, text in items)
    if numbered_bold >= QUESTION_HEADINGS:
        found.update(numbered_only)
    return found


def _bold_question(first: str, children: Sequence[Token]) -> tuple[str, str, bool, bool] | None:
    """A paragraph's first line that opens with a bold question: the question, the rest of
    the line, whether it asks, and whether it is numbered; None if it is no such line."""
    bold = _LEADING_BOLD_RE.fullmatch(first)
    if bold is None or not _leading_strong(children):
        return None
    rest = bold["rest"].strip()
    numbered = bool(_NUMBERED_RE.match(bold["q"]))
    if is_question(bold["q"]) and (not rest or is_question(bold["q"], strict=True)):
        return question_text(bold["q"]), rest, True, numbered
    if numbered and not rest and not is_question(bold["q"]):
        return question_text(bold["q"]), "", False, True
    return None


def _asks_and_has_answer(tokens: Sequence[Token], number: int) -> bool:
    """Whether the inline token at ``number`` is a one-line question that opens a top-level
    list item with more in it."""
    token = tokens[number]
    first, _, rest = token.content.partition("\n")
    if not has_question_mark(question_text(first)):
        return False
    if rest.strip():
        return True  # "1. What is X?" and, on the next line, the answer
    after = tokens[number + 2] if number + 2 < len(tokens) else None  # past paragraph_close
    if after is None or after.type == "list_item_close":
        return False
    if after.type in {"bullet_list_open", "ordered_list_open"}:
        # Sub-questions ("How would you check it?") are no answer.
        sub = next(t for t in tokens[number + 3 :] if t.type == "inline")
        return not has_question_mark(sub.content.split("\n")[0].rstrip())
    return True


def _leading_strong(children: Sequence[Token]) -> bool:
    """Whether the inline tokens open with a bold span that closes on the first line."""
    children = [child for child in children if child.type != "text" or child.content]
    if not children or children[0].type != "strong_open":
        return False
    depth = 0
    for child in children:
        if child.type in {"softbreak", "hardbreak"}:
            return False
        depth += {"strong_open": 1, "strong_close": -1}.get(child.type, 0)
        if depth == 0:
            return True
    return False


def _find_blocks(tokens: Sequence[Token], lines: Sequence[str], layout: Layout) -> None:
    fences = [token.map for token in tokens if token.type == "fence" and token.map]
    in_fence = {line for start, end in fences for line in range(start, end)}
    for number, token in enumerate(tokens):
        if token.map is None:
            continue
        start, end = token.map
        if token.type == "fence" and _ITEM_FENCE_RE.match(lines[start]):
            layout.item_fences[start] = end
        elif token.type == "fence" and token.level > 0:
            layout.nested_fences.add(start)
        elif token.type == "html_block":
            _html_block(token, lines, layout, in_fence)
        elif token.type == "inline" and _is_top_link(token.content):
            layout.top_links[start] = end
        elif token.type == "inline" and _ANCHORS_RE.fullmatch(token.content):
            layout.comments[start] = end  # "<a name="q2"></a>": an anchor shows nothing
        elif token.type == "inline" and end - start > 1:
            last = token.content.rsplit("\n", 1)[-1]
            if _is_top_link(last):
                # "↥ Back to Top" on the line under an answer's last words.
                layout.top_links[end - 1] = end
        elif token.type == "table_open" and token.level == 0:
            table = _table(tokens, number)
            if table is not None:
                layout.tables[start] = table


def _html_block(token: Token, lines: Sequence[str], layout: Layout, in_fence: set[int]) -> None:
    """A comment, a <details> block, a link back to the top, or a wrapper (<p align>)."""
    assert token.map is not None
    start, end = token.map
    if _COMMENT_RE.fullmatch(token.content):
        layout.comments[start] = end
    elif _DETAILS_OPEN_RE.match(token.content.lstrip()):
        details = _details(lines, start, in_fence)
        if details is None:
            layout.unclosed_details.add(start)
        else:
            layout.details[start] = details
    elif _is_top_link(token.content):
        layout.top_links[start] = end
    elif _WRAPPER_BLOCK_RE.match(token.content):
        _unwrap(lines, start, end, layout)


def _unwrap(lines: Sequence[str], start: int, end: int, layout: Layout) -> None:
    """Take the wrapping tags (<p align="center">, <div>, <center>, <aside>) off an HTML
    block's lines, which cards would show as text; what they wrap stays, at the block's
    indentation."""
    indent = " " * (len(lines[start]) - len(lines[start].lstrip(" ")))
    for index in range(start, end):
        inner = _WRAPPER_TAG_RE.sub("", lines[index]).strip()
        layout.unwrapped[index] = indent + inner if inner else ""


def _is_top_link(content: str) -> bool:
    shown = _TAG_RE.sub("", re.sub(r"\]\([^)]*\)", "", content))
    return bool(_TOP_LINK_RE.search(content) and _TOP_TEXT_RE.fullmatch(shown))


def _details(lines: Sequence[str], start: int, in_fence: set[int]) -> Details | None:
    depth = 0
    for index in range(start, len(lines)):
        if index in in_fence:
            continue
        line = lines[index]
        depth += len(_DETAILS_OPEN_RE.findall(line)) - len(_DETAILS_CLOSE_RE.findall(line))
        if depth <= 0:
            return _read_details(lines, start, index)
    return None


def _read_details(lines: Sequence[str], start: int, end: int) -> Details:
    text = "\n".join(lines[start : end + 1])
    summary = _SUMMARY_RE.search(text)
    head = _DETAILS_OPEN_RE.search(text)
    assert head is not None
    head_end = text.index(">", head.end()) + 1
    body_start = summary.end() if summary else head_end
    closing_tag = list(_DETAILS_CLOSE_RE.finditer(text))[-1]
    body_end = closing_tag.start()
    body = text[body_start:body_end]
    # Text between <details> and <summary>, or after </details> on its line, is the answer's
    # too: nothing is dropped.
    before = text[head_end : summary.start()] if summary else ""
    before_lines = [
        (start + text.count("\n", 0, head_end) + offset, line.strip())
        for offset, line in enumerate(before.split("\n"))
        if line.strip()
    ]
    tail = text[closing_tag.end() :].strip()
    opening = _BODY_START_RE.match(body)
    assert opening is not None  # every part of it is optional
    closing = _BODY_END_RE.search(body)
    if opening["wrap"] and closing and closing["tag"].lower() == opening["tag"].lower():
        body = body[: closing.start()]
    # Keep the line breaks of what is cut, so that each line keeps its number.
    tags = opening["tags"]
    body = body[: opening.start("tags")] + "\n" * tags.count("\n") + body[opening.end("tags") :]
    first = start + text.count("\n", 0, body_start)
    numbered = [(first + offset, line) for offset, line in enumerate(body.split("\n"))]
    # The first line is what follows "</summary>" on its line: its indentation means nothing.
    numbered[0] = (numbered[0][0], numbered[0][1].lstrip())
    indents = [len(line) - len(line.lstrip()) for _, line in numbered[1:] if line.strip()]
    cut = min(indents, default=0)
    body_lines = tuple(
        (index, (line if number == 0 else line[cut:]).rstrip())
        for number, (index, line) in enumerate(numbered)
    )
    while body_lines and not body_lines[0][1]:
        body_lines = body_lines[1:]
    if before_lines:
        body_lines = (*before_lines, (before_lines[-1][0], ""), *body_lines)
    if tail:
        body_lines = (*body_lines, (end, ""), (end, tail))
    shown = summary_text(summary["text"] if summary else "")
    head_line, _, more = shown.partition("\n")
    if more.strip():
        # A summary of several lines ("Explain these:", then a list) keeps them.
        rest = textwrap.dedent(more).strip("\n")
        question = question_text(head_line) + "\n\n" + rest
    else:
        question = question_text(shown)
    return Details(end, question, body_lines, answer_only=is_answer_label(shown))


def summary_text(raw: str) -> str:
    """A <summary>'s HTML as Markdown: <code> as a code span, other tags gone, entities as the
    characters they are (a "<" they make stays text)."""
    parts = []
    cursor = 0
    for code in _CODE_TAG_RE.finditer(raw):
        parts += [_text_of(raw[cursor : code.start()]), f"`{html.unescape(code[1])}`"]
        cursor = code.end()
    parts.append(_text_of(raw[cursor:]))
    return "".join(parts).strip()


def _text_of(fragment: str) -> str:
    text = html.unescape(_TAG_RE.sub("", fragment))
    return text.replace("<", "\\<").replace(">", "\\>")


def _table(tokens: Sequence[Token], start: int) -> Table | None:
    """A table with a question column and an answer column: one question per row."""
    rows: list[tuple[int, list[str]]] = []
    number = start
    while tokens[number].type != "table_close":
        token = tokens[number]
        if token.type == "tr_open" and token.map is not None:
            rows.append((token.map[0], []))
        elif token.type == "inline" and rows:
            rows[-1][1].append(token.content.strip())
        number += 1
    if len(rows) < 2:
        return None
    header = [question_text(cell).strip(" :").lower() for cell in rows[0][1]]
    q = next((i for i, cell in enumerate(header) if cell in _QUESTION_HEADERS), None)
    a = next((i for i, cell in enumerate(header) if cell in _ANSWER_HEADERS), None)
    if q is None or a is None:
        return None
    table_map = tokens[start].map
    assert table_map is not None

    def cell(cells: list[str], column: int) -> str:
        return cells[column] if column < len(cells) else ""

    # Other columns ("Notes", "Example") go into the answer under their headers; a column that
    # only numbers the rows ("#", "No.") does not.
    others = [
        (column, name)
        for column, name in enumerate(rows[0][1])
        if column not in (q, a) and not _NUMBER_HEADER_RE.fullmatch(header[column])
    ]

    def answer(cells: list[str]) -> str:
        parts = [cell(cells, a)] if cell(cells, a) else []
        parts += [f"**{name}:** {cell(cells, c)}" for c, name in others if cell(cells, c)]
        return "\n\n".join(parts) if cell(cells, a) else ""

    return Table(
        table_map[1],
        tuple(TableRow(line, cell(cells, q), answer(cells)) for line, cells in rows[1:]),
    )
