"""The preview in a real browser: headless Chromium, driven by Playwright.

Needs Debian's `chromium` (never a browser Playwright downloads).  Without it these tests
are skipped, except under CI=true, where a missing browser is a failure.  They leave
screenshots of a code card, light and night at phone width, in build/ for people to look at.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

from conftest import DECK_YAML, QUESTIONS, ROOT, png_bytes, write_sources
from qa2anki.build import build_preview
from qa2anki.loader import load_deck
from qa2anki.preview import card_sides
from qa2anki.render import card_css, render_deck
from qa2anki.watch import LivePreview
from test_readability import luminance, parse_color

pytestmark = pytest.mark.browser

# No sandbox (CI runs as root), no GPU, and nothing that reaches for the network by itself.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE: ViewportSize = {"width": 390, "height": 844}
SCREENSHOTS = ROOT / "build"
CODE_NOTE = "fastapi-middleware"
NIGHT = "nightMode night_mode"

# Everything that decides how a card's text looks, for comparing a card with itself elsewhere.
STYLE_PROPERTIES = [
    "color", "backgroundColor", "fontFamily", "fontSize", "fontWeight", "fontStyle",
    "lineHeight", "letterSpacing", "textAlign", "textTransform", "whiteSpace", "overflowX",
    "opacity", "borderTopColor", "borderTopWidth", "paddingLeft", "tabSize",
]  # fmt: skip


def chromium() -> str:
    """The Chromium to drive; skip (or, under CI, fail) when there is none."""
    executable = shutil.which("chromium")
    if executable is None:
        reason = "Chromium is not installed (Debian: apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI must run the browser tests, not skip them")
        pytest.skip(reason)
    return executable


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def preview_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    output = tmp_path_factory.mktemp("preview") / "preview.html"
    build_preview(QUESTIONS, output)
    return output.as_uri()


@pytest.fixture
def page(browser: Browser, preview_url: str) -> Iterator[Page]:
    """The shipped deck's preview at phone width; it must load nothing and raise no error."""
    context = browser.new_context(viewport=PHONE)
    opened = context.new_page()
    requests: list[str] = []
    errors: list[str] = []
    opened.on("request", lambda request: requests.append(request.url))
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.on("console", lambda message: errors.append(message.text))
    opened.goto(preview_url)
    try:
        yield opened
    finally:
        context.close()
    assert errors == []
    assert set(requests) <= {preview_url}, requests


def rgb(css_color: str) -> tuple[float, float, float, float]:
    match = re.fullmatch(r"rgba?\((.*)\)", css_color)
    assert match, css_color
    return parse_color(f"rgba({match[1]})")


def code_colours(page: Page) -> dict[str, str]:
    """Computed colours in the code card's answer: the block, its plain text and a keyword."""
    colours: dict[str, str] = page.evaluate(
        """(note) => {
          const pre = document.querySelector(`#note-${note} .answer pre.highlight`);
          const keyword = pre.querySelector("span.k");
          return {
            background: getComputedStyle(pre).backgroundColor,
            text: getComputedStyle(pre).color,
            keyword: getComputedStyle(keyword).color,
          };
        }""",
        CODE_NOTE,
    )
    return colours


def test_night_mode_colours_code_on_a_dark_block(page: Page) -> None:
    back = page.locator(f"#note-{CODE_NOTE} .preview-side").nth(1)
    page.check("#preview-phone")
    SCREENSHOTS.mkdir(exist_ok=True)

    light = code_colours(page)
    back.screenshot(path=SCREENSHOTS / "preview-light.png")
    page.check("#preview-night")
    night = code_colours(page)
    back.screenshot(path=SCREENSHOTS / "preview-night.png")

    classes = page.eval_on_selector_all(".card", "cards => cards.map(c => c.className)")
    assert set(classes) == {f"card card1 {NIGHT}"}
    assert len(classes) == 200
    assert luminance(rgb(light["background"])) > 0.8
    assert luminance(rgb(night["background"])) < 0.05
    assert night["keyword"] not in {night["text"], light["keyword"]}
    red, green, blue, _ = rgb(night["keyword"])
    assert max(red, green, blue) - min(red, green, blue) > 60  # a colour, not a grey
    page.uncheck("#preview-night")
    assert code_colours(page) == light
    assert page.eval_on_selector_all(".nightMode, .night_mode", "found => found.length") == 0


def test_long_code_lines_scroll_inside_their_block_at_phone_width(page: Page) -> None:
    page.check("#preview-phone")
    page.check("#preview-night")

    sizes = page.evaluate(
        """(note) => {
          const card = document.querySelectorAll(`#note-${note} .card`)[1];
          const pre = card.querySelector("pre");
          const cards = Array.from(document.querySelectorAll(".card"));
          return {
            cardWidth: card.getBoundingClientRect().width,
            preScroll: pre.scrollWidth,
            preWidth: pre.clientWidth,
            preRight: pre.getBoundingClientRect().right,
            cardRight: card.getBoundingClientRect().right,
            overflowingCards: cards.filter(c => c.scrollWidth > c.clientWidth).length,
            pageWidth: document.documentElement.scrollWidth,
          };
        }""",
        CODE_NOTE,
    )

    assert sizes["cardWidth"] == PHONE["width"]
    assert sizes["preScroll"] > sizes["preWidth"]  # the line is longer than the block ...
    assert sizes["preRight"] <= sizes["cardRight"]  # ... which stays inside the card
    assert sizes["overflowingCards"] == 0
    assert sizes["pageWidth"] <= PHONE["width"]


@pytest.mark.parametrize("night", [False, True], ids=["light", "night"])
def test_a_card_looks_the_same_as_on_its_own(browser: Browser, page: Page, night: bool) -> None:
    """The page's chrome changes nothing inside a card: every element of a card in the preview
    has the computed style it has when the card is the whole page, as in Anki's reviewer."""
    if night:
        page.check("#preview-night")
    item = next(
        item
        for item in render_deck(load_deck(QUESTIONS)).questions
        if item.question.id == CODE_NOTE
    )
    _, back = card_sides(item)
    alone = browser.new_page(viewport=PHONE)
    try:
        alone.set_content(
            f"<!DOCTYPE html><html><head><style>{card_css()}</style></head>"
            f'<body class="card card1{" " + NIGHT if night else ""}">{back}</body></html>'
        )
        script = f"""(root) => Array.from(root.querySelectorAll("*")).map(e => {{
            const style = getComputedStyle(e);
            return [e.tagName, e.className, ...{STYLE_PROPERTIES!r}.map(p => style[p])];
        }})"""
        in_preview = page.locator(f"#note-{CODE_NOTE} .card").nth(1).evaluate(script)
        on_its_own = alone.locator("body").evaluate(script)
    finally:
        alone.close()

    assert len(in_preview) > 20
    assert in_preview == on_its_own


def test_filter_and_topic_navigation(page: Page) -> None:
    def shown_notes() -> list[str]:
        shown: list[str] = page.eval_on_selector_all(
            ".preview-note:not([hidden])", "notes => notes.map(n => n.id)"
        )
        return shown

    page.fill("#preview-filter", "dockerfile FROM")
    assert shown_notes() == ["note-dockerfile-basics"]
    assert page.inner_text("#preview-count") == "1 of 100 cards"
    shown_links = page.eval_on_selector_all(
        ".preview-link:not([hidden])", "links => links.map(a => a.textContent)"
    )
    assert shown_links == ["Docker & Kubernetes 10"]
    assert page.locator("#topic-1").is_hidden()

    page.fill("#preview-filter", "")
    assert len(shown_notes()) == 100
    assert page.inner_text("#preview-count") == "100 cards"

    page.click('.preview-link[href="#topic-7"]')
    assert page.evaluate("location.hash") == "#topic-7"
    assert page.locator("#topic-7 h2").is_visible()
    assert Path(page.url.split("#")[0].removeprefix("file://")).name == "preview.html"


def test_a_card_shows_its_image_from_the_page_itself(browser: Browser, tmp_path: Path) -> None:
    """The image is embedded as a data: URI: it shows, and the page loads nothing else."""
    source = write_sources(
        tmp_path / "src",
        {
            "deck.yaml": DECK_YAML,
            "t.yaml": """\
                topic: T
                questions:
                  - id: picture
                    q: "![logo](img/logo.png)"
                    a: A
                """,
        },
    )
    (source / "img").mkdir()
    (source / "img" / "logo.png").write_bytes(png_bytes(width=3, height=2))
    output = build_preview(source, tmp_path / "preview.html").output
    opened = browser.new_page(viewport=PHONE)
    loaded: list[str] = []
    opened.on("requestfinished", lambda request: loaded.append(request.url))
    try:
        opened.goto(output.as_uri())
        opened.wait_for_load_state("load")
        images = opened.eval_on_selector_all(
            "img", "images => images.map(i => [i.src.slice(0, 22), i.naturalWidth, i.alt])"
        )
    finally:
        opened.close()

    assert images == [["data:image/png;base64,", 3, "logo"]] * 2  # on the front and the back
    assert [url for url in loaded if not url.startswith("data:")] == [output.as_uri()]


WIDE_TABLE = """\
| Isolation level | Dirty reads | Non-repeatable reads and phantom reads |
|---|---|---|
| `READ UNCOMMITTED` | possible, as every transaction sees the others' writes | possible |
| `SERIALIZABLE` | prevented | prevented, by locking or by optimistic validation |
"""


def test_wide_tables_and_images_stay_inside_the_card_at_phone_width(
    browser: Browser, tmp_path: Path
) -> None:
    source = write_sources(
        tmp_path / "src",
        {
            "deck.yaml": DECK_YAML,
            "t.yaml": "topic: T\nquestions:\n  - id: levels\n    q: Which isolation levels?\n"
            "    a: |\n" + "".join(f"      {line}\n" for line in WIDE_TABLE.splitlines()),
        },
    )
    output = build_preview(source, tmp_path / "preview.html").output
    opened = browser.new_page(viewport=PHONE)
    try:
        opened.goto(output.as_uri())
        opened.check("#preview-phone")
        # An image wider than any phone, as a data: URI (the page loads nothing else).
        opened.evaluate(
            """() => {
              const img = document.createElement("img");
              img.width = 2000; img.height = 10;
              img.src = "data:image/gif;base64,R0lGODlhAQABAAAAACw=";
              document.querySelectorAll(".card")[1].querySelector(".answer").append(img);
            }"""
        )
        sizes = opened.evaluate(
            """() => {
              const card = document.querySelectorAll(".card")[1];
              const table = card.querySelector("table");
              const img = card.querySelector("img");
              return {
                tableScroll: table.scrollWidth,
                tableWidth: table.clientWidth,
                tableRight: table.getBoundingClientRect().right,
                imgRight: img.getBoundingClientRect().right,
                cardRight: card.getBoundingClientRect().right,
                cardOverflows: card.scrollWidth > card.clientWidth,
                pageWidth: document.documentElement.scrollWidth,
              };
            }"""
        )
    finally:
        opened.close()

    assert sizes["tableScroll"] > sizes["tableWidth"]  # the table is wider than the card ...
    assert sizes["tableRight"] <= sizes["cardRight"]  # ... and scrolls inside it
    assert sizes["imgRight"] <= sizes["cardRight"]  # the image is scaled down to the card
    assert not sizes["cardOverflows"]
    assert sizes["pageWidth"] <= PHONE["width"]


def test_a_watched_page_reloads_itself_and_keeps_its_filter_and_switches(
    browser: Browser, tmp_path: Path
) -> None:
    source = write_sources(
        tmp_path / "src",
        {
            "deck.yaml": DECK_YAML,
            "t.yaml": "topic: T\nquestions:\n  - {id: a, q: Alpha?, a: Old}\n"
            "  - {id: b, q: Beta?, a: Two}\n",
        },
    )
    live = LivePreview(source, tmp_path / "preview.html")
    live.build()
    address = live.serve()
    opened = browser.new_page()
    try:
        opened.goto(address)
        opened.fill("#preview-filter", "alpha")
        opened.check("#preview-night")
        (source / "t.yaml").write_text(
            "topic: T\nquestions:\n  - {id: a, q: Alpha?, a: New}\n  - {id: b, q: Beta?, a: Two}\n",
            encoding="utf-8",
        )
        live.build()
        deadline = time.monotonic() + 10
        while opened.get_attribute("body", "data-live-version") != "2":
            assert time.monotonic() < deadline, "the page did not reload"
            opened.wait_for_timeout(100)
        opened.wait_for_load_state("load")
        answer = opened.inner_text("#note-a .answer")
        state = opened.evaluate(
            "[document.getElementById('preview-filter').value,"
            " document.getElementById('preview-night').checked,"
            " document.getElementById('preview-count').textContent]"
        )
    finally:
        opened.close()
        live.close()

    assert answer == "New"
    assert state == ["alpha", True, "1 of 2 cards"]
