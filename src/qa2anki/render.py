"""Turn questions' Markdown into card HTML, and provide the CSS the cards are styled with.

Text is always text: raw HTML in the sources is escaped, never passed through.  Code is
highlighted with Pygments CSS classes, never inline colours, so that one stylesheet can
colour it for light and for night mode.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from functools import cache, lru_cache
from html import escape
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING

import mdurl
import pygments

from qa2anki.cache import RenderCache, storage_code
from qa2anki.model import Deck, RenderedDeck, RenderedQuestion
from qa2anki.workers import part, start_pool, usable_cores

# markdown-it and Pygments' lexers and formatter are imported when there is something to
# render: a rebuild whose texts are all in the render cache needs none of them.
if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.renderer import RendererHTML
    from markdown_it.token import Token
    from markdown_it.utils import EnvType, OptionsDict
    from pygments.formatters import HtmlFormatter
    from pygments.lexer import Lexer

LIGHT_STYLE = "xcode"
NIGHT_STYLE = "lightbulb"
# Anki desktop and AnkiMobile put `nightMode` on the card, AnkiDroid `night_mode`.
NIGHT_SELECTORS = (".nightMode", ".night_mode")


# Below this many texts to render, a pool of processes costs more time than it saves.
PARALLEL_MIN = 2000
# Texts per task sent to a worker process: enough to make the round trip worthwhile.
CHUNK = 250

Progress = Callable[[int, int], None]
"""Called with (texts rendered so far, texts to render) while a deck renders."""


def render_deck(
    deck: Deck, cache: RenderCache | None = None, progress: Progress | None = None
) -> RenderedDeck:
    """Render the deck's description and every question, in source order.

    Each distinct text is rendered once; texts found in ``cache`` are not rendered at all,
    and the rest are stored in it (unless it is read-only).  Large decks are rendered on
    all of the machine's cores.  The result is the same either way.
    """
    items = [(topic, question) for topic in deck.topics for question in topic.questions]
    # The cache keeps each topic's HTML together; the description is a topic of one text.
    groups = [
        [text for question in topic.questions for text in (question.q, question.a)]
        for topic in deck.topics
    ]
    if deck.description:
        groups.append([deck.description])
    html = render_texts(groups, cache, progress)
    questions = tuple(
        RenderedQuestion(question, topic, html[question.q], html[question.a])
        for topic, question in items
    )
    description_html = html[deck.description] if deck.description else ""
    return RenderedDeck(deck=deck, description_html=description_html, questions=questions)


def render_texts(
    groups: Sequence[Sequence[str]],
    cache: RenderCache | None = None,
    progress: Progress | None = None,
) -> dict[str, str]:
    """Return the HTML of each distinct text of ``groups`` (the texts of each topic, in
    order), rendering only those not in ``cache``."""
    if cache is None:
        html: dict[str, str] = {}
        missing = list(dict.fromkeys(text for group in groups for text in group))
    else:
        found = cache.get(groups)
        html, missing = found.html, found.missing
    fresh = dict(zip(missing, _render_all(missing, progress), strict=True))
    if cache is not None:
        cache.put(found, fresh)
    html.update(fresh)
    return html


def _render_all(texts: list[str], progress: Progress | None) -> list[str]:
    """Render texts in order; on several cores when there are many."""
    chunks = [texts[start : start + CHUNK] for start in range(0, len(texts), CHUNK)]
    workers = min(usable_cores(), 8, len(chunks))
    rendered: list[str] = []
    if progress is not None:
        progress(0, len(texts))
    parallel = len(texts) >= PARALLEL_MIN and workers > 1
    if parallel:
        _markdown()  # imported and set up once, for every worker rather than by each
    pool = start_pool(workers, chunks) if parallel else None
    # A pool's workers ignore Ctrl-C; leaving the block on it (or anything else) stops them.
    with pool or contextlib.nullcontext():
        parts: Iterable[list[str]] = (
            pool.imap(_render_part, range(len(chunks))) if pool else map(_render_chunk, chunks)
        )
        for part in parts:
            rendered += part
            if progress is not None:
                progress(len(rendered), len(texts))
    return rendered


def _render_part(index: int) -> list[str]:
    """In a worker: render chunk ``index`` of those the pool was started with."""
    chunk: list[str] = part(index)
    return _render_chunk(chunk)


def _render_chunk(texts: list[str]) -> list[str]:
    return [render_markdown(text) for text in texts]


@cache
def renderer_fingerprint() -> str:
    """Return a hash of everything that decides the HTML of a text, for the render cache:
    this module's code (the card layout CSS included), the code colours, Python's version
    and the Markdown and Pygments libraries' versions; and how the cache stores HTML."""
    parts = [
        Path(__file__).read_bytes(),
        storage_code(),
        CODE_CSS_FILE.read_bytes(),
        sys.version.encode(),
        # markdown-it's version, from the file that sets it: importing markdown-it itself
        # takes longer than a rebuild that finds every text in the cache.
        _module_file_bytes("markdown_it"),
        mdurl.__version__.encode(),
        pygments.__version__.encode(),
    ]
    return hashlib.sha256(b"\0".join(parts)).hexdigest()


def _module_file_bytes(name: str) -> bytes:
    spec = find_spec(name)
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(name)
    return Path(spec.origin).read_bytes()


def render_markdown(text: str) -> str:
    """Render Markdown to HTML; raw HTML is shown as text and code is highlighted."""
    if _ONE_LINE_PARAGRAPH_RE.fullmatch(text):
        html = _render_one_line_paragraph(text)
    else:
        html = _markdown().render(text).rstrip("\n")
    # Anki reads [sound:...], [anki:tts] and LaTeX tags anywhere in a card's HTML; an
    # escaped bracket shows the same character but is no longer a tag.
    return _ANKI_TAG_RE.sub("&#91;", html)


_ANKI_TAG_RE = re.compile(r"\[(?=sound:|/?anki:|/?latex\]|/?\$\$?\])")

# One line (markdown-it ends lines at \n, \r\n and \r only) that starts with an ASCII letter.
# Such a text can only be one paragraph: every other block starts with a space, a tab, a digit
# or punctuation (indented code, fences, quotes, rules, lists, headings, HTML, reference
# definitions), or needs a second line (tables, setext headings).
_ONE_LINE_PARAGRAPH_RE = re.compile(r"[A-Za-z][^\n\r]*")


def _render_one_line_paragraph(text: str) -> str:
    """Render a text that ``_ONE_LINE_PARAGRAPH_RE`` matches, without its final newline.

    The HTML is exactly markdown-it's, but only its inline rules run: the block rules, which
    would find the paragraph anyway, take about 40% of the time of such a text.
    """
    # Trimmed as the paragraph rule trims; renderInline replaces NUL characters just as a
    # whole render does.
    inline: str = _markdown().renderInline(_paragraph_trim()(text))
    return f"<p>{inline}</p>"


@cache
def _paragraph_trim() -> Callable[[str], str]:
    """Return how markdown-it's paragraph rule trims its text: with ``mdTrim`` (which keeps
    some characters ``str.strip`` drops) in the versions that have it, with ``str.strip``
    in those before (3.0 and early 4.x, which ``markdown-it-py>=3`` allows)."""
    try:
        from markdown_it.common.utils import mdTrim
    except ImportError:
        return str.strip
    trim: Callable[[str], str] = mdTrim
    return trim


@lru_cache(maxsize=4096)
def highlight_code(code: str, language: str) -> str:
    """Render a code block; an unknown or missing language gives plain preformatted code.

    The same block is highlighted only once (answers often repeat a snippet).
    """
    code = code.replace("\r\n", "\n").replace("\r", "\n")
    if not code.endswith("\n"):
        code += "\n"
    lexer = _lexer(language.lower()) if language else None
    if lexer is None:
        body = escape(code, quote=False)
        css_class = "highlight"
    else:
        from pygments import highlight

        body = highlight(code, lexer, _formatter())
        css_class = f"highlight language-{escape(language.lower())}"
    # Keep Anki's MathJax (v3 and v4 class names) away from code that contains \( or \[.
    return f'<pre class="{css_class} tex2jax_ignore mathjax_ignore"><code>{body}</code></pre>'


# The code colours' CSS, made from the Pygments styles by ``code_css`` and kept in a file so
# that a build need not import Pygments' formatter (tests/test_render.py holds the two equal;
# `python tests/code_css.py` writes it again).
CODE_CSS_FILE = Path(__file__).with_name("code-colours.css")


@cache
def card_css() -> str:
    """Return the note type's CSS: the card layout, then code colours for light and night."""
    return _CARD_CSS.strip() + "\n" + CODE_CSS_FILE.read_text(encoding="utf-8")


def code_css() -> str:
    """Return the CSS of the code colours, light and night, made from the Pygments styles."""
    from pygments.formatters import HtmlFormatter

    light = HtmlFormatter(style=LIGHT_STYLE)
    night = HtmlFormatter(style=NIGHT_STYLE)
    night_prefixes = [f"{night_class} .highlight" for night_class in NIGHT_SELECTORS]
    parts = [
        "/* Code, light (Pygments style '" + LIGHT_STYLE + "') */",
        *_background_rules(light, [".highlight"]),
        *light.get_token_style_defs(".highlight"),  # type: ignore[no-untyped-call]
        "/* Code, night (Pygments style '" + NIGHT_STYLE + "') */",
        *_background_rules(night, night_prefixes),
        *night.get_token_style_defs(night_prefixes),  # type: ignore[no-untyped-call]
    ]
    return "\n".join(parts) + "\n"


def _background_rules(formatter: HtmlFormatter[str], prefixes: Sequence[str]) -> list[str]:
    # Pygments writes "prefix , prefix" with a stray space before the comma; tidy it.
    rules: list[str] = formatter.get_background_style_defs(list(prefixes))  # type: ignore[no-untyped-call]
    # Cards never mark highlighted lines (.hll), and lightbulb's colour for them would leave
    # the code on them hard to read: leave the rule out.
    return [rule.replace(" ,", ",") for rule in rules if " .hll " not in rule]


@cache
def _formatter() -> HtmlFormatter[str]:
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(nowrap=True)


@cache
def _lexer(language: str) -> Lexer | None:
    """Return the lexer for a language name; looked up once (a lexer keeps no state)."""
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        # Keep leading and trailing blank lines: the card shows the code exactly as written.
        return get_lexer_by_name(language, stripnl=False, ensurenl=True)
    except ClassNotFound:
        return None


def _render_fence(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    language = token.info.split(maxsplit=1)[0] if token.info.strip() else ""
    return highlight_code(token.content, language) + "\n"


@cache
def _markdown() -> MarkdownIt:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
    # "&amp;" in a question is the five characters people typed, not an encoded "&".
    md.disable("entity")
    md.add_render_rule("fence", _render_fence)
    # An indented code block is code too; render it like a fence without a language.
    md.add_render_rule("code_block", _render_fence)
    return md


_CARD_CSS = """
.card {
  font-family: -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue", Arial,
    sans-serif;
  font-size: 20px;
  line-height: 1.5;
  text-align: left;
  color: #1f2328;
  background-color: #ffffff;
  -webkit-text-size-adjust: 100%;
  text-size-adjust: 100%;
}
.card.nightMode, .card.night_mode, .nightMode .card, .night_mode .card {
  color: #e6edf3;
  background-color: #1e1e1e;
}
.qa2anki {
  max-width: 46em;
  margin: 0 auto;
  overflow-wrap: break-word;
}
.qa2anki .topic {
  font-size: 0.7em;
  letter-spacing: 0.04em;
  text-transform: uppercase;
  opacity: 0.7;
  margin-bottom: 0.5em;
}
.qa2anki .question {
  font-weight: 600;
}
.qa2anki hr#answer {
  border: none;
  border-top: 1px solid rgba(128, 128, 128, 0.4);
  margin: 1em 0;
}
.qa2anki p, .qa2anki ul, .qa2anki ol, .qa2anki pre, .qa2anki table {
  margin: 0 0 0.75em 0;
}
.qa2anki code {
  /* The second "monospace" stops browsers shrinking a bare monospace font. */
  font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace,
    monospace;
  font-size: 0.88em;
}
.qa2anki :not(pre) > code {
  padding: 0.1em 0.3em;
  border-radius: 4px;
  background-color: rgba(128, 128, 128, 0.15);
}
.qa2anki pre {
  text-align: left;
  white-space: pre;
  overflow-wrap: normal;
  overflow-x: auto;
  -webkit-overflow-scrolling: touch;
  tab-size: 4;
  padding: 0.75em 1em;
  border: 1px solid rgba(128, 128, 128, 0.35);
  border-radius: 6px;
  font-size: 0.8em;
  line-height: 1.45;
}
.qa2anki pre > code {
  font-size: 1em;
}
.qa2anki table {
  border-collapse: collapse;
}
.qa2anki th, .qa2anki td {
  border: 1px solid rgba(128, 128, 128, 0.4);
  padding: 0.25em 0.5em;
}
.qa2anki a {
  color: #0969da;
}
.nightMode .qa2anki a, .night_mode .qa2anki a {
  color: #58a6ff;
}
"""
