"""Notebook 02's shortcut lab: the pretext task on chromatically aberrated photos, with and without colour dropping.

Judged three ways: pretext accuracy, how well a patch's *absolute* place in the photo can be read from its code (the
shortcut), and a linear probe of the CIFAR-10 class on the frozen features of ordinary photos (a cheap transfer
measure). Both probes choose their regularisation C on validation data (among ``sizes.probe_cs``).
"""

from __future__ import annotations

import functools

import pandas as pd
import torch

from course_lib import config, evaluate, nets
from course_lib.data import ImageData
from course_lib.lessons.relative_position.detection_transfer import ABERRATION, STAGE, Sizes
from course_lib.lessons.relative_position.pretraining import pretext_accuracy, pretrain_relative_position
from course_lib.pretext import relative_position as rp


@torch.no_grad()
def absolute_position(backbone: nets.Backbone, x: torch.Tensor, grid: rp.PatchGrid, lens=None, seed: int = 0,
                      Cs=(evaluate.PROBE_C,)) -> float:
    """How well a patch's *absolute* place in the photo (which of the 9 cells) can be read from its code: the
    accuracy (%) of a linear probe on the frozen conv5 codes of one patch from each photo of ``x`` (chance:
    11.1 %). The first half of the photos trains the probe, the next sixth chooses its C (of ``Cs``), the last
    third tests it."""
    with config.isolated_rng(seed):
        photos = rp.upsample(x, grid.image_side)
        photos = lens(photos) if lens is not None else photos
        patch, cell = rp.cell_patches(photos, grid)
    side = grid.patch // 8
    backbone.eval()  # frozen features: BatchNorm with its running statistics, whatever the patch's batch-mates
    codes = evaluate.embed(lambda p: torch.nn.functional.adaptive_avg_pool2d(backbone(p), side), patch)
    train, val = len(x) // 2, 2 * len(x) // 3
    parts = [({"conv5": codes[a:b]}, cell[a:b].cpu()) for a, b in ((0, train), (train, val), (val, len(x)))]
    return float(evaluate.probe_layers(*parts[0], *parts[1], *parts[2], Cs=Cs).best)


def class_probe(backbone: nets.Backbone, labelled: ImageData, validation: ImageData, test: ImageData,
                Cs=(evaluate.PROBE_C,)) -> float:
    """Linear-probe accuracy (%) of the CIFAR-10 class on the frozen ``STAGE`` features of ordinary photos: trained
    on ``labelled``, its C (of ``Cs``) chosen on ``validation``, tested on ``test``."""
    scores = evaluate.probe_network(backbone, (labelled.x, labelled.y), (validation.x, validation.y),
                                    (test.x, test.y), stages=(STAGE,), Cs=Cs)
    return float(scores.best)


SHORTCUT_RUNS = {  # name: (aberrated photos?, colour dropping?)
    "no aberration, all colours": (False, False),  # the baseline: what the pretext task learns from content
    "aberration, all colours": (True, False),  # the shortcut is there to be found
    "aberration + colour dropping": (True, True),  # the paper's fix
}


def shortcut_lab(x: torch.Tensor, labelled: ImageData, validation: ImageData, held_out: ImageData, sizes: Sizes,
                 seed: int = 0, progress: bool = True) -> pd.DataFrame:
    """Relative position on ordinary and on chromatically aberrated photos ``x``, without and with colour dropping
    (short runs, one per row of ``SHORTCUT_RUNS``).

    Returns a table: pretext accuracy on held-out photos (aberrated as in training), absolute-position probe accuracy
    on them, and a linear probe of the class on ordinary (aberration-free) photos, trained on ``labelled``, tested
    on ``held_out``; both probes choose their C (of ``sizes.probe_cs``) on validation data (for the class probe,
    ``validation``; for the position probe, a sixth of the held-out photos). ``table.attrs["capped"]`` names the
    runs that stopped at their time cap.
    """
    rows, capped = {}, []
    for name, (aberrated, dropping) in SHORTCUT_RUNS.items():
        lens = functools.partial(rp.chromatic_aberration, strength=ABERRATION) if aberrated else None
        model, history = pretrain_relative_position(x, sizes, seed, steps=sizes.shortcut_steps,
                                                    colour_dropping=dropping, lens=lens, progress=progress, desc=name)
        capped += [f"shortcut lab: {name}"] if history is not None and history.capped else []
        rows[name] = {
            "pretext accuracy (%)": pretext_accuracy(model, held_out.x, dropping, lens, seed),
            "absolute position from one patch (%)": absolute_position(model.backbone, held_out.x, model.grid, lens,
                                                                      seed, sizes.probe_cs),
            f"class from {STAGE}, ordinary photos (%)": class_probe(model.backbone, labelled, validation, held_out,
                                                                     sizes.probe_cs),
        }
    table = pd.DataFrame(rows).T.round(1)
    table.attrs["capped"] = capped
    return table
