"""The write stage and the pipeline as a whole: atomic output, nothing written on error."""

from __future__ import annotations

import sqlite3
import zipfile
from pathlib import Path

import genanki
import pytest

from qa2anki import build
from qa2anki.build import build_deck, default_output
from qa2anki.errors import OutputError, StateError, ValidationError
from qa2anki.files import current_umask
from qa2anki.loader import load_deck
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
    output.write_bytes(b"yesterday's deck")
    (small_sources / "02-more.yaml").write_text("topic: More\nquestions: []\n", encoding="utf-8")

    with pytest.raises(ValidationError):
        build_deck(small_sources, output)

    assert output.read_bytes() == b"yesterday's deck"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deck.apkg", "small"]


def test_invalid_sources_do_not_create_the_output_folder(
    small_sources: Path, tmp_path: Path
) -> None:
    (small_sources / "deck.yaml").unlink()

    with pytest.raises(ValidationError):
        build_deck(small_sources, tmp_path / "new" / "deck.apkg")

    assert not (tmp_path / "new").exists()


def test_a_failed_write_keeps_the_old_deck_and_leaves_no_temporary_file(
    small_sources: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = tmp_path / "deck.apkg"
    output.write_bytes(b"yesterday's deck")
    real_write = build._write_apkg

    def write_half_then_fail(package: genanki.Package, path: Path, first_id: int) -> None:
        real_write(package, path, first_id)
        with path.open("r+b") as file:
            file.truncate(100)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(build, "_write_apkg", write_half_then_fail)

    with pytest.raises(OutputError) as caught:
        build_deck(small_sources, output)

    assert str(caught.value) == f"{output}: cannot write: No space left on device"
    assert output.read_bytes() == b"yesterday's deck"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deck.apkg", "small"]
    assert not state_path(small_sources).exists()


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
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deck.apkg", "small", "unzipped"]


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
        assert {info.date_time for info in archive.infolist()} == {build.ZIP_TIME}


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
