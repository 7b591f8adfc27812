"""The shipped deck, pinned: what Anki reads from it must not change unless we mean it to.

The content digest covers every row of every table and the schema of the collection, the
other zip entries and the zip comment: everything Anki reads.  The byte digest pins the file
itself (SQLite's page layout and the deflate stream included), so that builds stay
reproducible.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import zipfile
from pathlib import Path

from qa2anki.build import build_deck

# Built from the shipped questions/ and their state file questions/qa2anki.lock.  The bytes
# changed once, when genanki's own writer replaced qa2anki's (its SQLite pages are laid out
# otherwise); the content did not.  The content changed when wide tables and images were
# made to fit the card, and again when the templates stopped keeping MathJax off whole cards:
# the note type's CSS or templates and stamp, and with them the ids notes and cards are
# numbered from; every note's and card's other columns stayed as they were.
CONTENT_DIGEST = "d745babac05c6985f515b58e031f764319d459b59d90ed2a6f54a0f9f6966b68"
BYTES_DIGEST = "71ad4732584844c41d617d1c526799499cf68c8da8825b9b2e8557ecca1e9476"
# The notes alone (GUID, note type, stamp, tags, fields): what decides whether a re-import
# updates a note.  Pinned apart, so that a change of the note type cannot hide a change here.
NOTES_DIGEST = "543119cf8859eeb8540c8e935b9c49d776364e248561694728ddaccf7f2081a1"


def content_digest(apkg: Path, scratch: Path) -> str:
    """Return a hash of everything Anki reads from ``apkg``, independent of page layout."""
    with zipfile.ZipFile(apkg) as archive:
        names = archive.namelist()
        others = {name: archive.read(name).hex() for name in names if name != "collection.anki2"}
        (scratch / "collection.anki2").write_bytes(archive.read("collection.anki2"))
        comment = archive.comment.hex()
    connection = sqlite3.connect(scratch / "collection.anki2")
    try:
        schema = sorted(connection.execute("SELECT type, name, tbl_name, sql FROM sqlite_master"))
        tables = {
            name: connection.execute(f'SELECT * FROM "{name}" ORDER BY rowid').fetchall()
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        }
    finally:
        connection.close()
    data = {"names": names, "others": others, "comment": comment, "schema": schema, **tables}
    return hashlib.sha256(json.dumps(data, ensure_ascii=False).encode("utf-8")).hexdigest()


def notes_digest(apkg: Path, scratch: Path) -> str:
    """Return a hash of every note of ``apkg`` as a re-import compares it."""
    with zipfile.ZipFile(apkg) as archive:
        (scratch / "notes.anki2").write_bytes(archive.read("collection.anki2"))
    connection = sqlite3.connect(scratch / "notes.anki2")
    try:
        notes = connection.execute(
            "SELECT guid, mid, mod, tags, flds, sfld, csum FROM notes ORDER BY guid"
        ).fetchall()
    finally:
        connection.close()
    return hashlib.sha256(json.dumps(notes, ensure_ascii=False).encode("utf-8")).hexdigest()


def test_the_shipped_deck_is_what_it_was(shipped_copy: Path, tmp_path: Path) -> None:
    output = tmp_path / "deck.apkg"

    result = build_deck(shipped_copy, output, timestamp=2_000_000_000)

    assert len(result.plan.unchanged) == 100  # the state file stamps every note
    assert notes_digest(output, tmp_path) == NOTES_DIGEST
    assert content_digest(output, tmp_path) == CONTENT_DIGEST
    assert hashlib.sha256(output.read_bytes()).hexdigest() == BYTES_DIGEST
