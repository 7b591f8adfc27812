"""Turn questions' Markdown into card HTML, and provide the CSS the cards are styled with.

Text is always text: raw HTML in the sources is escaped, never passed through.  Code is
highlighted with Pygments CSS classes, never inline colours, so that one stylesheet can
colour it for light and for night mode.
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Sequence
from functools import cache, lru_cache
from html import escape
from pathlib import Path

import markdown_it
import mdurl
import pygments
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from qa2anki.cache import Links, RenderCache, Source
from qa2anki.model import Deck, RenderedDeck, RenderedQuestion

LIGHT_STYLE = "xcode"
NIGHT_STYLE = "lightbulb"
# Anki desktop and AnkiMobile put `nightMode` on the card, AnkiDroid `night_mode`.
NIGHT_SELECTORS = (".nightMode", ".night_mode")


def render_deck(
    deck: Deck, cache: RenderCache | None = None, *, embed: bool = False
) -> RenderedDeck:
    """Render the deck's description and every question, in source order.

    Each distinct text is rendered once, and not at all when ``cache`` has its HTML.  Images
    refer to their names in the ``.apkg``, or with ``embed`` hold the image itself.
    """
    uris = deck.media.data_uris() if embed else None

    def source(folder: Path, text: str) -> Source:
        return text, deck.media.links(folder, text, uris)

    questions = [
        (
            question,
            topic,
            source(question.path.parent, question.q),
            source(question.path.parent, question.a),
        )
        for topic in deck.topics
        for question in topic.questions
    ]
    sources = [text for _, _, q, a in questions for text in (q, a)]
    description = source(deck.source, deck.description)
    if deck.description:
        sources.append(description)
    if cache is None:
        html = {source: render_markdown(*source) for source in dict.fromkeys(sources)}
    else:
        html = cache.html(sources, lambda source: render_markdown(*source))
    return RenderedDeck(
        deck=deck,
        description_html=html[description] if deck.description else "",
        questions=tuple(
            RenderedQuestion(question, topic, html[q], html[a])
            for question, topic, q, a in questions
        ),
    )


@cache
def renderer_fingerprint() -> str:
    """Return a hash of everything that decides the HTML of a text, for the render cache: this
    module's code and Python's, markdown-it's, mdurl's and Pygments' versions."""
    parts = [
        Path(__file__).read_bytes(),
        sys.version.encode(),
        markdown_it.__version__.encode(),
        mdurl.__version__.encode(),
        pygments.__version__.encode(),
    ]
    return hashlib.sha256(b"\0".join(parts)).hexdigest()


def render_markdown(text: str, links: Links = ()) -> str:
    """Render Markdown to HTML; raw HTML is shown as text and code is highlighted.

    ``links`` gives, for an image's ``src``, what the HTML refers to instead (see qa2anki.media).
    """
    env = {"images": dict(links)} if links else {}
    html = _markdown().render(text, env).rstrip("\n")
    # Anki reads [sound:...], [anki:tts] and LaTeX tags anywhere in a card's HTML; an
    # escaped bracket shows the same character but is no longer a tag.
    return _ANKI_TAG_RE.sub("&#91;", html)


def parse_markdown(text: str) -> list[Token]:
    """Return the tokens markdown-it reads in a text, as rendering reads them."""
    return _markdown().parse(text)


_ANKI_TAG_RE = re.compile(r"\[(?=sound:|/?anki:|/?latex\]|/?\$\$?\])")


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
        body = pygments.highlight(code, lexer, _formatter())
        css_class = f"highlight language-{escape(language.lower())}"
    # Keep Anki's MathJax (v3 and v4 class names) away from code that contains \( or \[.
    return f'<pre class="{css_class} tex2jax_ignore mathjax_ignore"><code>{body}</code></pre>'


@cache
def card_css() -> str:
    """Return the note type's CSS: the card layout, then code colours for light and night."""
    layout = Path(__file__).with_name("card.css").read_text(encoding="utf-8").strip()
    return layout + "\n" + code_css()


def code_css() -> str:
    """Return the CSS of the code colours, light and night, made from the Pygments styles."""
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
    return HtmlFormatter(nowrap=True)


@cache
def _lexer(language: str) -> Lexer | None:
    """Return the lexer for a language name; looked up once (a lexer keeps no state)."""
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


def _render_image(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    link = env.get("images", {}).get(token.attrGet("src"))
    if link is not None:
        token.attrSet("src", link)
    return self.image(tokens, idx, options, env)


@cache
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
    # "&amp;" in a question is the five characters people typed, not an encoded "&".
    md.disable("entity")
    md.add_render_rule("fence", _render_fence)
    # An indented code block is code too; render it like a fence without a language.
    md.add_render_rule("code_block", _render_fence)
    md.add_render_rule("image", _render_image)
    return md
