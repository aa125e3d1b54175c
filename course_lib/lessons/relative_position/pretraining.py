"""Notebook 02's four initialisations of one backbone: **supervised** on CIFAR-10 labels (an in-domain oracle),
**supervised on other classes** (the animals only), **relative position** without labels, and **random** (none), all
from the same initial weights; and the pretext's own accuracy on held-out photos."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import torch

from course_lib import augment, config, evaluate, nets, pretrained, train
from course_lib.data import ImageData
from course_lib.early_stopping import EarlyStopping
from course_lib.lessons.relative_position.detection_transfer import GRID, NOTEBOOK, OTHER_CLASSES, Sizes, Split
from course_lib.pretext import relative_position as rp

# random init is ``nets.random_backbone(3, sizes.width, seed)``: the weights both pretrainings start from


@dataclass
class Pretrained:
    """The four starts of the backbone (``backbones``, by ``INITS`` name), the relative-position network whose
    backbone is one of them, and the three pretraining runs' histories."""

    backbones: dict[str, nets.Backbone]
    relpos: rp.RelativePositionNet
    histories: dict[str, train.History]

    @property
    def capped(self) -> list[str]:
        """The pretraining runs that stopped at their time cap (their numbers are those of shorter runs)."""
        return [name for name, history in self.histories.items() if history.capped]


def only_classes(images: ImageData, classes: tuple[str, ...]) -> ImageData:
    """The photos of ``classes`` only, their labels renumbered 0 ... len(classes) - 1 in that order."""
    wanted = torch.tensor([images.classes.index(name) for name in classes], device=images.y.device)
    keep = torch.isin(images.y, wanted)
    relabel = torch.full((len(images.classes),), -1, dtype=torch.long, device=images.y.device)
    relabel[wanted] = torch.arange(len(classes), device=images.y.device)
    return ImageData(images.x[keep], relabel[images.y[keep]], list(classes))


def pretrain_all(data: Split, sizes: Sizes, seed: int = 0, progress: bool = True) -> Pretrained:
    """Supervised (all CIFAR-10 labels), supervised on the animals only (``OTHER_CLASSES``: the same steps, on the
    six classes' share of the photos), relative position (no labels; all colours) and random init, all from the same
    initial weights: what the notebook runs (on seeds 1 and 2 too: ``python -m course_lib.results seeds 02``)."""
    supervised, supervised_history = pretrain_supervised(data.pretrain, sizes, seed, progress)
    other, other_history = pretrain_supervised(only_classes(data.pretrain, OTHER_CLASSES), sizes, seed, progress,
                                               desc="supervised pretraining, other classes")
    relpos, relpos_history = pretrain_relative_position(data.pretrain.x, sizes, seed, colour_dropping=False,
                                                        progress=progress)
    random = nets.random_backbone(3, sizes.width, seed, data.pretrain.x.device)
    return Pretrained({"supervised": supervised, "supervised_other": other, "relative_position": relpos.backbone,
                       "random": random}, relpos,
                      {"supervised": supervised_history, "supervised_other": other_history,
                       "relative_position": relpos_history})


STOP_PATIENCE = 3  # gradings in a row without a new best that end a supervised run stopped on validation


def pretrain_supervised(images: ImageData, sizes: Sizes, seed: int = 0, progress: bool = True,
                        notebook: str = NOTEBOOK, desc: str = "supervised pretraining",
                        augmentation: Callable[[torch.Tensor], torch.Tensor] = augment.random_crop_flip,
                        stop_on: ImageData | None = None):
    """Classify the pretraining photos with their labels (crop + flip augmentation) for ``sizes.supervised_steps``;
    returns (backbone, history). ``notebook``, ``desc`` and ``augmentation``: whose run it is, its
    name there and the batched augmentation (the scoreboard, 12, trains its supervised fence with this recipe at its
    own sizes, on digits with 05's views). ``stop_on``: labelled validation images; graded on them ten times over
    the steps, the run stops once ``STOP_PATIENCE`` gradings in a row have not beaten the best, and keeps the best
    weights (``early_stopping``)."""
    device, steps = images.x.device, sizes.supervised_steps
    with config.isolated_rng(seed):  # the classifier layer and the augmentations drawn
        backbone = nets.random_backbone(images.x.shape[1], sizes.width, seed, device)
        model = nets.Classifier(backbone, len(images.classes)).to(device)
        watch = None if stop_on is None else EarlyStopping(model, (stop_on.x, stop_on.y), every=max(steps // 10, 1),
                                                           patience=STOP_PATIENCE)
        history = pretrained.load_or_train(
            model, f"{notebook}/{desc}",
            lambda: train.train_classifier(model, images.x, images.y, steps=steps, batch_size=sizes.batch_size,
                                           augment=augmentation, seed=seed, watch=watch,
                                           max_seconds=sizes.pretrain_seconds, progress=progress, desc=desc),
            sizes=sizes, seed=seed, loss="cross-entropy", augment=augmentation,
            **({} if stop_on is None else {"stopped_on_validation": len(stop_on.x), "patience": STOP_PATIENCE}))
    return model.backbone.eval(), history


def pretrain_relative_position(x: torch.Tensor, sizes: Sizes, seed: int = 0, steps: int | None = None,
                               colour_dropping: bool = True, lens=None, grid: rp.PatchGrid | None = None,
                               progress: bool = True, desc: str = "", notebook: str = NOTEBOOK):
    """The pretext task on unlabelled photos ``x``; returns (the whole RelativePositionNet, history). ``notebook``:
    whose run it is (the scoreboard, 12, trains this recipe at its own sizes), ``desc`` its name there."""
    desc, steps = desc or "relative position", steps or sizes.pretext_steps
    with config.isolated_rng(seed):  # the fusion MLP and the pairs drawn: the same for every run with this seed
        model = rp.RelativePositionNet(nets.random_backbone(3, sizes.width, seed, x.device), grid or GRID)
        model = model.to(x.device)
        loss = functools.partial(rp.relative_position_loss, colour_dropping=colour_dropping, lens=lens)
        history = pretrained.load_or_train(
            model, f"{notebook}/{desc}",
            lambda: train.fit(model, train.batches(x, batch_size=sizes.batch_size, seed=seed), loss, steps=steps,
                              max_seconds=sizes.pretrain_seconds, progress=progress, desc=desc),
            sizes=sizes, seed=seed, steps=steps, loss=loss, grid=model.grid)
    return model.eval(), history


@torch.no_grad()
def pretext_accuracy(model: rp.RelativePositionNet, x: torch.Tensor, colour_dropping: bool = True, lens=None,
                     seed: int = 0, pairs: Callable = rp.patch_pairs) -> float:
    """8-way accuracy (%) on pairs from held-out photos ``x``, made as in training (chance: 12.5 %) by ``pairs``
    (the course's sampler, or the student's of the exercise)."""
    with config.isolated_rng(seed):  # the same pairs for every model; the notebook's stream is left alone
        photos = rp.upsample(x, model.grid.image_side)
        photos = lens(photos) if lens is not None else photos
        first, second, y = pairs(photos, model.grid)
        if colour_dropping:
            first, second = rp.drop_colour(first), rp.drop_colour(second)
    model.eval()
    return 100.0 * (evaluate.embed(lambda p: model(*p.chunk(2, dim=1)), torch.cat([first, second], 1)).argmax(1)
                    == y.cpu()).float().mean().item()
