"""The write stage and the pipeline as a whole: atomic output, nothing written on error."""

from __future__ import annotations

import errno
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import genanki
import pytest

from qa2anki import build
from qa2anki.build import STALE_TEMP_SECONDS, build_deck, default_output, is_qa2anki_deck
from qa2anki.errors import OutputError, StateError, ValidationError
from qa2anki.files import current_umask
from qa2anki.loader import load_deck
from qa2anki.package import ZIP_COMMENT, ZIP_TIME, PackagedDeck, Stamps, write_apkg
from qa2anki.state import read_state, state_path


def read_notes(apkg: Path, tmp_path: Path) -> list[tuple[str, int, str]]:
    with zipfile.ZipFile(apkg) as archive:
        assert sorted(archive.namelist()) == ["collection.anki2", "media"]
        assert archive.read("media") == b"{}"
        archive.extract("collection.anki2", tmp_path / "unzipped")
    connection = sqlite3.connect(tmp_path / "unzipped" / "collection.anki2")
    try:
        return connection.execute("SELECT guid, mod, flds FROM notes ORDER BY id").fetchall()
    finally:
        connection.close()


def test_build_writes_the_deck(small_sources: Path, tmp_path: Path) -> None:
    output = tmp_path / "out" / "deck.apkg"

    result = build_deck(small_sources, output, timestamp=1_700_000_000)

    assert result.output == output
    assert result.deck.question_count == 3
    notes = read_notes(output, tmp_path)
    assert [mod for _, mod, _ in notes] == [1_700_000_000] * 3
    assert notes[0][2].split("\x1f")[3] == "first"


def test_default_output_is_build_key_apkg(small_sources: Path) -> None:
    assert default_output(load_deck(small_sources)) == Path("build/test-deck.apkg")


def test_invalid_sources_write_nothing_and_keep_the_old_deck(
    small_sources: Path, tmp_path: Path
) -> None:
    output = tmp_path / "deck.apkg"
    yesterday = previous_deck(small_sources, output)
    (small_sources / "02-more.yaml").write_text("topic: More\nquestions: []\n", encoding="utf-8")

    with pytest.raises(ValidationError):
        build_deck(small_sources, output)

    assert output.read_bytes() == yesterday
    assert sorted(p.name for p in tmp_path.iterdir()) == [".deck.apkg.stamps", "deck.apkg", "small"]


def test_invalid_sources_do_not_create_the_output_folder(
    small_sources: Path, tmp_path: Path
) -> None:
    (small_sources / "deck.yaml").unlink()

    with pytest.raises(ValidationError):
        build_deck(small_sources, tmp_path / "new" / "deck.apkg")

    assert not (tmp_path / "new").exists()


def previous_deck(sources: Path, output: Path) -> bytes:
    """Build yesterday's deck at ``output`` and return its bytes."""
    build_deck(sources, output, timestamp=1_600_000_000)
    return output.read_bytes()


def temporaries(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.glob(".qa2anki-*.tmp"))


def test_a_full_disk_keeps_the_old_deck_and_leaves_no_temporary_file(
    small_sources: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = tmp_path / "deck.apkg"
    yesterday = previous_deck(small_sources, output)
    state = read_state(state_path(small_sources))
    real_write = write_apkg  # what build.write_apkg is

    def write_half_then_fail(path: Path, packaged: PackagedDeck, stamps: Stamps) -> None:
        real_write(path, packaged, stamps)
        with path.open("r+b") as file:
            file.truncate(100)
        raise OSError(28, "No space left on device")

    assert build.__dict__["write_apkg"] is real_write
    monkeypatch.setattr(build, "write_apkg", write_half_then_fail)

    with pytest.raises(OutputError) as caught:
        build_deck(small_sources, output)

    assert str(caught.value) == f"{output}: cannot write: No space left on device"
    assert output.read_bytes() == yesterday
    assert sorted(p.name for p in tmp_path.iterdir()) == [".deck.apkg.stamps", "deck.apkg", "small"]
    assert read_state(state_path(small_sources)) == state


def test_a_full_disk_inside_the_zip_writer_keeps_the_old_deck(
    small_sources: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = tmp_path / "deck.apkg"
    yesterday = previous_deck(small_sources, output)

    def no_space(*args: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", no_space)

    with pytest.raises(OutputError) as caught:
        build_deck(small_sources, output)

    assert str(caught.value) == f"{output}: cannot write: No space left on device"
    assert output.read_bytes() == yesterday
    assert temporaries(tmp_path) == []


def test_a_permission_error_keeps_the_old_deck(
    small_sources: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Simulated, so that it also runs as root, whom a read-only folder does not stop."""
    output = tmp_path / "deck.apkg"
    yesterday = previous_deck(small_sources, output)

    def refused(*args: object, **kwargs: object) -> tuple[int, str]:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(tempfile, "mkstemp", refused)

    with pytest.raises(OutputError) as caught:
        build_deck(small_sources, output)

    assert str(caught.value) == f"{output}: cannot write: Permission denied"
    assert output.read_bytes() == yesterday


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_output_folder_keeps_the_old_deck(small_sources: Path, tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    output = folder / "deck.apkg"
    yesterday = previous_deck(small_sources, output)
    folder.chmod(0o555)
    try:
        with pytest.raises(OutputError) as caught:
            build_deck(small_sources, output)
    finally:
        folder.chmod(0o755)

    assert str(caught.value) == f"{output}: cannot write: Permission denied"
    assert output.read_bytes() == yesterday


def test_output_that_is_a_folder_is_refused(small_sources: Path, tmp_path: Path) -> None:
    with pytest.raises(OutputError) as caught:
        build_deck(small_sources, tmp_path)

    assert str(caught.value) == f"{tmp_path}: is a folder, not a file"


def test_output_in_an_unwritable_place_is_an_output_error(
    small_sources: Path, tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")

    with pytest.raises(OutputError) as caught:
        build_deck(small_sources, blocker / "deck.apkg")

    assert str(caught.value).startswith(f"{blocker / 'deck.apkg'}: cannot write: ")


def test_rebuild_replaces_the_deck_and_respects_the_umask(
    small_sources: Path, tmp_path: Path
) -> None:
    output = tmp_path / "deck.apkg"
    build_deck(small_sources, output, timestamp=1_700_000_000)
    (small_sources / "02-more.yaml").write_text(
        "topic: More\nquestions:\n  - {id: third, q: Three, a: Changed.}\n", encoding="utf-8"
    )
    build_deck(small_sources, output, timestamp=1_700_000_100)

    assert [mod for _, mod, _ in read_notes(output, tmp_path)] == [1_700_000_000] * 2 + [
        1_700_000_100
    ]
    assert output.stat().st_mode & 0o777 == 0o666 & ~current_umask()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".deck.apkg.stamps",
        "deck.apkg",
        "small",
        "unzipped",
    ]


def test_output_through_a_link_writes_the_target(small_sources: Path, tmp_path: Path) -> None:
    target = tmp_path / "synced" / "deck.apkg"
    target.parent.mkdir()
    link = tmp_path / "deck.apkg"
    link.symlink_to(target)

    build_deck(small_sources, link, timestamp=1_700_000_000)

    assert link.is_symlink()
    assert len(read_notes(target, tmp_path)) == 3


def test_long_output_names_are_fine(small_sources: Path, tmp_path: Path) -> None:
    output = tmp_path / ("d" * 245 + ".apkg")

    build_deck(small_sources, output, timestamp=1_700_000_000)

    assert len(read_notes(output, tmp_path)) == 3


def test_too_long_output_name_is_an_output_error(small_sources: Path, tmp_path: Path) -> None:
    output = tmp_path / ("d" * 300 + ".apkg")

    with pytest.raises(OutputError) as caught:
        build_deck(small_sources, output)

    assert str(caught.value) == f"{output}: cannot write: File name too long"


def test_the_same_inputs_give_the_same_bytes(small_sources: Path, tmp_path: Path) -> None:
    first = build_deck(small_sources, tmp_path / "first.apkg", timestamp=1_700_000_000).output
    # Later, with the state file the first build wrote: no note changed, so no stamp did.
    second = build_deck(small_sources, tmp_path / "second.apkg", timestamp=1_800_000_000).output

    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        assert {info.date_time for info in archive.infolist()} == {ZIP_TIME}


def test_a_one_word_edit_changes_the_bytes(small_sources: Path, tmp_path: Path) -> None:
    first = build_deck(small_sources, tmp_path / "first.apkg", timestamp=1_700_000_000).output
    basics = small_sources / "01-basics.yaml"
    basics.write_text(
        basics.read_text(encoding="utf-8").replace("What is two?", "What is deux?"),
        encoding="utf-8",
    )
    second = build_deck(small_sources, tmp_path / "second.apkg", timestamp=1_700_000_000).output

    assert first.read_bytes() != second.read_bytes()


def test_ids_start_at_the_latest_stamp_never_in_the_future(
    small_sources: Path, tmp_path: Path
) -> None:
    output = build_deck(small_sources, tmp_path / "d.apkg", timestamp=1_700_000_000).output

    with zipfile.ZipFile(output) as archive:
        archive.extract("collection.anki2", tmp_path)
    connection = sqlite3.connect(tmp_path / "collection.anki2")
    try:
        ids = [i for (i,) in connection.execute("SELECT id FROM notes UNION SELECT id FROM cards")]
    finally:
        connection.close()
    assert sorted(ids) == list(range(1_700_000_000_000, 1_700_000_000_006))


def test_build_writes_the_state_file_and_leaves_it_alone_when_nothing_changed(
    small_sources: Path, tmp_path: Path
) -> None:
    lock = state_path(small_sources)
    build_deck(small_sources, tmp_path / "d.apkg", timestamp=1_700_000_000)
    written = lock.stat()

    result = build_deck(small_sources, tmp_path / "d.apkg", timestamp=1_700_000_100)

    assert read_state(lock) == result.plan.state
    assert result.plan.unchanged == ("first", "second", "third")
    assert lock.stat().st_mtime_ns == written.st_mtime_ns
    assert lock.stat().st_ino == written.st_ino


def test_a_deleted_state_file_is_rebuilt(small_sources: Path, tmp_path: Path) -> None:
    build_deck(small_sources, tmp_path / "d.apkg", timestamp=1_700_000_000)
    state_path(small_sources).unlink()

    result = build_deck(small_sources, tmp_path / "d.apkg", timestamp=1_700_000_100)

    assert result.plan.added == ("first", "second", "third")
    assert read_state(state_path(small_sources)).notes["first"].mod == 1_700_000_100


def test_dry_run_writes_nothing(small_sources: Path, tmp_path: Path) -> None:
    output = tmp_path / "out" / "d.apkg"

    result = build_deck(small_sources, output, timestamp=1_700_000_000, dry_run=True)

    assert (result.dry_run, result.output, result.plan.added) == (
        True,
        output,
        ("first", "second", "third"),
    )
    assert not output.parent.exists()
    assert not state_path(small_sources).exists()


def test_a_damaged_state_file_stops_the_build_before_anything_is_written(
    small_sources: Path, tmp_path: Path
) -> None:
    state_path(small_sources).write_text("{", encoding="utf-8")

    with pytest.raises(StateError):
        build_deck(small_sources, tmp_path / "d.apkg")

    assert not (tmp_path / "d.apkg").exists()
    assert state_path(small_sources).read_text(encoding="utf-8") == "{"


# --- Where a build may write -------------------------------------------------------------------


def foreign_apkg(path: Path) -> Path:
    """Write an .apkg that another tool made: a genanki deck with a note type of its own."""
    model = genanki.Model(
        1_111_111_111,
        "Someone else's",
        fields=[{"name": "Front"}],
        templates=[{"name": "Card", "qfmt": "{{Front}}", "afmt": "{{Front}}"}],
    )
    deck = genanki.Deck(2_222_222_222, "Theirs")
    deck.add_note(genanki.Note(model=model, fields=["mine"], guid="g"))
    genanki.Package(deck).write_to_file(str(path), timestamp=1_600_000_000)
    return path


NOT_OURS = "is not a deck written by qa2anki: not replacing it (use --force to replace it)"


@pytest.mark.parametrize(
    "content",
    [
        b"my notes, not a deck\n",
        b"PK\x03\x04 a truncated zip",
        b"",
    ],
    ids=["text", "broken-zip", "empty"],
)
def test_a_file_that_is_not_a_deck_is_not_replaced(
    small_sources: Path, tmp_path: Path, content: bytes
) -> None:
    output = tmp_path / "deck.apkg"
    output.write_bytes(content)

    with pytest.raises(OutputError) as caught:
        build_deck(small_sources, output)

    assert str(caught.value) == f"{output}: {NOT_OURS}"
    assert output.read_bytes() == content
    assert temporaries(tmp_path) == []


def test_another_tools_apkg_is_not_replaced_but_ours_is(
    small_sources: Path, tmp_path: Path
) -> None:
    theirs = foreign_apkg(tmp_path / "theirs.apkg")
    before = theirs.read_bytes()
    no_collection = tmp_path / "other.apkg"
    with zipfile.ZipFile(no_collection, "w") as archive:
        archive.writestr("collection.anki21", b"not ours either")
    ours = tmp_path / "ours.apkg"
    previous_deck(small_sources, ours)

    assert not is_qa2anki_deck(theirs)
    assert not is_qa2anki_deck(no_collection)
    assert is_qa2anki_deck(ours)
    for path in (theirs, no_collection):
        with pytest.raises(OutputError) as caught:
            build_deck(small_sources, path)
        assert str(caught.value) == f"{path}: {NOT_OURS}"
    assert theirs.read_bytes() == before
    more = small_sources / "02-more.yaml"
    more.write_text(more.read_text(encoding="utf-8").replace("Three.", "Trois."), encoding="utf-8")
    build_deck(small_sources, ours, timestamp=1_700_000_000)
    assert "Trois." in read_notes(ours, tmp_path)[2][2]


def test_a_link_to_a_file_that_is_not_a_deck_is_not_followed(
    small_sources: Path, tmp_path: Path
) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("keep me\n", encoding="utf-8")
    link = tmp_path / "deck.apkg"
    link.symlink_to(target)

    with pytest.raises(OutputError) as caught:
        build_deck(small_sources, link)

    assert str(caught.value) == f"{link}: {NOT_OURS}"
    assert target.read_text(encoding="utf-8") == "keep me\n"


def test_force_replaces_a_file_that_is_not_a_deck(small_sources: Path, tmp_path: Path) -> None:
    output = tmp_path / "deck.apkg"
    output.write_text("old notes\n", encoding="utf-8")

    build_deck(small_sources, output, timestamp=1_700_000_000, force=True)

    assert len(read_notes(output, tmp_path)) == 3


@pytest.mark.parametrize(
    "relative", ["deck.apkg", "sub/deck.apkg", "../small/deck.apkg", "01-basics.yaml"]
)
def test_output_inside_the_source_folder_is_refused(
    small_sources: Path, tmp_path: Path, relative: str
) -> None:
    output = small_sources / relative
    before = sorted(small_sources.rglob("*"))

    with pytest.raises(OutputError) as caught:
        build_deck(small_sources, output)

    assert str(caught.value) == (
        f"{output}: is inside the source folder {small_sources}: write the deck somewhere "
        "else (or use --force)"
    )
    assert sorted(small_sources.rglob("*")) == before


def test_output_inside_the_sources_through_a_link_is_refused(
    small_sources: Path, tmp_path: Path
) -> None:
    link = tmp_path / "out"
    link.symlink_to(small_sources)

    with pytest.raises(OutputError) as caught:
        build_deck(small_sources, link / "deck.apkg")

    assert "is inside the source folder" in str(caught.value)


def test_force_writes_inside_the_source_folder(small_sources: Path, tmp_path: Path) -> None:
    output = small_sources / "build" / "deck.apkg"

    build_deck(small_sources, output, force=True)

    assert len(read_notes(output, tmp_path)) == 3


def test_the_default_output_of_the_shipped_layout_is_allowed(
    shipped_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(shipped_copy.parent)

    result = build_deck(Path("questions"))

    assert result.output == Path("build/python-backend-interview.apkg")
    assert is_qa2anki_deck(result.output)


# --- Leftovers of killed builds -------------------------------------------------------------


def test_stale_temporary_files_of_killed_builds_are_removed(
    small_sources: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    old = time.time() - STALE_TEMP_SECONDS - 5
    stale = out / ".qa2anki-k1lled01.tmp"
    young = out / ".qa2anki-runn1ng2.tmp"
    other = out / ".qa2anki-notes.txt"
    target = tmp_path / "elsewhere.txt"
    link = out / ".qa2anki-l1nked04.tmp"
    for path in (stale, young, other, target):
        path.write_bytes(b"half a deck")
    link.symlink_to(target)
    for path in (stale, other, target):
        os.utime(path, (old, old))
    os.utime(link, (old, old), follow_symlinks=False)

    build_deck(small_sources, out / "deck.apkg")

    assert sorted(p.name for p in out.iterdir()) == sorted(
        [".deck.apkg.stamps", "deck.apkg", young.name, other.name, link.name]
    )
    assert target.exists()


# The pipeline in a child process, with the write slowed down so a test can act mid-write:
# "hang" writes half a deck to the temporary file, says so, and waits to be killed;
# "hang-collection" makes the collection (in memory), says so, and waits to be killed before
# the zip is written;
# "race" waits until two builds have both written their temporary files, then finishes.
CHILD_BUILD = """
import sys, time
from pathlib import Path
from qa2anki import build, package

source, output, mode = sys.argv[1:]
# build.write_apkg is package.write_apkg, which makes the collection with
# package.write_collection.
real_write = build.write_apkg
real_collection = package.write_collection

def slow_collection(packaged, stamps):
    collection = real_collection(packaged, stamps)
    print("collecting", flush=True)
    time.sleep(60)
    return collection

if mode == "hang-collection":
    package.write_collection = slow_collection

def slow_write(path, packaged, stamps):
    real_write(path, packaged, stamps)
    if mode == "hang":
        with path.open("r+b") as file:
            file.truncate(path.stat().st_size // 2)
        print("writing", flush=True)
        time.sleep(60)
    # Both builds have written their temporary files before either renames its own.
    arrived = path.parent.parent / "arrived"
    arrived.mkdir(exist_ok=True)
    (arrived / path.name).touch()
    deadline = time.monotonic() + 30
    while len(list(arrived.iterdir())) < 2:
        if time.monotonic() > deadline:
            sys.exit("the other build never started writing")
        time.sleep(0.01)

build.write_apkg = slow_write
build.build_deck(Path(source), Path(output))
print("done", flush=True)
"""


_CHILDREN: list[subprocess.Popen[str]] = []


@pytest.fixture(autouse=True)
def _no_child_left_behind() -> Iterator[None]:
    """Kill the child builds a test started, even when it failed before it could."""
    yield
    while _CHILDREN:
        child = _CHILDREN.pop()
        if child.poll() is None:
            child.kill()
            child.wait(timeout=30)
        if child.stdout is not None:
            child.stdout.close()


def child_build(
    source: Path, output: Path, mode: str, temp: Path | None = None
) -> subprocess.Popen[str]:
    """Start a build in a child process; ``temp`` is its system temporary folder."""
    env = os.environ | ({"TMPDIR": str(temp)} if temp is not None else {})
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD_BUILD, str(source), str(output), mode],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    _CHILDREN.append(child)
    return child


def test_a_build_killed_mid_write_keeps_the_old_deck(small_sources: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    output = out / "deck.apkg"
    yesterday = previous_deck(small_sources, output)

    child = child_build(small_sources, output, "hang")
    assert child.stdout is not None
    assert child.stdout.readline() == "writing\n"
    (leftover,) = temporaries(out)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    child.stdout.close()

    assert child.returncode == -signal.SIGKILL
    assert output.read_bytes() == yesterday
    assert len(read_notes(output, tmp_path)) == 3
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(out / leftover)

    # The next build removes the leftover once it is old enough to be a killed build's.
    old = time.time() - STALE_TEMP_SECONDS - 5
    os.utime(out / leftover, (old, old))
    build_deck(small_sources, output)
    assert temporaries(out) == []


def test_a_build_killed_mid_collection_leaves_nothing_the_next_build_keeps(
    small_sources: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    output = out / "deck.apkg"
    yesterday = previous_deck(small_sources, output)
    system_temp = tmp_path / "system-temp"
    system_temp.mkdir()

    child = child_build(small_sources, output, "hang-collection", system_temp)
    assert child.stdout is not None
    assert child.stdout.readline() == "collecting\n"
    # The collection is made in memory: only the temporary deck, still empty, is on disk.
    (leftover,) = temporaries(out)
    assert (out / leftover).stat().st_size == 0
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    child.stdout.close()

    assert child.returncode == -signal.SIGKILL
    assert output.read_bytes() == yesterday
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [".deck.apkg.stamps", "deck.apkg", leftover]
    )
    assert list(system_temp.iterdir()) == []
    old = time.time() - STALE_TEMP_SECONDS - 5
    os.utime(out / leftover, (old, old))
    build_deck(small_sources, output)
    assert sorted(p.name for p in out.iterdir()) == [".deck.apkg.stamps", "deck.apkg"]


def test_two_builds_racing_to_one_output_leave_one_valid_deck(
    small_sources: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    output = out / "deck.apkg"
    previous_deck(small_sources, output)

    children = [child_build(small_sources, output, "race") for _ in range(2)]
    results = [child.communicate(timeout=60) for child in children]

    assert [child.returncode for child in children] == [0, 0]
    assert [stdout for stdout, _ in results] == ["done\n", "done\n"]
    assert sorted(p.name for p in out.iterdir()) == [".deck.apkg.stamps", "deck.apkg"]
    assert len(read_notes(output, tmp_path)) == 3
    connection = sqlite3.connect(tmp_path / "unzipped" / "collection.anki2")
    try:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        connection.close()


def test_a_dry_run_fails_where_the_build_would(small_sources: Path, tmp_path: Path) -> None:
    output = tmp_path / "notes.apkg"
    output.write_text("my notes\n", encoding="utf-8")

    with pytest.raises(OutputError) as caught:
        build_deck(small_sources, output, dry_run=True)

    assert str(caught.value) == f"{output}: {NOT_OURS}"
    assert build_deck(small_sources, output, dry_run=True, force=True).dry_run
    assert output.read_text(encoding="utf-8") == "my notes\n"


def test_a_deck_of_ours_is_known_by_its_zip_comment_without_unpacking(
    small_sources: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ours = build_deck(small_sources, tmp_path / "ours.apkg", timestamp=1_700_000_000).output
    uncommented = tmp_path / "uncommented.apkg"  # the same entries, without the comment
    with zipfile.ZipFile(ours) as source, zipfile.ZipFile(uncommented, "w") as target:
        for info in source.infolist():
            target.writestr(info, source.read(info))

    def no_unpacking(*args: object, **kwargs: object) -> None:
        raise AssertionError("an entry was unpacked")

    monkeypatch.setattr(zipfile.ZipFile, "open", no_unpacking)

    assert zipfile.ZipFile(ours).comment == ZIP_COMMENT
    assert is_qa2anki_deck(ours)
    assert not is_qa2anki_deck(uncommented)


def test_a_state_file_that_cannot_be_written_says_the_deck_was(
    small_sources: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = tmp_path / "deck.apkg"
    lock = state_path(small_sources)
    real_write_state = build.write_state

    def refuse_the_lock(path: Path, text: str) -> None:
        if path == lock:
            raise OutputError("cannot write: Permission denied", path)
        real_write_state(path, text)

    monkeypatch.setattr(build, "write_state", refuse_the_lock)

    with pytest.raises(OutputError) as caught:
        build_deck(small_sources, output)

    assert str(caught.value) == (
        f"{lock}: cannot write: Permission denied; the deck was written to {output} all the same"
    )
    assert is_qa2anki_deck(output)


def test_a_file_in_the_way_of_the_output_folder_is_named(
    small_sources: Path, tmp_path: Path
) -> None:
    note = tmp_path / "note.txt"
    note.write_text("mine", encoding="utf-8")

    for output in (note / "deck.apkg", note / "sub" / "deck.apkg"):
        with pytest.raises(OutputError) as caught:
            build_deck(small_sources, output)
        assert str(caught.value) == f"{output}: cannot write: {note} is a file, not a folder"
    assert note.read_text(encoding="utf-8") == "mine"


@pytest.mark.parametrize("force", [False, True])
def test_an_output_that_is_a_device_or_a_pipe_is_never_read_or_replaced(
    small_sources: Path, tmp_path: Path, force: bool
) -> None:
    pipe = tmp_path / "pipe.apkg"
    os.mkfifo(pipe)  # opening it to read would wait for a writer for ever

    for output in (pipe, Path("/dev/null")):
        with pytest.raises(OutputError) as caught:
            build_deck(small_sources, output, force=force)
        assert str(caught.value) == f"{output}: {build.NOT_REGULAR}"
    assert stat.S_ISFIFO(pipe.lstat().st_mode)
    assert stat.S_ISCHR(Path("/dev/null").stat().st_mode)


@pytest.mark.parametrize("output", ["", ".", ".."])
def test_an_output_with_no_file_name_is_a_folder(small_sources: Path, output: str) -> None:
    with pytest.raises(OutputError) as caught:
        build_deck(small_sources, Path(output), dry_run=True)

    assert str(caught.value) == f"{Path(output)}: is a folder, not a file"


def test_a_refused_build_writes_no_cache_either(small_sources: Path, tmp_path: Path) -> None:
    theirs = tmp_path / "notes.txt"
    theirs.write_text("mine", encoding="utf-8")
    cache_dir = tmp_path / "cache"

    with pytest.raises(OutputError):
        build_deck(small_sources, theirs, cache_dir=cache_dir)

    assert not cache_dir.exists()


def test_no_cache_is_kept_among_the_sources(small_sources: Path, tmp_path: Path) -> None:
    build_deck(small_sources, tmp_path / "d.apkg", cache_dir=small_sources / "build" / ".cache")

    assert not (small_sources / "build").exists()
