"""Pointing accuracy of each model beside three baselines, the ablation of the sampling, and the orderings the
notebook states (``ORDERINGS``, measured over pretraining seeds by ``course_lib.seeds``)."""

from __future__ import annotations

import pandas as pd
import torch

from course_lib.lessons.objects_that_sound.canvases import BASELINES, METRICS, Scenes, SoundsAndDigits
from course_lib.lessons.objects_that_sound.training import heat_maps
from course_lib.pretext import objects_that_sound as ots
from course_lib.seeds import Ordering

# --- pointing and its baselines -----------------------------------------------------------------------------------

COLUMN = "pointing accuracy (%)"


def pointing_table(models: dict[str, ots.AVOLNet], data: SoundsAndDigits, test: Scenes, seed: int = 0
                   ) -> pd.DataFrame:
    """Pointing accuracy (%): how often the point falls in the spoken digit's box, for each model (the arg-max of
    its map) and for three guesses that never hear the recording."""
    n, k = test.canvases.digits.shape
    generator = torch.Generator().manual_seed(seed)
    box = test.spoken_box
    points = {name: ots.pointing(heat_maps(model, data.test_sounds[test.recording], test.canvases.x))
              for name, model in models.items()}
    points.update({
        "centre of the canvas": torch.full((n, 2), ots.SIDE / 2),
        "a random point": torch.rand(n, 2, generator=generator) * ots.SIDE,
        "one of the digits at random": test.canvases.centres[torch.arange(n), torch.randint(k, (n,),
                                                                                            generator=generator)],
    })
    accuracy = {name: 100 * ots.inside(p, box).float().mean().item() for name, p in points.items()}
    return pd.DataFrame({COLUMN: accuracy})


@torch.no_grad()
def correspondence_accuracy(model: ots.AVOLNet | None, data: SoundsAndDigits, test: Scenes, block: int = 64
                            ) -> float:
    """How often (%) the model answers "same?" right for every recording against every canvas of blocks of
    ``block`` test scenes, judged as the weak labels judge it (the spoken digit on the canvas or not): the weakly
    labelled training task, on test data. ``model=None`` always answers "no"."""
    right, total = 0.0, 0
    for start in range(0, len(test.slot) - block + 1, block):
        part = slice(start, start + block)
        target = ots.correspondence(test.spoken[part], test.canvases.digits[part])
        if model is None:
            said_yes = torch.zeros_like(target)
        else:
            device = next(model.parameters()).device
            said_yes = (model.logits(model(data.test_sounds[test.recording[part]].to(device),
                                           test.canvases.x[part].to(device))) > 0).float().cpu()
        right += (said_yes == target).float().sum().item()
        total += target.numel()
    return 100 * right / total


def sampling_table(models: dict[str, ots.AVOLNet], data: SoundsAndDigits, test: Scenes) -> pd.DataFrame:
    """The ablation: for each sampling, correspondence accuracy (every test recording against every test canvas of
    a block) and pointing accuracy."""
    pointing = pointing_table(models, data, test)[COLUMN]
    rows = {name: {"correspondence accuracy (%)": correspondence_accuracy(model, data, test),
                   COLUMN: pointing[name]}
            for name, model in models.items()}
    rows['always answering "no"'] = {"correspondence accuracy (%)": correspondence_accuracy(None, data, test),
                                     COLUMN: float("nan")}
    return pd.DataFrame(rows).T


def metrics(table: pd.DataFrame) -> dict[str, float]:
    """The numbers to record: each model's pointing accuracy and the baselines'."""
    return {METRICS[name]: float(table[COLUMN][name]) for name in METRICS if name in table.index}


# --- the orderings the notebook states, on its recorded numbers (pointing accuracy, %) ------------------------------

_EVERY_BASELINE = tuple(BASELINES.values())  # the best of the three guesses that never listen, on each seed
ORDERINGS = [
    Ordering("told the digits, the AVOL-Net points better than every baseline, a random digit included",
             "pointing_weak_labels", _EVERY_BASELINE),
    Ordering("label-free, as the paper trains, the AVOL-Net points better than every baseline",
             "pointing_label_free", _EVERY_BASELINE),
    Ordering("label-free, after the single-digit videos alone, it points better than every baseline",
             "pointing_label_free_single_digits", _EVERY_BASELINE),
    Ordering("label-free: trained further on the canvases, it points right less often",
             "pointing_label_free_single_digits", "pointing_label_free"),
    Ordering("told the digits, the same network points better than either label-free model",
             "pointing_weak_labels", ("pointing_label_free_single_digits", "pointing_label_free")),
    Ordering("one of the digits at random beats the centre prior and a random point",
             "pointing_pick_a_digit", ("pointing_centre_prior", "pointing_random")),
]
