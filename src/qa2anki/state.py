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

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from qa2anki import cloze
from qa2anki.errors import StateError
from qa2anki.model import NOTE_TYPES
from qa2anki.package import NOTE_TYPE_SPECS, PackagedDeck, Stamps, note_type_fingerprint

STATE_FILE = "qa2anki.lock"
FORMAT = 1
_HEADER = (
    "qa2anki state: when each note last changed. Commit it with the sources; "
    "delete it to start afresh. See README, 'The state file'."
)


@dataclass(frozen=True, slots=True)
class Entry:
    """What one note (or the note type) contained, and since when."""

    hash: str
    mod: int


@dataclass(frozen=True, slots=True)
class NoteEntry(Entry):
    """A question's note: its hash and mod, its subdeck, its question text and its type."""

    deck: str
    question: str
    type: str = "basic"
    cards: tuple[int, ...] = ()
    """A cloze note's deletion numbers, each a card (empty for other types)."""


@dataclass(frozen=True, slots=True)
class State:
    """The state file's content.

    ``key`` is the deck key the GUIDs were made from, ``deck`` the root deck's name.
    """

    key: str | None = None
    deck: str | None = None
    note_type: Entry | None = None
    notes: Mapping[str, NoteEntry] = field(default_factory=dict)
    note_types: Mapping[str, Entry] = field(default_factory=dict)
    """The reversed and cloze note types, for a deck that has had them (basic: ``note_type``)."""


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
    became: str | None = None
    """The question is still there, as a note of this other type ("cloze"): a new note."""
    note_type: str = "basic"
    """The note type of the note that Anki keeps."""


@dataclass(frozen=True)
class Emptied:
    """A cloze question that lost deletion numbers: Anki keeps their cards, empty."""

    id: str
    cards: tuple[int, ...]


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
    deck_renamed_from: str | None
    state: State
    first: bool
    note_types: Mapping[str, NoteTypeChange] = field(default_factory=dict)
    """How the reversed and cloze note types the deck has change."""
    has_basic: bool = True
    """Whether the deck has basic notes (its basic note type is then in the package)."""
    emptied: tuple[Emptied, ...] = ()

    @property
    def stamps(self) -> Stamps:
        assert self.state.note_type is not None
        return Stamps(
            note_type=self.state.note_type.mod,
            notes={question_id: entry.mod for question_id, entry in self.state.notes.items()},
            note_types={kind: entry.mod for kind, entry in self.state.note_types.items()},
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
            "removed": [_removed_json(r) for r in self.removed],
            **(
                {"emptied": [{"id": e.id, "cards": list(e.cards)} for e in self.emptied]}
                if self.emptied
                else {}
            ),
            "note_type": self.note_type,
            **({"note_types": dict(self.note_types)} if self.note_types else {}),
            "key_changed_from": self.key_changed_from,
            "deck_renamed_from": self.deck_renamed_from,
            "first_build": self.first,
        }


def _removed_json(removed: Removed) -> dict[str, Any]:
    found: dict[str, Any] = {"id": removed.id, "deck": removed.deck, "question": removed.question}
    if removed.became is not None:
        found["became"] = removed.became
    return found


def state_path(source: Path) -> Path:
    """Return where the state file of a source folder lives."""
    return source / STATE_FILE


def plan_build(
    packaged: PackagedDeck, previous: State, now: int, issued: State | None = None
) -> Plan:
    """Compare the deck's notes with the previous state and stamp every note.

    Unchanged notes keep their ``mod``; added and changed ones get ``now``, or one second
    after their previous ``mod`` when the clock says otherwise, so that it always advances.

    ``issued`` is what the deck file being replaced was stamped with (see ``record_path``).
    When the sources went back to older content (a ``git revert``, say), the state file goes
    back with them, but Anki already has the newer content with a later time: such notes are
    stamped later still, or Anki would keep what it has.
    """
    deck = packaged.deck
    key_changed_from = None
    if previous.key is not None and previous.key != deck.key:
        # The GUIDs come from the key: to Anki every note is a new one, and no old one is
        # updated, moved or removed by what this build does.
        key_changed_from = previous.key
        previous = State()
    renamed_from = previous.deck if previous.deck not in (None, deck.name) else None
    if issued is not None and issued.key != deck.key:
        issued = None  # stamps of other GUIDs: they say nothing of these notes
    given = issued.notes if issued is not None else {}

    lists: dict[NoteTypeChange, list[str]] = {"added": [], "changed": [], "unchanged": []}
    moved: list[Moved] = []
    emptied: list[Emptied] = []
    notes: dict[str, NoteEntry] = {}
    became: dict[str, str] = {}  # question ids whose note type changed: a new note
    # Notes of another type that only the deck file gave Anki (a type change undone by going
    # back to older sources): the old state file does not know them.
    issued_others: list[Removed] = []
    for note in packaged.notes:
        question_id, digest, subdeck = note.id, note.fingerprint, note.subdeck
        old = previous.notes.get(question_id)
        if old is not None and old.type != note.note_type:
            became[question_id] = note.note_type
            old = None
        issued_entry = given.get(question_id)
        if issued_entry is not None and issued_entry.type != note.note_type:
            # Another note in Anki (another GUID): its stamp says nothing of this one.
            if question_id not in became:
                issued_others.append(_other_type(question_id, issued_entry, note.note_type))
            issued_entry = None
        change, mod = _stamp(old, digest, issued_entry, now)
        lists[change].append(question_id)
        cards = tuple(cloze.card_numbers(note.fields[0])) if note.note_type == "cloze" else ()
        if old is not None and (lost := tuple(n for n in old.cards if n not in cards)):
            emptied.append(Emptied(question_id, lost))
        if old is not None:
            # A renamed deck is one rename in Anki, not a move of every card.
            old_subdeck = _renamed(old.deck, renamed_from, deck.name)
            if old_subdeck != subdeck:
                moved.append(Moved(question_id, old_subdeck, subdeck, note.topic_slug))
        notes[question_id] = NoteEntry(digest, mod, subdeck, note.question, note.note_type, cards)

    removed = tuple(
        Removed(
            question_id,
            _renamed(entry.deck, renamed_from, deck.name),
            entry.question,
            became.get(question_id),
            entry.type,
        )
        for question_id, entry in sorted(previous.notes.items())
        if question_id not in notes or question_id in became
    ) + tuple(issued_others)

    type_hash = note_type_fingerprint()
    type_given = issued.note_type if issued is not None else None
    note_type_change, type_mod = _stamp(previous.note_type, type_hash, type_given, now)
    others, other_changes = _other_note_types(packaged, previous, issued, now)

    return Plan(
        added=tuple(lists["added"]),
        changed=tuple(lists["changed"]),
        unchanged=tuple(lists["unchanged"]),
        moved=tuple(moved),
        removed=removed,
        emptied=tuple(emptied),
        note_type=note_type_change,
        key_changed_from=key_changed_from,
        deck_renamed_from=renamed_from,
        state=State(
            key=deck.key,
            deck=deck.name,
            note_type=Entry(type_hash, type_mod),
            notes=notes,
            note_types=others,
        ),
        first=previous.key is None and key_changed_from is None,
        note_types=other_changes,
        has_basic=any(note.note_type == "basic" for note in packaged.notes),
    )


def _other_note_types(
    packaged: PackagedDeck, previous: State, issued: State | None, now: int
) -> tuple[dict[str, Entry], dict[str, NoteTypeChange]]:
    """The reversed and cloze note types: their entries in the new state, and how those the
    deck has change."""
    entries = dict(previous.note_types)
    changes: dict[str, NoteTypeChange] = {}
    for kind in NOTE_TYPES[1:]:
        if any(note.note_type == kind for note in packaged.notes):
            digest = note_type_fingerprint(kind)
            given = issued.note_types.get(kind) if issued is not None else None
            changes[kind], mod = _stamp(entries.get(kind), digest, given, now)
            entries[kind] = Entry(digest, mod)
    return entries, changes


def _other_type(question_id: str, entry: NoteEntry, now_type: str) -> Removed:
    return Removed(question_id, entry.deck, entry.question, now_type, entry.type)


def _stamp(
    old: Entry | None, digest: str, given: Entry | None, now: int
) -> tuple[NoteTypeChange, int]:
    """How a note or note type changes since the state file, and the stamp it gets."""
    if old is None:
        return "added", max(now, _after(given))
    if old.hash == digest and not _newer_elsewhere(given, digest, old.mod):
        return "unchanged", old.mod
    return "changed", max(now, old.mod + 1, _after(given))


def _newer_elsewhere(given: Entry | None, digest: str, mod: int) -> bool:
    """Tell whether the deck file gave Anki other content at ``mod`` or later."""
    return given is not None and given.hash != digest and given.mod >= mod


def _after(given: Entry | None) -> int:
    return 0 if given is None else given.mod + 1


def _renamed(subdeck: str, old_name: str | None, new_name: str) -> str:
    if old_name is not None and subdeck.startswith(f"{old_name}::"):
        return f"{new_name}::{subdeck.removeprefix(f'{old_name}::')}"
    return subdeck


def record_path(output: Path) -> Path:
    """Return where the record of what a deck file was stamped with lives: beside it."""
    name = f".{output.name}.stamps"
    if len(name.encode("utf-8")) > _NAME_MAX:
        digest = hashlib.sha256(output.name.encode("utf-8")).hexdigest()[:32]
        name = f".qa2anki-{digest}.stamps"
    return output.with_name(name)


# The longest file name most file systems take, in bytes.
_NAME_MAX = 255


def read_record(path: Path) -> State | None:
    """Read the record of a deck file's stamps; a missing or damaged one is no record."""
    try:
        return read_state(path)
    except StateError:
        return None


def read_state(path: Path) -> State:
    """Read a state file; a missing one is an empty state, a damaged one a ``StateError``."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return State()
    except (OSError, UnicodeDecodeError) as exc:
        raise StateError(_damaged(f"cannot read it ({_reason(exc)})"), path) from None
    at = _conflict_line(text)
    if at is not None:
        raise StateError(_damaged("it has unresolved merge conflict markers"), path, at)
    try:
        return _parse(json.loads(text))
    except json.JSONDecodeError as exc:
        raise StateError(_damaged(f"it is not valid JSON ({exc.msg})"), path, exc.lineno) from None
    except _Unexpected as exc:
        line: int | None = None
        if exc.question_id is not None:
            found = text.find(f"\n    {_dump(exc.question_id)}:")
            line = text.count("\n", 0, found) + 2 if found >= 0 else None
        raise StateError(_damaged(str(exc)), path, line) from None


_MARKERS = ("<<<<<<<", ">>>>>>>", "=======")


def _conflict_line(text: str) -> int | None:
    """Return the line of the first merge conflict marker in ``text``, if any."""
    for number, line in enumerate(text.split("\n"), start=1):
        if line.startswith(_MARKERS) and line[7:8] in ("", " "):
            return number
    return None


def format_state(state: State) -> str:
    """Return the state file's text: stable, sorted, one question per line."""
    assert state.note_type is not None
    head = {
        "comment": _HEADER,
        "format": FORMAT,
        "key": state.key,
        "deck": state.deck,
        "note_type": {"hash": state.note_type.hash, "mod": state.note_type.mod},
    }
    if state.note_types:
        head["note_types"] = {
            kind: {"hash": entry.hash, "mod": entry.mod}
            for kind, entry in sorted(state.note_types.items())
        }
    lines = ["{", *(f"  {_dump(name)}: {_dump(value)}," for name, value in head.items())]
    lines.append('  "notes": {')
    notes = [
        f"    {_dump(question_id)}: "
        + _dump(
            {"hash": e.hash, "mod": e.mod, "deck": e.deck, "question": e.question}
            | ({} if e.type == "basic" else {"type": e.type})
            | ({"cards": list(e.cards)} if e.cards else {})
        )
        for question_id, e in sorted(state.notes.items())
    ]
    if notes:
        lines.append(",\n".join(notes))
    lines += ["  }", "}"]
    return "\n".join(lines) + "\n"


class _Unexpected(Exception):
    """Content of a state file that is not what qa2anki writes."""

    def __init__(self, message: str, question_id: str | None = None) -> None:
        super().__init__(message)
        self.question_id = question_id


# Times are seconds since the epoch; Anki keeps note ids, which start at a time in
# milliseconds, in 64 bits, and a time after 2106 is no clock's.
_LATEST_TIME = 2**32


def _parse(data: object) -> State:
    """Return the state in a state file's JSON data; ``_Unexpected`` says what is wrong."""
    top = _object(data, "the file")
    if top.get("format") != FORMAT or isinstance(top.get("format"), bool):
        raise _Unexpected(f"format {top.get('format')!r} is not {FORMAT}")
    note_type = _object(top.get("note_type"), "'note_type'")
    notes = {}
    for question_id, value in _object(top.get("notes"), "'notes'").items():
        entry = _object(value, f"note {question_id!r}", question_id)
        kind = entry.get("type", "basic")
        if kind not in NOTE_TYPES:
            raise _Unexpected(
                f"note {question_id!r}: 'type' is not a note type: {kind!r}", question_id
            )
        notes[question_id] = NoteEntry(
            hash=_text(entry, "hash", question_id),
            mod=_time(entry, question_id),
            deck=_text(entry, "deck", question_id),
            question=_text(entry, "question", question_id),
            type=kind,
            cards=_cards(entry, question_id),
        )
    others = {}
    for kind, value in _object(top.get("note_types", {}), "'note_types'").items():
        if kind not in NOTE_TYPES[1:]:
            raise _Unexpected(f"'note_types' has {kind!r}, which is not a note type")
        entry = _object(value, f"note type {kind!r}")
        others[kind] = Entry(hash=_text(entry, "hash"), mod=_time(entry))
    return State(
        key=_text(top, "key"),
        deck=_text(top, "deck"),
        note_type=Entry(hash=_text(note_type, "hash"), mod=_time(note_type)),
        notes=notes,
        note_types=others,
    )


def _cards(entry: dict[str, Any], question_id: str) -> tuple[int, ...]:
    value = entry.get("cards", [])
    if not isinstance(value, list) or not all(
        isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in value
    ):
        raise _Unexpected(
            f"note {question_id!r}: 'cards' is not a list of card numbers: {value!r}", question_id
        )
    return tuple(value)


def _object(value: object, what: str, question_id: str | None = None) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Unexpected(f"{what} is not an object", question_id)
    return value


def _text(entry: dict[str, Any], name: str, question_id: str | None = None) -> str:
    value = entry.get(name)
    if not isinstance(value, str):
        raise _Unexpected(f"{_where(question_id)}'{name}' is not text: {value!r}", question_id)
    return value


def _time(entry: dict[str, Any], question_id: str | None = None) -> int:
    value = entry.get("mod")
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < _LATEST_TIME:
        raise _Unexpected(
            f"{_where(question_id)}'mod' is not a time in seconds: {value!r}", question_id
        )
    return value


def _where(question_id: str | None) -> str:
    return "" if question_id is None else f"note {question_id!r}: "


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
    if plan.note_types:
        kinds = {"basic": plan.note_type} if plan.has_basic else {}
        types = ", ".join(
            f"{kind} {change}" for kind, change in {**kinds, **plan.note_types}.items()
        )
        lines = [f"Since the last build: {', '.join(counts)}; note types: {types}."]
    else:
        lines = [f"Since the last build: {', '.join(counts)}; note type {plan.note_type}."]
    if plan.first:
        lines.append(
            f"No state file yet: every question counts as added. Commit {state_file} "
            "with your sources so that later builds update only what changed."
        )
    if plan.key_changed_from is not None:
        lines.append(
            f"The deck key changed from {plan.key_changed_from!r}: every note has a new GUID, "
            "so Anki adds them all as new notes beside the old ones, which keep their review "
            "history. Change the key back to update the old notes instead."
        )
    if plan.deck_renamed_from is not None:
        lines.append(
            f"The deck was renamed from {plan.deck_renamed_from!r}: Anki keeps the existing "
            f"cards there. Rename that deck to {deck_name!r} in Anki before importing (its "
            "subdecks follow), or new cards go to a second deck."
        )
    if verbose:
        lines.extend(_listed("Added", plan.added))
        lines.extend(_listed("Changed", [q for q in plan.changed if q not in moved]))
    if plan.note_type == "changed" or "changed" in plan.note_types.values():
        lines.append("The note type changed (CSS or templates): Anki updates it in place.")
    for move in plan.moved:
        lines.append(
            f"Moved: {move.id}: {_short(move.from_deck, deck_name)}"
            f" -> {_short(move.to_deck, deck_name)}"
        )
    for source, target, tag in sorted({(m.from_deck, m.to_deck, m.tag) for m in plan.moved}):
        lines += [
            f"  Anki keeps existing cards in their old subdeck. After importing, search Anki's "
            f"browser for those in {_short(source, deck_name)!r}:",
            f"    {_search_term(f'deck:{source}')} {_search_term(f'tag:{tag}')}",
            f"  then select all cards and use Change Deck to move them to {target!r}.",
        ]
    for gone in plan.removed:
        lines.append(f"Removed: {gone.id}: {_one_line(gone.question)}")
        if gone.became is not None:
            lines.append(
                f"  It is now a {gone.became} question: a new note, as a note never changes its "
                f"type in Anki (its reviews stay with the old {gone.note_type} note)."
            )
    lines += [
        f"Emptied: {gone.id}: no deletion is numbered "
        + ", ".join(f"c{number}" for number in gone.cards)
        + " any more. Anki keeps such a card, empty, with its reviews; after importing, "
        "Tools > Empty Cards in Anki deletes it."
        for gone in plan.emptied
    ]
    if plan.removed:
        terms = [_removed_term(gone) for gone in plan.removed]
        ids = " or ".join(f"({t})" if " " in t and len(terms) > 1 else t for t in terms)
        lines += [
            "  Anki keeps the notes of removed questions. To delete them, search in Anki's"
            " browser for",
            f"    {_search_term(f'deck:{deck_name}')} ({ids})",
            "  then select all notes and delete them.",
        ]
    return lines


def _removed_term(gone: Removed) -> str:
    """The search for a removed note; for one whose question has a new type, its old type's
    note only."""
    term = _search_term(f"Id:{gone.id}")
    if gone.became is None:
        return term
    return f"{_search_term('note:' + NOTE_TYPE_SPECS[gone.note_type].name)} {term}"


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
