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
CORRESPONDENCE = "balanced correspondence accuracy (%)"  # ``sampling_table``
SAMPLINGS = {"every pair in the batch": "every_pair", "one negative per canvas": "one_negative"}  # recorded names
YOUR_COLUMN, TABLE_COLUMN = "pointing, yours (%)", "pointing, table above (%)"  # ``pointing_with``
SAME_COLUMN = "says 'same' to own recording, yours (%)"


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


def rows_and_columns(where) -> torch.Tensor:
    """A ``point``'s locations as one N x 2 tensor of (row, col): given so, or as a pair (rows, cols) of N numbers."""
    if isinstance(where, (tuple, list)) and len(where) == 2:
        return torch.stack([torch.as_tensor(part) for part in where], dim=1)
    return torch.as_tensor(where)


@torch.no_grad()
def pointing_with(point, models: dict[str, ots.AVOLNet], data: SoundsAndDigits, test: Scenes, table: pd.DataFrame,
                  block: int = 500) -> pd.DataFrame:
    """Each trained model evaluated on the test canvases through ``point(audio, image_map)`` (a student's, or the
    course's ``ots.point``), fed with the model's own embeddings of each canvas and its recording: pointing accuracy
    (%) from its arg-max (row, col) -> the centre of that map cell in canvas pixels, beside ``table``'s number for the
    same model (``pointing_table``: the arg-max of the heat map); and how often (%) the model says "same" to a canvas
    and its own recording from its score, the max over locations (logit alpha * score + beta > 0). Prints one line:
    whether the two pointings agree."""
    rows = {}
    for name, model in models.items():
        device = next(model.parameters()).device
        scores, where = [], []
        for start in range(0, len(test.slot), block):
            part = slice(start, start + block)
            score, at = point(model.audio_embedding(data.test_sounds[test.recording[part]].to(device)),
                              model.image_map(test.canvases.x[part].to(device)))
            scores.append(torch.as_tensor(score).float().cpu())
            where.append(rows_and_columns(at).float().cpu())
        cells = torch.cat(where).flip(1)  # (row, col) -> (x, y) in map cells
        points = cells * ots.MAP_STRIDE + ots.MAP_STRIDE / 2  # the centre of the cell, as ``ots.pointing`` puts it
        said_same = model.scale.item() * torch.cat(scores) + model.bias.item() > 0
        rows[name] = {YOUR_COLUMN: 100 * ots.inside(points, test.spoken_box).float().mean().item(),
                      TABLE_COLUMN: float(table[COLUMN][name]),
                      SAME_COLUMN: 100 * said_same.float().mean().item()}
    out = pd.DataFrame(rows).T
    differ = [name for name in out.index if abs(out[YOUR_COLUMN][name] - out[TABLE_COLUMN][name]) > 1e-6]
    canvases = f"on {len(test.slot)} test canvases"
    print(f"{canvases} this point gives the table's pointing accuracy for all {len(out)} models" if not differ
          else f"{canvases} this point's pointing accuracy is not the table's for {', '.join(differ)}")
    return out



@torch.no_grad()
def correspondence_accuracy(model: ots.AVOLNet | None, data: SoundsAndDigits, test: Scenes, block: int = 64
                            ) -> float:
    """Balanced accuracy (%) of the answer to "same?" for every recording against every canvas of blocks of
    ``block`` test scenes, judged as the weak labels judge it (the spoken digit on the canvas or not): the mean of
    the hit rates on corresponding and on other pairs, as the losses weigh them (``ots.balanced_bce``), so that
    "always no" scores 50 % although four pairs in five do not correspond. ``model=None`` always answers "no"."""
    hits, pairs = torch.zeros(2), torch.zeros(2)  # [other pairs, corresponding pairs]
    for start in range(0, len(test.slot) - block + 1, block):
        part = slice(start, start + block)
        target = ots.correspondence(test.spoken[part], test.canvases.digits[part]).bool()
        if model is None:
            said_yes = torch.zeros_like(target)
        else:
            device = next(model.parameters()).device
            said_yes = (model.logits(model(data.test_sounds[test.recording[part]].to(device),
                                           test.canvases.x[part].to(device))) > 0).cpu()
        for kind in (0, 1):
            hits[kind] += ((said_yes == target) & (target == bool(kind))).sum()
            pairs[kind] += (target == bool(kind)).sum()
    return 100 * (hits / pairs).mean().item()


def sampling_table(models: dict[str, ots.AVOLNet], data: SoundsAndDigits, test: Scenes) -> pd.DataFrame:
    """The ablation: for each sampling, balanced correspondence accuracy (every test recording against every test
    canvas of a block) and pointing accuracy."""
    pointing = pointing_table(models, data, test)[COLUMN]
    rows = {name: {CORRESPONDENCE: correspondence_accuracy(model, data, test),
                   COLUMN: pointing[name]}
            for name, model in models.items()}
    rows['always answering "no"'] = {CORRESPONDENCE: correspondence_accuracy(None, data, test),
                                     COLUMN: float("nan")}
    return pd.DataFrame(rows).T


def metrics(table: pd.DataFrame, ablation: pd.DataFrame | None = None) -> dict[str, float]:
    """The numbers to record: each model's pointing accuracy and the baselines'; with the ``sampling_table``, each
    sampling's balanced correspondence accuracy and the sparse sampling's pointing accuracy (every pair's is the
    weakly labelled model's, ``pointing_weak_labels``)."""
    out = {METRICS[name]: float(table[COLUMN][name]) for name in METRICS if name in table.index}
    if ablation is not None:
        out.update({f"correspondence_{key}": float(ablation[CORRESPONDENCE][name]) for name, key in SAMPLINGS.items()})
        out["pointing_one_negative"] = float(ablation[COLUMN]["one negative per canvas"])
    return out


# --- the orderings the notebook states, on its recorded numbers (pointing accuracy, %) ------------------------------

_EVERY_BASELINE = tuple(BASELINES.values())  # the best of the three guesses that never listen, on each seed
ORDERINGS = [
    Ordering("told the digits, the AVOL-Net points better than every baseline, a random digit included",
             "pointing_weak_labels", _EVERY_BASELINE),
    Ordering("label-free, as the paper trains, the AVOL-Net points better than every baseline",
             "pointing_label_free", _EVERY_BASELINE),
    Ordering("label-free, after the single-digit videos alone, it points better than every baseline",
             "pointing_label_free_single_digits", _EVERY_BASELINE),
    Ordering("label-free: trained further on the canvases, it points right more often",
             "pointing_label_free", "pointing_label_free_single_digits"),
    Ordering("told the digits, the same network points better than either label-free model",
             "pointing_weak_labels", ("pointing_label_free_single_digits", "pointing_label_free")),
    Ordering("every pair in the batch points better than one negative per canvas, for as many steps",
             "pointing_weak_labels", "pointing_one_negative"),
    Ordering("every pair in the batch answers \"same?\" better than one negative per canvas (balanced accuracy)",
             "correspondence_every_pair", "correspondence_one_negative"),
    Ordering("one of the digits at random beats the centre prior and a random point",
             "pointing_pick_a_digit", ("pointing_centre_prior", "pointing_random")),
]
