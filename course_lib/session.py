"""A notebook's session: what ``setup`` found (profile, device, seed, data root) and where its numbers go.

    session = setup("07_split_brain")   # the first cell of every notebook: read the knobs, seed, print one line
    session.record(**metrics)           # the notebook's headline numbers, into results/<profile>/<notebook>.json

Above the ground floor: it knows the knobs (``config``), the results files and the shipped weights. When the weights
were loaded (COURSE_PRETRAINED=1) or are being built, ``record`` compares the numbers with the committed run instead
of overwriting it.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from course_lib import checkpoints, checks, config, results


@dataclass
class Session:
    """What ``setup`` found: the notebook's profile, device, seed and data root, and when it started."""

    notebook: str
    profile: config.Profile
    device: torch.device
    seed: int
    data_root: Path
    started: float = field(default_factory=time.perf_counter)

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started

    def record(self, capped: tuple[str, ...] | list[str] = (), draws: dict[str, list[float]] | None = None,
               **metrics: float) -> Path:
        """Write this notebook's headline numbers to results/<profile>/<notebook>.json; ``capped`` names the
        training runs that stopped at their time budget (``History.capped``), ``draws`` gives some metrics' number
        on each labelled draw (``results.record``). With shipped weights (loaded or being built) they go to
        results/<profile>-pretrained/ (or -build/) and are compared with the committed run."""
        if config.pretrained() or config.checkpoint_build():
            return compare_with_committed(self, metrics, capped)
        return results.record(self.notebook, metrics, profile=self.profile.name, seed=self.seed,
                              seconds=self.seconds, capped=capped, draws=draws)

    def _shown_data_root(self) -> str:
        """The data root as a reader recognises it: repo-relative or ~-relative when it can be."""
        for base, label in ((config.REPO_ROOT, "<course>"), (Path.home(), "~")):
            if self.data_root.is_relative_to(base):
                return f"{label}/{self.data_root.relative_to(base)}"
        return str(self.data_root)

    def __str__(self) -> str:
        chosen = "" if os.environ.get("COURSE_DEVICE") or self.device.type != "cpu" else " (no GPU found)"
        weights = " | shipped weights" if config.pretrained() else ""
        return (f"{self.notebook}: profile={self.profile.name} ({self.profile.budget}) | "
                f"device={self.device}{chosen} | seed={self.seed} | data={self._shown_data_root()}{weights}")


def compare_with_committed(session: Session, metrics: dict[str, float], capped=()) -> Path:
    """The headline numbers of a run on shipped (or freshly built) weights: written to results/<profile>-pretrained/
    (or -build/), never over the committed results/<profile>/, and compared with them metric by metric
    (``results.disagreements``). With loaded weights, a number further off than its tolerance means the shipped
    weights are not what the notebook trains: the cell fails with one sentence that names the build command."""
    profile, how = session.profile.name, "build" if config.checkpoint_build() else "pretrained"
    path = results.record(session.notebook, metrics, profile=f"{profile}-{how}", seed=session.seed,
                          seconds=session.seconds, capped=capped)
    committed = results.load(profile).get(session.notebook)
    if committed is None or committed["seed"] != session.seed:
        print(f"no committed {profile} results of {session.notebook} with seed {session.seed} to compare with")
        return path
    differ = results.disagreements(committed["metrics"], json.loads(path.read_text())["metrics"])
    command = checkpoints.build_command(session.notebook)
    if differ and how == "build":  # the code changed the numbers: re-run the notebook so its outputs agree
        print(f"this build's numbers differ from results/{profile}/{session.notebook}.json: " + "; ".join(differ))
    elif differ:
        raise checks.ClaimFailed(f"with the shipped weights, {len(differ)} numbers differ from results/{profile}/"
                                 f"{session.notebook}.json by more than their tolerance (" + "; ".join(differ)
                                 + f"): run `{command}`")
    print(f"the {len(metrics)} numbers match the committed results/{profile}/{session.notebook}.json within "
          "their tolerance")
    return path


def short_messages(shell: Any) -> None:
    """Make a notebook show an exercise's "not yet" / "not written yet" and a failed claim as one sentence, not a
    wall of traceback: the sentence says what to do, the traceback would only show the checker's insides. So does
    a shipped checkpoint that no longer fits the code (the sentence names the build command) and weights that
    cannot be downloaded. The cell still fails (nbval and "run all" stop there as before)."""
    from course_lib.data import DataUnavailable

    def one_line(shell, etype, value, tb, tb_offset=None):
        message = [f"{etype.__name__}: {value}"]
        shell._showtraceback(etype, value, message)  # how IPython and ipykernel show an error (the frontends' way)
        return message

    shell.set_custom_exc((checks.NotYet, checks.ClaimFailed, NotImplementedError, checkpoints.StaleCheckpoint,
                          DataUnavailable), one_line)


def setup(notebook: str, *, quiet: bool = False) -> Session:
    """The first call of every notebook: read the knobs, seed everything, print one line; in a notebook, exercise
    feedback and failed claims show as one sentence (``short_messages``)."""
    session = Session(notebook=notebook, profile=config.get_profile(), device=config.device(), seed=config.seed(),
                      data_root=config.data_root())
    config.seed_everything(session.seed)
    try:
        from IPython import get_ipython
    except ImportError:  # plain Python: exceptions print as usual
        get_ipython = None
    if get_ipython is not None and get_ipython() is not None:
        short_messages(get_ipython())
    if not quiet:
        print(session)
    return session
