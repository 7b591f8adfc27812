"""The .apkg zip: readable by any unzip, the same bytes for the same content."""

from __future__ import annotations

import random
import zipfile
from pathlib import Path

import pytest

from qa2anki import archive

COMMENT = b"qa2anki deck"


def collection(tmp_path: Path, size: int) -> Path:
    """A file like a collection: some of it compresses well, some not at all."""
    rng = random.Random(size)
    text = b"".join(rng.choice([b"SELECT 1;", b"<p>text</p>", b"\x1f", b"  "]) for _ in range(size))
    noise = rng.randbytes(size // 4)
    path = tmp_path / f"collection-{size}.anki2"
    path.write_bytes((text + noise)[:size])
    return path


def read_back(apkg: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(apkg) as zipped:
        assert zipped.testzip() is None  # every entry's CRC matches its content
        assert zipped.comment == COMMENT
        for info in zipped.infolist():
            assert info.compress_type == zipfile.ZIP_DEFLATED
            assert info.date_time == archive.ZIP_TIME
            assert info.external_attr == 0o644 << 16
        return {name: zipped.read(name) for name in zipped.namelist()}


@pytest.mark.parametrize("cores", [1, 2, 3])
@pytest.mark.parametrize("size", [1, 999, 1000, 1001, 25_000])
def test_a_collection_in_several_pieces_reads_back_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int, cores: int
) -> None:
    monkeypatch.setattr(archive, "PIECE", 1000)
    monkeypatch.setattr(archive, "usable_cores", lambda: cores)
    db = collection(tmp_path, size)
    apkg = tmp_path / "deck.apkg"

    archive.write_apkg(apkg, db, COMMENT)

    assert read_back(apkg) == {"collection.anki2": db.read_bytes(), "media": b"{}"}


def test_the_bytes_depend_on_the_content_not_on_the_cores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(archive, "PIECE", 1000)
    db = collection(tmp_path, 25_000)
    written = []
    for cores in (1, 2, 4):
        monkeypatch.setattr(archive, "usable_cores", lambda cores=cores: cores)
        apkg = tmp_path / f"deck-{cores}.apkg"
        archive.write_apkg(apkg, db, COMMENT)
        written.append(apkg.read_bytes())

    assert written[0] == written[1] == written[2]


def test_pieces_deflate_about_as_well_as_one_stream(tmp_path: Path) -> None:
    db = collection(tmp_path, 3 * archive.PIECE + 12_345)
    ours, theirs = tmp_path / "ours.apkg", tmp_path / "theirs.apkg"
    archive.write_apkg(ours, db, COMMENT)
    with zipfile.ZipFile(theirs, "w", zipfile.ZIP_DEFLATED, compresslevel=archive.LEVEL) as z:
        z.write(db, "collection.anki2")

    assert read_back(ours)["collection.anki2"] == db.read_bytes()
    assert ours.stat().st_size < theirs.stat().st_size * 1.01


def test_a_collection_too_large_for_plain_zip_is_written_with_zipfile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(archive, "_ZIP32_LIMIT", 2000)
    db = collection(tmp_path, 5000)
    apkg = tmp_path / "deck.apkg"

    archive.write_apkg(apkg, db, COMMENT)

    assert read_back(apkg) == {"collection.anki2": db.read_bytes(), "media": b"{}"}
