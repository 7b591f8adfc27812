"""The render cache only saves time: cached, uncached and parallel builds give the same bytes."""

from __future__ import annotations

import marshal
import multiprocessing
import multiprocessing.pool
import sqlite3
import zlib
from collections.abc import Iterator
from importlib.machinery import ModuleSpec
from pathlib import Path
from typing import Any

import markdown_it
import pytest

from conftest import INVALID, count_pools
from qa2anki import cache as cache_module
from qa2anki import loader, package, render
from qa2anki.build import build_deck
from qa2anki.cache import NoteCache, RenderCache, TopicCache, bundle_key, cache_key
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


def bundles(cache_dir: Path) -> dict[str, list[str]]:
    """Return each topic bundle's HTML by key."""
    (path,) = cache_dir.glob("render-*.sqlite")
    with sqlite3.connect(path) as db:
        return {
            key: marshal.loads(blob) for key, blob in db.execute("SELECT key, html FROM bundles")
        }


def rows(cache_dir: Path) -> dict[str, int]:
    """Return the row id of each topic bundle by key."""
    (path,) = cache_dir.glob("render-*.sqlite")
    with sqlite3.connect(path) as db:
        return dict(db.execute("SELECT key, rowid FROM bundles").fetchall())


def groups_of(source: Path) -> list[list[str]]:
    """Return the texts of each topic (and the description), as render_deck groups them."""
    deck = load_deck(source)
    groups = [[text for q in topic.questions for text in (q.q, q.a)] for topic in deck.topics]
    return [*groups, [deck.description]] if deck.description else groups


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
    fingerprint = render.renderer_fingerprint()
    assert set(bundles(cache_dir)) == {bundle_key(fingerprint, g) for g in groups_of(shipped_copy)}
    assert len(bundles(cache_dir)) == 11  # ten topics and the description


def test_an_edited_question_renders_only_its_new_text(
    small_sources: Path, tmp_path: Path, rendered_texts: list[str]
) -> None:
    cache_dir = tmp_path / "cache"
    build_deck(small_sources, tmp_path / "d.apkg", timestamp=STAMP, cache_dir=cache_dir)
    before, bundles_before, rows_before = entries(cache_dir), bundles(cache_dir), rows(cache_dir)
    topic = small_sources / "01-basics.yaml"
    topic.write_text(topic.read_text().replace("The number `1`.", "One, `1`."), encoding="utf-8")
    rendered_texts.clear()

    cached = build_bytes(small_sources, tmp_path / "cached.apkg", cache_dir)

    assert rendered_texts == ["One, `1`."]
    after, bundles_after = entries(cache_dir), bundles(cache_dir)
    fingerprint = render.renderer_fingerprint()
    assert set(after) - set(before) == {cache_key(fingerprint, "One, `1`.")}
    assert all(after[key] == html for key, html in before.items() if key in after)
    # Only the edited topic's bundle is replaced; the other one is left as it was.
    basics, more = groups_of(small_sources)
    assert set(bundles_before) - set(bundles_after) == {
        bundle_key(fingerprint, [text.replace("One, `1`.", "The number `1`.") for text in basics])
    }
    assert set(bundles_after) - set(bundles_before) == {bundle_key(fingerprint, basics)}
    assert (
        bundles_after[bundle_key(fingerprint, more)]
        == bundles_before[bundle_key(fingerprint, more)]
    )
    # ... and not even written again (a row written again gets a new rowid).
    more_rowid = rows(cache_dir)[bundle_key(fingerprint, more)]
    assert more_rowid == rows_before[bundle_key(fingerprint, more)]
    assert bundles_after[bundle_key(fingerprint, basics)][1] == "<p>One, <code>1</code>.</p>"
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
    old_entries, old_bundles = entries(cache_dir), bundles(cache_dir)
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
    new_entries, new_bundles = entries(cache_dir), bundles(cache_dir)
    assert len(new_entries) == len(old_entries)
    assert not set(new_entries) & set(old_entries)  # the old renderer's entries are gone
    assert len(new_bundles) == len(old_bundles) == 2
    assert not set(new_bundles) & set(old_bundles)  # and so are its bundles


@pytest.mark.parametrize("lookup", ["whole table", "by key"])
def test_a_corrupted_entry_is_ignored_and_rebuilt(
    lookup: str,
    small_sources: Path,
    tmp_path: Path,
    rendered_texts: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Texts are found by reading the whole table, or by their keys, two at a time.
    monkeypatch.setattr(cache_module, "_SCAN_SHARE", 0.0 if lookup == "whole table" else 1.0)
    monkeypatch.setattr(cache_module, "_BATCH", 2)
    cache_dir = tmp_path / "cache"
    uncached = build_bytes(small_sources, tmp_path / "uncached.apkg", None)
    build_deck(small_sources, tmp_path / "d.apkg", timestamp=STAMP, cache_dir=cache_dir)
    fingerprint = render.renderer_fingerprint()
    key = cache_key(fingerprint, "What is two?")
    basics = bundle_key(fingerprint, groups_of(small_sources)[0])
    (path,) = cache_dir.glob("render-*.sqlite")
    with sqlite3.connect(path) as db:
        db.execute("UPDATE entries SET html = '<p>What is three?</p>' WHERE key = ?", (key,))
        # Without its topic's bundle, the text is looked up by itself.
        db.execute("DELETE FROM bundles WHERE key = ?", (basics,))
    rendered_texts.clear()

    assert build_bytes(small_sources, tmp_path / "cached.apkg", cache_dir) == uncached
    assert rendered_texts == ["What is two?"]
    assert entries(cache_dir)[key] == "<p>What is two?</p>"
    assert bundles(cache_dir)[basics][2] == "<p>What is two?</p>"


def _damage(blob: bytes, key: str, damage: str) -> tuple[object, int]:
    """Return a bundle's (html, checksum) damaged as named."""
    if damage == "checksum":
        return blob.replace(b"two", b"Two"), zlib.crc32(blob, zlib.crc32(key.encode()))
    value: object = {
        "truncated": blob[: len(blob) // 2],
        "not marshal": b"\xff" + blob,
        "not a list": marshal.dumps(tuple(marshal.loads(blob))),
        "not text": marshal.dumps([b"<p>one</p>", *marshal.loads(blob)[1:]]),
        "too short": marshal.dumps(marshal.loads(blob)[1:]),
        "text column": blob.decode("latin-1"),
    }[damage]
    data = value.encode("latin-1") if isinstance(value, str) else value
    assert isinstance(data, bytes)
    return value, zlib.crc32(data, zlib.crc32(key.encode()))


@pytest.mark.parametrize(
    "damage",
    ["checksum", "truncated", "not marshal", "not a list", "not text", "too short", "text column"],
)
def test_a_corrupted_bundle_is_ignored_and_rebuilt(
    damage: str, small_sources: Path, tmp_path: Path, rendered_texts: list[str]
) -> None:
    cache_dir = tmp_path / "cache"
    uncached = build_bytes(small_sources, tmp_path / "uncached.apkg", None)
    build_deck(small_sources, tmp_path / "d.apkg", timestamp=STAMP, cache_dir=cache_dir)
    sound = bundles(cache_dir)
    fingerprint = render.renderer_fingerprint()
    groups = groups_of(small_sources)
    key = bundle_key(fingerprint, groups[0])
    (path,) = cache_dir.glob("render-*.sqlite")
    with sqlite3.connect(path) as db:
        (blob,) = db.execute("SELECT html FROM bundles WHERE key = ?", (key,)).fetchone()
        html, checksum = _damage(blob, key, damage)
        db.execute("UPDATE bundles SET html = ?, checksum = ? WHERE key = ?", (html, checksum, key))
    cache = RenderCache(cache_dir, fingerprint, source=small_sources)
    assert cache.get(groups).hits == {bundle_key(fingerprint, groups[1])}
    rendered_texts.clear()

    # The topic's texts are found one by one instead, and its bundle is written again.
    assert build_bytes(small_sources, tmp_path / "cached.apkg", cache_dir) == uncached
    assert rendered_texts == []
    assert bundles(cache_dir) == sound
    assert cache.get(groups).hits == set(sound)


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


def fill(cache: RenderCache, groups: list[list[str]]) -> None:
    """Look up a deck's topics in ``cache`` and store the texts it lacks (HTML: <p>text</p>)."""
    found = cache.get(groups)
    cache.put(found, {text: f"<p>{text}</p>" for text in found.missing})


def test_entries_of_texts_no_longer_in_the_deck_are_dropped_when_they_are_most(
    tmp_path: Path,
) -> None:
    cache = RenderCache(tmp_path, "fingerprint", source=tmp_path / "questions")
    kept, old = ["a", "b"], [f"old {n}" for n in range(10)]
    fill(cache, [kept, old])
    fill(cache, [kept, ["new"]])  # kept's bundle is found: its texts are not looked at

    assert set(bundles(tmp_path)) == {
        bundle_key("fingerprint", kept),
        bundle_key("fingerprint", ["new"]),
    }
    assert set(entries(tmp_path)) == {cache_key("fingerprint", text) for text in ["a", "b", "new"]}
    # The texts of a topic found by its bundle are still there one by one, for its next edit.
    found = cache.get([["b", "a", "new", "old 1"]])
    assert found.html == {"a": "<p>a</p>", "b": "<p>b</p>", "new": "<p>new</p>"}
    assert found.missing == ["old 1"]


def test_entries_of_texts_no_longer_in_the_deck_are_kept_while_they_are_few(
    tmp_path: Path,
) -> None:
    cache = RenderCache(tmp_path, "fingerprint", source=tmp_path / "questions")
    fill(cache, [["a", "b", "c"]])
    fill(cache, [["a", "b", "d"]])

    assert len(entries(tmp_path)) == 4
    assert set(bundles(tmp_path)) == {bundle_key("fingerprint", ["a", "b", "d"])}


def test_the_bundle_of_a_removed_topic_is_dropped_though_nothing_is_rendered(
    tmp_path: Path,
) -> None:
    cache = RenderCache(tmp_path, "fingerprint", source=tmp_path / "questions")
    fill(cache, [["a"], ["b"]])
    found = cache.get([["a"]])
    assert not found.missing
    assert found.stale == {bundle_key("fingerprint", ["b"])}

    RenderCache(tmp_path, "fingerprint", source=tmp_path / "questions", read_only=True).put(
        found, {}
    )
    assert len(bundles(tmp_path)) == 2  # a read-only cache (a dry run) writes nothing
    cache.put(found, {})
    assert set(bundles(tmp_path)) == {bundle_key("fingerprint", ["a"])}


def test_a_build_that_finds_everything_does_not_write_the_cache(
    small_sources: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache_dir = tmp_path / "cache"
    build_deck(small_sources, tmp_path / "d.apkg", timestamp=STAMP, cache_dir=cache_dir)

    def no_writes(*args: object, **kwargs: object) -> None:
        raise AssertionError("the cache was written")

    monkeypatch.setattr(RenderCache, "_put", no_writes)
    build_deck(small_sources, tmp_path / "d.apkg", timestamp=STAMP, cache_dir=cache_dir)


def test_bundle_keys_tell_apart_texts_split_differently() -> None:
    keys = {
        bundle_key("fingerprint", texts)
        for texts in (["ab", "c"], ["a", "bc"], ["abc"], ["abc", ""], ["", "abc"], [])
    }
    assert len(keys) == 6
    assert bundle_key("fingerprint", ["a"]) != bundle_key("another", ["a"])


def test_a_cache_file_that_cannot_be_written_is_started_afresh_with_all_the_decks_html(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = RenderCache(tmp_path, "fingerprint", source=tmp_path / "questions")
    fill(cache, [["old"], ["gone"]])
    real_put = RenderCache._put
    calls: list[int] = []

    def read_only_once(self: RenderCache, *args: Any, **kwargs: Any) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise sqlite3.OperationalError("attempt to write a readonly database")
        real_put(self, *args, **kwargs)

    monkeypatch.setattr(RenderCache, "_put", read_only_once)
    fill(cache, [["old"], ["new"]])

    assert len(calls) == 2
    found = cache.get([["old"], ["new"], ["gone"]])
    assert found.html == {"old": "<p>old</p>", "new": "<p>new</p>"}
    assert found.hits == {bundle_key("fingerprint", ["old"]), bundle_key("fingerprint", ["new"])}
    assert set(entries(tmp_path)) == {cache_key("fingerprint", text) for text in ["old", "new"]}


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
    pools = count_pools(monkeypatch, render)
    monkeypatch.setattr(render, "PARALLEL_MIN", 1)
    monkeypatch.setattr(render, "CHUNK", 7)

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
    monkeypatch.setattr(render, "usable_cores", lambda: 2)

    assert render.render_deck(deck) == serial_deck


def test_small_decks_do_not_start_a_pool(
    small_sources: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(render, "start_pool", None)

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


# The note cache: each topic's GUIDs and hashes, found only for exactly the same notes.


def note_cache(cache_dir: Path, source: Path) -> NoteCache:
    return NoteCache(cache_dir, package.package_fingerprint(), source=source)


def packaged_with(cache: NoteCache | None, source: Path) -> package.PackagedDeck:
    packaged = package.package_deck(render.render_deck(load_deck(source)), cache)
    if cache is not None:
        cache.save()
    return packaged


def stored_notes(cache_dir: Path) -> dict[str, str]:
    (path,) = cache_dir.glob("notes-*.sqlite")
    with sqlite3.connect(path) as db:
        return dict(db.execute("SELECT key, data FROM notes").fetchall())


@pytest.mark.parametrize(
    ("file", "old", "new"),
    [
        ("deck.yaml", "key: test-deck", "key: other-deck"),  # every GUID
        ("01-basics.yaml", "id: first", "id: premier"),  # a GUID and the Id field
        ("01-basics.yaml", "tags: [starter]", "tags: [starters]"),  # a topic's tags
        ("01-basics.yaml", "tags: [starter]", "tags: [starter, extra]"),
        ("01-basics.yaml", "tags: [code]", "tags: [coding]"),  # a question's tags
        ("01-basics.yaml", "topic: Basics", "topic: Basic <things>"),  # the Topic field
        ("01-basics.yaml", "print(1 + 1)", "print(2)"),  # an answer's HTML
        ("02-more.yaml", "q: What is three?", "q: What is *three*?"),  # a question's HTML
    ],
)
def test_cached_notes_are_the_notes_worked_out_afresh(
    small_sources: Path, tmp_path: Path, file: str, old: str, new: str
) -> None:
    cache_dir = tmp_path / "cache"
    before = packaged_with(note_cache(cache_dir, small_sources), small_sources)
    path = small_sources / file
    path.write_text(path.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")

    fresh = packaged_with(None, small_sources)
    cached = packaged_with(note_cache(cache_dir, small_sources), small_sources)

    assert cached == fresh
    changed = [
        a for a, b in zip(fresh.notes, before.notes, strict=True) if a[:2] + a[7:] != b[:2] + b[7:]
    ]
    assert changed  # the edit changed a GUID or a hash: the cache had to see it
    assert packaged_with(note_cache(cache_dir, small_sources), small_sources) == fresh


def test_a_rebuild_finds_each_unchanged_topic_and_keeps_only_the_decks(
    shipped_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache_dir = tmp_path / "cache"
    packaged_with(note_cache(cache_dir, shipped_copy), shipped_copy)
    first = stored_notes(cache_dir)
    topic = shipped_copy / "04-fastapi-flask.yaml"
    topic.write_text(
        topic.read_text(encoding="utf-8").replace("basic FastAPI endpoint", "FastAPI route", 1),
        "utf-8",
    )
    worked_out: list[str] = []
    real = package.question_guid

    def recording(deck_key: str, question_id: str) -> str:
        worked_out.append(question_id)
        return real(deck_key, question_id)

    monkeypatch.setattr(package, "question_guid", recording)

    packaged = packaged_with(note_cache(cache_dir, shipped_copy), shipped_copy)

    edited = [note.id for note in packaged.notes if note.topic_slug == "fastapi-flask"]
    assert worked_out == edited
    second = stored_notes(cache_dir)
    assert len(first) == len(second) == 10  # one entry a topic: the edited one's replaced
    assert len(set(first) & set(second)) == 9


def test_a_damaged_note_entry_is_ignored_and_worked_out_again(
    small_sources: Path, tmp_path: Path
) -> None:
    cache_dir = tmp_path / "cache"
    fresh = packaged_with(note_cache(cache_dir, small_sources), small_sources)
    (path,) = cache_dir.glob("notes-*.sqlite")
    with sqlite3.connect(path) as db:
        # One entry damaged (its checksum no longer matches), one sound but for fewer notes.
        db.execute("UPDATE notes SET data = upper(data) WHERE data LIKE '% % % %'")
        key, data = db.execute(
            "SELECT key, data FROM notes WHERE data NOT LIKE '% % % %'"
        ).fetchone()
        short = data.split(" ")[0]
        checksum = zlib.crc32(short.encode(), zlib.crc32(key.encode()))
        db.execute("UPDATE notes SET data = ?, checksum = ? WHERE key = ?", (short, checksum, key))

    assert packaged_with(note_cache(cache_dir, small_sources), small_sources) == fresh
    assert all(len(data.split(" ")) % 2 == 0 for data in stored_notes(cache_dir).values())


def test_note_keys_tell_apart_notes_split_differently() -> None:
    cache = NoteCache(Path("unused"), "fingerprint", source=Path())
    notes: list[list[tuple[str, tuple[str, ...], tuple[str, ...]]]] = [
        [("a", ("b", "c"), ())],
        [("ab", ("", "c"), ())],
        [("a", ("b",), ("c",))],
        [("a", ("b", "c"), ("",))],
        [("a", ("b", "c"), ()), ("", (), ())],
        [],
    ]
    keys = {cache.key("deck", topic) for topic in notes}
    assert len(keys) == len(notes)
    assert cache.key("deck", notes[0]) != cache.key("other", notes[0])
    other = NoteCache(Path("unused"), "another", source=Path())
    assert cache.key("deck", notes[0]) != other.key("deck", notes[0])


def test_a_note_cache_file_that_is_not_a_database_is_replaced(
    small_sources: Path, tmp_path: Path
) -> None:
    cache_dir = tmp_path / "cache"
    fresh = packaged_with(None, small_sources)
    cache = note_cache(cache_dir, small_sources)
    cache_dir.mkdir()
    cache.path.write_bytes(b"not a database" * 100)

    assert packaged_with(cache, small_sources) == fresh
    assert len(stored_notes(cache_dir)) == 2
    assert packaged_with(note_cache(cache_dir, small_sources), small_sources) == fresh


def test_a_change_to_how_the_caches_store_entries_starts_every_cache_afresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An entry stored one way must never be read another way."""
    fingerprints = (
        loader.loader_fingerprint,
        render.renderer_fingerprint,
        package.package_fingerprint,
    )
    before = [fingerprint() for fingerprint in fingerprints]
    code = tmp_path / "cache.py"
    code.write_bytes(Path(cache_module.__file__).read_bytes() + b"# another format\n")
    monkeypatch.setattr(cache_module, "__file__", str(code))
    render.renderer_fingerprint.cache_clear()
    package.package_fingerprint.cache_clear()
    try:
        after = [fingerprint() for fingerprint in fingerprints]
    finally:
        package.package_fingerprint.cache_clear()

    assert all(old != new for old, new in zip(before, after, strict=True))
