"""The shared backbone and the small heads every pretext task and probe puts on top of it.

The backbone has five named stages, ``conv1`` ... ``conv5``, like the AlexNet the papers use, so that a
layer-wise probe here reads like the papers' tables. It is small enough to train on a laptop CPU:

    stage   channels   28x28 input   32x32 input
    conv1   w          14x14         16x16       (conv, BN, ReLU, 2x2 max-pool)
    conv2   2w         7x7           8x8         (conv, BN, ReLU, 2x2 max-pool)
    conv3   4w         7x7           8x8
    conv4   4w         3x3           4x4         (... 2x2 max-pool)
    conv5   8w         3x3           4x4

``Decoder`` runs the other way, from the conv5 map back to an image-sized map (autoencoders, colorization).
"""

from __future__ import annotations

import copy

import torch
from torch import nn

STAGES = ("conv1", "conv2", "conv3", "conv4", "conv5")
_WIDTH_MULTIPLIERS = (1, 2, 4, 4, 8)
_POOL_AFTER = {"conv1", "conv2", "conv4"}


def _stage(c_in: int, c_out: int, pool: bool) -> nn.Sequential:
    layers = [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]
    if pool:
        layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers)


class Backbone(nn.Module):
    """Five conv stages; ``forward(x, stage)`` returns that stage's feature map, default the last."""

    def __init__(self, in_channels: int = 1, width: int = 32):
        super().__init__()
        channels = [in_channels] + [width * m for m in _WIDTH_MULTIPLIERS]
        self.stages = nn.ModuleDict({
            name: _stage(channels[i], channels[i + 1], name in _POOL_AFTER) for i, name in enumerate(STAGES)
        })
        self.channels = dict(zip(STAGES, channels[1:], strict=True))
        self.out_dim = channels[-1]  # size of the globally pooled conv5 feature

    def forward(self, x: torch.Tensor, stage: str = "conv5") -> torch.Tensor:
        if stage not in self.stages:
            raise ValueError(f"unknown stage {stage!r}; stages are {', '.join(STAGES)}")
        for name, block in self.stages.items():
            x = block(x)
            if name == stage:
                return x
        raise AssertionError("unreachable")

    def features(self, x: torch.Tensor, stages=STAGES) -> dict[str, torch.Tensor]:
        """Feature maps of several stages from one forward pass."""
        wanted, out = set(stages), {}
        for name, block in self.stages.items():
            x = block(x)
            if name in wanted:
                out[name] = x
            if len(out) == len(wanted):
                break
        return out

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The global-average-pooled conv5 feature: one vector of ``out_dim`` per image."""
        return self(x).mean(dim=(2, 3))


def random_backbone(in_channels: int, width: int, seed: int, device: torch.device | str = "cpu") -> Backbone:
    """A backbone at PyTorch's default initialisation, seeded: the same seed gives the same weights, so a trained
    model and its random-init baseline start from the same point.

    Returned in eval mode, because frozen random features are a baseline: in training mode BatchNorm would normalise
    each image with its batch-mates' statistics. Call ``.train()`` before training it. Seeding happens inside
    ``torch.random.fork_rng``, so building a backbone does not move the caller's random stream.
    """
    with torch.random.fork_rng(devices=[]):  # initialisation draws on the CPU stream only
        torch.manual_seed(seed)
        backbone = Backbone(in_channels, width)
    return backbone.to(device).eval()


@torch.no_grad()
def recalibrate_batchnorm(backbone: nn.Module, x: torch.Tensor, batch_size: int = 250) -> nn.Module:
    """Re-estimate every BatchNorm's running mean and variance on ``x``; the weights are untouched.

    A backbone pretrained on other inputs (colour-dropped 16-pixel patches, say) has statistics that do not
    fit a new task's images; frozen, it would feed the head activations of the wrong scale (02 recalibrates every
    initialisation on its scenes: our counterpart of the weight rescaling of Kraehenbuehl et al. 2015, which
    Doersch et al. needed before fine-tuning). A network at random init has the statistics of no data at all
    (mean 0, variance 1), so a random-init baseline at its best is also read recalibrated (``recalibrated``).
    """
    # update_bn resets the statistics and averages them over every batch (momentum None), weights untouched
    torch.optim.swa_utils.update_bn((x[i:i + batch_size] for i in range(0, len(x), batch_size)), backbone)
    return backbone.eval()


def recalibrated(backbone: nn.Module, x: torch.Tensor, batch_size: int = 250) -> nn.Module:
    """A copy of ``backbone`` whose BatchNorm statistics are re-estimated on the unlabelled images ``x``
    (``recalibrate_batchnorm``); the original is left as it was."""
    return recalibrate_batchnorm(copy.deepcopy(backbone), x, batch_size)


def mlp(in_dim: int, hidden: int, out_dim: int) -> nn.Sequential:
    """A two-layer head (the projection heads of contrastive learning, the pretext classifiers)."""
    return nn.Sequential(nn.Linear(in_dim, hidden), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True),
                         nn.Linear(hidden, out_dim))


class Decoder(nn.Module):
    """The backbone in reverse: a conv5 feature map -> an ``out_channels`` x ``image_size`` x ``image_size`` map.

    Three (upsample, conv, BN, ReLU) blocks undo the backbone's three poolings (3 -> 7 -> 14 -> 28 or
    4 -> 8 -> 16 -> 32), then a 3x3 conv gives raw outputs (no activation: the task picks sigmoid, softmax, ...).
    Upsampling followed by a convolution, not a transposed convolution, avoids checkerboard artefacts
    (Odena et al. 2016).
    """

    def __init__(self, in_channels: int, out_channels: int, image_size: int, width: int = 32):
        super().__init__()
        sizes = (image_size // 4, image_size // 2, image_size)  # the sides the backbone pooled from
        channels = (in_channels, 4 * width, 2 * width, width)
        blocks = [nn.Sequential(nn.Upsample(size=side), nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
                                nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))
                  for side, c_in, c_out in zip(sizes, channels[:-1], channels[1:], strict=True)]
        self.layers = nn.Sequential(*blocks, nn.Conv2d(width, out_channels, 3, padding=1))

    def forward(self, fmap: torch.Tensor) -> torch.Tensor:
        return self.layers(fmap)


class Classifier(nn.Module):
    """Backbone + global average pool + linear layer: the supervised baseline and the fine-tuned model."""

    def __init__(self, backbone: Backbone, n_classes: int):
        super().__init__()
        self.backbone = backbone
        self.head = nn.Linear(backbone.out_dim, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone.embed(x))


class TextEncoder(nn.Module):
    """A small caption encoder: word embeddings read in order by a GRU, the last hidden state as the sentence's
    feature (``out_dim`` numbers). Word order matters to it -- "a red 3 left of a blue 7" and "a blue 3 left of a
    red 7" hold the same words -- as it does not to a bag of words (``BagOfWords``)."""

    def __init__(self, vocabulary: int, dim: int = 32, hidden: int = 64):
        super().__init__()
        self.words = nn.Embedding(vocabulary, dim)
        self.gru = nn.GRU(dim, hidden, batch_first=True)
        self.out_dim = hidden

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        _, last = self.gru(self.words(tokens))
        return last[-1]


class BagOfWords(nn.Module):
    """The simplest caption encoder: the mean of the word embeddings, blind to word order (``out_dim`` = ``dim``)."""

    def __init__(self, vocabulary: int, dim: int = 64):
        super().__init__()
        self.words = nn.EmbeddingBag(vocabulary, dim, mode="mean")
        self.out_dim = dim

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.words(tokens)


class SceneTower(nn.Module):
    """A ``Backbone`` whose conv5 map is pooled to ``cells`` (rows x columns) and flattened, not averaged to one
    vector: what is left and what is right stay apart (a global average would mix the two slots of a scene)."""

    def __init__(self, backbone: Backbone, cells: tuple[int, int] = (1, 2)):
        super().__init__()
        self.backbone, self.cells = backbone, cells
        self.out_dim = backbone.out_dim * cells[0] * cells[1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.adaptive_avg_pool2d(self.backbone(x), self.cells).flatten(1)
