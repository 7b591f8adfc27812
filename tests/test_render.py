"""The render stage: Markdown and code to card HTML, and the card CSS."""

from __future__ import annotations

import os
import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import QUESTIONS
from qa2anki import render
from qa2anki.cache import Links, RenderCache
from qa2anki.loader import load_deck
from qa2anki.render import (
    card_css,
    code_css,
    highlight_code,
    render_deck,
    render_markdown,
)

GOLDEN = Path(__file__).resolve().parent / "golden"
GOLDEN_CASES = sorted(path.stem for path in GOLDEN.glob("*.md"))

# Every tag and attribute the renderer may emit; anything else means text leaked out as HTML.
ALLOWED_TAGS = {
    "p", "em", "strong", "code", "pre", "span", "a", "ul", "ol", "li", "blockquote", "hr", "br",
    "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "s", "img",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"class", "href", "start", "style", "src", "alt", "title"}


class TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.extend(attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> TagCollector:
    collector = TagCollector()
    collector.feed(html)
    collector.close()
    return collector


@pytest.mark.parametrize("case", GOLDEN_CASES)
def test_golden_html(case: str) -> None:
    """Set QA2ANKI_UPDATE_GOLDEN=1 to rewrite the .html files, then review the diff."""
    html = render_markdown((GOLDEN / f"{case}.md").read_text(encoding="utf-8")) + "\n"
    golden = GOLDEN / f"{case}.html"
    if os.environ.get("QA2ANKI_UPDATE_GOLDEN") == "1":
        golden.write_text(html, encoding="utf-8")
    assert html == golden.read_text(encoding="utf-8")


def test_raw_html_is_text() -> None:
    html = render_markdown('<img src=x onerror="alert(1)"> <script>alert(2)</script>')

    assert parse(html).tags == ["p"]
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html


def test_html_entities_are_text() -> None:
    assert render_markdown("&amp; &lt;b&gt; &#35; &copy;") == (
        "<p>&amp;amp; &amp;lt;b&amp;gt; &amp;#35; &amp;copy;</p>"
    )


def test_javascript_links_are_not_links() -> None:
    assert parse(render_markdown("[click](javascript:alert(1))")).tags == ["p"]
    assert parse(render_markdown("[docs](https://example.org)")).tags == ["p", "a"]


def test_anki_media_and_latex_tags_are_neutralised() -> None:
    html = render_markdown(
        "[sound:a.mp3] [anki:tts lang=en]hi[/anki:tts] [latex]x[/latex] [$$]y[/$$]"
    )

    assert re.search(r"\[(sound:|/?anki:|/?latex\]|/?\$)", html) is None
    assert "".join(parse(html).text) == (
        "[sound:a.mp3] [anki:tts lang=en]hi[/anki:tts] [latex]x[/latex] [$$]y[/$$]"
    )


def test_code_is_highlighted_with_classes_not_inline_colours() -> None:
    html = highlight_code('def f():\n    return "x"\n', "python")

    assert html.startswith('<pre class="highlight language-python tex2jax_ignore mathjax_ignore">')
    assert '<span class="k">def</span>' in html
    assert "style=" not in html


def test_language_names_are_case_insensitive_and_aliases_work() -> None:
    assert '<span class="k">FROM</span>' in highlight_code("FROM python:3.12\n", "Dockerfile")
    assert '<span class="k">SELECT</span>' in highlight_code("SELECT 1;\n", "sql")
    assert 'class="highlight language-py ' in highlight_code("x = 1\n", "py")


@pytest.mark.parametrize("language", ["", "no-such-language"])
def test_unknown_or_missing_language_is_plain_code(language: str) -> None:
    html = highlight_code("a < b && c\n", language)

    assert html == (
        '<pre class="highlight tex2jax_ignore mathjax_ignore">'
        "<code>a &lt; b &amp;&amp; c\n</code></pre>"
    )


def test_fence_info_after_the_language_is_ignored() -> None:
    html = render_markdown("```python title=x.py\nx = 1\n```")

    assert 'class="highlight language-python ' in html


def test_render_deck_keeps_source_order_and_renders_the_four_code_answers() -> None:
    rendered = render_deck(load_deck(QUESTIONS))

    assert len(rendered.questions) == 100
    assert rendered.questions[0].question.id == "list-vs-tuple"
    assert rendered.questions[-1].question.id == "consistency-after-partial-failure"
    code = {
        item.question.id: item.answer_html
        for item in rendered.questions
        if "<pre" in item.answer_html
    }
    assert sorted(code) == [
        "dockerfile-basics",
        "fastapi-endpoint",
        "fastapi-middleware",
        "simple-class",
    ]
    assert "language-dockerfile" in code["dockerfile-basics"]
    assert all('<span class="k">' in html for html in code.values())
    assert rendered.description_html.startswith("<p>100 short interview questions")


@given(st.text(max_size=300))
def test_any_text_renders_to_known_tags_only(text: str) -> None:
    collector = parse(render_markdown(text))

    assert set(collector.tags) <= ALLOWED_TAGS
    assert {name for name, _ in collector.attributes} <= ALLOWED_ATTRIBUTES
    assert not any(name == "style" or name.startswith("on") for name, _ in collector.attributes)
    hrefs = [value or "" for name, value in collector.attributes if name in {"href", "src"}]
    assert not any(
        href.strip().lower().startswith(("javascript:", "vbscript:", "data:text")) for href in hrefs
    )


@given(
    st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=200),
    st.sampled_from(["", "python", "nope"]),
)
def test_any_code_shows_exactly_its_text(code: str, language: str) -> None:
    shown = "".join(parse(highlight_code(code, language)).text)

    # Line ends are normalised to \n and the last line is ended; every character stays.
    expected = code.replace("\r\n", "\n").replace("\r", "\n")
    assert shown == (expected if expected.endswith("\n") else expected + "\n")


class TestCss:
    def test_the_card_css_ends_with_the_code_colours_of_the_pygments_styles(self) -> None:
        assert card_css().endswith(code_css())
        assert "/* Code, light (Pygments style 'xcode') */" in card_css()
        assert "/* Code, night (Pygments style 'lightbulb') */" in card_css()

    def test_night_mode_selectors_for_every_client(self) -> None:
        css = card_css()

        assert ".card.nightMode, .card.night_mode" in css
        assert ".nightMode .highlight .k, .night_mode .highlight .k {" in css
        assert re.search(r"^\.highlight \.k \{ color: #[0-9A-Fa-f]+ \}", css, re.MULTILINE)

    def test_code_blocks_scroll_sideways_left_aligned(self) -> None:
        block = re.search(r"\.qa2anki pre \{(?P<body>[^}]*)\}", card_css())

        assert block is not None
        body = block["body"]
        for declaration in ("text-align: left;", "white-space: pre;", "overflow-x: auto;"):
            assert declaration in body

    def test_light_and_night_code_backgrounds_differ(self) -> None:
        css = card_css()
        light = re.search(r"^\.highlight \{ background: (#[0-9a-fA-F]+); \}", css, re.MULTILINE)
        night = re.search(
            r"^\.nightMode \.highlight, \.night_mode \.highlight \{ background: (#[0-9a-fA-F]+);",
            css,
            re.MULTILINE,
        )

        assert light is not None
        assert night is not None
        assert light[1].lower() != night[1].lower()


def test_render_deck_gives_the_same_html_from_the_cache_and_renders_only_new_texts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deck = load_deck(QUESTIONS)
    uncached = render_deck(deck)
    rendered: list[str] = []

    def recording(text: str, links: Links = ()) -> str:
        rendered.append(text)
        return render_markdown(text, links)

    monkeypatch.setattr(render, "render_markdown", recording)

    def cache() -> RenderCache:
        return RenderCache(tmp_path, "fingerprint", source=QUESTIONS)

    assert render_deck(deck, cache()) == uncached
    assert len(rendered) == len(set(rendered)) > 200  # every distinct text, once
    rendered.clear()
    assert render_deck(deck, cache()) == uncached  # every text from the cache
    assert rendered == []

    topic = deck.topics[4]
    edited = topic.questions[2]._replace(a=topic.questions[2].a + "\n\nAnd **more**.")
    questions = (*topic.questions[:2], edited, *topic.questions[3:])
    deck = replace(
        deck, topics=(*deck.topics[:4], replace(topic, questions=questions), *deck.topics[5:])
    )
    expected = render_deck(deck)
    rendered.clear()
    assert render_deck(deck, cache()) == expected
    assert rendered == [edited.a]
