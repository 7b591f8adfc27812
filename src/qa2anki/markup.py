"""Raw HTML in questions: the few tags a card may hold, and nh3 to hold the HTML to them.

A tag on the allow-list is kept, with only the attributes allowed for it; any other tag, a
comment or a declaration is shown as the text it is, as Markdown shows it.  A text that
keeps raw tags is then cleaned by nh3 as a whole (it also closes what was left open), with
the allow-list plus what qa2anki itself writes.  Images (``<img src>``) follow the same
rules as Markdown images (see ``qa2anki.media``).
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from html.parser import HTMLParser
from typing import NamedTuple

import nh3


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# The tags people write in answers; everything else shows as text.
ALLOWED_TAGS = _words(
    "a b br caption code details em i img kbd li mark ol s small strong sub summary sup "
    "table tbody td tfoot th thead tr u ul"
)
# The attributes each tag keeps ("*": every tag); all others (style, class, on...) go.
ALLOWED_ATTRIBUTES: Mapping[str, frozenset[str]] = {
    "*": frozenset({"title"}),
    "a": frozenset({"href"}),
    "img": frozenset({"src", "alt"}),
    "td": frozenset({"colspan", "rowspan"}),
    "th": frozenset({"colspan", "rowspan"}),
    "details": frozenset({"open"}),
    "ol": frozenset({"start"}),
}
# The allowed tags that mark up words in a line, closed at the end of their paragraph.
PHRASING_TAGS = _words("a b code em i kbd mark s small strong sub sup u")
LINK_SCHEMES = ("http:", "https:", "mailto:")
_VOID_TAGS = frozenset({"br", "img"})
# HTML's other elements, as people write them: shown as text, with a warning.
_HTML_TAGS = _words(
    "abbr address article aside audio base bdi bdo big blockquote body button canvas "
    "center cite code col colgroup data datalist dd del dfn dialog dir div dl dt embed "
    "fieldset figcaption figure font footer form frame frameset h1 h2 h3 h4 h5 h6 head "
    "header hr html iframe input ins label legend link main map marquee math menu meta "
    "meter nav noscript object optgroup option output p param picture pre progress q rp rt "
    "ruby samp script section select slot source span strike style svg template textarea "
    "time title track tt var video wbr"
)
_NOT_KEPT = (
    "HTML tag <{name}> is shown as text: cards keep only <b>, <i>, <br>, <sub>, <sup>, "
    "<kbd>, <details>, <img>, lists, tables and the like (see docs/format.md)"
)

# What qa2anki's own Markdown rendering writes, which the final clean must let through too.
_RENDERED_TAGS = ALLOWED_TAGS | _words("blockquote code del div h1 h2 h3 h4 h5 h6 hr p pre span")
_RENDERED_ATTRIBUTES = {
    "*": {"title"},
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "code": {"class"},
    "div": {"class"},
    "pre": {"class"},
    "span": {"class"},
    "td": {"colspan", "rowspan", "style"},
    "th": {"colspan", "rowspan", "style"},
    "details": {"open"},
    "ol": {"start"},
}


class RawTag(NamedTuple):
    """One raw HTML tag of a text: its name, whether it closes, and its attributes."""

    name: str
    closing: bool
    attrs: tuple[tuple[str, str | None], ...]


class KeptTag(NamedTuple):
    """What a raw tag becomes: its HTML (``None``: it is shown as text), and what it lost."""

    html: str | None
    dropped: tuple[str, ...]


def parse_tag(raw: str) -> RawTag | None:
    """Return the tag that ``raw`` (one tag, as markdown-it finds it) is; ``None`` for a
    comment, a declaration or a processing instruction."""
    parser = _TagParser()
    parser.feed(raw)
    parser.close()
    return parser.tag


def image_src(raw: str) -> str | None:
    """Return the ``src`` of a raw ``<img>`` tag ("" when it has none); ``None`` if it is
    not an image kept on a card."""
    tag = parse_tag(raw)
    if tag is None or tag.closing or tag.name != "img":
        return None
    return next((value or "" for name, value in tag.attrs if name == "src"), "")


def keep(raw: str, images: Mapping[str, str] | None = None) -> KeptTag:
    """Return what the raw tag ``raw`` becomes on a card, and what of it is worth a warning.

    ``images`` gives, for an image's ``src``, what the HTML refers to instead (an image not in
    it is shown as text); without it, every ``src`` is kept as it is.
    """
    tag = parse_tag(raw)
    if tag is None:
        if raw.startswith("<!--"):
            return KeptTag(None, ("an HTML comment is shown as text: cards keep no comments",))
        return KeptTag(None, ())
    if tag.name not in ALLOWED_TAGS:
        # "List<String>" is a type, not HTML: only a tag that is HTML, written in lower or
        # upper case, is worth a warning.
        typed = raw[1:].lstrip("/")[: len(tag.name)]
        html = tag.name in _HTML_TAGS and typed in (tag.name, tag.name.upper())
        return KeptTag(None, (_NOT_KEPT.format(name=tag.name),) if html else ())
    if tag.closing:
        return KeptTag(None if tag.name in _VOID_TAGS else f"</{tag.name}>", ())
    return _open_tag(tag, images)


def _open_tag(tag: RawTag, images: Mapping[str, str] | None) -> KeptTag:
    """Return an allowed opening tag with what it may keep of its attributes."""
    allowed = ALLOWED_ATTRIBUTES["*"] | ALLOWED_ATTRIBUTES.get(tag.name, frozenset())
    kept = []
    dropped = []
    for name, value in tag.attrs:
        if name not in allowed:
            dropped.append(f"dropped the attribute '{name}' of <{tag.name}>: {_allowed(tag)}")
        elif name == "href" and not (value or "").strip().lower().startswith(LINK_SCHEMES):
            dropped.append(
                f"dropped the link {_shown(value or '')} of <a>: links must be http, https "
                "or mailto"
            )
        elif name == "src":
            link = (value or "") if images is None else images.get(value or "")
            if link is None:
                break
            kept.append(f' src="{escape(link)}"')
        else:
            kept.append(f" {name}" if value is None else f' {name}="{escape(value)}"')
    else:
        if tag.name != "img" or any(name == "src" for name, _ in tag.attrs):
            return KeptTag(f"<{tag.name}{''.join(kept)}>", tuple(dropped))
    # An image that is not one of the deck's (the loader has said why) is shown as text.
    return KeptTag(None, tuple(dropped))


def clean(html: str) -> str:
    """Return the HTML of a text that keeps raw tags, cleaned by nh3 to the allow-list, with
    every tag left open closed."""
    cleaned = nh3.clean(
        html,
        tags=set(_RENDERED_TAGS),
        attributes={tag: set(names) for tag, names in _RENDERED_ATTRIBUTES.items()},
        filter_style_properties={"text-align"},  # a Markdown table's column alignment
        url_schemes={"http", "https", "mailto", "data"},  # data: images in the preview
        link_rel=None,
    )
    # A block tag in a paragraph ("<details>" on its own line) splits it, leaving empty ones.
    return cleaned.replace("<p></p>", "")


def _allowed(tag: RawTag) -> str:
    names = sorted(ALLOWED_ATTRIBUTES["*"] | ALLOWED_ATTRIBUTES.get(tag.name, frozenset()))
    return f"<{tag.name}> keeps only {', '.join(names)}"


def _shown(text: str) -> str:
    text = " ".join(text.split())
    if len(text) > 60:
        text = text[:57] + "..."
    return "'" + text.replace("'", "\\'") + "'"


class _TagParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tag: RawTag | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.tag is None:
            self.tag = RawTag(tag, False, tuple(attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if self.tag is None:
            self.tag = RawTag(tag, True, ())
