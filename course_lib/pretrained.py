"""Where a training run's weights come from: the one visible step between a lesson and its training loop.

    history = pretrained.load_or_train(model, "05_transformations/contrastive", lambda: train.fit(...),
                                       sizes=sizes, seed=seed, loss=loss)

With COURSE_PRETRAINED=1 the shipped weights of the run are loaded into ``model`` (once ``checkpoints`` has checked
that they were made by this recipe) and their recorded history is returned: nothing trains. Otherwise the run
trains; in a checkpoint build (``python -m course_lib.checkpoints build``) its weights are then kept with the recipe.
The recipe is everything that makes the weights besides the architecture (which the model itself gives): the
lesson's sizes (steps, batch, width, data sizes, profile), the seed, the loss and augmentation, any optimiser setting
not the default; ``train``'s defaults are added here.

Functions of the ground floor that train many small runs (``evaluate.finetune_curve``, ``evaluate.probe_table``)
take ``trained=``: ``Runs`` is ``load_or_train`` for a notebook's family of runs, summed up in one printed line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import nn

from course_lib import checkpoints, config, train
from course_lib.train import History


def load_or_train(model: nn.Module, run: str, train_run: Callable[[], History], *, loaded: list | None = None,
                  **recipe: Any) -> History:
    """``run`` ("<notebook>/<desc>")'s weights in ``model``: loaded when COURSE_PRETRAINED=1, else trained by
    ``train_run()`` (and kept, in a build). Loading prints one line, or appends its manifest entry to ``loaded``
    (``Runs`` sums many up)."""
    recipe = {**recipe, "trainer": train.DEFAULTS}
    if config.pretrained():
        folder = checkpoints.folder_for_loading()
        entry = checkpoints.load(run, model, recipe, folder) if folder is not None else None
        if entry is not None:
            model.eval()
            if loaded is not None:
                loaded.append(entry)
            else:
                print(f"loaded {entry['file']} ({entry['profile']}, seed {entry['seed']}, recipe "
                      f"{entry['fingerprint']}, {entry['seconds']:.0f} s of training) instead of training {run!r}")
            return History(**entry["history"])
        if folder is None:
            print(f"the {config.profile_name()} profile ships no weights: training {run!r}")
        else:
            print(f"no checkpoint for {run!r}: training it (`{checkpoints.build_command(run)}` would ship one)")
    history = train_run()
    if config.checkpoint_build():
        checkpoints.save(run, model, history, recipe, build=config.checkpoint_build())
    return history


class Runs:
    """``load_or_train`` for a family of runs of one notebook (a fine-tuning curve: a run per label budget and
    draw; a table's probes), passed to the ground floor as ``trained=``; the loads are summed up in one line.

        with pretrained.Runs("01_strong_supervision", "fine-tuned", sizes=sizes, seed=seed) as runs:
            curve = evaluate.finetune_curve(..., trained=runs)
    """

    def __init__(self, notebook: str, what: str, **recipe: Any):
        self.notebook, self.what, self.recipe, self.loaded = notebook, what, recipe, []

    def __call__(self, model: nn.Module, desc: str, train_run: Callable[[], History]) -> History:
        return load_or_train(model, f"{self.notebook}/{desc}", train_run, loaded=self.loaded, **self.recipe)

    def __enter__(self) -> Runs:
        self.loaded = []
        return self

    def __exit__(self, *exc) -> None:
        if self.loaded:
            seconds = sum(entry["seconds"] for entry in self.loaded)
            print(f"loaded {len(self.loaded)} checkpoints of {self.what} ({self.loaded[0]['profile']}, seed "
                  f"{self.loaded[0]['seed']}, {seconds:.0f} s of training in all) instead of training them")
