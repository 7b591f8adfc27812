"""The preview page: every card from the note type's own templates and CSS, self-contained."""

from __future__ import annotations

import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import DECK_YAML, INVALID, QUESTIONS, write_sources
from qa2anki import build
from qa2anki.build import build_preview
from qa2anki.cli import app
from qa2anki.errors import OutputError, ValidationError
from qa2anki.loader import load_deck
from qa2anki.package import BACK_TEMPLATE, FRONT_TEMPLATE
from qa2anki.preview import GENERATOR_MARK, card_sides, cards, preview_page, render_template
from qa2anki.render import card_css, render_deck
from qa2anki.watch import LivePreview
from test_cli import expected_stderr
from test_loader import INVALID_CASES

runner = CliRunner()


class Page(HTMLParser):
    """The parts of a page the tests look at: tags with attributes, and style/script text."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.styles: list[str] = []
        self.scripts: list[str] = []
        self._in: str | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        self._in = tag if tag in {"style", "script"} else None

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "style":
            self.styles.append(data)
        elif self._in == "script":
            self.scripts.append(data)


def shipped_page() -> str:
    return preview_page(render_deck(load_deck(QUESTIONS)))


class TestTemplates:
    def test_fields_and_front_side_are_filled_in(self) -> None:
        fields = {"Question": "<p>Q?</p>", "Answer": "<p>A.</p>", "Topic": "T", "Id": "q"}

        front = render_template(FRONT_TEMPLATE, fields)
        back = render_template(BACK_TEMPLATE, fields, front_side=front)

        # Written out by hand: the templates as Anki fills them.
        assert front == (
            '<div class="qa2anki">\n<div class="topic tex2jax_ignore mathjax_ignore">T</div>\n'
            '<div class="question"><p>Q?</p></div>\n</div>'
        )
        assert back == (
            f'{front}\n<div class="qa2anki">\n<hr id="answer">\n'
            '<div class="answer"><p>A.</p></div>\n</div>'
        )

    def test_field_values_are_not_read_as_template_tags(self) -> None:
        filled = render_template(
            "{{Question}}|{{Answer}}", {"Question": "{{Answer}}", "Answer": "a"}
        )

        assert filled == "{{Answer}}|a"

    @pytest.mark.parametrize(
        "template",
        [
            "{{#Topic}}x{{/Topic}}",
            "{{text:Question}}",
            "{{Nope}}",
            "{{ Question }}",
            "{{FrontSide}}",  # only the back has a front side
            "{{Question}",
            "}}",
        ],
    )
    def test_anything_else_in_a_template_fails_loudly(self, template: str) -> None:
        with pytest.raises(ValueError, match="template"):
            render_template(template, {"Question": "q"})

    def test_every_shipped_card_renders_from_the_note_type_templates(self) -> None:
        rendered = render_deck(load_deck(QUESTIONS))
        page = preview_page(rendered)

        for item in rendered.questions:
            front, back = card_sides(item)
            assert front.startswith(
                '<div class="qa2anki">\n<div class="topic tex2jax_ignore mathjax_ignore">'
            )
            assert item.answer_html in back
            assert back.startswith(front)
            assert f'<div class="card card1">\n{front}\n</div>' in page
            assert f'<div class="card card1">\n{back}\n</div>' in page


class TestPage:
    def test_embeds_the_note_type_css_verbatim(self) -> None:
        styles = Page(shipped_page()).styles

        assert styles[0] == "\n" + card_css()

    def test_page_css_never_reaches_inside_a_card(self) -> None:
        """Every rule of the page's own stylesheet targets a preview-* class, and the only
        card rules it sets are the frame around a card (padding, width, corners) and the mark
        on a formula's TeX source, which Anki typesets instead."""
        page_css = re.sub(r"/\*.*?\*/", "", Page(shipped_page()).styles[1], flags=re.DOTALL)
        selectors = [
            selector.strip()
            for block in re.findall(r"([^{}]+)\{[^{}]*\}", page_css)
            for selector in block.split(",")
            if not block.strip().startswith("@")
        ]
        assert selectors
        for selector in selectors:
            last = selector.split()[-1]
            assert (
                re.fullmatch(r"\.(qa2anki-)?preview[\w-]*(\[hidden\]|\.preview-night)?", last)
                or selector.endswith("> .card")
                or selector == ".preview-main .math"
            ), selector
        framing = re.findall(r"> \.card \{([^}]*)\}", page_css)
        properties = {line.split(":")[0].strip() for body in framing for line in body.split(";")}
        assert properties - {""} <= {
            "box-sizing",
            "padding",
            "border-radius",
            "box-shadow",
            "width",
        }

    def test_groups_cards_by_topic_with_navigation(self) -> None:
        page = shipped_page()
        elements = Page(page).elements

        sections = [attrs["id"] for tag, attrs in elements if tag == "section"]
        links = [attrs["href"] for tag, attrs in elements if attrs.get("class") == "preview-link"]
        assert sections == [f"topic-{n}" for n in range(1, 11)]
        assert links == [f"#{section}" for section in sections]
        notes = [attrs["id"] for tag, attrs in elements if tag == "article"]
        assert len(notes) == 100
        assert notes[0] == "note-list-vs-tuple"
        assert sum(1 for tag, attrs in elements if attrs.get("class") == "card card1") == 200
        assert '<h2 class="preview-topic-name">Docker &amp; Kubernetes</h2>' in page
        assert '<span id="preview-count" class="preview-count">100 cards</span>' in page

    def test_loads_nothing_from_anywhere(self) -> None:
        page = Page(shipped_page())

        assert {tag for tag, _ in page.elements}.isdisjoint({"link", "img", "iframe", "object"})
        for tag, attrs in page.elements:
            assert "src" not in attrs, tag
            href = attrs.get("href")
            assert href is None or href.startswith("#"), href
            assert not any("://" in (value or "") for value in attrs.values()), (tag, attrs)
        for text in page.styles + page.scripts:
            assert not re.search(r"url\(|@import|https?:|//[a-z]", text, re.IGNORECASE)
        (policy,) = [
            attrs["content"]
            for tag, attrs in page.elements
            if tag == "meta" and attrs.get("http-equiv") == "Content-Security-Policy"
        ]
        assert policy is not None
        assert policy.startswith("default-src 'none';")

    def test_deck_and_topic_names_are_escaped(self, tmp_path: Path) -> None:
        source = write_sources(
            tmp_path,
            {
                "deck.yaml": 'key: k\nname: "<script>alert(1)</script> & co"\n',
                "t.yaml": 'topic: "<b>Bold</b> \\"Q&A\\""\nquestions:\n  - {id: x, q: Q, a: A}\n',
            },
        )
        page = preview_page(render_deck(load_deck(source)))
        parsed = Page(page)

        assert "<b>" not in page
        assert parsed.scripts == [parsed.scripts[0]]  # the page's own, nothing else
        assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co · card preview</title>" in page
        assert ">&lt;b&gt;Bold&lt;/b&gt; &quot;Q&amp;A&quot; <span" in page
        assert (
            '<div class="topic tex2jax_ignore mathjax_ignore">'
            "&lt;b&gt;Bold&lt;/b&gt; &quot;Q&amp;A&quot;</div>" in page
        )
        assert "1 card</span>" in page

    def test_shows_formulas_as_tex_source_and_says_so(self, tmp_path: Path) -> None:
        source = write_sources(
            tmp_path,
            {
                "deck.yaml": DECK_YAML,
                "t.yaml": "topic: T\nquestions:\n  - {id: x, q: Q, a: $x^2$}\n",
            },
        )
        page = preview_page(render_deck(load_deck(source)))

        assert '<span class="math">\\(x^2\\)</span>' in page
        assert (
            '<p class="preview-math-note">Formulas show here as their TeX source; '
            "Anki typesets them.</p>"
        ) in page
        assert '<p class="preview-math-note">' not in shipped_page()  # it has no math
        assert ".preview-main .math {" in Page(page).styles[1]


YESTERDAY = f"<!DOCTYPE html>\n{GENERATOR_MARK}\nyesterday's page"


class TestWrite:
    def test_writes_the_page(self, small_sources: Path, tmp_path: Path) -> None:
        output = tmp_path / "out" / "preview.html"

        result = build_preview(small_sources, output)

        assert result.output == output
        assert output.read_text(encoding="utf-8") == preview_page(
            render_deck(load_deck(small_sources))
        )
        assert sorted(p.name for p in output.parent.iterdir()) == ["preview.html"]

    def test_invalid_sources_write_nothing_and_keep_the_old_page(
        self, small_sources: Path, tmp_path: Path
    ) -> None:
        output = tmp_path / "preview.html"
        output.write_text(YESTERDAY, encoding="utf-8")
        (small_sources / "02-more.yaml").write_text(
            "topic: More\nquestions: []\n", encoding="utf-8"
        )

        with pytest.raises(ValidationError):
            build_preview(small_sources, output)

        assert output.read_text(encoding="utf-8") == YESTERDAY
        assert sorted(p.name for p in tmp_path.iterdir()) == ["preview.html", "small"]

    def test_a_failed_write_keeps_the_old_page_and_leaves_no_temporary_file(
        self, small_sources: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        output = tmp_path / "preview.html"
        output.write_text(YESTERDAY, encoding="utf-8")

        def write_half_then_fail(path: Path, text: str) -> None:
            path.write_text(text[:100], encoding="utf-8")
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(build, "_write_text", write_half_then_fail)

        with pytest.raises(OutputError) as caught:
            build_preview(small_sources, output)

        assert str(caught.value) == f"{output}: cannot write: No space left on device"
        assert output.read_text(encoding="utf-8") == YESTERDAY
        assert sorted(p.name for p in tmp_path.iterdir()) == ["preview.html", "small"]


class TestCli:
    def test_writes_build_preview_html_by_default(
        self, small_sources: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.chdir(small_sources.parent)

        result = runner.invoke(app, ["preview", "small"])

        assert (result.exit_code, result.stdout, result.stderr) == (
            0,
            "Wrote 3 cards in 2 topics to build/preview.html\n",
            "",
        )
        assert (small_sources.parent / "build" / "preview.html").is_file()

    def test_open_opens_the_written_page(
        self, small_sources: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        opened: list[str] = []

        def fake_open(url: str) -> bool:
            assert Path(tmp_path / "p.html").is_file()  # written before it is opened
            opened.append(url)
            return True

        monkeypatch.setattr("webbrowser.open", fake_open)

        result = runner.invoke(
            app, ["preview", str(small_sources), "-o", str(tmp_path / "p.html"), "--open"]
        )

        assert result.exit_code == 0, result.stderr
        assert opened == [(tmp_path / "p.html").resolve().as_uri()]

    def test_open_without_a_browser_says_so(
        self, small_sources: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr("webbrowser.open", lambda url: False)
        output = tmp_path / "p.html"

        result = runner.invoke(
            app, ["preview", str(small_sources), "--output", str(output), "--open"]
        )

        assert result.exit_code == 0
        assert result.stderr == f"Found no web browser to open; open {output} yourself.\n"

    def test_without_open_no_browser_is_opened(
        self, small_sources: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def fail(url: str) -> bool:
            raise AssertionError(url)

        monkeypatch.setattr("webbrowser.open", fail)

        result = runner.invoke(app, ["preview", str(small_sources), "-o", str(tmp_path / "p.html")])

        assert result.exit_code == 0

    @pytest.mark.parametrize("case", INVALID_CASES)
    def test_fails_like_build_and_writes_nothing(
        self, case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.chdir(INVALID)
        monkeypatch.setattr("webbrowser.open", pytest.fail)
        output = tmp_path / "out" / "preview.html"

        result = runner.invoke(app, ["preview", case, "-o", str(output), "--open"])

        assert result.exit_code == 1
        assert result.stdout == ""
        assert result.stderr == expected_stderr(case, "found; nothing was written.")
        assert list(tmp_path.iterdir()) == []

    def test_output_that_is_a_folder_is_one_line_and_exit_1(
        self, small_sources: Path, tmp_path: Path
    ) -> None:
        result = runner.invoke(app, ["preview", str(small_sources), "-o", str(tmp_path)])

        assert (result.exit_code, result.stderr) == (1, f"{tmp_path}: is a folder, not a file\n")


def test_source_with_one_topic(tmp_path: Path) -> None:
    source = write_sources(
        tmp_path / "src",
        {"deck.yaml": DECK_YAML, "t.yaml": "topic: T\nquestions:\n  - {id: x, q: Q, a: A}\n"},
    )
    result = runner.invoke(app, ["preview", str(source), "-o", str(tmp_path / "p.html")])

    assert result.stdout == f"Wrote 1 card in 1 topic to {tmp_path / 'p.html'}\n"


def test_preview_refuses_files_it_did_not_write_and_the_sources(
    small_sources: Path, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.html"
    notes.write_text("<p>my own page</p>", encoding="utf-8")
    inside = small_sources / "preview.html"

    refused = runner.invoke(app, ["preview", str(small_sources), "-o", str(notes)])
    inside_refused = runner.invoke(app, ["preview", str(small_sources), "-o", str(inside)])
    again = runner.invoke(app, ["preview", str(small_sources), "-o", str(tmp_path / "p.html")])
    replaced = runner.invoke(app, ["preview", str(small_sources), "-o", str(tmp_path / "p.html")])
    forced = runner.invoke(app, ["preview", str(small_sources), "-o", str(notes), "--force"])

    assert (refused.exit_code, refused.stderr) == (
        1,
        f"{notes}: is not a preview written by qa2anki: not replacing it"
        " (use --force to replace it)\n",
    )
    assert (inside_refused.exit_code, inside_refused.stderr) == (
        1,
        f"{inside}: is inside the source folder {small_sources}: write the preview somewhere"
        " else (or use --force)\n",
    )
    assert not inside.exists()
    assert (again.exit_code, replaced.exit_code, forced.exit_code) == (0, 0, 0)
    assert GENERATOR_MARK in notes.read_text(encoding="utf-8")


class TestWatch:
    """`preview --watch`, run as users run it: a real process, real file changes, Ctrl-C."""

    def test_a_changed_source_rebuilds_the_served_page_until_ctrl_c(self, tmp_path: Path) -> None:
        source = write_sources(
            tmp_path / "src",
            {
                "deck.yaml": DECK_YAML,
                "01-t.yaml": "topic: T\nquestions:\n  - {id: x, q: Q, a: Old}\n",
            },
        )
        output = tmp_path / "page.html"
        command = [sys.executable, "-m", "qa2anki", "preview", str(source), "-o", str(output)]
        with subprocess.Popen(
            [*command, "--watch"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
        ) as child:
            lines = Lines(child)
            try:
                assert lines.next() == f"Wrote 1 card in 1 topic to {output}\n"
                serving = lines.next()
                match = re.fullmatch(
                    r"Serving the preview at (http://127\.0\.0\.1:\d+/); it reloads when a source "
                    r"changes\. Ctrl-C stops\.\n",
                    serving,
                )
                assert match, serving
                address = match[1]
                first = fetch(address)
                assert 'data-live-version="1"' in first
                assert "connect-src 'self'" in first
                assert fetch(address + "version") == "1"

                (source / "01-t.yaml").write_text(
                    "topic: T\nquestions:\n  - {id: x, q: Q, a: New}\n", encoding="utf-8"
                )
                assert lines.next() == "Changed: src/01-t.yaml\n"
                assert lines.next() == f"Wrote 1 card in 1 topic to {output}\n"
                assert fetch(address + "version") == "2"
                page = fetch(address)
                assert "<p>New</p>" in page
                assert "<p>Old</p>" not in page
                assert output.read_text(encoding="utf-8") == page

                (source / "01-t.yaml").write_text("topic: [\n", encoding="utf-8")
                assert lines.next() == "Changed: src/01-t.yaml\n"
                assert fetch(address + "version") == "2"  # the last good page stays
                assert "<p>New</p>" in fetch(address)
            finally:
                child.send_signal(signal.SIGINT)
                child.wait(timeout=30)
            stdout = lines.rest()
            stderr = child.stderr.read() if child.stderr else ""

        assert (child.returncode, stdout) == (0, "Stopped.\n")
        assert stderr == (
            f"{source / '01-t.yaml'}:1: invalid YAML: the '[' on this line is never closed; "
            "end the list with ']'\n1 problem found; the page is as it was.\n"
        )

    def test_only_this_computers_names_are_served(
        self, small_sources: Path, tmp_path: Path
    ) -> None:
        live = LivePreview(small_sources, tmp_path / "page.html")
        live.build()
        address = live.serve()
        try:
            assert "<!DOCTYPE html>" in fetch(address)
            request = urllib.request.Request(address, headers={"Host": "rebound.example.com"})
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=10)
            refused.value.close()
            assert refused.value.code == 403
        finally:
            live.close()

    def test_a_port_in_use_is_one_line_and_exit_1(
        self, small_sources: Path, tmp_path: Path
    ) -> None:
        first = LivePreview(small_sources, tmp_path / "one.html")
        first.build()
        port = int(first.serve().rsplit(":", 1)[1].strip("/"))
        try:
            output = str(tmp_path / "two.html")
            command = ["preview", str(small_sources), "-o", output, "--watch", "--port", str(port)]
            result = runner.invoke(app, command)
        finally:
            first.close()

        assert (result.exit_code, result.stdout) == (1, "")
        assert not (tmp_path / "two.html").exists()
        assert result.stderr == (
            f"cannot serve the preview on port {port}: Address already in use (choose another "
            "with --port, or 0 for any free one)\n"
        )

    def test_a_page_that_cannot_be_written_is_reported_and_watching_goes_on(
        self, small_sources: Path, tmp_path: Path
    ) -> None:
        output = tmp_path / "page.html"
        live = LivePreview(small_sources, output)
        live.build()
        results: queue.Queue[object] = queue.Queue()
        stop = threading.Event()
        watcher = threading.Thread(
            target=live.watch, args=(lambda changed, result: results.put(result), stop)
        )
        watcher.start()
        try:
            time.sleep(0.5)  # let the watcher start
            output.write_text("someone else's page", encoding="utf-8")
            topic = small_sources / "01-basics.yaml"
            topic.write_text(topic.read_text(encoding="utf-8") + "\n", encoding="utf-8")
            refused = results.get(timeout=30)
            output.unlink()
            topic.write_text(topic.read_text(encoding="utf-8") + "\n", encoding="utf-8")
            built = results.get(timeout=30)
        finally:
            stop.set()
            watcher.join(timeout=30)

        assert isinstance(refused, OutputError)
        assert "is not a preview" in str(refused)
        assert getattr(built, "output", None) == output
        assert not watcher.is_alive()

    def test_a_static_page_does_not_ask_for_reloads(self) -> None:
        page = shipped_page()

        assert '<body class="qa2anki-preview">' in page
        assert "connect-src" not in page


class Lines:
    """A child process's output, line by line, waiting at most a while for each line."""

    def __init__(self, child: subprocess.Popen[str]) -> None:
        self._lines: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, args=(child,), daemon=True)
        self._reader.start()

    def _read(self, child: subprocess.Popen[str]) -> None:
        assert child.stdout is not None
        for line in child.stdout:
            self._lines.put(line)

    def next(self, timeout: float = 30) -> str:
        return self._lines.get(timeout=timeout)

    def rest(self) -> str:
        """Return every line left, once the process has ended."""
        self._reader.join(timeout=30)
        found = []
        while not self._lines.empty():
            found.append(self._lines.get_nowait())
        return "".join(found)


def fetch(address: str) -> str:
    """Read a page from the preview's server on this computer."""
    with urllib.request.urlopen(address, timeout=10) as response:
        body: bytes = response.read()
    return body.decode("utf-8")


def test_each_card_of_a_reversed_and_a_cloze_note_is_shown(tmp_path: Path) -> None:
    topic = (
        "topic: Kinds\nquestions:\n  - {id: capital, type: reversed, q: France, a: Paris}\n"
        "  - id: fill\n    type: cloze\n    text: 'A {{c1::list}} is {{c2::mutable::how?}}.'\n"
    )
    source = write_sources(tmp_path / "q", {"deck.yaml": DECK_YAML, "01-kinds.yaml": topic})
    rendered = render_deck(load_deck(source))

    capital, fill = (cards(item) for item in rendered.questions)
    page = preview_page(rendered)

    assert [(c.ordinal, c.name) for c in capital] == [(1, "Q&A"), (2, "A&Q")]
    assert ("France" in capital[0].front, "Paris" in capital[0].front) == (True, False)
    assert ("France" in capital[1].front, "Paris" in capital[1].front) == (False, True)
    assert [c.ordinal for c in fill] == [1, 2]
    assert '<span class="cloze">[...]</span> is mutable' in fill[0].front
    assert 'A list is <span class="cloze">[how?]</span>' in fill[1].front
    assert '<span class="cloze">mutable</span>' in fill[1].back
    assert '<span id="preview-count" class="preview-count">4 cards</span>' in page
    assert 'class="card card2"' in page
    assert "fill · c2 · front" in page
    assert "capital · A&amp;Q · back" in page
    assert ".nightMode .cloze" in page


def test_template_sections_show_only_with_their_field() -> None:
    template = "{{#Extra}}<hr>{{Extra}}{{/Extra}}|{{cloze:Text}}"

    assert render_template(template, {"Extra": "", "Text": "t"}, cloze={"Text": "c"}) == "|c"
    assert render_template(template, {"Extra": "e", "Text": "t"}, cloze={"Text": "c"}) == "<hr>e|c"
    with pytest.raises(ValueError, match="never closed"):
        render_template("{{#Extra}}x", {"Extra": "e"})
    with pytest.raises(ValueError, match="closes none"):
        render_template("x{{/Extra}}", {"Extra": "e"})


def test_preview_counts_cards_not_notes(tmp_path: Path) -> None:
    topic = (
        "topic: Kinds\nquestions:\n  - {id: capital, type: reversed, q: France, a: Paris}\n"
        "  - {id: fill, type: cloze, text: 'A {{c1::list}} is {{c2::mutable}}.'}\n"
    )
    source = write_sources(tmp_path / "q", {"deck.yaml": DECK_YAML, "01-kinds.yaml": topic})

    result = runner.invoke(app, ["preview", str(source), "-o", str(tmp_path / "p.html")])

    assert (result.exit_code, result.stdout) == (
        0,
        f"Wrote 4 cards in 1 topic to {tmp_path / 'p.html'}\n",
    )
