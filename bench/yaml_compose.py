"""Time composing the synthetic topic files with libyaml against PyYAML's pure-Python composer.

qa2anki keeps one fast path: it composes YAML with libyaml (``yaml.CSafeLoader``) and falls
back to the pure-Python composer (``yaml.SafeLoader``) for errors.  This measures what that
saves, in one process: each size's 20 topic files are composed from text already in memory
(no reading, no loading into Python objects, no checks), alternately with each loader; the
table shows the median of the runs.

    python bench/yaml_compose.py [--sizes 1000,10000] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import synthetic
import yaml

Loader = type[yaml.SafeLoader] | type[yaml.CSafeLoader]


def compose_all(texts: list[str], loader: Loader) -> float:
    """Compose every text with ``loader``; return the seconds that took."""
    start = time.perf_counter()
    for text in texts:
        yaml.compose(text, Loader=loader)
    return time.perf_counter() - start


def table(sizes: list[int], runs: int) -> list[str]:
    """The Markdown table: one row per size."""
    if not yaml.__with_libyaml__:
        raise SystemExit("this PyYAML was built without libyaml: nothing to compare")
    rows = [
        "| questions | pure Python (SafeLoader) s | libyaml (CSafeLoader) s | libyaml's speed-up "
        "| saved s | runs |",
        "|---|---|---|---|---|---|",
    ]
    for count in sizes:
        texts = [synthetic.yaml_text(topic) for topic in synthetic.topics(count)]
        fast: list[float] = []
        slow: list[float] = []
        for run in range(runs):  # interleaved, and each loader first on every other run
            pair: list[tuple[Loader, list[float]]] = [
                (yaml.CSafeLoader, fast),
                (yaml.SafeLoader, slow),
            ]
            for loader, samples in pair if run % 2 == 0 else reversed(pair):
                samples.append(compose_all(texts, loader))
        c, py = statistics.median(fast), statistics.median(slow)
        rows.append(f"| {count:,} | {py:.3f} | {c:.3f} | {py / c:.1f}x | {py - c:.2f} | {runs} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print("\n".join(table([int(size) for size in args.sizes.split(",")], args.runs)))


if __name__ == "__main__":
    main()
