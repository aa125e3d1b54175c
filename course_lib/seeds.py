"""Verdicts over pretraining seeds: every ordering a notebook states, measured on several trained networks.

A ± over labelled draws says which labels were drawn; which network was trained moves a number far more. So each
notebook's orderings ("contrastive beats random init") are measured on pretraining seeds 0, 1 and 2 and shown as
paired per-seed differences with a verdict in words. The per-seed numbers come from one command:

    python -m course_lib.results seeds 05 [07 ...] [--seeds 1 2] [--profile lab]

It runs the notebook itself once per seed (headless, ``COURSE_SEED=<seed>``, its numbers into a scratch folder,
claims reported instead of raised so that every run reaches the end) and writes
``results/<profile>/seeds/NN_name.json``: per seed, the numbers the notebook records and every claim it checked,
held or not. The notebook's own recorded run (``results/<profile>/NN_name.json``, seed 0) is the table's row of its
seed unless the file holds that seed too, so ``--seeds 1 2`` beside the committed lab run makes seeds 0, 1 and 2
without training seed 0 twice. ``--further`` writes seeds beyond the table's to ``results/<profile>/seeds/further/``
instead (a check that an asserted claim holds on seeds a student might pick); no table reads that file.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from course_lib import config, results

COMMAND = "python -m course_lib.results seeds"
DEFAULT_SEEDS = (1, 2)  # beside the notebook's own run, seed 0
SIGN_TEST_LEVEL = 0.05  # a "holds" over seeds must also hold on the shared draws at least this clearly


@dataclass(frozen=True)
class Ordering:
    """One ordering a notebook states, on the metrics it records: ``better`` beats ``than``. A tuple on the left
    means every one of them (the weakest counts, on each seed); on the right, all of them (the best counts). The gap is
    signed so that positive means the ordering holds."""

    statement: str  # in words, as the notebook says it
    better: str | tuple[str, ...]  # a recorded metric, or several that must each beat ``than``
    than: str | tuple[str, ...]  # the recorded metric it is compared with, or several: the best of them
    higher_is_better: bool = True

    @property
    def metrics(self) -> set[str]:
        return set(_names(self.better)) | set(_names(self.than))

    def gap(self, metrics: dict[str, float]) -> float:
        sign = 1 if self.higher_is_better else -1
        weakest = min(sign * metrics[name] for name in _names(self.better))
        strongest_other = max(sign * metrics[name] for name in _names(self.than))
        return weakest - strongest_other

    def draw_gaps(self, draws: dict[str, list[float]]) -> list[float]:
        """The gap on each labelled draw of one seed (the draws every row shares), or [] where some of the
        ordering's metrics were recorded without their draws."""
        if not self.metrics <= set(draws) or len({len(draws[name]) for name in self.metrics}) != 1:
            return []
        per_draw = zip(*(draws[name] for name in sorted(self.metrics)), strict=True)
        return [self.gap(dict(zip(sorted(self.metrics), values, strict=True))) for values in per_draw]


def _names(metrics: str | tuple[str, ...]) -> tuple[str, ...]:
    return (metrics,) if isinstance(metrics, str) else tuple(metrics)


def sign_test(gaps: list[float]) -> float:
    """One-sided sign test of paired gaps: the chance of at least this many positive gaps if each were a coin toss
    (a tie counts against the ordering)."""
    n, k = len(gaps), sum(gap > 0 for gap in gaps)
    return sum(math.comb(n, i) for i in range(k, n + 1)) / 2 ** n


def verdict(gaps: list[float], draw_gaps: list[float] | None = None) -> str:
    """In words, from paired per-seed gaps (positive: the ordering holds on that seed). A gap inside the spread over
    seeds (|mean| <= std, n - 1) is no difference, whichever way each seed fell. With ``draw_gaps`` (the gap on
    every shared labelled draw of every seed), "holds" also needs the sign test over those draws below
    ``SIGN_TEST_LEVEL``."""
    n, holds = len(gaps), sum(gap > 0 for gap in gaps)
    if n < 2:
        return "one seed: no verdict"
    mean, std = float(np.mean(gaps)), float(np.std(gaps, ddof=1))
    if holds == n and mean > std and draw_gaps and sign_test(draw_gaps) >= SIGN_TEST_LEVEL:
        return f"{n} of {n} seeds, but {sum(g > 0 for g in draw_gaps)} of {len(draw_gaps)} draws: not robust"
    if holds == n and mean > std:
        return f"holds on {n} of {n}"
    if abs(mean) <= std:
        return f"no difference ({holds} of {n})"
    if holds == 0:
        return f"reversed on {n} of {n}"
    return f"{holds} of {n}: not robust"


def seeds_file(notebook: str, profile: str = "lab", root: Path | None = None) -> Path:
    """Where the command writes (and the notebook reads) a notebook's runs over seeds. A sub-folder, because
    ``results/<profile>/*.json`` holds exactly one entry per notebook."""
    return (root or config.results_root()) / profile / "seeds" / f"{notebook}.json"


def further_file(notebook: str, profile: str = "lab", root: Path | None = None) -> Path:
    """Where ``--further`` writes runs on seeds beyond the table's (``further_runs`` reads them)."""
    return seeds_file(notebook, profile, root).parent / "further" / f"{notebook}.json"


def further_runs(notebook: str, profile: str = "lab", root: Path | None = None) -> dict[int, dict]:
    """{seed: run} of the further seeds (``further_file``), or {} where none was run."""
    path = further_file(notebook, profile, root)
    return {int(seed): run for seed, run in json.loads(path.read_text())["seeds"].items()} if path.exists() else {}


def check_file(notebook: str, check: str, profile: str = "lab", root: Path | None = None) -> Path:
    """Where a check too long for a lab run (one command each) writes its numbers: ``results/<profile>/checks/``."""
    return (root or config.results_root()) / profile / "checks" / f"{notebook}.{check}.json"


def write_check(notebook: str, check: str, command: str, metrics: dict[int, dict[str, float]],
                profile: str = "lab", root: Path | None = None) -> Path:
    """Write a check's numbers per pretraining seed (seeds already in the file and not run again are kept)."""
    path = check_file(notebook, check, profile, root)
    saved = json.loads(path.read_text())["seeds"] if path.exists() else {}
    saved.update({str(seed): values for seed, values in metrics.items()})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"notebook": notebook, "profile": profile, "command": command,
                                "seeds": dict(sorted(saved.items(), key=lambda kv: int(kv[0])))}, indent=2) + "\n")
    return path


def load_check(notebook: str, check: str, profile: str = "lab", root: Path | None = None) -> dict[int, dict]:
    """{seed: the check's numbers}, or {} where the check has not been run."""
    path = check_file(notebook, check, profile, root)
    return {int(seed): metrics for seed, metrics in json.loads(path.read_text())["seeds"].items()} \
        if path.exists() else {}


def run_check(notebook: str, check: str, command: str, metrics_of, description: str,
              argv: list[str] | None = None) -> Path:
    """A check's command line: ``metrics_of(seed, profile)`` on each seed asked for (``--seeds``, default 0 1 2), its
    numbers written as each seed ends (``write_check``)."""
    import argparse

    parser = argparse.ArgumentParser(prog=command, description=description)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--profile", default="lab", choices=config.PROFILE_NAMES)
    args = parser.parse_args(argv)
    for seed in args.seeds:
        print(f"{notebook}: {check}, seed {seed} ({args.profile}) ...", flush=True)
        path = write_check(notebook, check, command, {seed: metrics_of(seed, args.profile)}, args.profile)
    print(f"wrote {_shown(path)}")
    return path


def _with_check(runs: dict[int, dict], notebook: str, check: str, profile: str, root: Path | None) -> dict[int, dict]:
    """The runs with a check's numbers added to each seed's metrics (a seed the check lacks keeps its own only)."""
    extra = load_check(notebook, check, profile, root)
    return {seed: {**run, "metrics": {**run["metrics"], **extra.get(seed, {})}} for seed, run in runs.items()}


def load(notebook: str, profile: str = "lab", root: Path | None = None) -> dict[int, dict]:
    """{seed: {"metrics", "capped", "claims" (None where not logged), "draws" (where recorded)}}: the seeds file's
    runs, plus the notebook's own recorded run for its seed when the file has none of that seed."""
    runs = {}
    path = seeds_file(notebook, profile, root)
    if path.exists():
        runs = {int(seed): run for seed, run in json.loads(path.read_text())["seeds"].items()}
    own = results.load(profile, root).get(notebook)
    if own is not None and own["seed"] not in runs:
        runs[own["seed"]] = {"metrics": own["metrics"], "capped": own.get("capped", []), "claims": None,
                             "draws": own.get("draws", {})}
    return dict(sorted(runs.items()))


def table(notebook: str, orderings: list[Ordering], profile: str = "lab", root: Path | None = None,
          digits: int = 1, check: tuple[str, str] | None = None) -> pd.DataFrame:
    """One row per ordering: the paired difference on each seed (positive: it holds), their mean and std (n - 1),
    and the verdict. Prints where the numbers come from, and how to make them when seeds are missing. ``check``:
    (name, command) of a check whose numbers (``check_file``) some orderings compare with the seeds runs' own."""
    runs = load(notebook, profile, root)
    if check is not None:
        path = check_file(notebook, check[0], profile, root)
        if not path.exists():  # a course installed without the committed results, or a seeds run's scratch folder
            print(f"no numbers of this check here ({_shown(path)}): `{check[1]}` makes them")
            return pd.DataFrame()
        runs = _with_check(runs, notebook, check[0], profile, root)
        print(f"`{check[1]}` wrote {_shown(path)}")
    missing = [o.statement for o in orderings for run in runs.values() if not o.metrics <= set(run["metrics"])]
    if missing:
        message = (f"{notebook}: the seeds runs lack numbers for {sorted(set(missing))}: run "
                   f"`{check[1] if check else f'{COMMAND} {notebook[:2]} --profile {profile}'}` again")
        if not config.claims_reported():
            raise KeyError(message)
        # a seeds run is what makes those numbers: it must reach the end (its own table is not kept)
        print(message)
        orderings = [o for o in orderings if o.statement not in missing]
    capped = [str(seed) for seed, run in runs.items() if run["capped"]]
    print(f"pretraining seeds {', '.join(map(str, runs))} ({profile}): `{COMMAND} {notebook[:2]}` wrote "
          f"{_shown(seeds_file(notebook, profile, root))}; seed 0 is the run above"
          + (f"; stopped at the time cap on seed {', '.join(capped)}" if capped else ""))
    if len(runs) < 3:
        print(f"only {len(runs)} seed(s): make the others with `{COMMAND} {notebook[:2]} --seeds 1 2`")
    rows = {}
    for ordering in orderings:
        gaps = [ordering.gap(run["metrics"]) for run in runs.values()]
        draw_gaps = _shared_draw_gaps(ordering, runs)
        row = {f"seed {seed}": f"{gap:+.{digits}f}" for seed, gap in zip(runs, gaps, strict=True)}
        row["mean ± std"] = f"{np.mean(gaps):+.{digits}f} ± {np.std(gaps, ddof=1):.{digits}f}" if len(gaps) > 1 else "-"
        if any(run.get("draws") for run in runs.values()):
            row["shared draws"] = (f"{sum(g > 0 for g in draw_gaps)} of {len(draw_gaps)} "
                                   f"(sign test p {sign_test(draw_gaps):.3f})" if draw_gaps else "-")
        row["verdict"] = verdict(gaps, draw_gaps)
        rows[ordering.statement] = row
    return pd.DataFrame(rows).T.rename_axis("paired difference (positive: it holds)")


def _shared_draw_gaps(ordering: Ordering, runs: dict[int, dict]) -> list[float] | None:
    """The ordering's gap on every shared labelled draw of every seed, or None unless every seed recorded them."""
    per_seed = [ordering.draw_gaps(run.get("draws", {})) for run in runs.values()]
    return [gap for gaps in per_seed for gap in gaps] if per_seed and all(per_seed) else None


def robust(notebook: str, ordering: Ordering, profile: str = "lab", root: Path | None = None) -> bool:
    """Whether ``ordering`` holds on every seed measured (at least three): what a notebook may assert."""
    runs = load(notebook, profile, root)
    gaps = [ordering.gap(run["metrics"]) for run in runs.values()]
    return len(runs) >= 3 and verdict(gaps, _shared_draw_gaps(ordering, runs)).startswith("holds")


def _shown(path: Path) -> str:
    return str(path.relative_to(config.REPO_ROOT)) if path.is_relative_to(config.REPO_ROOT) else str(path)


# --- the command ------------------------------------------------------------------------------------------------

def notebook_path(number: str) -> Path:
    """notebooks/NN_name.ipynb of a notebook number ("5", "05") or a path to a notebook."""
    if number.endswith(".ipynb"):
        return Path(number).resolve()
    found = sorted((config.REPO_ROOT / "notebooks").glob(f"{number.zfill(2)}_*.ipynb"))
    if len(found) != 1:
        raise SystemExit(f"no notebook numbered {number!r} in {config.REPO_ROOT / 'notebooks'}")
    return found[0]


def run_once(path: Path, seed: int, profile: str, timeout: int = 1200) -> dict:
    """Execute the notebook at ``path`` on one seed, headless, and return what it recorded and the claims it checked.
    Nothing in the repository is written: the executed copy and its numbers stay in a scratch folder."""
    with tempfile.TemporaryDirectory() as scratch:
        log = Path(scratch) / "claims.jsonl"
        env = {**os.environ, "COURSE_PROFILE": profile, "COURSE_SEED": str(seed), "COURSE_PRETRAINED": "0",
               "COURSE_CHECKPOINT_BUILD": "", "COURSE_RESULTS": str(Path(scratch) / "results"),
               "COURSE_CLAIMS": "report", "COURSE_CLAIMS_LOG": str(log)}
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
                        f"--output-dir={scratch}", f"--ExecutePreprocessor.timeout={timeout}", str(path)],
                       env=env, check=True, cwd=path.parent, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        recorded = results.load(profile, Path(scratch) / "results").get(path.stem)
        if recorded is None:
            raise RuntimeError(f"{path.stem} (seed {seed}) ran but recorded no numbers")
        claims = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
        return {"metrics": recorded["metrics"], "capped": recorded["capped"], "claims": claims,
                "seconds": round(time.perf_counter() - started, 1), **({"draws": recorded["draws"]}
                                                                      if "draws" in recorded else {})}


def run_seeds(number: str, seeds=DEFAULT_SEEDS, profile: str = "lab", root: Path | None = None,
              further: bool = False) -> Path:
    """Run the notebook on each seed and add each run to its seeds file (``further``: its further file) as soon as
    it ends (a seed run again replaces its old run); returns the file."""
    path = notebook_path(number)
    out = (further_file if further else seeds_file)(path.stem, profile, root)
    for seed in seeds:
        print(f"{path.stem}: seed {seed} ({profile}) ...", flush=True)
        try:
            run = run_once(path, seed, profile)
        except subprocess.CalledProcessError as error:
            tail = error.stderr.decode(errors="replace").strip().splitlines()[-3:]
            print(f"{path.stem}: seed {seed} failed, nothing written for it:\n  " + "\n  ".join(tail), flush=True)
            continue
        saved = json.loads(out.read_text()) if out.exists() else {"seeds": {}}
        saved["seeds"][str(seed)] = run
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"notebook": path.stem, "profile": profile, "command": COMMAND,
                                   "seeds": dict(sorted(saved["seeds"].items(), key=lambda kv: int(kv[0])))},
                                  indent=2) + "\n")
        failed = [c["statement"] for c in run["claims"] if c["asserted"] and not c["holds"]]
        print(f"{path.stem}: seed {seed} took {run['seconds']:.0f} s"
              + (f"; asserted claims that failed: {failed}" if failed else ""), flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.split("\n\n")[0])
    parser.add_argument("numbers", nargs="+", help="notebook numbers, e.g. 05 07")
    parser.add_argument("--seeds", nargs="+", type=int, default=list(DEFAULT_SEEDS))
    parser.add_argument("--profile", default="lab", choices=config.PROFILE_NAMES)
    parser.add_argument("--further", action="store_true",
                        help="seeds beyond the table's: written to results/<profile>/seeds/further/, read by no table")
    args = parser.parse_args(argv)
    for number in args.numbers:
        print(f"wrote {_shown(run_seeds(number, args.seeds, args.profile, further=args.further))}")
    return 0
