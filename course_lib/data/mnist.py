"""MNIST through torchvision, in torchvision's own layout ``<root>/MNIST/raw/``.

torchvision knows the files, the mirrors and their MD5s, so this module only adds what a lab needs on top:
no download into a read-only folder, one clear error when offline, and a damaged file named.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torchvision.datasets import MNIST
from torchvision.datasets.mnist import read_sn3_pascalvincent_tensor

from course_lib.data import _fetch
from course_lib.data._image import ImageData, check_n

NAME = "mnist"
FILES = {True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
         False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


def where(root: Path | None = None) -> Path:
    return _fetch.resolve(root) / "MNIST" / "raw"


def status(root: Path | None = None) -> str:
    raw = where(root)
    splits = [split for split, train in (("train", True), ("test", False))
              if all((raw / f).is_file() for f in FILES[train])]
    if len(splits) == 2:
        return "complete (train + test)"
    if splits:
        return f"partial: {splits[0]} only"
    return "partial: not unpacked" if raw.is_dir() and any(raw.iterdir()) else "missing"


def _ensure(root: Path) -> None:
    """Download (through torchvision, which checks MD5s) when any of the four files is absent."""
    raw = where(root)
    missing = [f for f in FILES[True] + FILES[False] if not (raw / f).is_file()]
    if missing:
        why = f"{', '.join(missing)} missing" if raw.is_dir() else "nothing there yet"
        _fetch.require_writable(NAME, root, raw, why)
        with _fetch.download_errors(NAME, raw, why):
            MNIST(str(root), train=True, download=True)


def _damaged_file(raw: Path, train: bool) -> tuple[Path, str]:
    """Which of a split's two files torchvision could not read (only called after a failure)."""
    for name in FILES[train]:
        try:
            read_sn3_pascalvincent_tensor(str(raw / name))
        except Exception as err:  # any failure to parse means this file is damaged
            return raw / name, f"{type(err).__name__}: {err}"
    return raw / FILES[train][0], "images and labels do not match"


def load_mnist(train: bool = True, n: int | None = None, root: Path | None = None) -> ImageData:
    """The first ``n`` MNIST images of the train (60,000) or test (10,000) split, as 1 x 28 x 28 floats in [0, 1]."""
    root = _fetch.resolve(root)
    _ensure(root)
    try:
        dataset = MNIST(str(root), train=train, download=False)
        if len(dataset.data) != len(dataset.targets):
            raise ValueError("images and labels differ in number")
    except Exception:  # the file to blame is found (and named) below
        raise _fetch.DataCorrupt(NAME, *_damaged_file(where(root), train)) from None
    n = check_n(n, len(dataset.targets), f"MNIST {'train' if train else 'test'}")
    x = dataset.data[:n].unsqueeze(1).float().div_(255)
    y = dataset.targets[:n].to(torch.int64)
    return ImageData(x, y, [str(d) for d in range(10)])


def fetch(root: Path | None = None) -> str:
    """Download what is missing; then read both splits, so a damaged file shows now rather than in a lab."""
    sizes = [len(load_mnist(train, root=root)) for train in (True, False)]
    return f"complete: {sizes[0]} train + {sizes[1]} test images in {where(root)}"
