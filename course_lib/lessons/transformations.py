"""Learning by transforming images (notebook 05): pretext tasks on unlabelled MNIST, judged at 100 ... 10,000 labels.

Three ways to learn from the 60,000 unlabelled training digits, one backbone each:

* ``autoencoder``  a denoising autoencoder: predict the image from a masked copy (Vincent et al. 2008);
* ``egomotion``    predict the transformation between two views (Agrawal, Carreira & Malik 2015);
* ``contrastive``  recognise the other view of the same image among the batch (SimCLR, Chen et al. 2020).

The protocol: each backbone is frozen and a linear probe (``evaluate.linear_probe``) is trained on a labelled
subset of 100, 300, ... images (10 % of them per class, drawn with the seed); test error is measured on the
whole test set. Two baselines bound it: the same probe on frozen *random-init* features, and the same network
trained end to end *from scratch* on the labelled subset with the same augmentation the pretext tasks use.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import pandas as pd
import torch

from course_lib import checks, config, evaluate, nets, show, train
from course_lib.pretext import autoencoder, transformations

METHODS = ("autoencoder", "egomotion", "contrastive")
MASKED_FRACTION = 0.4  # the denoising autoencoder's masking noise


@dataclass(frozen=True)
class Sizes(config.Profile):
    """Notebook 05's sizes, beside the shared ones (``sizes.width``, ``sizes.batch_size``, ``sizes.max_seconds``)."""

    train_images: int  # unlabelled MNIST training images (the labelled subsets are drawn from them)
    steps: int  # optimiser steps of each pretext task (the same for every method)
    label_budgets: tuple[int, ...]  # labelled training images in total (10 % of them per class)
    scratch_steps: int  # optimiser steps of the from-scratch baseline on each labelled subset


SIZES = config.lesson_sizes(
    Sizes,
    ci=dict(train_images=10_000, steps=80, label_budgets=(100, 1_000), scratch_steps=100),
    lab=dict(train_images=20_000, steps=400, label_budgets=(100, 300, 1_000, 10_000), scratch_steps=150),
    full=dict(train_images=60_000, steps=3_000, label_budgets=(100, 300, 1_000, 10_000), scratch_steps=300),
)


def pretext_model(method: str, backbone: nets.Backbone, image_shape: tuple[int, int, int] = (1, 28, 28)):
    """The model and ``train.fit`` loss of one pretext task, around ``backbone``."""
    if method == "autoencoder":
        return autoencoder.AutoEncoder(backbone, image_shape), functools.partial(autoencoder.reconstruction_loss,
                                                                                 noise=MASKED_FRACTION)
    if method == "egomotion":
        return transformations.EgomotionNet(backbone), transformations.egomotion_loss
    if method == "contrastive":
        return transformations.SimCLR(backbone), transformations.simclr_loss
    raise ValueError(f"unknown method {method!r}; choose from {METHODS}")


def pretrain(method: str, x: torch.Tensor, sizes: Sizes, seed: int = 0):
    """Train a fresh backbone with one pretext task on unlabelled images ``x``; returns (backbone, history)."""
    backbone = nets.random_backbone(x.shape[1], sizes.width, seed, x.device)
    torch.manual_seed(seed)  # the head's initial weights and the pairs drawn: the same stream for every method
    model, loss = pretext_model(method, backbone, tuple(x.shape[1:]))
    history = train.fit(model.to(x.device), train.batches(x, batch_size=sizes.batch_size, seed=seed), loss,
                        steps=sizes.steps, max_seconds=sizes.max_seconds, desc=method)
    return backbone.eval(), history


def random_features(sizes: Sizes, seed: int = 0, device: torch.device | str = "cpu") -> nets.Backbone:
    """The random-init baseline: the backbone every pretext run starts from (the same seed), trained by nothing,
    probed like the others (frozen, in eval mode)."""
    return nets.random_backbone(1, sizes.width, seed, device)


def labelled_subset(y: torch.Tensor, budget: int, seed: int = 0) -> torch.Tensor:
    """Indices of ``budget`` labelled images, ``budget / 10`` of each digit."""
    return evaluate.few_labels(y, budget // 10, seed)


def probe_errors(backbone: nets.Backbone, train_xy, test_xy, budgets, seed: int = 0) -> dict[int, float]:
    """Test error (%) of a linear probe on the frozen pooled embedding, for each label budget."""
    (x, y), (x_test, y_test) = train_xy, test_xy
    features, test_features = evaluate.embed(backbone.embed, x), evaluate.embed(backbone.embed, x_test)
    y, y_test = y.cpu(), y_test.cpu()
    errors = {}
    for budget in budgets:
        idx = labelled_subset(y, budget, seed)
        errors[budget] = 100.0 - evaluate.linear_probe(features[idx], y[idx], test_features, y_test)
    return errors


def scratch_errors(train_xy, test_xy, budgets, sizes: Sizes, seed: int = 0) -> dict[int, float]:
    """Test error (%) of the network trained end to end on each labelled subset, with the pretext augmentation."""
    (x, y), (x_test, y_test) = train_xy, test_xy
    errors = {}
    for budget in budgets:
        idx = labelled_subset(y, budget, seed).to(x.device)
        backbone = nets.random_backbone(x.shape[1], sizes.width, seed, x.device)
        torch.manual_seed(seed)  # the head's initial weights and the augmentations: the same for every budget
        model = nets.Classifier(backbone, 10).to(x.device)
        train.train_classifier(model, x[idx], y[idx], steps=sizes.scratch_steps, batch_size=sizes.batch_size,
                               augment=transformations.digit_view, seed=seed, progress=False)
        errors[budget] = 100.0 - evaluate.accuracy(model, x_test, y_test)
    return errors


# --- exercise checker ----------------------------------------------------------------------------------------

def check_rotation_bins(fn) -> None:
    """Exercise: ``fn(degrees)`` puts angles in [-30, 30) into 20 bins of 3 degrees, as the pretext labels."""
    bins = transformations.EgomotionBins()
    angles = torch.tensor([-30.0, -29.9, -27.0, -0.1, 0.0, 2.9, 3.0, 29.9])
    expected = bins.rotation_class(angles)
    answer = torch.as_tensor(fn(angles))
    checks.exercise("rotation bins", answer.shape == expected.shape and torch.equal(answer.long(), expected),
                    f"for angles {angles.tolist()} the bins are {expected.tolist()}, you gave {answer.tolist()}: "
                    "shift by 30 degrees, divide by the bin width (3 degrees), round down")


def benchmark(backbones: dict[str, nets.Backbone], train_xy, test_xy, sizes: Sizes, seed: int = 0):
    """{method: {label budget: test error %}} for every frozen backbone (linear probe) and for scratch training."""
    errors = {name: probe_errors(backbone, train_xy, test_xy, sizes.label_budgets, seed)
              for name, backbone in backbones.items()}
    errors["scratch"] = scratch_errors(train_xy, test_xy, sizes.label_budgets, sizes, seed)
    return errors


def error_table(errors: dict[str, dict[int, float]]):
    """The errors as a table: one row per method, one column per label budget."""
    table = pd.DataFrame(errors).T.round(2)
    table.columns = [f"{k} labels" for k in table.columns]
    return table


def show_pretexts(images: torch.Tensor, seed: int = 0, n: int = 6):
    """What each pretext task asks, as pictures: the input(s) it sees and, for egomotion, the label it predicts."""
    x = images[:n].cpu()
    with config.isolated_rng(seed):  # a picture should not change what the notebook trains next
        masked = autoencoder.mask_noise(x, MASKED_FRACTION)
        shift, degrees, _ = transformations.EgomotionBins().draw(n)
        moved = transformations.warp(x, shift, degrees)
        view1, view2 = transformations.simclr_views(x)
    rows = [x, masked, moved, view1, view2]
    titles = (["image"] * n + ["masked: predict the image"] + [""] * (n - 1)
              + [f"T: {int(sx):+d},{int(sy):+d} px, {d:+.0f}°" for (sx, sy), d in zip(shift, degrees, strict=True)]
              + ["view t(x)"] + [""] * (n - 1) + ["view t'(x): the positive"] + [""] * (n - 1))
    return show.image_grid(torch.cat(rows), titles, ncols=n, size=1.4)
