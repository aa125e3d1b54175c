"""Notebook 05's pictures: what each pretext task asks."""

from __future__ import annotations

import torch

from course_lib import config, show
from course_lib.pretext import transformations


def show_pretexts(images: torch.Tensor, seed: int = 0, n: int = 6):
    """What each pretext task asks, as pictures: the two views it sees and, for egomotion, the label it predicts."""
    x = images[:n].cpu()
    with config.isolated_rng(seed):  # a picture should not change what the notebook trains next
        bins = transformations.EgomotionBins()
        first, second, classes = transformations.egomotion_pairs(x, bins)
        view1, view2 = transformations.simclr_views(x)
    shift = torch.stack([classes["tx"], classes["ty"]], 1) - bins.max_shift
    width = 2 * bins.max_degrees / bins.rotation_bins
    rotation = [f"{-bins.max_degrees + width * int(c):+.0f}…{-bins.max_degrees + width * (int(c) + 1):+.0f}°"
                for c in classes["rotation"]]
    rows = [x, first, second, view1, view2]
    titles = (["image"] * n + ["egomotion: view T0(x)"] + [""] * (n - 1)
              + [f"T: {int(sx):+d},{int(sy):+d} px, {r}" for (sx, sy), r in zip(shift.tolist(), rotation, strict=True)]
              + ["view t(x)"] + [""] * (n - 1) + ["view t'(x): the positive"] + [""] * (n - 1))
    return show.image_grid(torch.cat(rows), titles, ncols=n, size=1.4)
