"""Turn questions' Markdown into card HTML, and provide the CSS the cards are styled with.

Text is text: of raw HTML, only the tags of ``qa2anki.markup``'s allow-list are kept.  Math
(``$...$``, ``\\(...\\)``, ...) is written with the delimiters Anki's MathJax reads, and
MathJax is kept away from everything else.  Code is highlighted with Pygments CSS classes,
never inline colours, so that one stylesheet can colour it for light and for night mode.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import re
import sys
from collections.abc import Iterator, Sequence
from functools import cache, lru_cache
from html import escape
from itertools import islice
from pathlib import Path
from typing import Any

import markdown_it
import mdit_py_plugins
import mdurl
import pygments
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.texmath import texmath_plugin
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.token import Text
from pygments.util import ClassNotFound

from qa2anki import cloze, markup
from qa2anki.cache import Links, RenderCache, Source
from qa2anki.model import Deck, RenderedDeck, RenderedQuestion

LIGHT_STYLE = "xcode"
NIGHT_STYLE = "lightbulb"
# Anki desktop and AnkiMobile put `nightMode` on the card, AnkiDroid `night_mode`.
NIGHT_SELECTORS = (".nightMode", ".night_mode")
# The classes that keep MathJax (v2 and v3+ names) out of an element.
MATHJAX_IGNORE = "tex2jax_ignore mathjax_ignore"


def render_deck(
    deck: Deck, cache: RenderCache | None = None, *, embed: bool = False
) -> RenderedDeck:
    """Render the deck's description and every question, in source order.

    Each distinct text is rendered once, and not at all when ``cache`` has its HTML.  Images
    refer to their names in the ``.apkg``, or with ``embed`` hold the image itself.
    """
    uris = deck.media.data_uris() if embed else None

    def source(folder: Path, text: str, cloze: bool = False) -> Source:
        return text, deck.media.links(folder, text, uris), cloze

    questions = [
        (
            question,
            topic,
            source(question.path.parent, question.q, question.type == "cloze"),
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
    module's and qa2anki.markup's code, and the versions of Python and the libraries."""
    parts = [
        Path(__file__).read_bytes(),
        Path(markup.__file__).read_bytes(),
        Path(cloze.__file__).read_bytes(),
        importlib.metadata.version("nh3").encode(),
        sys.version.encode(),
        markdown_it.__version__.encode(),
        mdit_py_plugins.__version__.encode(),
        mdurl.__version__.encode(),
        pygments.__version__.encode(),
    ]
    return hashlib.sha256(b"\0".join(parts)).hexdigest()


def render_markdown(text: str, links: Links = (), cloze: bool = False) -> str:
    """Render Markdown to HTML: math for MathJax, code highlighted, raw HTML kept only as far
    as the allow-list goes (see qa2anki.markup).

    ``links`` gives, for an image's ``src``, what the HTML refers to instead (see qa2anki.media).
    ``cloze``: the text's ``{{c1::...}}`` deletions stay whole in highlighted code too.
    """
    env: EnvType = {"images": dict(links), "cloze": cloze}
    html = _markdown().render(text, env).rstrip("\n")
    if env.get("raw_html"):
        # Only a text that keeps raw tags is cleaned: nh3 writes the same HTML differently
        # ("&quot;" as '"'), and every other note's HTML must stay as it was.
        html = markup.clean(html)
    html = keep_mathjax_off_text(html)
    # Anki reads [sound:...], [anki:tts] and LaTeX tags anywhere in a card's HTML; an
    # escaped bracket shows the same character but is no longer a tag.
    return _ANKI_TAG_RE.sub("&#91;", html)


def text_html(text: str) -> str:
    """Plain text as a field's HTML: escaped, with no Anki tag (``[sound:...]``) left in it."""
    return _ANKI_TAG_RE.sub("&#91;", escape(text))


def inline_tokens(text: str) -> Iterator[tuple[Token, int]]:
    """Yield each inline token of a text with the line it is on (the text's first is 0).

    markdown-it gives lines to blocks only: a token's line is found by looking for what it
    was written as (a tag, ``![``, a code span, a formula) in its block's source, in order.
    """
    return _inline_tokens(_markdown().parse(text))


def _inline_tokens(blocks: list[Token]) -> Iterator[tuple[Token, int]]:
    for block in blocks:
        if block.type != "inline" or not block.children or block.map is None:
            continue
        source = block.content
        cursor = 0
        for child in block.children:
            start = cursor
            written = _written_as(child)
            found = source.find(written, cursor) if written else -1
            if found >= 0:
                start = found
                cursor = found + len(written)
                if child.type == "code_inline":  # past the code, to its closing backticks
                    closing = source.find(child.markup, cursor + len(child.content))
                    cursor = closing + len(child.markup) if closing >= 0 else cursor
            yield child, block.map[0] + source.count("\n", 0, start)


def _written_as(token: Token) -> str:
    """Return how an inline token starts in the source, where that is known exactly."""
    if token.type == "html_inline" or token.type.startswith("math"):
        return token.content
    if token.type == "code_inline":
        return token.markup
    if token.type == "image":
        return "!["
    return ""


def dropped_html(text: str) -> list[tuple[int, str]]:
    """Return what the card will not show as written: raw HTML it drops or shows as text, and
    formulas it shows as their source; each as (the line, from 0, and what)."""
    # Most texts have neither raw tags nor a formula that could be refused: no parse for them.
    tex = _UNSAFE_TEX_RE.search(text) is not None or _NUMBERED_RE.search(text) is not None
    if not tex and not _TAG_START_RE.search(text) and "\\[" not in text:
        return []
    found: dict[tuple[int, str], None] = {}
    blocks = _markdown().parse(text)
    for block in blocks:
        if block.type == "inline" and block.map is not None and "\\[" in block.content:
            # Outside code, "\[" in a paragraph is Markdown's escaped "[", no formula.
            prose = _CODE_SPAN_RE.sub(lambda span: "\n" * span[0].count("\n"), block.content)
            for bracket in _INLINE_BRACKET_RE.finditer(prose):
                line = block.map[0] + prose.count("\n", 0, bracket.start())
                found[line, _INLINE_BRACKET_MESSAGE] = None
    for token, line in _inline_tokens(blocks):
        if token.type == "html_inline":
            for message in markup.keep(token.content).dropped:
                found[line, message] = None
        elif token.type.startswith("math") and (unsafe := _unsafe_tex(token)):
            found[line, _unsafe_tex_message(unsafe)] = None
    for token in blocks if tex else ():
        if token.type.startswith("math_block") and (unsafe := _unsafe_tex(token)):
            found[token.map[0] if token.map else 0, _unsafe_tex_message(unsafe)] = None
    return sorted(found, key=lambda warning: warning[0])  # stable: in order within a line


_CODE_SPAN_RE = re.compile(r"(`+)(?:(?!\1).)+?\1", re.DOTALL)
_INLINE_BRACKET_RE = re.compile(r"(?<!\\)\\\[.*?\\\]", re.DOTALL)
_INLINE_BRACKET_MESSAGE = (
    "'\\[ ... \\]' in a line of text is shown as '[ ... ]': a formula in \\[ \\] takes "
    "lines of its own (or write \\( ... \\) or $...$ in a line)"
)


def _unsafe_tex_message(what: str) -> str:
    return (
        f"{what} is shown as its TeX source: cards allow no links, HTML attributes or "
        "extensions in formulas"
    )


_TAG_START_RE = re.compile(r"<[A-Za-z/!]")
_ANKI_TAG_RE = re.compile(r"\[(?=sound:|/?anki:|/?latex\]|/?\$\$?\])", re.IGNORECASE)


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
    else:
        # Pygments drops a byte order mark at the start; the card shows it, as written.
        bom = _BOM if code.startswith(_BOM) else ""
        body = bom + pygments.highlight(code.removeprefix(bom), lexer, _formatter())
    return _code_block(body, language if lexer is not None else "")


_BOM = "\ufeff"


def _code_block(body: str, language: str) -> str:
    css_class = f"highlight language-{escape(language.lower())}" if language else "highlight"
    # MathJax skips <pre> already; the classes say so to any other reader of the card.
    return f'<pre class="{css_class} {MATHJAX_IGNORE}"><code>{body}</code></pre>'


def highlight_cloze_code(code: str, language: str) -> str:
    """Render a code block of a cloze text: highlighted without its deletions' marks, which
    then go back in between the highlighted spans, so that Anki finds each deletion whole
    and the code around it keeps its colours."""
    code = code.replace("\r\n", "\n").replace("\r", "\n")
    found, _ = cloze.deletions(code)
    lexer = _lexer(language.lower()) if language else None
    if not found or lexer is None:
        return highlight_code(code, language)
    # Pygments drops a byte order mark at the start: it goes back in front of the code.
    bom = _BOM if code.startswith(_BOM) else ""
    if bom:
        code = code[1:]
        found, _ = cloze.deletions(code)
    # Two characters of Unicode's private use area that the code does not hold.
    left, right = islice((chr(c) for c in range(0xE000, 0xF900) if chr(c) not in code), 2)
    marks = sorted(
        [(d.start, d.text[0]) for d in found]
        + [(d.text[1], d.end) for d in found]  # "}}", or "::hint}}"
    )
    plain, cursor, at = [], 0, []
    for start, end in marks:
        plain.append(code[cursor:start])
        at.append((sum(map(len, plain)), code[start:end]))
        cursor = end
    plain.append(code[cursor:])
    text = "".join(plain)
    if not text.endswith("\n"):
        text += "\n"
    # Each mark goes in as a placeholder of plain text, which Pygments writes without a span.
    tokens: list[tuple[Any, str]] = []
    offset = 0
    pending = list(enumerate(at))
    for kind, token_value in lexer.get_tokens(text):
        value = token_value
        while pending and offset <= pending[0][1][0] < offset + len(value):
            number, (position, _) = pending.pop(0)
            cut = position - offset
            if cut:
                tokens.append((kind, value[:cut]))
            tokens.append((Text, f"{left}{number}{right}"))
            value, offset = value[cut:], position
        tokens.append((kind, value))
        offset += len(value)
    tokens += [(Text, f"{left}{number}{right}") for number, _ in pending]
    body = escape(bom, quote=False) + pygments.format(tokens, _formatter())
    for number, (_, mark) in enumerate(at):
        body = body.replace(f"{left}{number}{right}", escape(mark, quote=False))
    return _code_block(body, language)


@cache
def card_css() -> str:
    """Return the note type's CSS: the card layout, then code colours for light and night."""
    layout = Path(__file__).with_name("card.css").read_text(encoding="utf-8").strip()
    return layout + "\n" + code_css()


@cache
def cloze_css() -> str:
    """Return the CSS the cloze note type adds: how a deletion looks, light and night."""
    return Path(__file__).with_name("cloze.css").read_text(encoding="utf-8")


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
    if env.get("cloze"):
        return highlight_cloze_code(token.content, language) + "\n"
    return highlight_code(token.content, language) + "\n"


def _render_image(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    link = env.get("images", {}).get(token.attrGet("src"))
    if link is not None:
        token.attrSet("src", link)
    return self.image(tokens, idx, options, env)


def _close_phrasing_tags(state: StateCore) -> None:
    """Close a raw ``<b>`` (``<i>``, ``<a>``...) left open at the end of its paragraph, as
    its writer meant, rather than let it run over the rest of the card."""
    for token in state.tokens:
        if token.type != "inline" or not token.children:
            continue
        open_tags: list[str] = []
        for child in token.children:
            tag = markup.parse_tag(child.content) if child.type == "html_inline" else None
            if tag is None or tag.name not in markup.PHRASING_TAGS:
                continue
            if not tag.closing:
                open_tags.append(tag.name)
            elif tag.name in open_tags:
                del open_tags[len(open_tags) - 1 - open_tags[::-1].index(tag.name)]
        for name in reversed(open_tags):
            closing = Token("html_inline", "", 0)
            closing.content = f"</{name}>"
            token.children.append(closing)


def _render_html_inline(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    raw = tokens[idx].content
    kept = markup.keep(raw, env["images"]).html
    if kept is None:
        return escapeHtml(raw)
    env["raw_html"] = True
    return kept


def keep_mathjax_off_text(html: str) -> str:
    """Wrap every run of text that holds a ``\\(`` or ``\\[`` and is no formula, so that
    MathJax leaves it alone: a ``\\(`` typed as ``\\\\(``, a formula shown as its source.

    This looks at the finished HTML, as MathJax will: a delimiter can only be found in one run
    of text between tags, and cleaning may join what rendering wrote apart ("\\</b>(").
    Formulas (``class="math"``), code and preformatted text are left as they are.
    """
    if "\\(" not in html and "\\[" not in html:
        return html
    pieces = []
    open_tags: list[tuple[str, bool]] = []  # each open element, and whether MathJax skips it
    for piece in _HTML_PIECE_RE.finditer(html):
        tag, text = piece["tag"], piece["text"]
        if text is not None:
            skipped = bool(open_tags) and open_tags[-1][1]
            if not skipped and ("\\(" in text or "\\[" in text):
                text = f'<span class="{MATHJAX_IGNORE}">{text}</span>'
            pieces.append(text)
            continue
        pieces.append(tag)
        name = _TAG_NAME_RE.match(tag)
        if name is None or tag.endswith("/>") or name[2].lower() in _VOID_ELEMENTS:
            continue
        element = name[2].lower()
        if name[1]:  # a closing tag: close up to its element
            while open_tags and open_tags.pop()[0] != element:
                pass
            continue
        inside = bool(open_tags) and open_tags[-1][1]
        formula = 'class="math"' in tag
        open_tags.append((element, inside or formula or element in ("pre", "code")))
    return "".join(pieces)


# The finished HTML as tags (quoted attribute values may hold ">") and the text between them.
_HTML_PIECE_RE = re.compile(r'(?P<tag><(?:[^>"\']|"[^"]*"|\'[^\']*\')*>)|(?P<text>[^<]+)')
_TAG_NAME_RE = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)")
_VOID_ELEMENTS = frozenset({"br", "hr", "img", "wbr", "col", "input", "meta", "link", "source"})


def _bracket_math_block(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """Read a ``\\[`` ... ``\\]`` formula that starts a line and ends one, perhaps with an
    equation number after it (``\\[ E = mc^2 \\] (1)``); a blank line first ends it."""
    if state.sCount[start] - state.blkIndent >= 4:
        return False  # indented code
    lines = []
    for line in range(start, end):
        text = state.src[state.bMarks[line] + state.tShift[line] : state.eMarks[line]]
        if line == start:
            if not text.startswith("\\["):
                return False
            text = text[2:]
        elif not text.strip():
            return False
        closing = text.find("\\]")
        if closing < 0:
            lines.append(text)
            continue
        number = _AFTER_FORMULA_RE.fullmatch(text[closing + 2 :])
        if number is None:
            return False  # text after the formula: a paragraph, not a formula
        if not silent:
            lines.append(text[:closing])
            token = state.push("math_block_eqno" if number[1] else "math_block", "math", 0)
            token.block = True
            token.content = "\n".join(lines)
            token.markup = "\\["
            token.info = number[1] or ""
            token.map = [start, line + 1]
        state.line = line + 1
        return True
    return False


_AFTER_FORMULA_RE = re.compile(r"[ \t]*(?:\((.*)\)[ \t]*)?")


def _anki_latex_tag(state: StateInline, silent: bool) -> bool:
    """Read Anki's LaTeX tags ("[$]", "[/$$]") as text, not as the "$" of math."""
    match = _ANKI_LATEX_TAG_RE.match(state.src, state.pos)
    if match is None:
        return False
    if not silent:
        state.push("text", "", 0).content = match.group()
    state.pos = match.end()
    return True


_ANKI_LATEX_TAG_RE = re.compile(r"\[/?\$\$?\]")


def _render_math_inline(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    """A formula in a line; ``$$...$$`` in a line is one set on a line of its own."""
    token = tokens[idx]
    if _unsafe_tex(token):
        return escapeHtml(_tex_source(token))
    opening, closing = ("\\[", "\\]") if token.type == "math_inline_double" else ("\\(", "\\)")
    return f'<span class="math">{opening}{escapeHtml(token.content)}{closing}</span>'


def _render_math_block(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    if _unsafe_tex(token):
        return f"<p>{escapeHtml(_tex_source(token))}</p>\n"
    tex = token.content.strip()
    if token.type == "math_block_eqno":  # \[ ... \] (1)
        tex += f" \\tag{{{token.info}}}"
    return f'<div class="math">\\[{escapeHtml(tex)}\\]</div>\n'


# TeX that MathJax would turn into a link (a "javascript:" one, too), HTML attributes or an
# extension: such a formula is shown as its source, and check says why.
_UNSAFE_TEX_RE = re.compile(
    r"\\(?:href|class|cssId|style|data|require|mmlToken|bbox|fcolorbox|unicode)(?![A-Za-z])"
)
# An equation number, "\[ ... \] (1)", is set with \tag{...}: it may not close the group.
_EQUATION_NUMBER_RE = re.compile(r"[\w .,:;'+*-]*")
_NUMBERED_RE = re.compile(r"\\\][ \t]*\(")
_CLOSING = {"$": "$", "$$": "$$", "\\(": "\\)", "\\[": "\\]"}


def _unsafe_tex(token: Token) -> str | None:
    """Return what makes a formula unsafe to give MathJax, if anything does: a command of
    _UNSAFE_TEX_RE, or an equation number that would end its \\tag{...} early."""
    unsafe = _UNSAFE_TEX_RE.search(token.content)
    if unsafe is None and token.type == "math_block_eqno":
        unsafe = _UNSAFE_TEX_RE.search(token.info)
        if unsafe is None and not _EQUATION_NUMBER_RE.fullmatch(token.info):
            return "an equation number other than words and numbers"
    return f"a formula with {unsafe[0]}" if unsafe else None


def _tex_source(token: Token) -> str:
    """Return a formula as it was typed, delimiters and all."""
    opening = token.markup or "$"
    source = f"{opening}{token.content}{_CLOSING.get(opening, opening)}"
    if token.type == "math_block_eqno":
        source += f" ({token.info})"
    return source


@cache
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    # Raw HTML is read tag by tag inside paragraphs, never as a block: Markdown around and
    # between tags still works, and a tag not allowed is shown as text in its place.
    md.disable("html_block")
    # "&amp;" in a question is the five characters people typed, not an encoded "&".
    md.disable("entity")
    md.add_render_rule("fence", _render_fence)
    # An indented code block is code too; render it like a fence without a language.
    md.add_render_rule("code_block", _render_fence)
    md.add_render_rule("image", _render_image)
    # Math is read before emphasis and escapes, so "_" and "\" in a formula stay as typed.
    # Dollar math has no space inside its "$"s, and no digit right outside them: "$5 and
    # $10" is money.
    # texmath reads \\( ... \\); its own \\[ ... \\] blocks drop any text after the \\] on
    # their last line, so they are read by _bracket_math_block instead.  (texmath goes first
    # so that "math_block" names its rule, not dollarmath's, when it is disabled.)
    texmath_plugin(md, delimiters="brackets")
    md.block.ruler.disable(["math_block_eqno", "math_block"])
    dollarmath_plugin(
        md,
        allow_labels=False,
        allow_space=False,
        allow_digits=False,
        allow_blank_lines=False,
        double_inline=True,
    )
    md.block.ruler.before(
        "fence",
        "bracket_math_block",
        _bracket_math_block,
        {"alt": ["paragraph", "reference", "blockquote", "list"]},  # as "$$" may
    )
    md.inline.ruler.before("math_inline", "anki_latex_tag", _anki_latex_tag)
    md.core.ruler.after("inline", "close_phrasing_tags", _close_phrasing_tags)
    md.add_render_rule("html_inline", _render_html_inline)
    for inline in ("math_inline", "math_inline_double"):
        md.add_render_rule(inline, _render_math_inline)
    for block in ("math_block", "math_block_eqno"):
        md.add_render_rule(block, _render_math_block)
    return md
