"""Show every card as Anki will, in one self-contained HTML page.

Each card is the note type's own front and back template with the note's fields filled in,
styled by the note type's own CSS (``package.FRONT_TEMPLATE``, ``package.BACK_TEMPLATE``,
``render.card_css()``): there is no second copy of either to drift from the deck.  The page
loads nothing from anywhere; its Content-Security-Policy forbids it even for a card that
links an image.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from html import escape

from qa2anki.model import RenderedDeck, RenderedQuestion
from qa2anki.package import BACK_TEMPLATE, FRONT_TEMPLATE, note_fields
from qa2anki.render import card_css

# The classes Anki desktop puts on the element around a card: `card` and `card<ordinal>`.
# Night mode adds `nightMode night_mode` to the same element (the page's script does that).
CARD_CLASSES = "card card1"


def preview_page(rendered: RenderedDeck) -> str:
    """Return the preview page: every card's front and back, grouped by topic."""
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
    return _PAGE.format(
        deck_name=escape(deck.name),
        card_css=card_css(),
        page_css=_PAGE_CSS.strip(),
        count=f"{count} card{'' if count == 1 else 's'}",
        links="\n".join(links),
        sections="\n".join(sections),
        script=_PAGE_SCRIPT.strip(),
    )


def card_sides(item: RenderedQuestion) -> tuple[str, str]:
    """Return a card's front and back HTML, from the note type's templates."""
    fields = note_fields(item)
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
style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>{deck_name} · card preview</title>
<style>
{card_css}</style>
<style>
{page_css}
</style>
</head>
<body class="qa2anki-preview">
<header class="preview-bar">
<h1 class="preview-title">{deck_name}</h1>
<input id="preview-filter" class="preview-filter" type="search" autocomplete="off" \
placeholder="Filter cards" aria-label="Filter cards">
<label class="preview-switch"><input id="preview-night" type="checkbox" autocomplete="off"> \
Night</label>
<label class="preview-switch"><input id="preview-phone" type="checkbox" autocomplete="off"> \
Phone width</label>
<span id="preview-count" class="preview-count">{count}</span>
</header>
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

# The page's own styling.  Every selector names a preview-* class and none reaches inside a
# card, so the cards look exactly as the note type's CSS makes them; the browser test checks it.
_PAGE_CSS = """
.qa2anki-preview {
  margin: 0;
  background: #e4e7eb;
}
.qa2anki-preview.preview-night {
  background: #0b0e13;
}
.preview-bar, .preview-topics, .preview-label, .preview-topic-name {
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: #1f2328;
}
.preview-night .preview-bar, .preview-night .preview-topics, .preview-night .preview-label,
.preview-night .preview-topic-name {
  color: #e6edf3;
}
.preview-bar {
  position: sticky;
  top: 0;
  z-index: 1;
  display: flex;
  flex-wrap: wrap;
  align-items: center;
  gap: 6px 16px;
  padding: 8px 16px;
  font-size: 14px;
  background: #f6f8fa;
  border-bottom: 1px solid #d0d7de;
}
.preview-night .preview-bar {
  background: #161b22;
  border-bottom-color: #30363d;
}
.preview-title {
  margin: 0;
  font-size: 16px;
}
.preview-filter {
  flex: 1 1 10em;
  min-width: 0;
  font: inherit;
  padding: 3px 8px;
}
.preview-switch {
  white-space: nowrap;
}
.preview-topics {
  display: flex;
  flex-wrap: wrap;
  gap: 4px 16px;
  padding: 8px 16px;
  font-size: 13px;
}
.preview-link {
  color: inherit;
}
.preview-n {
  opacity: 0.75;
}
.preview-main {
  max-width: 1400px;
  margin: 0 auto;
  padding: 0 16px 48px;
}
.preview-topic {
  scroll-margin-top: 56px;
}
.preview-topic-name {
  margin: 24px 0 8px;
  font-size: 18px;
}
.preview-note {
  display: grid;
  grid-template-columns: repeat(2, minmax(0, 1fr));
  gap: 8px 16px;
  margin: 0 0 24px;
}
.preview-side {
  min-width: 0;
}
.preview-label {
  margin: 0 0 4px;
  font-size: 12px;
  opacity: 0.8;
}
.preview-side > .card {
  box-sizing: border-box;
  padding: 16px;
  border-radius: 8px;
  box-shadow: 0 1px 3px rgba(0, 0, 0, 0.3);
}
.preview-phone .preview-main {
  max-width: 390px;
  padding: 0 0 48px;
}
.preview-phone .preview-note {
  grid-template-columns: minmax(0, 1fr);
}
.preview-phone .preview-label {
  padding: 0 12px;
}
.preview-phone .preview-side > .card {
  width: 390px;
  padding: 12px;
  border-radius: 0;
}
.preview-note[hidden], .preview-topic[hidden], .preview-link[hidden] {
  display: none;
}
@media (max-width: 800px) {
  .preview-note {
    grid-template-columns: minmax(0, 1fr);
  }
  .preview-main {
    padding: 0 0 48px;
  }
}
"""

_PAGE_SCRIPT = """
(function () {
  "use strict";
  var notes = Array.prototype.slice.call(document.querySelectorAll(".preview-note"));
  var texts = notes.map(function (note) { return note.textContent.toLowerCase(); });
  var topics = Array.prototype.slice.call(document.querySelectorAll(".preview-topic"));
  var cards = document.querySelectorAll(".preview-side > .card");
  var filter = document.getElementById("preview-filter");
  var night = document.getElementById("preview-night");
  var phone = document.getElementById("preview-phone");
  var count = document.getElementById("preview-count");

  function applyFilter() {
    var words = filter.value.toLowerCase().split(/\\s+/).filter(Boolean);
    var shown = 0;
    notes.forEach(function (note, index) {
      var match = words.every(function (word) { return texts[index].indexOf(word) >= 0; });
      note.hidden = !match;
      if (match) { shown += 1; }
    });
    topics.forEach(function (topic) {
      var empty = topic.querySelector(".preview-note:not([hidden])") === null;
      topic.hidden = empty;
      document.querySelector('a[href="#' + topic.id + '"]').hidden = empty;
    });
    count.textContent = (shown === notes.length ? "" : shown + " of ") +
      notes.length + (notes.length === 1 ? " card" : " cards");
  }

  // The classes Anki's clients put on the card in night mode: desktop and AnkiMobile
  // `nightMode`, AnkiDroid `night_mode`; desktop both.
  function applyNight() {
    Array.prototype.forEach.call(cards, function (card) {
      card.classList.toggle("nightMode", night.checked);
      card.classList.toggle("night_mode", night.checked);
    });
    document.body.classList.toggle("preview-night", night.checked);
  }

  function applyPhone() {
    document.body.classList.toggle("preview-phone", phone.checked);
  }

  filter.addEventListener("input", applyFilter);
  night.addEventListener("change", applyNight);
  phone.addEventListener("change", applyPhone);
  applyFilter();
  applyNight();
  applyPhone();
})();
"""
