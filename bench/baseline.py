"""The baseline: write pre-rendered notes with genanki directly, as a hand-written script would.

Reads the notes (GUID, subdeck, tags, the four fields as HTML) and the CSS that ``run.py``
extracted from a qa2anki build, so the fields are exactly as large as qa2anki's, and writes
them with ``genanki.Package.write_to_file``: no parsing, no rendering, no state.

    python bench/baseline.py NOTES.json OUTPUT.apkg
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import genanki


def main(notes_file: Path, output: Path) -> None:
    data = json.loads(notes_file.read_text(encoding="utf-8"))
    model = genanki.Model(
        1594302817,
        "qa2anki Q&A",
        fields=[{"name": name} for name in ("Question", "Answer", "Topic", "Id")],
        templates=[{"name": "Q&A", "qfmt": data["front"], "afmt": data["back"]}],
        css=data["css"],
    )
    decks: dict[str, genanki.Deck] = {}
    for guid, deck_name, tags, fields in data["notes"]:
        if deck_name not in decks:
            decks[deck_name] = genanki.Deck(len(decks) + (1 << 40), deck_name)
        decks[deck_name].add_note(genanki.Note(model=model, fields=fields, guid=guid, tags=tags))
    genanki.Package(list(decks.values())).write_to_file(output)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
