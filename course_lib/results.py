"""Headline numbers of each notebook, one JSON file per notebook and profile.

``results/<profile>/<notebook>.json`` = {"notebook", "profile", "seed", "seconds", "capped", "metrics": {name: number}}
where "capped" names the training runs that stopped at their time budget (their numbers are of a shorter run).
The scoreboard and the README tables are built from these files, never typed in by hand.
``results/<profile>/seeds/<notebook>.json`` holds the same notebook's runs on other pretraining seeds
(``python -m course_lib.results seeds NN``, see ``course_lib.seeds``).
"""

from __future__ import annotations

import json
import math
import numbers
from pathlib import Path

from course_lib import config


def _number(name: str, value) -> float:
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not math.isfinite(value):
        raise ValueError(f"metric {name!r} must be a finite number, got {value!r}")
    return float(value)


def record(notebook: str, metrics: dict[str, float], *, profile: str | None = None, seed: int | None = None,
           seconds: float | None = None, capped: list[str] | tuple[str, ...] = (), root: Path | None = None,
           draws: dict[str, list[float]] | None = None) -> Path:
    """Write one notebook's metrics; return the file written. Numbers only, and finite; ``capped``: the names of
    the runs that stopped at their time budget (``History.capped``); ``draws``: for some metrics, the number of each
    labelled draw behind their mean, in draw order (the same draws for every row: a paired test needs them)."""
    clean = {name: _number(name, value) for name, value in metrics.items()}
    profile = profile or config.profile_name()
    path = (root or config.results_root()) / profile / f"{Path(notebook).stem}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    entry = {"notebook": Path(notebook).stem, "profile": profile,
             "seed": config.seed() if seed is None else seed,
             "seconds": None if seconds is None else round(seconds, 1), "capped": sorted(capped),
             "metrics": clean}
    if draws:
        entry["draws"] = {name: [_number(name, v) for v in values] for name, values in draws.items()}
    path.write_text(json.dumps(entry, indent=2) + "\n")
    return path


HALF_PRECISION = 0.01  # shipped weights are float16: that moves a number by well under 1 % of itself
NO_SPREAD = 0.02  # the tolerance of a metric recorded without a spread of its own, relative to its value


def tolerance(committed: dict[str, float], now: dict[str, float], name: str) -> float:
    """How far a pretrained-mode run's metric may lie from the committed one: twice its own spread of label draws
    (``<name>_std``, the larger of the two runs'), at least ``HALF_PRECISION`` of its value; a metric without a
    spread of its own (one draw, or a number no label draw moves: a recall fraction, a reconstruction error) gets
    ``NO_SPREAD`` of its value, whatever its unit -- never another metric's spread."""
    own = [metrics[f"{name}_std"] for metrics in (committed, now) if f"{name}_std" in metrics]
    if own:
        return max(2 * max(own), HALF_PRECISION * abs(committed[name]))
    return NO_SPREAD * abs(committed[name])


def disagreements(committed: dict[str, float], now: dict[str, float]) -> list[str]:
    """How ``now`` (a pretrained-mode run) differs from the ``committed`` metrics of the same notebook by more than
    each metric's ``tolerance``: one line per metric."""
    lines = []
    for name, value in now.items():
        if name.endswith("_std") or name not in committed:
            continue
        allowed = tolerance(committed, now, name)
        if abs(value - committed[name]) > allowed + 1e-9:
            lines.append(f"{name}: {value:.4g} now, {committed[name]:.4g} committed (allowed ± {allowed:.3g})")
    return lines


def load(profile: str | None = None, root: Path | None = None) -> dict[str, dict]:
    """All recorded notebooks of a profile: {notebook: entry}."""
    folder = (root or config.results_root()) / (profile or config.profile_name())
    return {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}


def markdown_table(profile: str | None = None, root: Path | None = None) -> str:
    """The recorded headline numbers of a profile as a markdown table (for the README and the scoreboard)."""
    rows = ["| notebook | seed | seconds | stopped at the time cap | metric | value |", "|---|---|---|---|---|---|"]
    for name, entry in load(profile, root).items():
        capped = ", ".join(entry.get("capped", [])) or "-"
        for i, (metric, value) in enumerate(entry["metrics"].items()):
            head = (name, entry["seed"], entry["seconds"], capped) if i == 0 else ("", "", "", "")
            rows.append(f"| {head[0]} | {head[1]} | {head[2]} | {head[3]} | `{metric}` | {value:.4g} |")
    return "\n".join(rows)


BEGIN, END = "<!-- results:{profile} begin (python -m course_lib.results --readme) -->", "<!-- results end -->"


def update_readme(readme: Path, profile: str = "lab", root: Path | None = None) -> None:
    """Replace the README's generated results block with the numbers in results/<profile>/."""
    text = readme.read_text()
    begin = BEGIN.format(profile=profile)
    if begin not in text or END not in text:
        raise ValueError(f"{readme} has no block between {begin!r} and {END!r}")
    head, rest = text.split(begin, 1)
    tail = rest.split(END, 1)[1]
    readme.write_text(f"{head}{begin}\n{markdown_table(profile, root)}\n{END}{tail}")


if __name__ == "__main__":
    import argparse
    import sys

    if sys.argv[1:2] == ["seeds"]:  # python -m course_lib.results seeds 05 --seeds 1 2 (see course_lib.seeds)
        from course_lib import seeds

        raise SystemExit(seeds.main(sys.argv[2:]))
    parser = argparse.ArgumentParser(prog="python -m course_lib.results", description="recorded headline numbers")
    parser.add_argument("profile", nargs="?", default="lab", choices=config.PROFILE_NAMES)
    parser.add_argument("--readme", action="store_true", help="rewrite the results block of the course README")
    args = parser.parse_args()
    if args.readme:
        update_readme(config.REPO_ROOT / "README.md", args.profile)
    print(markdown_table(args.profile))
