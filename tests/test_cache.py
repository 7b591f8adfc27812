"""The render cache only saves time: cached and uncached builds give the same bytes."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import markdown_it
import mdurl
import pygments
import pytest

from qa2anki import render
from qa2anki.build import build_deck
from qa2anki.cache import Links, RenderCache, Source
from qa2anki.loader import load_deck

STAMP = 1_700_000_000


@pytest.fixture
def rendered_texts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every text the renderer is asked to render."""
    texts: list[str] = []
    real = render.render_markdown

    def recording(text: str, links: Links = (), cloze: bool = False) -> str:
        texts.append(text)
        return real(text, links, cloze)

    monkeypatch.setattr(render, "render_markdown", recording)
    return texts


@pytest.fixture(autouse=True)
def _fresh_fingerprint() -> Iterator[None]:
    render.renderer_fingerprint.cache_clear()
    yield
    render.renderer_fingerprint.cache_clear()


def build_bytes(source: Path, output: Path, cache_dir: Path | None) -> bytes:
    build_deck(source, output, timestamp=STAMP, cache_dir=cache_dir)
    return output.read_bytes()


def texts_of(source: Path) -> set[str]:
    deck = load_deck(source)
    return {text for topic in deck.topics for q in topic.questions for text in (q.q, q.a)}


def cache_file(cache_dir: Path) -> Path:
    (path,) = cache_dir.glob("html-*.sqlite")
    return path


def entries(cache_dir: Path) -> dict[str, str]:
    with sqlite3.connect(cache_file(cache_dir)) as db:
        return dict(db.execute("SELECT key, html FROM entries").fetchall())


def key(text: str, fingerprint: str | None = None) -> str:
    """Return the key the render cache stores a text's HTML under."""
    cache = RenderCache(Path(), fingerprint or render.renderer_fingerprint(), source=Path())
    return cache.key((text, (), False))


def test_a_cached_build_is_byte_identical_to_an_uncached_one(
    shipped_copy: Path, tmp_path: Path, rendered_texts: list[str]
) -> None:
    cache_dir = tmp_path / "cache"
    uncached = build_bytes(shipped_copy, tmp_path / "uncached.apkg", None)
    filling = build_bytes(shipped_copy, tmp_path / "filling.apkg", cache_dir)
    rendered_texts.clear()

    cached = build_bytes(shipped_copy, tmp_path / "cached.apkg", cache_dir)

    assert rendered_texts == []
    assert cached == filling == uncached
    assert len(entries(cache_dir)) == len(texts_of(shipped_copy)) + 1  # and the description
    # The file holds the renderer's fingerprint and the entries, nothing else.
    with sqlite3.connect(cache_file(cache_dir)) as db:
        tables = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        fingerprints = db.execute("SELECT fingerprint FROM renderer").fetchall()
    assert sorted(tables) == [("entries",), ("renderer",)]
    assert fingerprints == [(render.renderer_fingerprint(),)]


def test_an_edited_question_renders_only_its_new_text(
    small_sources: Path, tmp_path: Path, rendered_texts: list[str]
) -> None:
    cache_dir = tmp_path / "cache"
    build_deck(small_sources, tmp_path / "d.apkg", timestamp=STAMP, cache_dir=cache_dir)
    before = entries(cache_dir)
    topic = small_sources / "01-basics.yaml"
    topic.write_text(topic.read_text().replace("The number `1`.", "One, `1`."), encoding="utf-8")
    rendered_texts.clear()

    cached = build_bytes(small_sources, tmp_path / "cached.apkg", cache_dir)

    assert rendered_texts == ["One, `1`."]
    after = entries(cache_dir)
    assert set(after) - set(before) == {key("One, `1`.")}
    assert set(before) - set(after) == {key("The number `1`.")}  # no longer in the deck
    assert all(after[k] == html for k, html in before.items() if k in after)
    assert after[key("One, `1`.")] == "<p>One, <code>1</code>.</p>"
    assert cached == build_bytes(small_sources, tmp_path / "uncached.apkg", None)


@pytest.mark.parametrize(
    "change", ["markdown-it version", "mdurl version", "pygments version", "renderer code"]
)
def test_a_renderer_change_invalidates_every_entry(
    change: str,
    small_sources: Path,
    tmp_path: Path,
    rendered_texts: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cache_dir = tmp_path / "cache"
    build_deck(small_sources, tmp_path / "d.apkg", timestamp=STAMP, cache_dir=cache_dir)
    old_entries = entries(cache_dir)
    if change == "markdown-it version":
        monkeypatch.setattr(markdown_it, "__version__", "9" + markdown_it.__version__)
    elif change == "mdurl version":
        monkeypatch.setattr(mdurl, "__version__", "9" + mdurl.__version__)
    elif change == "pygments version":
        monkeypatch.setattr(pygments, "__version__", "9" + pygments.__version__)
    else:
        code = tmp_path / "render.py"
        code.write_bytes(Path(render.__file__).read_bytes() + b"# a new rule\n")
        monkeypatch.setattr(render, "__file__", str(code))
    render.renderer_fingerprint.cache_clear()
    rendered_texts.clear()

    build_deck(small_sources, tmp_path / "d.apkg", timestamp=STAMP, cache_dir=cache_dir)

    assert set(rendered_texts) == texts_of(small_sources)
    new_entries = entries(cache_dir)
    assert len(new_entries) == len(old_entries)
    assert not set(new_entries) & set(old_entries)  # the old renderer's entries are gone


@pytest.mark.parametrize("damage", ["changed html", "not text"])
def test_a_corrupted_entry_is_ignored_and_rebuilt(
    damage: str, small_sources: Path, tmp_path: Path, rendered_texts: list[str]
) -> None:
    cache_dir = tmp_path / "cache"
    uncached = build_bytes(small_sources, tmp_path / "uncached.apkg", None)
    build_deck(small_sources, tmp_path / "d.apkg", timestamp=STAMP, cache_dir=cache_dir)
    two = key("What is two?")
    with sqlite3.connect(cache_file(cache_dir)) as db:
        if damage == "changed html":
            db.execute("UPDATE entries SET html = '<p>What is three?</p>' WHERE key = ?", (two,))
        else:  # the same bytes, and checksum, but not text
            db.execute("UPDATE entries SET html = CAST(html AS BLOB) WHERE key = ?", (two,))
    rendered_texts.clear()

    assert build_bytes(small_sources, tmp_path / "cached.apkg", cache_dir) == uncached
    assert rendered_texts == ["What is two?"]
    assert entries(cache_dir)[two] == "<p>What is two?</p>"


def test_a_cache_file_that_is_not_a_database_is_replaced(
    small_sources: Path, tmp_path: Path, rendered_texts: list[str]
) -> None:
    cache_dir = tmp_path / "cache"
    uncached = build_bytes(small_sources, tmp_path / "uncached.apkg", None)
    build_deck(small_sources, tmp_path / "d.apkg", timestamp=STAMP, cache_dir=cache_dir)
    cache_file(cache_dir).write_bytes(b"\0garbage" * 1000)

    assert build_bytes(small_sources, tmp_path / "cached.apkg", cache_dir) == uncached
    rendered_texts.clear()
    assert build_bytes(small_sources, tmp_path / "again.apkg", cache_dir) == uncached
    assert rendered_texts == []


def test_a_cache_folder_that_cannot_be_written_is_no_cache(
    small_sources: Path, tmp_path: Path
) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder", encoding="utf-8")

    uncached = build_bytes(small_sources, tmp_path / "uncached.apkg", None)
    assert build_bytes(small_sources, tmp_path / "d.apkg", blocked / "cache") == uncached


def test_a_dry_run_reads_the_cache_but_does_not_write_it(
    small_sources: Path, tmp_path: Path
) -> None:
    build_deck(small_sources, tmp_path / "d.apkg", dry_run=True, cache_dir=tmp_path / "cache")

    assert not (tmp_path / "cache").exists()


def fill(cache: RenderCache, texts: list[str]) -> dict[str, str]:
    """Look up a deck's texts in ``cache``, rendering those it lacks as <p>text</p>."""
    html = cache.html([(text, (), False) for text in texts], lambda source: f"<p>{source[0]}</p>")
    return {text: text_html for (text, _, _), text_html in html.items()}


def never(source: Source) -> str:
    raise AssertionError(f"rendered {source!r}")


def stored(cache_dir: Path, fingerprint: str, texts: list[str]) -> dict[str, str]:
    """Return the HTML stored for ``texts``, by text."""
    found = entries(cache_dir)
    return {text: found[k] for text in texts if (k := key(text, fingerprint)) in found}


def test_entries_of_texts_no_longer_in_the_deck_are_dropped(tmp_path: Path) -> None:
    cache = RenderCache(tmp_path, "fingerprint", source=tmp_path / "questions")
    kept, old = ["a", "b"], [f"old {n}" for n in range(10)]
    fill(cache, [*kept, *old])
    fill(cache, [*kept, "new"])

    assert set(entries(tmp_path)) == {key(text, "fingerprint") for text in ["a", "b", "new"]}
    assert stored(tmp_path, "fingerprint", ["b", "a", "new", "old 1"]) == {
        "a": "<p>a</p>",
        "b": "<p>b</p>",
        "new": "<p>new</p>",
    }


def test_entries_of_a_removed_topic_are_dropped_though_nothing_is_rendered(
    tmp_path: Path,
) -> None:
    cache = RenderCache(tmp_path, "fingerprint", source=tmp_path / "questions")
    fill(cache, ["a", "b"])

    read_only = RenderCache(tmp_path, "fingerprint", source=tmp_path / "questions", read_only=True)
    assert read_only.html([("a", (), False)], never) == {("a", (), False): "<p>a</p>"}
    assert len(entries(tmp_path)) == 2  # a read-only cache (a dry run) writes nothing
    assert cache.html([("a", (), False)], never) == {("a", (), False): "<p>a</p>"}
    assert set(entries(tmp_path)) == {key("a", "fingerprint")}


def test_a_build_that_finds_everything_does_not_write_the_cache(
    small_sources: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache_dir = tmp_path / "cache"
    build_deck(small_sources, tmp_path / "d.apkg", timestamp=STAMP, cache_dir=cache_dir)

    def no_writes(*args: object, **kwargs: object) -> None:
        raise AssertionError("the cache was written")

    monkeypatch.setattr(RenderCache, "_write", no_writes)
    build_deck(small_sources, tmp_path / "d.apkg", timestamp=STAMP, cache_dir=cache_dir)


def test_a_cache_file_that_cannot_be_written_is_started_afresh_with_all_the_decks_html(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = RenderCache(tmp_path, "fingerprint", source=tmp_path / "questions")
    fill(cache, ["old", "gone"])
    real_write = RenderCache._write
    calls: list[int] = []

    def read_only_once(self: RenderCache, *args: Any, **kwargs: Any) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise sqlite3.OperationalError("attempt to write a readonly database")
        real_write(self, *args, **kwargs)

    monkeypatch.setattr(RenderCache, "_write", read_only_once)
    fill(cache, ["old", "new"])

    assert len(calls) == 2
    assert stored(tmp_path, "fingerprint", ["old", "new", "gone"]) == {
        "old": "<p>old</p>",
        "new": "<p>new</p>",
    }
    assert set(entries(tmp_path)) == {key(text, "fingerprint") for text in ["old", "new"]}


def test_each_source_folder_has_its_own_cache_file(
    small_sources: Path, shipped_copy: Path, tmp_path: Path, rendered_texts: list[str]
) -> None:
    cache_dir = tmp_path / "cache"
    build_deck(shipped_copy, tmp_path / "a.apkg", timestamp=STAMP, cache_dir=cache_dir)
    build_deck(small_sources, tmp_path / "b.apkg", timestamp=STAMP, cache_dir=cache_dir)
    rendered_texts.clear()

    build_deck(shipped_copy, tmp_path / "a.apkg", timestamp=STAMP, cache_dir=cache_dir)

    assert len(list(cache_dir.glob("html-*.sqlite"))) == 2
    assert rendered_texts == []
