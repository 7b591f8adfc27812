"""The render stage: Markdown and code to card HTML, and the card CSS."""

from __future__ import annotations

import os
import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from conftest import QUESTIONS
from qa2anki import cloze, render
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
    "p", "em", "strong", "code", "pre", "span", "div", "a", "ul", "ol", "li", "blockquote", "hr",
    "br", "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tfoot", "tr", "th", "td",
    "caption", "s", "img",
    # raw HTML that a card keeps
    "b", "i", "u", "sub", "sup", "kbd", "mark", "small", "details", "summary",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "class", "href", "start", "style", "src", "alt", "title", "colspan", "rowspan", "open",
}  # fmt: skip


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
    text = (
        "[sound:a.mp3] [anki:tts lang=en]hi[/anki:tts] [latex]x[/latex] [$$]y[/$$] [LaTeX]z[/LATEX]"
    )
    html = render_markdown(text)

    assert re.search(r"\[(sound:|/?anki:|/?latex\]|/?\$)", html, re.IGNORECASE) is None
    assert "".join(parse(html).text) == text


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


# Pieces of hostile and harmless HTML, Markdown and math, for texts that mix them.
HTML_PIECES = st.sampled_from(
    [
        "<b>", "</b>", "<i onclick=alert(1)>", "<script>", "</script>", "<div>", "<br>",
        "<br/>", "<img src=x.png onerror=alert(1)>", '<a href="javascript:alert(1)">',
        '<a href="https://example.com" style="x">', "</a>", "<details open>", "</details>",
        "<summary>", "<table>", "<tr>", "<td colspan=2 style='color:red'>", "</td>",
        "<!-- c -->", "<svg onload=alert(1)>", "<style>", "<iframe src=//e>", "<sup>",
        "<kbd title='k'>", "<ul><li>", "`code`", "**", "_", "$x$", "\\(y\\)", "$$", "\n",
        "\n\n", "- ", "| a |\n|---|\n| b |", "[l](https://e.org)", "![i](x.png)", "{{c1::x}}",
        "[sound:a.mp3]", "&amp;", '"', "'", "<", ">",
    ]
)  # fmt: skip
HTML_TEXT = st.lists(HTML_PIECES | st.text(max_size=4), max_size=30).map("".join)


@given(HTML_TEXT, st.booleans())
@example("\\![i](x.png)", False)  # a Markdown link to a relative path
def test_any_html_renders_to_the_allow_list_only(text: str, with_image: bool) -> None:
    links = (("x.png", "x-0123456789ab.png"),) if with_image else ()
    collector = parse(render_markdown(text, links))

    assert set(collector.tags) <= ALLOWED_TAGS
    assert {name for name, _ in collector.attributes} <= ALLOWED_ATTRIBUTES
    assert not any(name.startswith("on") for name, _ in collector.attributes)
    styles = {value for name, value in collector.attributes if name == "style"}
    assert styles <= {"text-align:left", "text-align:center", "text-align:right"}
    for name, value in collector.attributes:
        if name == "href":
            # A web or mail link, or a Markdown link to a path, which has no scheme.
            scheme = re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*:", value or "")
            assert scheme is None or (value or "").startswith(("https:", "mailto:")), value
        if name == "src":  # without links, only a Markdown image shows, with its own src
            assert value == ("x-0123456789ab.png" if with_image else "x.png")


def test_math_is_left_to_mathjax_and_its_source_kept() -> None:
    html = render_markdown(r"Is $a_1 * b_2 < c$ and \(x_{*}\) so? $$\frac{1}{2}$$")

    assert html == (
        '<p>Is <span class="math">\\(a_1 * b_2 &lt; c\\)</span> and '
        '<span class="math">\\(x_{*}\\)</span> so? <span class="math">\\[\\frac{1}{2}\\]</span></p>'
    )


@pytest.mark.parametrize(
    "text",
    ["$5 and $10", "a $ b $ c", "$x $", "\\$x\\$", "`$x$`", "[$]x[/$]"],
)
def test_dollars_that_are_not_math_stay_text(text: str) -> None:
    assert "math" not in render_markdown(text)
    assert "\\(" not in render_markdown(text)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (r"$\href{javascript:alert(1)}{x}$", r"<p>$\href{javascript:alert(1)}{x}$</p>"),
        (
            r"\(\class{x}{y}\)",
            r'<p><span class="tex2jax_ignore mathjax_ignore">\(\class{x}{y}\)</span></p>',
        ),
        ("$$\n\\style{color:red}{x}\n$$", "<p>$$\n\\style{color:red}{x}\n$$</p>"),
        (r"a $$\require{bbox}$$ b", r"<p>a $$\require{bbox}$$ b</p>"),
        (
            r'$\mmlToken{mi}[href="javascript:alert(1)"]{x}$',
            r"<p>$\mmlToken{mi}[href=&quot;javascript:alert(1)&quot;]{x}$</p>",
        ),
        (r"$\bbox[position:fixed]{x}$", r"<p>$\bbox[position:fixed]{x}$</p>"),
        (
            r"$\fcolorbox{red;position:fixed}{b}{x}$",
            r"<p>$\fcolorbox{red;position:fixed}{b}{x}$</p>",
        ),
        (r"$\unicode[Arial;x:y]{x41}$", r"<p>$\unicode[Arial;x:y]{x41}$</p>"),
        (
            r"\[ x \] (1} \href{javascript:alert(1)}{click} {2)",
            '<p><span class="tex2jax_ignore mathjax_ignore">'
            r"\[ x \] (1} \href{javascript:alert(1)}{click} {2)</span></p>",
        ),
        (
            r"\[ x \] (1} \textbf{2)",
            r'<p><span class="tex2jax_ignore mathjax_ignore">\[ x \] (1} \textbf{2)</span></p>',
        ),
    ],
)
def test_a_formula_that_could_link_or_style_is_shown_as_its_source(text: str, shown: str) -> None:
    assert render_markdown(text) == shown
    (warning,) = render.dropped_html(text)
    assert warning[1].endswith(
        "is shown as its TeX source: cards allow no links, HTML attributes or extensions in "
        "formulas"
    )


def test_a_formula_with_a_command_that_only_starts_alike_is_math() -> None:
    assert render_markdown(r"$\hrefx + \color{red}{y}$") == (
        '<p><span class="math">\\(\\hrefx + \\color{red}{y}\\)</span></p>'
    )


@pytest.mark.parametrize(
    "text",
    [
        r"\\</b>(\href{javascript:alert(1)}{click}\\)",  # nh3 drops the stray </b>
        r"\\<tr>(x\\)",  # and a table row outside a table
        "<b>a\n\n\\\\</b>(x\\\\)",
        r"\\</i>[y\\</details>]",
    ],
)
def test_a_delimiter_that_cleaning_joins_is_kept_from_mathjax(text: str) -> None:
    """MathJax reads a formula only from one run of text between tags: every run with a
    delimiter that is no formula is wrapped in the classes that make MathJax skip it."""
    html = render_markdown(text)

    assert "math" not in html.replace("mathjax_ignore", "")
    for run in re.findall(r">([^<]*)<", f">{html}<"):
        if "\\(" in run or "\\[" in run:
            assert f'<span class="tex2jax_ignore mathjax_ignore">{run}</span>' in html, run


def test_a_typed_math_delimiter_is_kept_from_mathjax() -> None:
    assert render_markdown(r"\\(x\\)") == (
        '<p><span class="tex2jax_ignore mathjax_ignore">\\(x\\)</span></p>'
    )


def test_only_a_text_that_keeps_raw_html_is_cleaned() -> None:
    """nh3 writes the same HTML otherwise ('"' for "&quot;"): every other note's HTML must
    stay as it was, or re-imports would update notes that did not change."""
    assert render_markdown('"q" <String>') == "<p>&quot;q&quot; &lt;String&gt;</p>"
    assert render_markdown('"q" <b>b</b>') == '<p>"q" <b>b</b></p>'


def test_a_tag_left_open_closes_at_the_end_of_its_paragraph() -> None:
    assert render_markdown("<b>bold <i>both\n\nplain") == (
        "<p><b>bold <i>both</i></b></p>\n<p>plain</p>"
    )
    assert render_markdown("<details><summary>S</summary>\n\nhidden\n\n</details>\n\nafter") == (
        "<details><summary>S</summary>\n<p>hidden</p>\n</details>\n<p>after</p>"
    )


def test_what_raw_html_loses_is_reported_by_line() -> None:
    text = "<b style=x>a</b>\nList<String> <div>\n\n<a href='javascript:x'>l</a> <!-- c -->"

    assert render.dropped_html(text) == [
        (0, "dropped the attribute 'style' of <b>: <b> keeps only title"),
        (
            1,
            "HTML tag <div> is shown as text: cards keep only <b>, <i>, <br>, <sub>, <sup>, "
            "<kbd>, <details>, <img>, lists, tables and the like (see docs/format.md)",
        ),
        (3, "dropped the link 'javascript:x' of <a>: links must be http, https or mailto"),
        (3, "an HTML comment is shown as text: cards keep no comments"),
    ]
    assert render.dropped_html("<b>fine</b> and <img src='x.png' alt='A'>") == []


@given(
    st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=200),
    st.sampled_from(["", "python", "nope"]),
)
@example("\ufeff", "python")  # a byte order mark, which Pygments drops
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

    def recording(text: str, links: Links = (), cloze: bool = False) -> str:
        rendered.append(text)
        return render_markdown(text, links, cloze)

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


def test_html_in_upper_case_is_warned_about_but_a_type_is_not() -> None:
    warnings = render.dropped_html("<DIV>x</DIV> <Map> List<String> Optional<T>")

    assert [message.split(" is ")[0] for _, message in warnings] == ["HTML tag <div>"]


def test_lines_are_counted_past_code_formulas_and_alt_text_over_several_lines() -> None:
    text = "`a\nb` then $$p\nq$$ and ![i\nj](x.png)\n<div> and ![k](y.png)\n\n- `<b>`\n  <div>"

    assert [
        (token.type, line)
        for token, line in render.inline_tokens(text)
        if token.type in ("image", "html_inline")
    ] == [("image", 2), ("html_inline", 4), ("image", 4), ("html_inline", 7)]
    assert [line for line, _ in render.dropped_html(text)] == [4, 7]


def test_bracket_math_in_a_line_of_text_is_a_warning_as_markdown_shows_brackets() -> None:
    text = (
        "See \\[ a+b \\] here, `\\[x\\]` in code and \\\\[ typed.\n\n"
        "\\[ E = mc^2 \\]\n\nLast \\[\nx \\].\n"
    )

    warnings = render.dropped_html(text)

    assert [line for line, _ in warnings] == [0, 4]
    assert warnings[0][1].startswith("'\\[ ... \\]' in a line of text is shown as '[ ... ]'")
    assert "<p>See [ a+b ] here" in render_markdown(text)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        # Text after the \] on its line: not a formula of its own, and nothing is lost.
        (r"\[ x \] (1) more text", "<p>[ x ] (1) more text</p>"),
        (r"\[ x \] more", "<p>[ x ] more</p>"),
        ("\\[ x \\] (1)\nnext", '<div class="math">\\[x \\tag{1}\\]</div>\n<p>next</p>'),
        ("text\n\\[\nx\n\\]\nmore", '<p>text</p>\n<div class="math">\\[x\\]</div>\n<p>more</p>'),
        ("\\[\nx\n\nnot closed", "<p>[\nx</p>\n<p>not closed</p>"),
    ],
)
def test_a_bracket_formula_takes_whole_lines_and_loses_no_text(text: str, shown: str) -> None:
    assert render_markdown(text) == shown


CLOZE_CODE = "```python\nx = {{c1::42::the answer}}\nreturn {{c2::a + {{c3::1}}}}\n```"


def test_a_cloze_texts_code_keeps_each_deletion_whole_between_the_highlighted_spans() -> None:
    html = render_markdown(CLOZE_CODE, cloze=True)

    assert '<span class="o">=</span> {{c1::<span class="mi">42</span>::the answer}}' in html
    inner = '<span class="n">a</span> <span class="o">+</span> {{c3::<span class="mi">1</span>}}'
    assert "{{c2::" + inner + "}}" in html
    # Without the deletions' marks the code is highlighted as it always is.
    plain = render_markdown("```python\nx = 42\nreturn a + 1\n```")
    assert re.sub(r"\{\{c\d::|::the answer|\}\}", "", html) == plain


@pytest.mark.parametrize(
    ("text", "refused"),
    [
        ("In $\\frac{1}{ {{c1::x^{2}}} }$", True),  # Anki hides "x^{2", then shows a "}"
        ('```json\n{{c1::{"b": 1}}}}\n```', True),
        ("In $\\frac{1}{ {{c1::x^{2} }} }$", False),
        ("```c\nif (x) {{c1::{}}\n```", False),  # hides the "{", as it may mean to
        ("{{c1::a}}}", False),
    ],
)
def test_a_deletion_that_ends_inside_braces_of_its_text_is_refused(
    text: str, refused: bool
) -> None:
    problems = cloze.problems(text, render_markdown(text, cloze=True))

    assert bool(problems) == refused, problems
    assert all("ends it, inside a '{...}' of its text" in message for _, message in problems)


def test_cloze_marks_elsewhere_are_text_as_in_any_note() -> None:
    text = "A {{c1::list}} and `{{c2::code}}`"

    assert render_markdown(text, cloze=True) == render_markdown(text)
    assert "{{c1::list}}" in render_markdown(text)
    # In a basic note's code the marks are code like any other.
    assert '<span class="p">{{</span>' in render_markdown(CLOZE_CODE)


@pytest.mark.parametrize("code", ["\ufeffx = {{c1::abc}}", 'x = "\ue000" + {{c1::abc}}'])
def test_cloze_code_with_a_byte_order_mark_or_private_characters_keeps_its_deletion(
    code: str,
) -> None:
    html = render_markdown(f"```python\n{code}\n```", cloze=True)

    assert '{{c1::<span class="n">abc</span>}}' in html
    assert code.replace("{{c1::abc}}", "") in re.sub(r"<[^>]+>|\{\{c1::abc\}\}", "", html)
