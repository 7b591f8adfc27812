"""Show every card as Anki will, in one self-contained HTML page.

Each card is the note type's own front and back template with the note's fields filled in,
styled by the note type's own CSS (``package.FRONT_TEMPLATE``, ``package.BACK_TEMPLATE``,
``render.card_css()``): there is no second copy of either to drift from the deck.  The page
loads nothing from anywhere; its Content-Security-Policy forbids it even for a card that
links an image.  So formulas are not typeset, as MathJax does in Anki: the page shows their
TeX source, marked, and says so.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from html import escape
from pathlib import Path
from typing import NamedTuple

from qa2anki import cloze
from qa2anki.model import RenderedDeck, RenderedQuestion
from qa2anki.package import NOTE_TYPE_SPECS, note_fields
from qa2anki.render import card_css, cloze_css


class Card(NamedTuple):
    """One card of a note: its ordinal (from 1), its template's name, front and back."""

    ordinal: int
    name: str
    front: str
    back: str


def preview_page(rendered: RenderedDeck, live_version: int | None = None) -> str:
    """Return the preview page: every card's front and back, grouped by topic.

    With ``live_version`` the page is served by ``preview --watch`` (see qa2anki.watch): it
    asks the server which build is current and reloads itself when that is another one.
    """
    deck = rendered.deck
    sections = []
    links = []
    for number, topic in enumerate(deck.topics, start=1):
        items = [item for item in rendered.questions if item.topic is topic]
        name = escape(topic.name)
        links.append(
            f'<a class="preview-link" href="#topic-{number}">'
            f'{name} <span class="preview-n">{len(items)}</span></a>'
        )
        notes = "\n".join(_note_html(item) for item in items)
        sections.append(
            f'<section class="preview-topic" id="topic-{number}">\n'
            f'<h2 class="preview-topic-name">{name}</h2>\n{notes}\n</section>'
        )
    count = sum(len(cards(item)) for item in rendered.questions)
    has_cloze = any(item.question.type == "cloze" for item in rendered.questions)
    has_math = any(
        'class="math"' in html
        for item in rendered.questions
        for html in (item.question_html, item.answer_html)
    )
    live = live_version is not None
    return _PAGE.format(
        connect="; connect-src 'self'" if live else "",
        live=f' data-live-version="{live_version}"' if live else "",
        math_note=_MATH_NOTE if has_math else "",
        deck_name=escape(deck.name),
        card_css=card_css() + (cloze_css() if has_cloze else ""),
        page_css=_asset("preview.css"),
        count=f"{count} card{'' if count == 1 else 's'}",
        links="\n".join(links),
        sections="\n".join(sections),
        script=_asset("preview.js"),
    )


def card_sides(item: RenderedQuestion) -> tuple[str, str]:
    """Return a note's first card's front and back HTML, from its note type's templates."""
    first = cards(item)[0]
    return first.front, first.back


def cards(item: RenderedQuestion) -> list[Card]:
    """Return every card of a note, as Anki makes them: one per template, or for a cloze one
    per deletion number, its deletions hidden on the front and marked on the back."""
    spec = NOTE_TYPE_SPECS[item.question.type]
    fields = dict(zip(spec.fields, note_fields(item), strict=True))
    if spec.cloze:
        (name, front_template, back_template), *_ = spec.templates
        found = []
        for number in cloze.card_numbers(item.question.q):
            text = fields["Text"]
            front = render_template(
                front_template, fields, cloze={"Text": cloze.show_card(text, number, answer=False)}
            )
            back = render_template(
                back_template, fields, cloze={"Text": cloze.show_card(text, number, answer=True)}
            )
            found.append(Card(number, name, front, back))
        return found
    found = []
    for ordinal, (name, front_template, back_template) in enumerate(spec.templates, start=1):
        front = render_template(front_template, fields)
        found.append(Card(ordinal, name, front, render_template(back_template, fields, front)))
    return found


def render_template(
    template: str,
    fields: Mapping[str, str],
    front_side: str | None = None,
    cloze: Mapping[str, str] | None = None,
) -> str:
    """Fill a card template: the part of Anki's template language qa2anki's templates use.

    That is ``{{Field}}``, ``{{#Field}}`` ... ``{{/Field}}`` (shown when the field is not
    empty), ``{{cloze:Field}}`` (the field as ``cloze`` gives it for this card) and, on the
    back, ``{{FrontSide}}``.  Anything else (other filters, unknown fields) raises
    ``ValueError``: the preview would show something other than Anki does, so the templates
    and this function must change together.
    """
    values = dict(fields)
    if front_side is not None:
        values["FrontSide"] = front_side
    values.update({f"cloze:{name}": value for name, value in (cloze or {}).items()})
    parts = _TAG_RE.split(template)
    filled = []
    sections: list[tuple[str, bool]] = []  # the sections open: field, and whether shown
    for index, part in enumerate(parts):
        hidden = not all(shown for _, shown in sections)
        if index % 2 == 0:
            if "{{" in part or "}}" in part:
                raise ValueError(f"unbalanced braces in card template: {part!r}")
            if not hidden:
                filled.append(part)
        elif part[:1] == "#" and part[1:] in fields:
            sections.append((part[1:], bool(fields[part[1:]])))
        elif part[:1] == "/" and part[1:] in fields:
            if not sections or sections.pop()[0] != part[1:]:
                raise ValueError(f"card template section {{{{{part}}}}} closes none open")
        elif part in values:
            if not hidden:
                filled.append(values[part])
        else:
            raise ValueError(f"card template tag {{{{{part}}}}} is not supported by the preview")
    if sections:
        raise ValueError(f"card template section {{{{#{sections[-1][0]}}}}} is never closed")
    return "".join(filled)


_TAG_RE = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)


def _note_html(item: RenderedQuestion) -> str:
    note_id = escape(item.question.id)
    note_cards = cards(item)
    articles = []
    for card in note_cards:
        label = note_id
        if item.question.type == "cloze":
            label += f" · c{card.ordinal}"
        elif len(note_cards) > 1:
            label += f" · {escape(card.name)}"
        # As Anki desktop's element around a card (night mode adds `nightMode night_mode`).
        classes = f"card card{card.ordinal}"
        anchor = f"note-{note_id}" if card is note_cards[0] else f"note-{note_id}-{card.ordinal}"
        articles.append(
            f'<article class="preview-note" id="{anchor}">\n'
            f'<div class="preview-side"><div class="preview-label">{label} · front</div>'
            f'<div class="{classes}">\n{card.front}\n</div></div>\n'
            f'<div class="preview-side"><div class="preview-label">{label} · back</div>'
            f'<div class="{classes}">\n{card.back}\n</div></div>\n'
            "</article>"
        )
    return "\n".join(articles)


# Marks the page as ours: `preview` replaces only files that carry it near their start.
GENERATOR_MARK = '<meta name="generator" content="qa2anki preview">'

_PAGE = """\
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="qa2anki preview">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; \
style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:{connect}">
<title>{deck_name} · card preview</title>
<style>
{card_css}</style>
<style>
{page_css}
</style>
</head>
<body class="qa2anki-preview"{live}>
<header class="preview-bar">
<h1 class="preview-title">{deck_name}</h1>
<input id="preview-filter" class="preview-filter" type="search" autocomplete="off" \
placeholder="Filter cards" aria-label="Filter cards">
<label class="preview-switch"><input id="preview-night" type="checkbox" autocomplete="off"> \
Night</label>
<label class="preview-switch"><input id="preview-phone" type="checkbox" autocomplete="off"> \
Phone width</label>
<span id="preview-count" class="preview-count">{count}</span>
{math_note}</header>
<nav class="preview-topics" aria-label="Topics">
{links}
</nav>
<main class="preview-main">
{sections}
</main>
<script>
{script}
</script>
</body>
</html>
"""

_MATH_NOTE = (
    '<p class="preview-math-note">Formulas show here as their TeX source; Anki typesets them.</p>\n'
)


def _asset(name: str) -> str:
    """Return a file of the page's, shipped beside this module, without its final newline."""
    return Path(__file__).with_name(name).read_text(encoding="utf-8").strip()
