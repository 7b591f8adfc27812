"""The render cache only saves time: cached, uncached and parallel builds give the same bytes."""

from __future__ import annotations

import multiprocessing
import multiprocessing.pool
import sqlite3
from collections.abc import Iterator
from importlib.machinery import ModuleSpec
from pathlib import Path
from typing import Any

import markdown_it
import pytest

from conftest import INVALID
from qa2anki import loader, render
from qa2anki.build import build_deck
from qa2anki.cache import RenderCache, TopicCache, cache_key
from qa2anki.errors import ValidationError
from qa2anki.loader import load_deck
from qa2anki.model import Deck

STAMP = 1_700_000_000


@pytest.fixture
def rendered_texts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every text the renderer is asked to render (a build renders serially here)."""
    texts: list[str] = []
    real = render.render_markdown

    def recording(text: str) -> str:
        texts.append(text)
        return real(text)

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


def entries(cache_dir: Path) -> dict[str, str]:
    (path,) = cache_dir.glob("render-*.sqlite")
    with sqlite3.connect(path) as db:
        return dict(db.execute("SELECT key, html FROM entries").fetchall())


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
    assert set(after) - set(before) == {cache_key(render.renderer_fingerprint(), "One, `1`.")}
    assert all(after[key] == html for key, html in before.items() if key in after)
    assert cached == build_bytes(small_sources, tmp_path / "uncached.apkg", None)


@pytest.mark.parametrize("change", ["css", "markdown-it version", "renderer code"])
def test_a_renderer_or_css_change_invalidates_every_entry(
    change: str,
    small_sources: Path,
    tmp_path: Path,
    rendered_texts: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cache_dir = tmp_path / "cache"
    build_deck(small_sources, tmp_path / "d.apkg", timestamp=STAMP, cache_dir=cache_dir)
    old_entries = entries(cache_dir)
    if change == "css":
        colours = tmp_path / "code-colours.css"
        colours.write_bytes(render.CODE_CSS_FILE.read_bytes() + b".highlight .k { color: red }\n")
        monkeypatch.setattr(render, "CODE_CSS_FILE", colours)
    elif change == "markdown-it version":
        # The version is read from the file that sets it, found through the module's spec.
        spec = markdown_it.__spec__
        assert spec is not None
        assert spec.origin is not None
        init = tmp_path / "__init__.py"
        init.write_bytes(
            Path(spec.origin).read_bytes().replace(b"__version__ = ", b"__version__ = '9' + ")
        )
        monkeypatch.setattr(
            markdown_it, "__spec__", ModuleSpec("markdown_it", None, origin=str(init))
        )
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


def test_a_corrupted_entry_is_ignored_and_rebuilt(
    small_sources: Path, tmp_path: Path, rendered_texts: list[str]
) -> None:
    cache_dir = tmp_path / "cache"
    uncached = build_bytes(small_sources, tmp_path / "uncached.apkg", None)
    build_deck(small_sources, tmp_path / "d.apkg", timestamp=STAMP, cache_dir=cache_dir)
    key = cache_key(render.renderer_fingerprint(), "What is two?")
    (path,) = cache_dir.glob("render-*.sqlite")
    with sqlite3.connect(path) as db:
        db.execute("UPDATE entries SET html = '<p>What is three?</p>' WHERE key = ?", (key,))
    rendered_texts.clear()

    assert build_bytes(small_sources, tmp_path / "cached.apkg", cache_dir) == uncached
    assert rendered_texts == ["What is two?"]
    assert entries(cache_dir)[key] == "<p>What is two?</p>"


def test_a_cache_file_that_is_not_a_database_is_replaced(
    small_sources: Path, tmp_path: Path, rendered_texts: list[str]
) -> None:
    cache_dir = tmp_path / "cache"
    uncached = build_bytes(small_sources, tmp_path / "uncached.apkg", None)
    build_deck(small_sources, tmp_path / "d.apkg", timestamp=STAMP, cache_dir=cache_dir)
    (path,) = cache_dir.glob("render-*.sqlite")
    path.write_bytes(b"\0garbage" * 1000)

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


def test_entries_of_texts_no_longer_in_the_deck_are_dropped_when_they_are_most(
    tmp_path: Path,
) -> None:
    cache = RenderCache(tmp_path, "fingerprint", source=tmp_path / "questions")
    cache.put({f"old {n}": "<p>old</p>" for n in range(10)})
    cache.put({"new": "<p>new</p>"}, keep={"old 0": "<p>old</p>"})

    assert cache.get([f"old {n}" for n in range(10)] + ["new"]) == {
        "old 0": "<p>old</p>",
        "new": "<p>new</p>",
    }


def test_a_cache_file_that_cannot_be_written_is_started_afresh_with_all_the_decks_html(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = RenderCache(tmp_path, "fingerprint", source=tmp_path / "questions")
    cache.put({"old": "<p>old</p>", "gone": "<p>gone</p>"})
    real_put = RenderCache._put
    calls: list[int] = []

    def read_only_once(self: RenderCache, *args: Any) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise sqlite3.OperationalError("attempt to write a readonly database")
        real_put(self, *args)

    monkeypatch.setattr(RenderCache, "_put", read_only_once)
    cache.put({"new": "<p>new</p>"}, keep={"old": "<p>old</p>"})

    assert len(calls) == 2
    assert cache.get(["old", "new", "gone"]) == {"old": "<p>old</p>", "new": "<p>new</p>"}


def test_each_source_folder_has_its_own_cache_file(
    small_sources: Path, shipped_copy: Path, tmp_path: Path, rendered_texts: list[str]
) -> None:
    cache_dir = tmp_path / "cache"
    build_deck(shipped_copy, tmp_path / "a.apkg", timestamp=STAMP, cache_dir=cache_dir)
    build_deck(small_sources, tmp_path / "b.apkg", timestamp=STAMP, cache_dir=cache_dir)
    rendered_texts.clear()

    build_deck(shipped_copy, tmp_path / "a.apkg", timestamp=STAMP, cache_dir=cache_dir)

    assert len(list(cache_dir.glob("render-*.sqlite"))) == 2
    assert len(list(cache_dir.glob("topics-*.sqlite"))) == 2
    assert rendered_texts == []


def test_parallel_rendering_gives_the_same_deck_and_bytes(
    shipped_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deck = load_deck(shipped_copy)
    serial_deck = render.render_deck(deck)
    serial = build_bytes(shipped_copy, tmp_path / "serial.apkg", None)
    pools: list[int] = []
    real_pool = render._pool

    def counted_pool(workers: int) -> multiprocessing.pool.Pool | None:
        pools.append(workers)
        return real_pool(workers)

    monkeypatch.setattr(render, "_pool", counted_pool)
    monkeypatch.setattr(render, "PARALLEL_MIN", 1)
    monkeypatch.setattr(render, "CHUNK", 7)
    monkeypatch.setattr(render, "_usable_cores", lambda: 2)

    assert render.render_deck(deck) == serial_deck
    assert build_bytes(shipped_copy, tmp_path / "parallel.apkg", None) == serial
    assert pools == [2, 2]


def test_without_new_processes_a_large_deck_renders_in_this_one(
    shipped_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A limit on processes (EAGAIN from fork) is no reason to fail a build."""
    deck = load_deck(shipped_copy)
    serial_deck = render.render_deck(deck)

    def no_more_processes(*args: object, **kwargs: object) -> None:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(multiprocessing, "Pool", no_more_processes)
    monkeypatch.setattr(render, "PARALLEL_MIN", 1)
    monkeypatch.setattr(render, "_usable_cores", lambda: 2)

    assert render.render_deck(deck) == serial_deck


def test_small_decks_do_not_start_a_pool(
    small_sources: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(render, "_pool", None)

    assert len(render.render_deck(load_deck(small_sources)).questions) == 3


# The topic cache: files loaded before are not parsed again, and the deck is the same.


@pytest.fixture
def parsed_files(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the name of every topic file the loader parses."""
    names: list[str] = []
    real = loader._read_topic_file

    def recording(path: Path, problems: Any, text: str | None = None) -> Any:
        names.append(path.name)
        return real(path, problems, text)

    monkeypatch.setattr(loader, "_read_topic_file", recording)
    return names


def topic_cache(cache_dir: Path, source: Path, fingerprint: str | None = None) -> TopicCache:
    return TopicCache(cache_dir, fingerprint or loader.loader_fingerprint(), source=source)


def load_or_problems(source: Path, cache: TopicCache | None) -> Deck | list[str]:
    try:
        return load_deck(source, cache)
    except ValidationError as exc:
        return [str(problem) for problem in exc.problems]


@pytest.mark.parametrize("case", ["shipped", *sorted(p.name for p in INVALID.iterdir())])
def test_a_cached_load_gives_the_same_deck_or_problems(
    case: str, shipped_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if case == "shipped":
        source = shipped_copy
    else:
        monkeypatch.chdir(INVALID)
        source = Path(case)
    uncached = load_or_problems(source, None)

    first = load_or_problems(source, topic_cache(tmp_path / "cache", source))
    second = load_or_problems(source, topic_cache(tmp_path / "cache", source))

    assert first == second == uncached


def test_only_changed_topic_files_are_parsed_again(
    shipped_copy: Path, tmp_path: Path, parsed_files: list[str]
) -> None:
    cache_dir = tmp_path / "cache"
    load_deck(shipped_copy, topic_cache(cache_dir, shipped_copy))
    assert len(parsed_files) == 10
    topic = shipped_copy / "04-fastapi-flask.yaml"
    topic.write_text(topic.read_text(encoding="utf-8") + "\n# a comment\n", encoding="utf-8")
    parsed_files.clear()

    deck = load_deck(shipped_copy, topic_cache(cache_dir, shipped_copy))

    assert parsed_files == ["04-fastapi-flask.yaml"]
    assert deck == load_deck(shipped_copy)
    parsed_files.clear()
    load_deck(shipped_copy, topic_cache(cache_dir, shipped_copy, "another loader"))
    assert len(parsed_files) == 10


def test_a_file_with_problems_is_never_cached(small_sources: Path, tmp_path: Path) -> None:
    cache = topic_cache(tmp_path / "cache", small_sources)
    (small_sources / "02-more.yaml").write_text("topic: More\nquestions: []\n", encoding="utf-8")

    with pytest.raises(ValidationError):
        load_deck(small_sources, cache)

    assert set(cache._new) == {"01-basics.yaml"}
    assert not (tmp_path / "cache").exists()  # and nothing is saved from a load that failed


def test_a_corrupted_or_removed_topic_entry_is_read_again(
    small_sources: Path, tmp_path: Path, parsed_files: list[str]
) -> None:
    cache_dir = tmp_path / "cache"
    load_deck(small_sources, topic_cache(cache_dir, small_sources))
    (path,) = cache_dir.glob("topics-*.sqlite")
    with sqlite3.connect(path) as db:
        db.execute("UPDATE topics SET data = replace(data, 'one', 'two')")
    (small_sources / "02-more.yaml").unlink()
    parsed_files.clear()

    deck = load_deck(small_sources, topic_cache(cache_dir, small_sources))

    assert parsed_files == ["01-basics.yaml"]
    assert deck == load_deck(small_sources)
    with sqlite3.connect(path) as db:
        assert [name for (name,) in db.execute("SELECT name FROM topics")] == ["01-basics.yaml"]
