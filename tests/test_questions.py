"""The shipped questions/ carry the 100 seed questions faithfully."""

from __future__ import annotations

import re
import textwrap

from conftest import FIXTURES, QUESTIONS
from qa2anki.loader import load_deck

SEED = FIXTURES / "seed" / "interview-qa-100.md"


def seed_sections() -> list[tuple[str, list[tuple[str, str]]]]:
    """Read the seed document: [(topic, [(question, answer markdown)])]."""
    text = SEED.read_text(encoding="utf-8").split("### Next Steps")[0]
    sections = []
    for block in re.split(r"^## ", text, flags=re.MULTILINE)[1:]:
        heading, body = block.split("\n", 1)
        topic = re.fullmatch(r"\d+\u2013\d+: \*\*(.+)\*\*", heading.strip())
        assert topic, heading
        items = re.split(r"^\d+\. ", body.split("\n---")[0], flags=re.MULTILINE)[1:]
        questions = []
        for item in items:
            match = re.fullmatch(r"\*\*Q\*\*: (.+?)\s*\n\s*\*\*A\*\*:(.*)", item.strip(), re.DOTALL)
            assert match, item
            first, _, rest = match[2].partition("\n")
            answer = first.strip() if first.strip() else textwrap.dedent(rest)
            questions.append(
                (match[1], "\n".join(line.rstrip() for line in answer.strip().splitlines()))
            )
        sections.append((topic[1], questions))
    return sections


def test_seed_has_100_questions_in_10_sections() -> None:
    sections = seed_sections()

    assert len(sections) == 10
    assert [len(questions) for _, questions in sections] == [10] * 10


def test_questions_match_the_seed_word_for_word() -> None:
    deck = load_deck(QUESTIONS)

    shipped = [(topic.name, [(q.q, q.a) for q in topic.questions]) for topic in deck.topics]
    assert shipped == seed_sections()


def test_code_answers_are_fenced_with_their_language() -> None:
    deck = load_deck(QUESTIONS)

    fences = {
        question.id: re.findall(r"^```(\w*)$", question.a, re.MULTILINE)
        for topic in deck.topics
        for question in topic.questions
        if "```" in question.a
    }
    assert fences == {
        "simple-class": ["python", ""],
        "fastapi-endpoint": ["python", ""],
        "fastapi-middleware": ["python", ""],
        "dockerfile-basics": ["dockerfile", ""],
    }


def test_ids_are_meaningful_slugs() -> None:
    ids = [q.id for topic in load_deck(QUESTIONS).topics for q in topic.questions]

    assert len(set(ids)) == 100
    assert not [qid for qid in ids if qid.isdigit() or re.fullmatch(r"q-?\d+", qid)]
