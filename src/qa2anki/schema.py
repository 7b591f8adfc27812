"""JSON Schemas of ``deck.yaml`` and of topic files, for editors that complete and check YAML.

They are made from the loader's own rules (its keys, slug and tag patterns, limits), so they
cannot drift from what ``qa2anki check`` accepts.  A schema says less than the loader: it
cannot see other files (duplicate ids, topic names) or Markdown (images).
"""

from __future__ import annotations

import json
from typing import Any, Literal

from qa2anki.loader import (
    CONTROL_CHARACTERS,
    DECK_KEYS,
    QUESTION_KEYS,
    SLUG_MAX,
    SLUG_RE,
    TAG_RE,
    TOPIC_KEYS,
)
from qa2anki.model import NOTE_TYPES

Kind = Literal["deck", "topic"]
KINDS: tuple[Kind, ...] = ("deck", "topic")
DIALECT = "https://json-schema.org/draft/2020-12/schema"

# YAML reads "yes" or "0123" as a boolean or a number; qa2anki reads every value as the text
# that was typed, so any scalar is text.
_SCALAR = ["string", "number", "integer", "boolean"]
_NO_CONTROL = f"^[^{CONTROL_CHARACTERS}]*$"


def schema(kind: Kind) -> dict[str, Any]:
    """Return the JSON Schema of ``deck.yaml`` (``"deck"``) or of a topic file (``"topic"``)."""
    if kind == "deck":
        return _document(
            "qa2anki deck.yaml",
            "The deck: its key, name and description.",
            DECK_KEYS,
            {
                "key": _slug("The deck's key: it namespaces every note's id; never change it."),
                "name": _text(
                    "The deck's name in Anki; '::' makes it a subdeck of another.",
                    single_line=True,
                    pattern=r"^(?!(.*::)?\s*(::|$))",
                ),
                "description": _text(
                    "Markdown shown on the deck's overview screen in Anki.", optional=True
                ),
            },
        )
    properties = {
        "id": _slug("The question's id, unique in the deck: it makes the note's GUID."),
        "q": _text("The question, in Markdown."),
        "a": _text("The answer, in Markdown."),
        "tags": _tags("Tags for this question only."),
        "type": _note_type("The question's note type; by default the topic's."),
        "text": _text("A cloze question's text, in Markdown, with {{c1::deletions}}."),
        "extra": _text("A cloze question's extra text, shown on the back.", optional=True),
    }
    if list(properties) != list(QUESTION_KEYS):
        raise AssertionError(f"the schema's keys {list(properties)} are not the loader's")
    question = {
        "type": "object",
        "description": "A question: its id, the question and the answer (or a cloze text).",
        "required": ["id"],
        "additionalProperties": False,
        "properties": properties,
        # q and a, or a cloze's text (and extra); which, the type says (the loader checks it).
        "oneOf": [{"required": ["q", "a"]}, {"required": ["text"]}],
        "not": {
            "anyOf": [
                {"required": [one, other]} for one in ("q", "a") for other in ("text", "extra")
            ]
        },
    }
    return _document(
        "qa2anki topic file",
        "A topic: one subdeck of the deck, and one tag.",
        TOPIC_KEYS,
        {
            "topic": _text(
                "The topic's name: its subdeck in Anki.",
                single_line=True,
                pattern="^(?!.*::)",
            ),
            "questions": {
                "type": "array",
                "description": "The topic's questions, in the order new cards come.",
                "minItems": 1,
                "items": question,
            },
            "tags": _tags("Tags for every question of the topic."),
            "type": _note_type("The note type of the topic's questions; by default basic."),
        },
    )


def schema_json(kind: Kind) -> str:
    """Return the schema as the JSON text ``qa2anki schema`` prints and ``new`` writes."""
    return json.dumps(schema(kind), indent=2, ensure_ascii=False) + "\n"


def _document(
    title: str, description: str, keys: tuple[str, ...], properties: dict[str, Any]
) -> dict[str, Any]:
    if list(properties) != list(keys):
        raise AssertionError(f"the schema's keys {list(properties)} are not the loader's {keys}")
    return {
        "$schema": DIALECT,
        "title": title,
        "description": description,
        "type": "object",
        "required": list(keys[:2]),
        "additionalProperties": False,
        "properties": properties,
    }


def _slug(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "type": ["string", "integer", "boolean"],  # YAML's true is the text "true"
        "pattern": f"^{SLUG_RE.pattern}$",
        "maxLength": SLUG_MAX,
        "minimum": 0,
    }


def _text(
    description: str, *, single_line: bool = False, pattern: str = "", optional: bool = False
) -> dict[str, Any]:
    """Text; an ``optional`` one may be empty or null (left out)."""
    patterns = ([] if optional else [r"\S"]) + [_NO_CONTROL]
    patterns += [r"^[^\n]*$"] if single_line else []
    patterns += [pattern] if pattern else []
    return {
        "description": description,
        "type": [*_SCALAR, "null"] if optional else _SCALAR,
        "allOf": [{"pattern": each} for each in patterns],
    }


def _note_type(description: str) -> dict[str, Any]:
    return {"description": description, "enum": list(NOTE_TYPES)}


def _tags(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "type": ["array", "null"],
        "items": {"type": _SCALAR, "pattern": _TAG_PATTERN},
    }


# The loader's TAG_RE, written so that editors' JavaScript reads it too (with the "u" flag,
# an escaped quote is an error).
_TAG_PATTERN = "^" + TAG_RE.pattern.replace('\\"', '"') + "$"
