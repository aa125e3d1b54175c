"""Headline numbers of each notebook, one JSON file per notebook and profile.

``results/<profile>/<notebook>.json`` = {"notebook", "profile", "seed", "seconds", "metrics": {name: number}}.
The scoreboard and the README tables are built from these files, never typed in by hand.
"""

from __future__ import annotations

import json
import math
import numbers
from pathlib import Path

from course_lib import config


def record(notebook: str, metrics: dict[str, float], *, profile: str | None = None, seed: int | None = None,
           seconds: float | None = None, root: Path | None = None) -> Path:
    """Write one notebook's metrics; return the file written. Numbers only, and finite."""
    clean = {}
    for name, value in metrics.items():
        if not isinstance(value, numbers.Real) or isinstance(value, bool) or not math.isfinite(value):
            raise ValueError(f"metric {name!r} must be a finite number, got {value!r}")
        clean[name] = float(value)
    profile = profile or config.profile_name()
    path = (root or config.results_root()) / profile / f"{Path(notebook).stem}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    entry = {"notebook": Path(notebook).stem, "profile": profile,
             "seed": config.seed() if seed is None else seed,
             "seconds": None if seconds is None else round(seconds, 1), "metrics": clean}
    path.write_text(json.dumps(entry, indent=2) + "\n")
    return path


def load(profile: str | None = None, root: Path | None = None) -> dict[str, dict]:
    """All recorded notebooks of a profile: {notebook: entry}."""
    folder = (root or config.results_root()) / (profile or config.profile_name())
    return {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}
