"""The state file: what every note contained when it last changed, and the plan of a build.

Anki updates an existing note on re-import only when the incoming ``mod`` is newer than its
own.  Stamping every note with the build time would overwrite, on every import, notes that
did not change (and any edit the user made to them in Anki).  So the state file
(``qa2anki.lock``, kept beside the sources and committed with them) records for each
question id a hash of its note's content and the time that content last changed; a build
gives a note a new ``mod`` only when the hash differs, and always a strictly later one.
The note type is tracked the same way.

The file is JSON with one question per line, sorted by id, so that it diffs well in git.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from qa2anki.errors import StateError
from qa2anki.model import RenderedDeck
from qa2anki.package import Stamps, note_fingerprint, note_type_fingerprint, topic_deck_name

STATE_FILE = "qa2anki.lock"
FORMAT = 1
_HEADER = (
    "qa2anki state: when each note last changed. Commit it with the sources; "
    "delete it to start afresh. See README, 'The state file'."
)


@dataclass(frozen=True)
class Entry:
    """What one note (or the note type) contained, and since when."""

    hash: str
    mod: int


@dataclass(frozen=True)
class NoteEntry(Entry):
    """A question's note: its hash and mod, its subdeck, and its question text."""

    deck: str
    question: str


@dataclass(frozen=True)
class State:
    """The state file's content; ``key`` is the deck key the GUIDs were made from."""

    key: str | None = None
    note_type: Entry | None = None
    notes: Mapping[str, NoteEntry] = field(default_factory=dict)


@dataclass(frozen=True)
class Moved:
    """A question whose subdeck changed: Anki leaves its existing card where it was."""

    id: str
    from_deck: str
    to_deck: str
    tag: str


@dataclass(frozen=True)
class Removed:
    """A question that is no longer in the sources: Anki keeps its note until deleted."""

    id: str
    deck: str
    question: str


NoteTypeChange = Literal["added", "changed", "unchanged"]


@dataclass(frozen=True)
class Plan:
    """What a build changes compared with the state file, and the state it leaves behind."""

    added: tuple[str, ...]
    changed: tuple[str, ...]
    unchanged: tuple[str, ...]
    moved: tuple[Moved, ...]
    removed: tuple[Removed, ...]
    note_type: NoteTypeChange
    key_changed_from: str | None
    state: State
    first: bool

    @property
    def stamps(self) -> Stamps:
        assert self.state.note_type is not None
        return Stamps(
            note_type=self.state.note_type.mod,
            notes={question_id: entry.mod for question_id, entry in self.state.notes.items()},
        )

    def to_json(self) -> dict[str, Any]:
        """Return the plan as plain JSON data (lists keep source order)."""
        return {
            "added": list(self.added),
            "changed": list(self.changed),
            "unchanged": list(self.unchanged),
            "moved": [
                {"id": m.id, "from": m.from_deck, "to": m.to_deck, "tag": m.tag} for m in self.moved
            ],
            "removed": [{"id": r.id, "deck": r.deck, "question": r.question} for r in self.removed],
            "note_type": self.note_type,
            "key_changed_from": self.key_changed_from,
            "first_build": self.first,
        }


def state_path(source: Path) -> Path:
    """Return where the state file of a source folder lives."""
    return source / STATE_FILE


def plan_build(rendered: RenderedDeck, previous: State, now: int) -> Plan:
    """Compare the rendered deck with the previous state and stamp every note.

    Unchanged notes keep their ``mod``; added and changed ones get ``now``, or one second
    after their previous ``mod`` when the clock says otherwise, so that it always advances.
    """
    deck = rendered.deck
    key_changed_from = None
    if previous.key is not None and previous.key != deck.key:
        # The GUIDs come from the key: to Anki every note is a new one.
        key_changed_from = previous.key
        old_notes: Mapping[str, NoteEntry] = {}
    else:
        old_notes = previous.notes

    added: list[str] = []
    changed: list[str] = []
    unchanged: list[str] = []
    moved: list[Moved] = []
    notes: dict[str, NoteEntry] = {}
    for item in rendered.questions:
        question_id = item.question.id
        digest = note_fingerprint(deck, item)
        subdeck = topic_deck_name(deck, item.topic.name)
        old = old_notes.get(question_id)
        if old is None:
            added.append(question_id)
            mod = now
        elif old.hash == digest:
            unchanged.append(question_id)
            mod = old.mod
        else:
            changed.append(question_id)
            mod = max(now, old.mod + 1)
        if old is not None and old.deck != subdeck:
            moved.append(Moved(question_id, old.deck, subdeck, item.topic.slug))
        notes[question_id] = NoteEntry(digest, mod, subdeck, item.question.q)

    # With a new key, every old note is left behind in Anki, whatever its id.
    removed_ids = sorted(set(previous.notes) - (set() if key_changed_from else set(notes)))
    removed = tuple(
        Removed(question_id, previous.notes[question_id].deck, previous.notes[question_id].question)
        for question_id in removed_ids
    )

    type_hash = note_type_fingerprint()
    note_type_change: NoteTypeChange
    if previous.note_type is None:
        note_type_change, type_mod = "added", now
    elif previous.note_type.hash == type_hash:
        note_type_change, type_mod = "unchanged", previous.note_type.mod
    else:
        note_type_change, type_mod = "changed", max(now, previous.note_type.mod + 1)

    return Plan(
        added=tuple(added),
        changed=tuple(changed),
        unchanged=tuple(unchanged),
        moved=tuple(moved),
        removed=removed,
        note_type=note_type_change,
        key_changed_from=key_changed_from,
        state=State(key=deck.key, note_type=Entry(type_hash, type_mod), notes=notes),
        first=previous.key is None,
    )


def read_state(path: Path) -> State:
    """Read a state file; a missing one is an empty state, a damaged one a ``StateError``."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return State()
    except (OSError, UnicodeDecodeError) as exc:
        raise StateError(_damaged(f"cannot read it ({_reason(exc)})"), path) from None
    conflict = re.search(r"^(<{7}|>{7}|={7})( |$)", text, re.MULTILINE)
    if conflict:
        line = text.count("\n", 0, conflict.start()) + 1
        raise StateError(_damaged("it has unresolved merge conflict markers"), path, line)
    try:
        data = json.loads(text)
        return _parse(data)
    except json.JSONDecodeError as exc:
        raise StateError(_damaged(f"it is not valid JSON ({exc.msg})"), path, exc.lineno) from None
    except (KeyError, TypeError, ValueError) as exc:
        raise StateError(_damaged(f"unexpected content ({exc})"), path) from None


def format_state(state: State) -> str:
    """Return the state file's text: stable, sorted, one question per line."""
    assert state.note_type is not None
    head = {
        "comment": _HEADER,
        "format": FORMAT,
        "key": state.key,
        "note_type": {"hash": state.note_type.hash, "mod": state.note_type.mod},
    }
    lines = ["{"]
    lines.extend(f"  {_dump(name)}: {_dump(value)}," for name, value in head.items())
    lines.append('  "notes": {')
    entries = sorted(state.notes.items())
    for index, (question_id, entry) in enumerate(entries):
        value = {
            "hash": entry.hash,
            "mod": entry.mod,
            "deck": entry.deck,
            "question": entry.question,
        }
        comma = "," if index < len(entries) - 1 else ""
        lines.append(f"    {_dump(question_id)}: {_dump(value)}{comma}")
    lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _parse(data: Any) -> State:
    if not isinstance(data, dict):
        raise TypeError("not an object")
    if data.get("format") != FORMAT:
        raise ValueError(f"format {data.get('format')!r}, expected {FORMAT}")
    note_type = data["note_type"]
    notes = {
        _text(question_id): NoteEntry(
            hash=_text(entry["hash"]),
            mod=_number(entry["mod"]),
            deck=_text(entry["deck"]),
            question=_text(entry["question"]),
        )
        for question_id, entry in dict(data["notes"]).items()
    }
    return State(
        key=_text(data["key"]),
        note_type=Entry(hash=_text(note_type["hash"]), mod=_number(note_type["mod"])),
        notes=notes,
    )


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, found {value!r}")
    return value


def _number(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise TypeError(f"expected a time in seconds, found {value!r}")
    return value


def _dump(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _damaged(why: str) -> str:
    return f"damaged state file: {why}; delete it and build again to start afresh"


def _reason(exc: Exception) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return "not UTF-8"


def describe_plan(plan: Plan, deck_name: str, state_file: Path, *, verbose: bool) -> list[str]:
    """Return the plan as lines for people; moves and removals always say what to do in Anki.

    ``verbose`` also lists the ids of added and changed questions.
    """
    moved = {m.id for m in plan.moved}
    counts = [
        f"{len(plan.added)} added",
        f"{len(plan.changed)} changed" + (f" ({len(moved)} moved)" if moved else ""),
        f"{len(plan.unchanged)} unchanged",
        f"{len(plan.removed)} removed",
    ]
    lines = [f"Since the last build: {', '.join(counts)}; note type {plan.note_type}."]
    if plan.first:
        lines.append(
            f"No state file yet: every question counts as added. Commit {state_file} "
            "with your sources so that later builds update only what changed."
        )
    if plan.key_changed_from is not None:
        lines.append(
            f"The deck key changed from {plan.key_changed_from!r}: every note has a new GUID, "
            "so Anki adds them all as new notes and keeps the old ones."
        )
    if verbose:
        lines.extend(_listed("Added", plan.added))
        lines.extend(_listed("Changed", [q for q in plan.changed if q not in moved]))
    if plan.note_type == "changed":
        lines.append("The note type changed (CSS or templates): Anki updates it in place.")
    for move in plan.moved:
        lines.append(
            f"Moved: {move.id}: {_short(move.from_deck, deck_name)}"
            f" -> {_short(move.to_deck, deck_name)}"
        )
    for target, tag in sorted({(m.to_deck, m.tag) for m in plan.moved}):
        search = _search_term(f"deck:{deck_name}"), _search_term(f"tag:{tag}")
        lines += [
            "  Anki keeps existing cards in their old subdeck. To move them, search in Anki's"
            " browser for",
            f"    {' '.join(search)} -{_search_term(f'deck:{target}')}",
            "  then select all cards and use Change Deck.",
        ]
    for gone in plan.removed:
        lines.append(f"Removed: {gone.id}: {_one_line(gone.question)}")
    if plan.removed:
        ids = " or ".join(_search_term(f"Id:{gone.id}") for gone in plan.removed)
        lines += [
            "  Anki keeps the notes of removed questions. To delete them, search in Anki's"
            " browser for",
            f"    {_search_term(f'deck:{deck_name}')} ({ids})",
            "  then select all notes and delete them.",
        ]
    return lines


def _short(subdeck: str, deck_name: str) -> str:
    """Return a subdeck's name without the deck's, when it is inside the deck."""
    return subdeck.removeprefix(f"{deck_name}::")


def _listed(label: str, ids: Sequence[str]) -> list[str]:
    return [f"{label}: {', '.join(ids)}"] if ids else []


def _search_term(term: str) -> str:
    """Quote a term for Anki's search bar, where `_` and `*` are wildcards."""
    escaped = re.sub(r'([\\"*_])', r"\\\1", term)
    return f'"{escaped}"'


def _one_line(text: str, limit: int = 100) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
