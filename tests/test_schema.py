"""The JSON Schemas of deck.yaml and topic files: they accept what the loader accepts and reject
what they can express of what it refuses."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from conftest import INVALID, QUESTIONS
from qa2anki.loader import DECK_FILE, DECK_KEYS, QUESTION_KEYS, TOPIC_KEYS
from qa2anki.schema import KINDS, Kind, schema, schema_json

# Fixture folders whose problems a schema can say (a key, a type, a pattern, an empty text).
# The others are about several files, the file's name, its bytes or YAML itself.
EXPRESSIBLE = [
    "bad-deck",
    "bad-id",
    "bad-names",
    "control-characters",
    "empty-topic",
    "missing-answer",
    "nested-tags",
    "numbers",
    "unknown-key",
    "wrong-types",
]


def validator(kind: Kind) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema(kind))


def kind_of(path: Path) -> Kind:
    return "deck" if path.name == DECK_FILE else "topic"


def read_yaml(path: Path) -> Any:
    """The file as an editor's YAML reader gives it to a schema."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("kind", KINDS)
def test_each_schema_is_a_valid_json_schema_of_the_loaders_keys(kind: Kind) -> None:
    jsonschema.Draft202012Validator.check_schema(schema(kind))
    document = schema(kind)
    keys = DECK_KEYS if kind == "deck" else TOPIC_KEYS
    assert tuple(document["properties"]) == keys
    assert document["required"] == list(keys[:2])
    assert json.loads(schema_json(kind)) == document
    if kind == "topic":
        question = document["properties"]["questions"]["items"]
        assert tuple(question["properties"]) == QUESTION_KEYS


def test_the_shipped_questions_are_valid() -> None:
    for path in sorted(QUESTIONS.glob("*.yaml")):
        assert list(validator(kind_of(path)).iter_errors(read_yaml(path))) == [], path


@pytest.mark.parametrize("case", EXPRESSIBLE)
def test_every_file_the_loader_refuses_for_its_content_is_refused(case: str) -> None:
    expected = (INVALID / case / "expected.txt").read_text(encoding="utf-8")
    refused_by_loader = set(re.findall(r"^[^/]+/([^:]+?)(?::\d+)?: ", expected, re.MULTILINE))
    refused = set()
    for path in sorted((INVALID / case).iterdir()):
        if path.suffix not in (".yaml", ".yml"):
            continue
        try:
            data = read_yaml(path)
        except yaml.YAMLError:
            continue  # not YAML at all: no schema is asked
        if list(validator(kind_of(path)).iter_errors(data)):
            refused.add(path.name)
    parsed = {name for name in refused_by_loader if _parses(INVALID / case / name)}
    assert refused == parsed


def _parses(path: Path) -> bool:
    try:
        read_yaml(path)
    except yaml.YAMLError:
        return False
    return True


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        ("deck", {"key": "k", "name": "A::::B"}),
        ("deck", {"key": "k", "name": "Two\nlines"}),
        ("deck", {"key": "K", "name": "N"}),
        ("deck", {"key": "k" * 65, "name": "N"}),
        ("topic", {"topic": "A::B", "questions": [{"id": "x", "q": "Q", "a": "A"}]}),
        ("topic", {"topic": "T", "questions": [{"id": "x", "q": " ", "a": "A"}]}),
        ("topic", {"topic": "T", "questions": [{"id": "x", "q": "Q", "a": "A", "tags": ["a b"]}]}),
    ],
)
def test_rules_of_single_values_are_in_the_schema(kind: Kind, data: dict[str, Any]) -> None:
    assert list(validator(kind).iter_errors(data))


def test_values_yaml_reads_as_numbers_or_booleans_are_text() -> None:
    data = {"topic": 42, "questions": [{"id": 7, "q": 1.5, "a": True, "tags": [2024]}]}

    assert list(validator("topic").iter_errors(data)) == []
    assert (
        list(validator("topic").iter_errors({**data, "questions": [{"id": True, "q": 1, "a": 2}]}))
        == []
    )


def test_what_may_be_left_empty_may_be_empty_in_the_schema_too() -> None:
    assert list(validator("deck").iter_errors({"key": "k", "name": "N", "description": ""})) == []
    assert list(validator("deck").iter_errors({"key": "k", "name": "N", "description": None})) == []
    topic = {
        "topic": "T",
        "tags": None,
        "questions": [{"id": "x", "q": "Q", "a": "A", "tags": None}],
    }
    assert list(validator("topic").iter_errors(topic)) == []


def patterns(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["pattern"]] if isinstance(node.get("pattern"), str) else []
        return found + [p for value in node.values() for p in patterns(value)]
    if isinstance(node, list):
        return [p for value in node for p in patterns(value)]
    return []


@pytest.mark.parametrize("kind", KINDS)
def test_every_pattern_reads_the_same_in_an_editors_javascript(kind: Kind) -> None:
    """Editors compile patterns as JavaScript regular expressions with the "u" flag, where an
    escape that means nothing (such as \\") is an error: only \\s, \\S, \\n and \\xHH are used."""
    found = patterns(schema(kind))

    assert found
    for pattern in found:
        escapes = re.findall(r"\\(x[0-9a-f]{2}|.)", pattern)
        assert {e if not e.startswith("x") else "x" for e in escapes} <= {"s", "S", "n", "x"}, (
            pattern
        )


@pytest.mark.parametrize(
    "question",
    [
        {"id": "x", "type": "cloze", "text": "A {{c1::b}}"},
        {"id": "x", "type": "cloze", "text": "A {{c1::b}}", "extra": "E"},
        {"id": "x", "type": "reversed", "q": "Q", "a": "A"},
        {"id": "x", "text": "A {{c1::b}}"},  # in a topic whose type is cloze
    ],
)
def test_questions_of_every_type_are_valid(question: dict[str, Any]) -> None:
    topic = {"topic": "T", "type": "cloze", "questions": [question]}

    assert list(validator("topic").iter_errors(topic)) == []


@pytest.mark.parametrize(
    "question",
    [
        {"id": "x", "type": "clozed", "text": "A {{c1::b}}"},
        {"id": "x", "q": "Q", "a": "A", "text": "T"},
        {"id": "x", "q": "Q", "extra": "E"},
        {"id": "x", "extra": "E"},
    ],
)
def test_a_question_of_no_type_or_of_two_is_refused(question: dict[str, Any]) -> None:
    topic = {"topic": "T", "questions": [question]}

    assert list(validator("topic").iter_errors(topic))
