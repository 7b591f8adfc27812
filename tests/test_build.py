"""The write stage and the pipeline as a whole: atomic output, nothing written on error."""

from __future__ import annotations

import sqlite3
import zipfile
from pathlib import Path

import pytest

from qa2anki import build
from qa2anki.build import build_deck, default_output
from qa2anki.errors import OutputError, ValidationError
from qa2anki.loader import load_deck


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

    def write_half_then_fail(package: object, path: Path, timestamp: float) -> None:
        real_write(package, path, timestamp)
        with path.open("r+b") as file:
            file.truncate(100)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(build, "_write_apkg", write_half_then_fail)

    with pytest.raises(OutputError) as caught:
        build_deck(small_sources, output)

    assert str(caught.value) == f"{output}: cannot write: No space left on device"
    assert output.read_bytes() == b"yesterday's deck"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deck.apkg", "small"]


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
    build_deck(small_sources, output, timestamp=1_700_000_100)

    assert {mod for _, mod, _ in read_notes(output, tmp_path)} == {1_700_000_100}
    assert output.stat().st_mode & 0o777 == 0o666 & ~build._umask()
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
