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

from qa2anki.model import RenderedDeck, RenderedQuestion
from qa2anki.package import BACK_TEMPLATE, FIELDS, FRONT_TEMPLATE, note_fields
from qa2anki.render import card_css

# The classes Anki desktop puts on the element around a card: `card` and `card<ordinal>`.
# Night mode adds `nightMode night_mode` to the same element (the page's script does that).
CARD_CLASSES = "card card1"


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
    count = deck.question_count
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
        card_css=card_css(),
        page_css=_asset("preview.css"),
        count=f"{count} card{'' if count == 1 else 's'}",
        links="\n".join(links),
        sections="\n".join(sections),
        script=_asset("preview.js"),
    )


def card_sides(item: RenderedQuestion) -> tuple[str, str]:
    """Return a card's front and back HTML, from the note type's templates."""
    fields = dict(zip(FIELDS, note_fields(item), strict=True))
    front = render_template(FRONT_TEMPLATE, fields)
    back = render_template(BACK_TEMPLATE, fields, front_side=front)
    return front, back


def render_template(template: str, fields: Mapping[str, str], front_side: str | None = None) -> str:
    """Fill a card template: the part of Anki's template language qa2anki's templates use.

    That is ``{{Field}}`` and, on the back, ``{{FrontSide}}``.  Anything else (sections,
    filters, unknown fields) raises ``ValueError``: the preview would show something other
    than Anki does, so the templates and this function must change together.
    """
    parts = _TAG_RE.split(template)
    filled = []
    for index, part in enumerate(parts):
        if index % 2 == 0:
            if "{{" in part or "}}" in part:
                raise ValueError(f"unbalanced braces in card template: {part!r}")
            filled.append(part)
        elif part == "FrontSide" and front_side is not None:
            filled.append(front_side)
        elif part in fields:
            filled.append(fields[part])
        else:
            raise ValueError(f"card template tag {{{{{part}}}}} is not supported by the preview")
    return "".join(filled)


_TAG_RE = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)


def _note_html(item: RenderedQuestion) -> str:
    front, back = card_sides(item)
    note_id = escape(item.question.id)
    return (
        f'<article class="preview-note" id="note-{note_id}">\n'
        f'<div class="preview-side"><div class="preview-label">{note_id} · front</div>'
        f'<div class="{CARD_CLASSES}">\n{front}\n</div></div>\n'
        f'<div class="preview-side"><div class="preview-label">{note_id} · back</div>'
        f'<div class="{CARD_CLASSES}">\n{back}\n</div></div>\n'
        "</article>"
    )


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

# The page's own styling.  Every selector names a preview-* class and none reaches inside a
# card, so the cards look exactly as the note type's CSS makes them; the browser test checks it.


def _asset(name: str) -> str:
    """Return a file of the page's, shipped beside this module, without its final newline."""
    return Path(__file__).with_name(name).read_text(encoding="utf-8").strip()
