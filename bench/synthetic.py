"""Write a deterministic synthetic source folder: N questions over 20 topics.

Lengths follow the shipped deck (questions of about 50 characters and answers of about 110 on
average: a sentence or two with inline code and emphasis, sometimes a list); about one answer
in ten has a fenced code block in one of several languages, 3-10 lines long.  The same N
always gives the same bytes.
"""

from __future__ import annotations

import random
import sys
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


def block(text: str, indent: str) -> str:
    return "|\n" + "\n".join(f"{indent}{line}" if line else "" for line in text.split("\n"))


def generate(target: Path, count: int) -> None:
    """Write ``count`` questions into ``target`` (created; existing topic files are replaced)."""
    rng = random.Random(f"{SEED}-{count}")
    target.mkdir(parents=True, exist_ok=True)
    (target / "deck.yaml").write_text(
        f"key: bench-{count}\nname: Bench {count}\n"
        "description: Synthetic questions for `make bench`.\n",
        encoding="utf-8",
    )
    per_topic = [count // TOPICS + (1 if t < count % TOPICS else 0) for t in range(TOPICS)]
    number = 0
    for topic, size in enumerate(per_topic, start=1):
        lines = [f"topic: Topic {topic:02d}", f"tags: [bench-{topic % 5}]", "questions:"]
        for _ in range(size):
            number += 1
            question = sentence(rng, 4, 9).rstrip(".") + "?"
            lines += [
                f"  - id: q{number:06d}",
                f"    q: {block(question, '      ')}",
                f"    a: {block(answer(rng), '      ')}",
                "",
            ]
        path = target / f"{topic:02d}-topic-{topic:02d}.yaml"
        path.write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    generate(Path(sys.argv[1]), int(sys.argv[2]))
