"""scikit-learn's bundled 8 x 8 digits (1,797 images): real data that needs no download, for notebook 00."""

from __future__ import annotations

from pathlib import Path

import torch

from course_lib.data._image import ImageData, check_n

NAME = "digits"


def where(root: Path | None = None) -> str:
    return "bundled with scikit-learn"


def status(root: Path | None = None) -> str:
    return "complete (1,797 images, bundled)"


def load_digits(n: int | None = None, root: Path | None = None) -> ImageData:
    """The first ``n`` digits as 1 x 8 x 8 floats in [0, 1] (the originals count ink from 0 to 16).

    ``root`` is accepted so that every loader has the same signature; these images ship with scikit-learn.
    """
    from sklearn.datasets import load_digits as sklearn_digits  # imported here: scikit-learn is slow to import

    bunch = sklearn_digits()
    n = check_n(n, len(bunch.target), "digits")
    x = torch.from_numpy(bunch.images[:n]).float().div_(16).unsqueeze(1)
    y = torch.from_numpy(bunch.target[:n]).to(torch.int64)
    return ImageData(x, y, [str(c) for c in bunch.target_names])


def fetch(root: Path | None = None) -> str:
    return f"complete: {len(load_digits())} images bundled with scikit-learn, nothing to download"
