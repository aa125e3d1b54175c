"""CIFAR-10 from the official python pickle batches in ``<root>/cifar-10-batches-py/``.

Not through ``torchvision.datasets.CIFAR10``: that class checks the MD5 of all six batches and loads all
of them, while a lab often holds only a partial, re-pickled copy (test batch + training batch 1) and a ``ci``
run needs a few thousand images. So this module reads only the batches that ``n`` needs and checks each
file's structure instead of its bytes.
"""

from __future__ import annotations

import math
import pickle
from pathlib import Path

import numpy as np
import torch

from course_lib.data import _fetch
from course_lib.data._image import ImageData, check_n

NAME = "cifar10"
URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
MD5 = "c58f30108f718f92721af3b95e74349a"
META, TEST, TRAIN = "batches.meta", "test_batch", [f"data_batch_{i}" for i in range(1, 6)]
PER_BATCH = 10_000

# The only globals a CIFAR batch pickle refers to: unpickling anything else from a data folder could run code.
_SAFE_GLOBALS = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
                 ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")}


class _BatchUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) not in _SAFE_GLOBALS:
            raise pickle.UnpicklingError(f"unexpected object {module}.{name} in a CIFAR-10 batch")
        return super().find_class(module, name)


def where(root: Path | None = None) -> Path:
    return _fetch.resolve(root) / "cifar-10-batches-py"


def status(root: Path | None = None) -> str:
    folder = where(root)
    has_test, n_train = (folder / TEST).is_file(), sum((folder / f).is_file() for f in TRAIN)
    parts = (["test"] if has_test else []) + [f"{n_train} of 5 train batches"]
    parts += [] if (folder / META).is_file() else ["no batches.meta"]
    if has_test and n_train == 5 and (folder / META).is_file():
        return f"complete ({' + '.join(parts)})"
    return "missing" if not has_test and n_train == 0 else f"partial: {' + '.join(parts)}"


def _unpickle(path: Path) -> dict:
    with open(path, "rb") as f:
        return _BatchUnpickler(f, encoding="latin1").load()


def read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One batch's (data 10000 x 3072 uint8, labels int64), its structure checked (MD5s differ between copies)."""
    try:
        batch = _unpickle(path)
        data, labels = batch["data"], np.asarray(batch["labels"], dtype=np.int64)
    except Exception as err:  # whatever stops unpickling, the file is damaged
        raise _fetch.DataCorrupt(NAME, path, f"cannot be unpickled: {type(err).__name__}: {err}") from None
    if not (isinstance(data, np.ndarray) and data.dtype == np.uint8 and data.shape == (PER_BATCH, 3072)):
        shape = getattr(data, "shape", None)
        raise _fetch.DataCorrupt(NAME, path, f"'data' should be {PER_BATCH} x 3072 uint8, got {shape}")
    if labels.shape != (PER_BATCH,) or labels.min() < 0 or labels.max() > 9:
        raise _fetch.DataCorrupt(NAME, path, f"'labels' should be {PER_BATCH} integers in 0..9")
    return data, labels


def read_classes(path: Path) -> list[str]:
    try:
        names = _unpickle(path)["label_names"]
        if len(names) != 10 or not all(isinstance(c, str) for c in names):
            raise ValueError("label_names should be 10 strings")
    except Exception as err:  # whatever stops reading, the file is damaged
        raise _fetch.DataCorrupt(NAME, path, f"{type(err).__name__}: {err}") from None
    return list(names)


def _ensure(root: Path, files: list[str]) -> None:
    """Download the official archive when a needed file is absent; add only the files that are missing."""
    folder = where(root)
    missing = [f for f in files if not (folder / f).is_file()]
    if not missing:
        return
    why = f"{', '.join(missing)} missing" if folder.is_dir() else "nothing there yet"
    with _fetch.download(NAME, URL, root, looked_in=folder, why=why, md5=MD5) as tmp:
        _fetch.move_missing(tmp / folder.name, folder, [META, TEST, *TRAIN])
    still = [f for f in files if not (folder / f).is_file()]
    if still:
        raise _fetch.DataUnavailable(NAME, folder, f"the downloaded archive lacks {', '.join(still)}")


def load_cifar10(train: bool = True, n: int | None = None, root: Path | None = None) -> ImageData:
    """The first ``n`` CIFAR-10 images of train (50,000) or test (10,000), as 3 x 32 x 32 floats in [0, 1].

    Reads only the batches needed: n <= 10,000 training images touch ``data_batch_1`` alone.
    """
    n = check_n(n, 5 * PER_BATCH if train else PER_BATCH, f"CIFAR-10 {'train' if train else 'test'}")
    root = _fetch.resolve(root)
    batches = TRAIN[:math.ceil(n / PER_BATCH)] if train else [TEST]
    _ensure(root, [META, *batches])
    classes = read_classes(where(root) / META)
    data, labels, left = [], [], n
    for name in batches:
        batch_data, batch_labels = read_batch(where(root) / name)
        data.append(batch_data[:left])
        labels.append(batch_labels[:left])
        left -= len(data[-1])
    x = torch.from_numpy(np.concatenate(data)).reshape(n, 3, 32, 32).float().div_(255)
    return ImageData(x, torch.from_numpy(np.concatenate(labels)), classes)


def fetch(root: Path | None = None) -> str:
    """Download what is missing, then check the structure of every batch."""
    root = _fetch.resolve(root)
    _ensure(root, [META, TEST, *TRAIN])
    read_classes(where(root) / META)
    for name in [TEST, *TRAIN]:
        read_batch(where(root) / name)
    return f"complete: test + 5 train batches checked in {where(root)}"
