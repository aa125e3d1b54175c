"""Split-brain autoencoders (Zhang, Isola & Efros, "Split-Brain Autoencoders: Unsupervised Learning by
Cross-Channel Prediction", CVPR 2017).

An autoencoder F reconstructs X from X, and needs a bottleneck so as not to copy it. A split-brain autoencoder
splits the data channels instead: X = (X_1, X_2) with X_1 = L and X_2 = ab in Lab colour, and trains two disjoint
half-width networks on *cross-channel* tasks, each predicting the channels it does not see:

    F_1: X_1 -> X_2^   (L -> ab: colorization, notebook 06)
    F_2: X_2 -> X_1^   (ab -> L: lightness from colour)

The two halves are trained independently, each with its own loss, and the representation of the whole is the
concatenation F(X) = {F_1(X_1), F_2(X_2)}: every layer's features are both halves' features side by side. Each
loss is either a classification over quantised values (``cl``: ab in the Q bins of ``colorization``, L in
``L_BINS`` bins) or a regression (``reg``: l2 on the scaled values); the paper's best is (cl, cl). The paper trains
each half by its own loss, F_1 to minimise l(F_1(X_1), X_2) and F_2 to minimise l(F_2(X_2), X_1)
(``cross_channel_loss``); since the halves share no weight, a step on the sum of the two losses is a step of each
(``split_brain_loss``, both halves at once).

Inputs here are Lab images scaled to about [-1, 1] (``scaled_lab``): channel 0 is L, channels 1-2 are ab. The
cross-channel networks are ``colorization.Colorizer`` (any backbone, any number of input channels): backbone,
head at a quarter of the input side, 1 x 1 convolution to the class scores or values.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from course_lib.nets import STAGES, Backbone
from course_lib.pretext import colorization as col

L_BINS = 50  # L in [0, 100] quantised into 50 bins of 2 (ours; the ab side uses the colorization bins)
SPLITS = {"l_ab": (slice(0, 1), slice(1, 3)), "ab_l": (slice(1, 3), slice(0, 1)), "lab_lab": (slice(0, 3),) * 2}


def scaled_lab(rgb: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """RGB images -> Lab scaled for a network: (L / 50 - 1, a / 110, b / 110), N x 3 x H x W."""
    parts = []
    for start in range(0, len(rgb), batch_size):
        lab = col.rgb_to_lab(rgb[start:start + batch_size])
        parts.append(torch.cat([col.network_input(lab[:, :1]), lab[:, 1:] / col.AB_SCALE], dim=1))
    return torch.cat(parts)


def _unscale(lab: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(L in [0, 100], ab in Lab units) of scaled Lab."""
    return (lab[:, :1] + 1.0) * col.L_SCALE, lab[:, 1:] * col.AB_SCALE


class CrossChannel(nn.Module):
    """One cross-channel predictor: reads the ``task``'s input channels of scaled Lab, predicts its output ones."""

    def __init__(self, task: str, backbone: Backbone, out_channels: int, image_size: int = 32):
        super().__init__()
        if task not in SPLITS:
            raise ValueError(f"unknown task {task!r}; tasks are {', '.join(SPLITS)}")
        self.task, self.reads = task, SPLITS[task][0]
        self.net = col.Colorizer(backbone, out_channels, image_size)

    @property
    def backbone(self) -> Backbone:
        return self.net.backbone

    def forward(self, lab: torch.Tensor) -> torch.Tensor:
        return self.net(lab[:, self.reads])


def lightness_bins(lightness: torch.Tensor, bins: int = L_BINS) -> torch.Tensor:
    """The class of each L value in [0, 100]: ``bins`` equal bins."""
    return (lightness / (100.0 / bins)).long().clamp(0, bins - 1)


def cross_channel_loss(model: CrossChannel, batch, loss: str = "cl", centres: torch.Tensor | None = None):
    """For ``train.fit`` (batch = (scaled Lab images, ...)): the task's loss at the output side (a quarter of the
    input's).

    ``cl``: ab -> cross-entropy with the soft-encoded ab bins (``centres``), L -> cross-entropy over ``L_BINS``;
    ``reg``: half the squared error of the scaled values (the Lab -> Lab autoencoder always regresses).
    """
    lab = batch[0]
    prediction = model(lab)
    target = F.avg_pool2d(lab[:, SPLITS[model.task][1]], col.OUTPUT_STRIDE)  # the withheld channels, output side
    if loss == "reg" or model.task == "lab_lab":
        return 0.5 * (prediction - target).pow(2).sum(dim=1).mean()
    if loss != "cl":
        raise ValueError(f"loss must be 'cl' or 'reg', got {loss!r}")
    if model.task == "l_ab":
        if centres is None:
            raise ValueError("classifying ab needs the bin centres")
        return col.soft_cross_entropy(prediction, target * col.AB_SCALE, centres)[0]
    lightness = (target + 1.0) * col.L_SCALE
    return F.cross_entropy(prediction, lightness_bins(lightness[:, 0]))


def split_brain_loss(l_to_ab: nn.Module, ab_to_l: nn.Module, lab: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    """The (cl, cl) split-brain loss of a batch of scaled Lab images, both halves at once: the sum
    l(F_1(X_1), X_2) + l(F_2(X_2), X_1) of the two cross-channel losses.

    ``l_to_ab`` reads the lightness (1 channel) and scores the Q ab bins of ``centres``; ``ab_to_l`` reads the colour
    (2 channels) and scores ``L_BINS`` lightness bins; both predict at a quarter of the input side (``Colorizer``s,
    which read only their own channels). Each term is the number ``cross_channel_loss`` gives that half. The halves
    share no weight, so the sum trains each by its own loss, as if each were trained alone.
    """
    lightness, ab = lab[:, SPLITS["l_ab"][0]], lab[:, SPLITS["ab_l"][0]]
    ab_target = F.avg_pool2d(ab, col.OUTPUT_STRIDE) * col.AB_SCALE  # the true colour at the output side, Lab units
    l_target = (F.avg_pool2d(lightness, col.OUTPUT_STRIDE) + 1.0) * col.L_SCALE  # L in [0, 100]
    ab_loss = col.soft_cross_entropy(l_to_ab(lightness), ab_target, centres)[0]
    return ab_loss + F.cross_entropy(ab_to_l(ab), lightness_bins(l_target[:, 0]))


def halves_accuracy(colour_scores: torch.Tensor, lightness_scores: torch.Tensor, lab: torch.Tensor,
                    centres: torch.Tensor) -> dict[str, torch.Tensor]:
    """Each half's own pretext accuracy: how often its most likely bin is the true one at an output pixel.
    ``colour_scores`` are L -> ab's scores of the Q ab bins (right: the bin nearest the true colour),
    ``lightness_scores`` ab -> L's scores of the ``L_BINS`` bins (right: the true lightness's bin)."""
    lightness, ab = _unscale(F.avg_pool2d(lab, col.OUTPUT_STRIDE))
    return {"acc_ab": (colour_scores.argmax(1) == col.nearest_bin(ab, centres)).float().mean(),
            "acc_l": (lightness_scores.argmax(1) == lightness_bins(lightness[:, 0])).float().mean()}


def split_brain_step(halves: nn.ModuleList, batch, centres: torch.Tensor, loss=split_brain_loss):
    """For ``train.fit`` (batch = (scaled Lab images, ...)): both halves of a split-brain autoencoder, ``halves`` =
    [L -> ab, ab -> L] ``Colorizer``s, trained at once by ``loss(l_to_ab, ab_to_l, lab, centres)`` (notebook 07
    trains a student's own split-brain loss through it; ``split_brain_loss`` is the course's). Metrics: each half's
    accuracy (``halves_accuracy``), read from the predictions the loss itself made."""
    seen = {}
    hooks = [half.register_forward_hook(lambda module, inputs, out, k=k: seen.__setitem__(k, out.detach()))
             for k, half in enumerate(halves)]  # whatever the loss computes, its predictions are recorded here
    try:
        value = loss(halves[0], halves[1], batch[0], centres)
    finally:
        for hook in hooks:
            hook.remove()
    with torch.no_grad():
        return value, halves_accuracy(seen[0], seen[1], batch[0], centres)


class InputChannels(nn.Module):
    """A backbone that reads some channels of scaled Lab: so that every network of a probe table takes the same
    input. Has ``features`` and ``channels`` like ``nets.Backbone`` (what ``evaluate.stage_features`` uses)."""

    def __init__(self, backbone: Backbone, reads: slice):
        super().__init__()
        self.backbone, self.reads = backbone, reads
        self.channels = dict(backbone.channels)

    def features(self, lab: torch.Tensor, stages=STAGES) -> dict[str, torch.Tensor]:
        return self.backbone.features(lab[:, self.reads], stages)

    def forward(self, lab: torch.Tensor, stage: str = "conv5") -> torch.Tensor:
        return self.backbone(lab[:, self.reads], stage)


class SplitBrain(nn.Module):
    """F(X) = {F_1(X_1), F_2(X_2)}: at every stage, the two halves' feature maps concatenated along channels."""

    def __init__(self, l_to_ab: Backbone, ab_to_l: Backbone):
        super().__init__()
        if l_to_ab.channels != ab_to_l.channels:
            raise ValueError("the two halves should have the same widths")
        self.halves = nn.ModuleList([InputChannels(l_to_ab, slice(0, 1)), InputChannels(ab_to_l, slice(1, 3))])
        self.channels = {stage: 2 * c for stage, c in l_to_ab.channels.items()}

    def features(self, lab: torch.Tensor, stages=STAGES) -> dict[str, torch.Tensor]:
        first, second = (half.features(lab, stages) for half in self.halves)
        return {stage: torch.cat([first[stage], second[stage]], dim=1) for stage in first}

    def forward(self, lab: torch.Tensor, stage: str = "conv5") -> torch.Tensor:
        return self.features(lab, [stage])[stage]


class EnsembledLToAb(SplitBrain):
    """The paper's control for split-brain's width, "Ensembled L→ab": two L→ab halves trained independently (each
    from its own initial weights) side by side. It has split-brain's width and parameters but one task seen twice,
    so a gap between the two is the second task's, not the doubled width's."""

    def __init__(self, first: Backbone, second: Backbone):
        super().__init__(first, second)
        self.halves[1] = InputChannels(second, slice(0, 1))  # both halves read L
