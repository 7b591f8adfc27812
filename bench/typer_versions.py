"""Time qa2anki's start-up and a small build under two (or more) Typer releases, interleaved.

Each ``--venv NAME=DIR`` is a virtual environment with qa2anki installed (not in editable
mode) and the Typer release to compare; bench/README.md says how they are made.  For each,
this times ``import argparse`` (for comparison) and ``import typer`` alone, ``qa2anki
--help``, ``qa2anki --version``, and builds of a copy of the shipped deck (``questions/``, 100
questions): with its render cache in place and nothing changed (every build after the
first), and without the cache.  The environments' runs alternate, each going first on every
other run; the table shows medians.

    python bench/typer_versions.py --venv 0.28=/tmp/venv-typer28 --venv 0.29=/tmp/venv-typer29
"""

from __future__ import annotations

import argparse
import shutil
import statistics
from pathlib import Path

from run import ROOT, WORK, Sample, measure, median


def cases(venv: Path, work: Path) -> dict[str, list[str]]:
    qa2anki = str(venv / "bin" / "qa2anki")
    build = [qa2anki, "build", str(work / "questions"), "-o", "deck.apkg", "--quiet"]
    return {
        # What the interpreter and a parser cost without Typer, for comparison.
        "`import argparse`": [str(venv / "bin" / "python"), "-c", "import argparse"],
        "`import typer`": [str(venv / "bin" / "python"), "-c", "import typer"],
        "`qa2anki --help`": [qa2anki, "--help"],
        "`qa2anki --version`": [qa2anki, "--version"],
        "shipped deck (100 questions), cache in place": build,
        "shipped deck, no render cache": build,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", action="append", required=True, metavar="NAME=DIR")
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    venvs = {name: Path(path) for name, path in (v.split("=", 1) for v in args.venv)}
    works = {}
    for name in venvs:  # a copy of the sources each: the state file is in them
        works[name] = WORK / "typer" / name
        shutil.rmtree(works[name], ignore_errors=True)
        shutil.copytree(ROOT / "questions", works[name] / "questions")
    commands = {name: cases(venv, works[name]) for name, venv in venvs.items()}
    names = list(next(iter(commands.values())))
    samples: dict[str, dict[str, list[Sample]]] = {
        case: {venv: [] for venv in venvs} for case in names
    }
    order = list(venvs)
    for run in range(-1, args.runs):  # run -1 warms the file system cache, and is not kept
        for case in names:
            if case.endswith("no render cache"):
                for work in works.values():
                    shutil.rmtree(work / "build", ignore_errors=True)
            start = max(run, 0) % len(order)  # each environment first on every other run
            for venv in order[start:] + order[:start]:
                sample = measure(commands[venv][case], works[venv])
                if run >= 0:
                    samples[case][venv].append(sample)
    first, *others = venvs
    header = ["case", *(f"Typer {v} s" for v in venvs), *(f"{v} - {first}" for v in others)]
    print("| " + " | ".join([*header, f"MB ({' / '.join(venvs)})", "runs"]) + " |")
    print("|" + "---|" * (len(header) + 2))
    for case in names:
        row = samples[case]
        times = [median(row[v]) for v in venvs]
        deltas = [f"{t - times[0]:+.3f} s" for t in times[1:]]
        memory = " / ".join(f"{max(s.rss_mb for s in row[v]):.0f}" for v in venvs)
        cells = [case, *(f"{t:.3f}" for t in times), *deltas, memory, str(args.runs)]
        print("| " + " | ".join(cells) + " |")
    spread = {v: statistics.pstdev(s.seconds for s in samples[names[2]][v]) for v in venvs}
    print(
        f"\nStandard deviation of {names[2]}: "
        + ", ".join(f"{v}: {s:.3f} s" for v, s in spread.items())
    )


if __name__ == "__main__":
    main()
