"""Deterministic synthetic questions, N over 20 topics, as qa2anki YAML or ankdown Markdown.

Lengths follow the shipped deck (questions of about 50 characters and answers of about 110 on
average: a sentence or two with inline code and emphasis, sometimes a list); about one answer
in ten has a fenced code block in one of several languages, 3-10 lines long.  The same N
always gives the same bytes.  Both writers get the same question and answer Markdown, so
qa2anki and ankdown are given identical text: qa2anki one YAML file per topic, ankdown one
folder per topic (ankdown names a note's deck after the folder its file is in) holding one
Markdown file.

    python bench/synthetic.py TARGET COUNT [--ankdown]
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass, replace
from pathlib import Path

TOPICS = 20
SEED = 6
_VOCABULARY = """
    request response cache database index query transaction thread process queue worker
    service endpoint client server token session schema migration container image cluster
    deployment replica handler middleware decorator generator iterator coroutine event
    loop lock mutex pool connection timeout retry backoff payload header status route
    model field validation serializer logging metrics trace latency throughput memory
    garbage collector module package import dependency version interface contract
    idempotent stateless
"""
WORDS = tuple(_VOCABULARY.split())
IDENTIFIERS = ("user", "order", "item", "total", "config", "result", "payload", "conn", "rows")
LANGUAGES = ("python", "sql", "bash", "yaml", "javascript", "dockerfile", "go", "json")


def sentence(rng: random.Random, low: int, high: int) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(low, high))]
    if rng.random() < 0.5:
        words[rng.randrange(len(words))] = f"`{rng.choice(IDENTIFIERS)}()`"
    if rng.random() < 0.3:
        spot = rng.randrange(len(words))
        words[spot] = f"**{words[spot]}**"
    return " ".join(words).capitalize() + "."


def code_block(rng: random.Random) -> str:
    language = rng.choice(LANGUAGES)
    lines = []
    for _ in range(rng.randint(3, 10)):
        name, other = rng.choice(IDENTIFIERS), rng.choice(IDENTIFIERS)
        number = rng.randint(0, 999)
        lines.append(
            {
                "python": f"    {name} = fetch_{other}({number}, retry=True)  # {other}",
                "sql": f"SELECT {name}, COUNT(*) FROM {other} WHERE id > {number} GROUP BY {name};",
                "bash": f'curl -s "https://api.example.com/{name}/{number}" | jq .{other}',
                "yaml": f"{name}:\n  {other}: {number}\n  enabled: true",
                "javascript": f"const {name} = await fetch(`/{other}/{number}`).then(r => r.ok);",
                "dockerfile": f"RUN pip install {rng.choice(WORDS)}=={number % 10}.{number % 7}",
                "go": f"\t{name}, err := client.Get{other.title()}(ctx, {number})",
                "json": f'{{"{name}": {number}, "{other}": "{rng.choice(WORDS)}"}}',
            }[language]
        )
    if language == "python":
        lines.insert(0, f"def handle_{rng.choice(IDENTIFIERS)}(request):")
    return f"```{language}\n" + "\n".join(lines) + "\n```"


def answer(rng: random.Random) -> str:
    parts = [" ".join(sentence(rng, 5, 12) for _ in range(rng.randint(1, 2)))]
    if rng.random() < 0.10:
        parts.append("\n".join(f"- {sentence(rng, 3, 8)}" for _ in range(rng.randint(2, 4))))
    if rng.random() < 0.10:
        parts.append(code_block(rng))
    return "\n\n".join(parts)


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answer: str


@dataclass(frozen=True)
class Topic:
    number: int
    name: str
    tags: tuple[str, ...]
    questions: tuple[Question, ...]

    @property
    def stem(self) -> str:
        return f"{self.number:02d}-topic-{self.number:02d}"


def topics(count: int) -> list[Topic]:
    """The ``count`` questions, split over ``TOPICS`` topics (the same every time)."""
    rng = random.Random(f"{SEED}-{count}")
    per_topic = [count // TOPICS + (1 if t < count % TOPICS else 0) for t in range(TOPICS)]
    result, number = [], 0
    for topic, size in enumerate(per_topic, start=1):
        questions = []
        for _ in range(size):
            number += 1
            question = sentence(rng, 4, 9).rstrip(".") + "?"
            questions.append(Question(f"q{number:06d}", question, answer(rng)))
        result.append(Topic(topic, f"Topic {topic:02d}", (f"bench-{topic % 5}",), tuple(questions)))
    return result


def edited(topic: Topic, run: int) -> Topic:
    """``topic`` with its first answer changed, differently for every ``run``."""
    first, *rest = topic.questions
    return replace(topic, questions=(replace(first, answer=f"Edited {run}. {first.answer}"), *rest))


def block(text: str, indent: str) -> str:
    return "|\n" + "\n".join(f"{indent}{line}" if line else "" for line in text.split("\n"))


def yaml_text(topic: Topic) -> str:
    """The topic's qa2anki YAML file."""
    lines = [f"topic: {topic.name}", f"tags: [{', '.join(topic.tags)}]", "questions:"]
    for q in topic.questions:
        lines += [
            f"  - id: {q.id}",
            f"    q: {block(q.question, '      ')}",
            f"    a: {block(q.answer, '      ')}",
            "",
        ]
    return "\n".join(lines)


def write_yaml_topic(target: Path, topic: Topic) -> None:
    (target / f"{topic.stem}.yaml").write_text(yaml_text(topic), encoding="utf-8")


def write_yaml(target: Path, count: int, deck: list[Topic]) -> None:
    """qa2anki's sources: ``deck.yaml`` and one YAML file per topic, in ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    (target / "deck.yaml").write_text(
        f"key: bench-{count}\nname: Bench {count}\n"
        "description: Synthetic questions for `make bench`.\n",
        encoding="utf-8",
    )
    for topic in deck:
        write_yaml_topic(target, topic)


def write_markdown_topic(target: Path, topic: Topic) -> None:
    """One ankdown file: front ``%`` back ``%`` tags, cards separated by ``---`` lines."""
    cards = [
        f"{q.question}\n\n%\n\n{q.answer}\n\n%\n\n{', '.join(topic.tags)}\n"
        for q in topic.questions
    ]
    text = "\n---\n\n".join(cards)
    # ankdown splits at every line that is `%` or `---` once stripped, even in a code block.
    fields = sum(1 for line in text.split("\n") if line.strip() in {"%", "---"})
    assert fields == max(3 * len(cards) - 1, 0), f"a separator line in {topic.name}'s text"
    folder = target / topic.name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{topic.stem}.md").write_text(text, encoding="utf-8")


def write_markdown(target: Path, deck: list[Topic]) -> None:
    """ankdown's sources: one folder per topic, named after it, with one Markdown file."""
    for topic in deck:
        write_markdown_topic(target, topic)


def generate(target: Path, count: int) -> None:
    """Write ``count`` questions into ``target`` (created; existing topic files are replaced)."""
    write_yaml(target, count, topics(count))


if __name__ == "__main__":
    if sys.argv[3:] == ["--ankdown"]:
        write_markdown(Path(sys.argv[1]), topics(int(sys.argv[2])))
    else:
        generate(Path(sys.argv[1]), int(sys.argv[2]))
