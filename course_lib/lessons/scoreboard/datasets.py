"""The scoreboard's sizes and data: the profile's training images of each dataset, a validation split carved from
them, and test images; every row pretrains on the same images, without their labels."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from course_lib import config, data, evaluate

NOTEBOOK = "12_scoreboard"  # its runs' shipped weights are named after it

DATASETS = {"mnist": "MNIST", "cifar": "CIFAR-10"}
BUDGETS = {"mnist": (100, 1000), "cifar": (1000, 5000)}  # labelled training images (a tenth of them per class)
RANDOM, SUPERVISED = "random init", "supervised"
# colorization reads lightness only, so beside it a random network that reads lightness only too: what reading one
# channel instead of three does, without any training
RANDOM_LIGHTNESS = "random init, lightness only"
RANDOM_ROWS = (RANDOM, RANDOM_LIGHTNESS)  # each read at its best (as initialised or recalibrated, on validation)
FENCES = (*RANDOM_ROWS, SUPERVISED)
# the k of the k-nearest-neighbour classifier is chosen on validation with its layer, among these (at 100 labels, 10
# per class: from the single nearest to five classes' worth of neighbours)
NEIGHBOURS = (1, 5, 10, 20, 50)


@dataclass(frozen=True)
class Sizes(config.Profile):
    """The shared profile plus what the scoreboard alone needs. Every row trains with the profile's ``width`` and
    ``batch_size`` and these steps and time cap, written into its own notebook's sizes (``recipes.own_sizes``)."""

    validation: int  # training images held out (with labels) to choose each row's layer; nothing trains on them
    test_images: int  # test images that grade (the first ones of the test set)
    mnist_steps: int  # optimiser steps of every pretraining run on MNIST (the same for every method)
    cifar_steps: int  # ... on CIFAR-10
    seconds: float  # time cap of each pretraining run (stops early, says so)
    fence_steps: int  # the most optimiser steps of the supervised fence, which stops at its validation optimum
    probe_dim: int  # every layer average-pooled to at most this many numbers before a probe
    draws: int  # labelled subsets per budget: the profile's ``label_draws``, but 2 in ci (20 networks on 2 cores)

    def steps(self, dataset: str) -> int:
        return self.mnist_steps if dataset == "mnist" else self.cifar_steps


SIZES = config.lesson_sizes(
    Sizes,
    ci=dict(validation=1000, test_images=1000, mnist_steps=25, cifar_steps=15, seconds=6, fence_steps=30,
            probe_dim=128, draws=2),
    lab=dict(validation=1000, test_images=5000, mnist_steps=150, cifar_steps=90, seconds=25, fence_steps=300,
             probe_dim=256, draws=3),
    full=dict(validation=5000, test_images=10_000, mnist_steps=1500, cifar_steps=1500, seconds=120,
              fence_steps=4500, probe_dim=1024, draws=5),
)


@dataclass
class Split:
    """One dataset as every row sees it: the pretraining pool (its labels are read only by the supervised fence, the
    simulator of classes from sound, and the probes' labelled draws), the validation split, the test images."""

    dataset: str
    x: torch.Tensor
    y: torch.Tensor
    val_x: torch.Tensor
    val_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    classes: list[str] = field(default_factory=lambda: [str(c) for c in range(10)])  # the class names

    def __str__(self) -> str:
        return (f"{DATASETS[self.dataset]}: {len(self.x)} pretraining images (their labels hidden from the pretext "
                f"tasks), {len(self.val_x)} validation images, {len(self.test_x)} test images, "
                f"{tuple(self.x.shape[1:])}")


def load(dataset: str, sizes: Sizes, seed: int = 0, device: torch.device | str = "cpu") -> Split:
    """The profile's training images of ``dataset`` ("mnist" or "cifar"), a validation split carved from them, and
    the first ``sizes.test_images`` test images, as tensors on ``device``."""
    loader = {"mnist": data.load_mnist, "cifar": data.load_cifar10}[dataset]
    train_set, test_set = loader(train=True, n=sizes.n_train), loader(train=False, n=sizes.test_images)
    (x, y), (val_x, val_y) = evaluate.split_validation(train_set.x, train_set.y, sizes.validation, seed)
    return Split(dataset, *(t.to(device) for t in (x, y, val_x, val_y, test_set.x, test_set.y)),
                 classes=list(train_set.classes))
