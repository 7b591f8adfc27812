"""Cloze deletions: ``{{c1::text}}`` and ``{{c1::text::hint}}``, as Anki reads them.

The loader checks a cloze question's text here (its deletions and their numbers), and the
preview shows each card the way Anki's ``{{cloze:Text}}`` does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

_OPEN_RE = re.compile(r"\{\{c([1-9][0-9]*)::")
# Anything that looks like the start of a deletion, right or not: "{{c::", "{{C1:", "{{c 1::".
_LOOKS_LIKE_RE = re.compile(r"\{\{\s*[cC]\s*[0-9]*\s*:")
_VOID_TAGS = frozenset({"br", "img", "hr", "wbr"})


@dataclass(frozen=True)
class Deletion:
    """One deletion: its number, and where its text and hint lie in the text it is in."""

    number: int
    start: int  # of "{{c1::"
    end: int  # after "}}"
    text: tuple[int, int]
    hint: tuple[int, int] | None


def deletions(text: str) -> tuple[list[Deletion], list[tuple[int, str]]]:
    """Find the deletions of a text, nested ones too; and the problems, by offset.

    A problem is a deletion never closed, or something that looks like one but is not
    written as ``{{c<number>::``.
    """
    found: list[Deletion] = []
    problems: list[tuple[int, str]] = []
    stack: list[tuple[int, int, int, int | None]] = []  # number, start, text start, hint
    index = 0
    while index < len(text):
        opening = _OPEN_RE.match(text, index)
        if opening:
            stack.append((int(opening[1]), index, opening.end(), None))
            index = opening.end()
            continue
        looks = _LOOKS_LIKE_RE.match(text, index)
        if looks:
            problems.append(
                (
                    index,
                    f"'{text[index : looks.end()]}' is not a cloze deletion: write them as "
                    "{{c1::text}} (or {{c1::text::hint}}), numbered from 1",
                )
            )
            index = looks.end()
            continue
        if stack and text.startswith("::", index) and stack[-1][3] is None:
            number, start, body, _ = stack[-1]
            stack[-1] = (number, start, body, index)
            index += 2
            continue
        if stack and text.startswith("}}", index):
            number, start, body, hint = stack.pop()
            end = hint if hint is not None else index
            found.append(
                Deletion(
                    number,
                    start,
                    index + 2,
                    (body, end),
                    None if hint is None else (hint + 2, index),
                )
            )
            index += 2
            continue
        index += 1
    for number, start, _, _ in stack:
        message = f"the cloze deletion {{{{c{number}::...}}}} is never closed with }}}}"
        problems.append((start, message))
    found.sort(key=lambda deletion: deletion.start)
    return found, sorted(problems)


def card_numbers(text: str) -> list[int]:
    """The numbers of a cloze text's cards: one card per deletion number."""
    return sorted({deletion.number for deletion in deletions(text)[0]})


def unbalanced(html: str) -> list[int]:
    """Return the places (0 for the first deletion, in order) of the deletions in ``html``
    whose text is not whole HTML: one that spans Markdown structure (two paragraphs, the end
    of a **bold**)."""
    found, _ = deletions(html)
    return [place for place, d in enumerate(found) if not _balanced(html[d.text[0] : d.end - 2])]


def _balanced(fragment: str) -> bool:
    parser = _TagBalance()
    parser.feed(fragment)
    parser.close()
    return parser.ok and not parser.open


class _TagBalance(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.ok = True

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _VOID_TAGS:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID_TAGS:
            return
        if not self.open or self.open[-1] != tag:
            self.ok = False
        else:
            self.open.pop()


def show_card(html: str, number: int, *, answer: bool) -> str:
    """Show a cloze field's HTML as card ``number`` does: its deletions hidden on the front
    (``[...]`` or the hint) and marked on the back; the other deletions as plain text."""
    while True:
        found, _ = deletions(html)
        if not found:
            return html
        # The deletion that starts last holds no other: show it, then look again.
        last = max(found, key=lambda d: d.start)
        inner = html[last.text[0] : last.text[1]]
        if last.number == number and not answer:
            hint = "..." if last.hint is None else html[last.hint[0] : last.hint[1]]
            inner = f'<span class="cloze">[{hint}]</span>'
        elif last.number == number:
            inner = f'<span class="cloze">{inner}</span>'
        html = html[: last.start] + inner + html[last.end :]


def problems(text: str, html: str) -> list[tuple[int, str]]:
    """Check a cloze text (Markdown) and its HTML, which is what Anki reads: each problem with
    its line in the text (from 0)."""
    found, wrong = deletions(text)
    lines = [(text.count("\n", 0, offset), message) for offset, message in wrong]
    if wrong:
        return lines
    if not found:
        return [(0, "a cloze question needs a deletion, such as {{c1::text}}")]
    for deletion in found:
        message = _deletion_problem(text, deletion, found)
        if message:
            lines.append((text.count("\n", 0, deletion.start), message))
    if lines:
        return lines
    in_html, _ = deletions(html)
    if [d.number for d in in_html] != [d.number for d in found] or _in_attributes(html):
        return [
            (
                0,
                "these deletions are not the ones the card gets: a deletion in a link's address "
                "or title or an image's text makes none, and an escaped one (\\{\\{c1::) "
                "still makes one; keep deletions in text and code",
            )
        ]
    crossing = unbalanced(html)
    for place in crossing:
        deletion = found[place]
        lines.append(
            (
                text.count("\n", 0, deletion.start),
                f"the cloze deletion {{{{c{deletion.number}::...}}}} crosses Markdown "
                "structure: keep it inside one paragraph, list item or code block, around "
                "whole **bold** or `code`",
            )
        )
    for place, deletion in enumerate(in_html):
        parts = [deletion.text, deletion.hint] if deletion.hint else []
        if place not in crossing and not all(_balanced(html[slice(*p)]) for p in parts):
            lines.append(
                (
                    text.count("\n", 0, found[place].start),
                    f"Anki reads the first '::' in the cloze deletion {{{{c{deletion.number}::"
                    "...}} as the start of its hint, and here that splits `code` or **bold**: a "
                    "deletion's text cannot hold '::'",
                )
            )
    if not lines and card_numbers(html) != _import_card_numbers(html):
        lines.append((0, "Anki would make other cards than these deletions: write them simply"))
    return lines


def _deletion_problem(text: str, deletion: Deletion, found: list[Deletion]) -> str | None:
    """What is wrong with one deletion as written, if anything."""
    name = f"{{{{c{deletion.number}::...}}}}"
    if any(other.start > deletion.start and other.end <= deletion.end for other in found):
        return f"the cloze deletion {name} holds another: put them side by side"
    if not text[deletion.text[0] : deletion.text[1]].strip():
        return f"the cloze deletion {name} is empty"
    if deletion.hint is not None and not text[slice(*deletion.hint)].strip():
        return f"the cloze deletion {name} has an empty hint after its '::'"
    if text.startswith("}", deletion.end) and _opens_more(
        text[deletion.text[0] : deletion.end - 2]
    ):
        # Anki ends a deletion at the first "}}": "{{c1::x^{2}}}" hides "x^{2", and the
        # last "}" is left over.  ("{{c1::{}}" hides "{", as it may mean to.)
        return (
            f"the first '}}}}' in the cloze deletion {name} ends it, inside a '{{...}}' of its "
            "text: put a space between the text's '}' and the '}}'"
        )
    return None


def _opens_more(text: str) -> bool:
    return text.count("{") > text.count("}")


# How an .apkg's cards of a cloze note are counted when the deck is written (genanki).
_IMPORT_CARD_RE = re.compile(r"{{c(\d+)::.+?}}", re.DOTALL)


def _import_card_numbers(html: str) -> list[int]:
    return sorted({int(number) for number in _IMPORT_CARD_RE.findall(html) if int(number) > 0})


def _in_attributes(html: str) -> bool:
    """Whether a deletion's mark is inside a tag (an attribute: href, title, alt)."""
    return any("{{c" in tag for tag in re.findall(r"<[^>]*>", html))
