"""The course scoreboard (notebook 12): every pretext task of the course under one protocol, on MNIST and CIFAR-10.

Each notebook judged its method with its own protocol (its labels, its layers, its pooling, its baselines). Here every
method gets the same one, so that their numbers can stand in one table:

* ``METHODS``   the registry: one entry per (method, dataset), each with how to pretrain it, built from the course's
                pretext modules (``course_lib.pretext``) -- the pairs maker, head and loss of its notebook, nothing
                re-implemented -- and the two fences, **random init** (the weights every run starts from, trained by
                nothing) and **supervised** (the same backbone trained on the labels of every pretraining image, with
                augmentation: the contrastive views on digits, crop + flip on photos);
* ``load``      the data: the profile's training images, a validation split carved from them (it chooses, the test
                set only grades), and test images; every method pretrains on the same images, without their labels;
* ``score``     the protocol: one backbone (``nets.Backbone``, the profile's width), frozen; every layer conv1 ...
                conv5 average-pooled to at most ``sizes.probe_dim`` numbers (features computed once); at each label
                budget (MNIST 100 and 1,000 labels, CIFAR-10 1,000 and 5,000, a tenth per class) ``label_draws``
                labelled subsets, the same for every row; a **linear probe** (``evaluate.probe_layers``) and a
                weighted **k-nearest-neighbour** classifier (``evaluate.knn_scores``), each at the layer that is best
                on the validation split at the smaller budget; mean ± std over the draws;
* ``table`` / ``plot``: one table and one label-efficiency plot per dataset; ``verdicts`` says, budget by budget,
                which rows beat random init, which lose to it and where the gap is inside the spread;
* ``beside_the_notebooks``: each method's number here beside the one its own notebook recorded
                (``results/lab/*.json``), and what differs between the two protocols.

Pretraining is shorter than in the notebooks (``sizes.mnist_steps`` / ``sizes.cifar_steps`` optimiser steps per
method, the same for every method of a dataset), so that the whole board fits one notebook's budget.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from torch import nn

from course_lib import audio, augment, checkpoints, checks, config, data, evaluate, nets, results, show, train
from course_lib.pretext import audio_visual as av
from course_lib.pretext import autoencoder
from course_lib.pretext import colorization as col
from course_lib.pretext import relative_position as rp
from course_lib.pretext import split_brain as sb
from course_lib.pretext import transformations as tf

DATASETS = {"mnist": "MNIST", "cifar": "CIFAR-10"}
BUDGETS = {"mnist": (100, 1000), "cifar": (1000, 5000)}  # labelled training images (a tenth of them per class)
RANDOM, SUPERVISED = "random init", "supervised"
FENCES = (RANDOM, SUPERVISED)
NOISE = 0.25  # masking noise of the denoising autoencoder: the fraction of pixels zeroed (notebook 04's)
GRID = rp.PatchGrid(image_side=48, patch=12, gap=4, jitter=2)  # notebook 02's grid: photos magnified 1.5 x
SOUND_CLUSTERS = 30  # k-means clusters of the sound statistics (notebook 08's "classes from sound")
NEIGHBOURS = 20  # k of the k-nearest-neighbour classifier: at 100 labels, twice the labelled images of a class
VIDEO_SEED = 2000  # the simulated videos of classes from sound: their own draw, never a training stream's


@dataclass(frozen=True)
class Sizes(config.Profile):
    """The shared profile plus what the scoreboard alone needs."""

    validation: int  # training images held out (with labels) to choose each row's layer; nothing trains on them
    test_images: int  # test images that grade (the first ones of the test set)
    mnist_steps: int  # optimiser steps of every pretraining run on MNIST (the same for every method)
    cifar_steps: int  # ... on CIFAR-10
    seconds: float  # time cap of each pretraining run (stops early, says so)
    probe_dim: int  # every layer average-pooled to at most this many numbers before a probe

    def steps(self, dataset: str) -> int:
        return self.mnist_steps if dataset == "mnist" else self.cifar_steps


SIZES = config.lesson_sizes(
    Sizes,
    ci=dict(validation=1000, test_images=2000, mnist_steps=25, cifar_steps=15, seconds=6, probe_dim=256),
    lab=dict(validation=1000, test_images=5000, mnist_steps=150, cifar_steps=90, seconds=25, probe_dim=512),
    full=dict(validation=5000, test_images=10_000, mnist_steps=1500, cifar_steps=1500, seconds=120, probe_dim=1024),
)


# --- the data ----------------------------------------------------------------------------------------------------

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
    return Split(dataset, *(t.to(device) for t in (x, y, val_x, val_y, test_set.x, test_set.y)))


# --- feature extractors that read the same RGB images ---------------------------------------------------------------

class Reads(nn.Module):
    """A network that prepares its input first (RGB -> lightness for colorization, RGB -> scaled Lab for
    split-brain), so that every row of a table reads the same images. Has ``features`` and ``channels`` like
    ``nets.Backbone`` (what ``evaluate.stage_features`` uses)."""

    def __init__(self, net: nn.Module, prepare: Callable[[torch.Tensor], torch.Tensor]):
        super().__init__()
        self.net, self.prepare = net, prepare
        self.channels = dict(net.channels)

    def features(self, x: torch.Tensor, stages=nets.STAGES) -> dict[str, torch.Tensor]:
        return self.net.features(self.prepare(x), stages)

    def forward(self, x: torch.Tensor, stage: str = "conv5") -> torch.Tensor:
        return self.net(self.prepare(x), stage)


def lightness(rgb: torch.Tensor) -> torch.Tensor:
    """What the colorizer reads: the L channel of Lab, scaled to [-1, 1]."""
    return col.network_input(col.split_lab(rgb)[0])


# --- the registry: how each row pretrains --------------------------------------------------------------------------
# Every entry: (split, sizes, seed, desc) -> (feature extractor, training history or None). Each starts from
# ``nets.random_backbone(channels, width, seed)``, the random-init row's weights (the split-brain halves from
# half-width ones), and trains ``sizes.steps(dataset)`` steps of batch ``sizes.batch_size``.

def _fit(model: nn.Module, stream, loss, split: Split, sizes: Sizes, desc: str) -> train.History:
    model = model.to(split.x.device).to(memory_format=torch.channels_last)
    return train.fit(model, stream, loss, steps=sizes.steps(split.dataset), max_seconds=sizes.seconds, desc=desc)


def _start(split: Split, sizes: Sizes, seed: int, channels: int | None = None, width: int | None = None):
    return nets.random_backbone(channels or split.x.shape[1], width or sizes.width, seed, split.x.device).train()


def _stream(split: Split, sizes: Sizes, seed: int, *labels, augment=None):
    return train.batches(split.x, *labels, batch_size=sizes.batch_size, seed=seed, augment=augment)


def random_init(split: Split, sizes: Sizes, seed: int, desc: str):
    """The lower fence: the initial weights of every run, trained by nothing."""
    return _start(split, sizes, seed).eval(), None


def views(dataset: str) -> Callable[[torch.Tensor], torch.Tensor]:
    """The augmentation of the supervised fence: the contrastive views on digits (notebook 05's ``digit_view``),
    crop + flip on photos (notebook 02's supervised pretraining)."""
    return tf.digit_view if dataset == "mnist" else augment.random_crop_flip


def supervised(split: Split, sizes: Sizes, seed: int, desc: str):
    """The upper fence: classify every pretraining image with its label (cross-entropy), with augmentation."""
    backbone = _start(split, sizes, seed)
    with config.isolated_rng(seed):
        model = nets.Classifier(backbone, 10)
    stream = _stream(split, sizes, seed, split.y, augment=views(split.dataset))
    return backbone.eval(), _fit(model, stream, train_loss, split, sizes, desc)


def train_loss(model: nn.Module, batch) -> tuple[torch.Tensor, dict]:
    """Cross-entropy of a classifier on (images, labels): the supervised fence's loss."""
    images, labels = batch
    logits = model(images)
    return nn.functional.cross_entropy(logits, labels), {"acc": (logits.argmax(1) == labels).float().mean()}


def denoising_autoencoder(split: Split, sizes: Sizes, seed: int, desc: str):
    """Notebook 04: reconstruct every image from a copy with ``NOISE`` of its pixels zeroed (Vincent et al. 2008)."""
    backbone = _start(split, sizes, seed)
    with config.isolated_rng(seed):
        model = autoencoder.AutoEncoder(backbone, tuple(split.x.shape[1:]))
    loss = functools.partial(autoencoder.reconstruction_loss, noise=NOISE)
    return backbone.eval(), _fit(model, _stream(split, sizes, seed), loss, split, sizes, desc)


def egomotion(split: Split, sizes: Sizes, seed: int, desc: str):
    """Notebook 05: predict the translation and rotation between two views (Agrawal et al. 2015)."""
    backbone = _start(split, sizes, seed)
    with config.isolated_rng(seed):
        model = tf.EgomotionNet(backbone)
    return backbone.eval(), _fit(model, _stream(split, sizes, seed), tf.egomotion_loss, split, sizes, desc)


def contrastive(split: Split, sizes: Sizes, seed: int, desc: str):
    """Notebook 05: pick out the other view of the same digit in the batch (SimCLR's NT-Xent, Chen et al. 2020)."""
    backbone = _start(split, sizes, seed)
    with config.isolated_rng(seed):
        model = tf.SimCLR(backbone)
    return backbone.eval(), _fit(model, _stream(split, sizes, seed), tf.simclr_loss, split, sizes, desc)


def classes_from_sound(split: Split, sizes: Sizes, seed: int, desc: str):
    """Notebook 08 (Owens et al. 2016): every pretraining digit gets one recording of its digit from FSDD (the
    simulator reads the labels once, to make the videos); k-means clusters the recordings' statistics, no label
    read; the image network predicts the cluster of its own video's sound."""
    train_spoken, test_spoken = audio.by_take(data.load_fsdd("all"))
    sounds, _ = audio.spectrograms(train_spoken, test_spoken)
    clusters, _ = av.sound_clusters(av.sound_statistics(sounds), SOUND_CLUSTERS, seed)
    soundtrack = av.simulate_videos(split.y, train_spoken.digit, seed + VIDEO_SEED)
    backbone = _start(split, sizes, seed)
    with config.isolated_rng(seed):
        model = nets.Classifier(backbone, SOUND_CLUSTERS)
    stream = av.image_cluster_batches(split.x, soundtrack, clusters, sizes.batch_size, seed)
    return backbone.eval(), _fit(model, stream, av.cluster_loss, split, sizes, desc)


def relative_position(split: Split, sizes: Sizes, seed: int, desc: str):
    """Notebook 02: which of the 8 neighbours is the second patch (Doersch et al. 2015), its grid and all colours."""
    backbone = _start(split, sizes, seed)
    with config.isolated_rng(seed):
        model = rp.RelativePositionNet(backbone, GRID)
    loss = functools.partial(rp.relative_position_loss, colour_dropping=False)
    return backbone.eval(), _fit(model, _stream(split, sizes, seed), loss, split, sizes, desc)


def colour_bins(rgb: torch.Tensor):
    """The ab bins in the sRGB gamut and the rebalancing weights w from these images' colours (notebook 06's)."""
    centres = col.ab_gamut().to(rgb.device)
    _, ab = col.split_lab(rgb)
    p = col.empirical_distribution(nn.functional.avg_pool2d(ab, col.OUTPUT_STRIDE), centres)
    return centres, col.rebalancing_weights(col.smooth(p, centres))


def colorization(split: Split, sizes: Sizes, seed: int, desc: str):
    """Notebook 06: L -> ab as classification over the ab bins, rebalanced (Zhang et al. 2016). Reads lightness."""
    centres, weights = colour_bins(split.x)
    backbone = _start(split, sizes, seed, channels=1)
    with config.isolated_rng(seed):
        model = col.Colorizer(backbone, len(centres), split.x.shape[-1])
    loss = functools.partial(col.classification_loss, centres=centres, weights=weights)
    return Reads(backbone.eval(), lightness), _fit(model, _stream(split, sizes, seed), loss, split, sizes, desc)


def split_brain(split: Split, sizes: Sizes, seed: int, desc: str):
    """Notebook 07: two half-width halves, L -> ab and ab -> L, each a classification (cl, cl), concatenated
    (Zhang et al. 2017): at every layer as many channels as the other rows. Each half trains the method's steps."""
    centres, _ = colour_bins(split.x)
    lab = sb.scaled_lab(split.x)
    halves, histories = {}, []
    for task, channels, out in (("l_ab", 1, len(centres)), ("ab_l", 2, sb.L_BINS)):
        backbone = _start(split, sizes, seed, channels=channels, width=sizes.width // 2)
        with config.isolated_rng(seed):
            model = sb.CrossChannel(task, backbone, out, split.x.shape[-1])
        loss = functools.partial(sb.cross_channel_loss, loss="cl", centres=centres)
        stream = train.batches(lab, batch_size=sizes.batch_size, seed=seed)
        histories.append(_fit(model, stream, loss, split, sizes, f"{desc}, {task}"))
        halves[task] = backbone.eval()
    return Reads(sb.SplitBrain(halves["l_ab"], halves["ab_l"]), sb.scaled_lab), _together(histories)


def _together(histories: list[train.History]) -> train.History:
    """One history for a row trained in parts: the loss summed over the parts, step by step, and the capped part's
    ending if one stopped at its time cap."""
    first = histories[0]
    losses = zip(*(h["loss"] for h in histories), strict=False)  # as long as the shortest part
    together = train.History(stopped_by=next((h.stopped_by for h in histories if h.capped), first.stopped_by))
    for step, seconds, parts in zip(first.step, first.seconds, losses, strict=False):
        together.log(step, seconds, {"loss": sum(parts)})
    return together


@dataclass(frozen=True)
class Method:
    """One row of the scoreboard: its name, the dataset it pretrains on, the notebook that teaches it, its key in
    the recorded metrics, how it pretrains (``pretrain(split, sizes, seed, desc)``) and what it is asked to predict."""

    name: str
    dataset: str
    notebook: str
    key: str
    pretrain: Callable
    predicts: str

    @property
    def fence(self) -> bool:
        return self.name in FENCES


METHODS = (
    Method(RANDOM, "mnist", "-", "random", random_init, "nothing: the initial weights, frozen"),
    Method("denoising autoencoder", "mnist", "04", "autoencoder", denoising_autoencoder,
           "the whole image, from a copy with a quarter of its pixels zeroed"),
    Method("egomotion", "mnist", "05", "egomotion", egomotion,
           "the shift and rotation between two views of a digit"),
    Method("contrastive (SimCLR)", "mnist", "05", "contrastive", contrastive,
           "which view in the batch comes from the same digit"),
    Method("classes from sound", "mnist", "08", "sound_classes", classes_from_sound,
           "the k-means cluster of the digit's soundtrack (a spoken digit)"),
    Method(SUPERVISED, "mnist", "-", "supervised", supervised, "the label of every pretraining image"),
    Method(RANDOM, "cifar", "-", "random", random_init, "nothing: the initial weights, frozen"),
    Method("relative position", "cifar", "02", "relative_position", relative_position,
           "where the second patch lies relative to the first (8 ways)"),
    Method("denoising autoencoder", "cifar", "04", "autoencoder", denoising_autoencoder,
           "the whole photo, from a copy with a quarter of its pixels zeroed"),
    Method("colorization", "cifar", "06", "colorization", colorization,
           "the colour (ab bins) from the lightness"),
    Method("split-brain (cl,cl)", "cifar", "07", "split_brain", split_brain,
           "colour from lightness and lightness from colour, two half-width halves"),
    Method(SUPERVISED, "cifar", "-", "supervised", supervised, "the label of every pretraining image"),
)
# Taught in the course but not on the board, and why (the notebook says it too)
NOT_ON_THE_BOARD = {
    "temporal order (03)": "pretrains on videos of moving digits (48 x 48 frames, six actions), not on still images",
    "audio-visual correspondence (08)": "trains an audio tower beside the image tower; 08 needs about 1,000 steps",
    "objects that sound (09)": "trains on canvases of two digits and an audio tower; localisation, not recognition",
    "speech to image (10)": "a generator (audio and identity encoders, a decoder), not a representation to probe",
}


def methods(dataset: str) -> list[Method]:
    return [m for m in METHODS if m.dataset == dataset]


def registry() -> pd.DataFrame:
    """The rows of both boards: the dataset, the notebook that teaches the method, what it is asked to predict."""
    return pd.DataFrame([{"dataset": DATASETS[m.dataset], "row": m.name, "notebook": m.notebook,
                          "asked to predict": m.predicts} for m in METHODS]).set_index(["dataset", "row"])


def not_on_the_board() -> pd.DataFrame:
    return pd.DataFrame({"why not here": NOT_ON_THE_BOARD})


def pretrain_all(split: Split, sizes: Sizes, seed: int = 0) -> tuple[dict[str, nn.Module], dict[str, train.History]]:
    """Every row of one dataset, pretrained on the same images: ({name: frozen extractor}, {name: history})."""
    extractors, histories = {}, {}
    for method in methods(split.dataset):
        torch.manual_seed(seed)  # the pairs and augmentations drawn: the same stream for every row
        extractors[method.name], history = method.pretrain(split, sizes, seed, f"{split.dataset}: {method.name}")
        if history is not None:
            histories[method.name] = history
    return extractors, histories


def capped(histories: dict[str, train.History]) -> list[str]:
    """The runs that stopped at their time cap (recorded, and named beside a claim)."""
    return [name for name, history in histories.items() if history.capped]


# --- the protocol ------------------------------------------------------------------------------------------------

@dataclass
class Row:
    """One row under the protocol, at every budget: the linear probe (``evaluate.LayerScores``: every layer at the
    smallest budget, the chosen layer at the others) and the kNN classifier, and the layer each read-out chose on
    validation at the smallest budget."""

    linear: dict[int, evaluate.LayerScores]
    knn: dict[int, evaluate.Spread]
    knn_layer: str

    @property
    def linear_layer(self) -> str:
        return self.linear[min(self.linear)].best_layer


def knn_read(features, labels, per_class: int, draws: int, seed: int, layers=None) -> tuple[evaluate.Spread, str]:
    """kNN accuracy (%) on the test set at the layer (of ``layers``, default all) whose mean validation accuracy
    over the draws is best, and that layer. The labelled subsets are those ``evaluate.probe_layers`` draws (seeds
    seed, seed + 1000, ...), so both read-outs see the same labelled images."""
    (train_f, val_f, test_f), (y, val_y, test_y) = features, labels
    layers = list(layers or train_f)
    subsets = [evaluate.few_labels(y, per_class, seed + 1000 * d) for d in range(draws)]
    if len(layers) == 1:
        layer = layers[0]
    else:
        val = {layer: np.mean([evaluate.knn_scores(train_f[layer][idx], y[idx], [(val_f[layer], val_y)],
                                                   NEIGHBOURS)[0] for idx in subsets]) for layer in layers}
        layer = max(val, key=val.get)
    test = [evaluate.knn_scores(train_f[layer][idx], y[idx], [(test_f[layer], test_y)], NEIGHBOURS)[0]
            for idx in subsets]
    return evaluate.Spread.of(test), layer


def score(extractor: nn.Module, split: Split, sizes: Sizes, seed: int = 0, budgets: tuple[int, ...] | None = None,
          desc: str | None = None) -> Row:
    """The protocol for one frozen extractor: features of every layer once; at the smallest budget (of ``budgets``,
    default the dataset's ``BUDGETS``) every layer is read and each read-out keeps the layer that is best on
    validation; the larger budgets read that layer only (choosing again at every budget would cost a probe per
    layer and budget, and the choice rarely moves). With ``desc``, the fitted probes are checkpointed runs
    ("linear probe of <desc>"), loaded with COURSE_PRETRAINED=1."""
    features = [evaluate.stage_features(extractor, x, target_dim=sizes.probe_dim)
                for x in (split.x, split.val_x, split.test_x)]
    labels = (split.y.cpu(), split.val_y.cpu(), split.test_y.cpu())
    first, *rest = sorted(budgets or BUDGETS[split.dataset])

    def probe(budget: int, layers) -> evaluate.LayerScores:
        train_f, val_f, test_f = ({layer: f[layer] for layer in layers} for f in features)
        return evaluate.probe_layers(train_f, labels[0], val_f, labels[1], test_f, labels[2], per_class=budget // 10,
                                     draws=sizes.label_draws, seed=seed, desc=desc and f"linear probe of {desc}")

    linear = {first: probe(first, nets.STAGES)}
    knn_first, knn_layer = knn_read(features, labels, first // 10, sizes.label_draws, seed)
    knn = {first: knn_first}
    for budget in rest:
        linear[budget] = probe(budget, [linear[first].best_layer])
        knn[budget] = knn_read(features, labels, budget // 10, sizes.label_draws, seed, [knn_layer])[0]
    return Row(linear, knn, knn_layer)


def score_all(extractors: dict[str, nn.Module], split: Split, sizes: Sizes, seed: int = 0) -> dict[str, Row]:
    with checkpoints.one_line_for(f"{split.dataset} linear probes"):
        return {name: score(extractor, split, sizes, seed, desc=f"{split.dataset}: {name}")
                for name, extractor in extractors.items()}


# --- reading the board -------------------------------------------------------------------------------------------

def table(rows: dict[str, Row], dataset: str) -> pd.DataFrame:
    """The scoreboard of one dataset: test accuracy (%) as mean ± std over the labelled draws, linear probe and kNN at
    every budget, each at the layer it chose on validation (named in the last columns)."""
    notebook = {m.name: m.notebook for m in methods(dataset)}
    out = {}
    for name, row in rows.items():
        cells = {"notebook": notebook.get(name, "-")}
        cells.update({f"linear, {b:,} labels": row.linear[b].best.text() for b in BUDGETS[dataset]})
        cells.update({f"kNN, {b:,} labels": row.knn[b].text() for b in BUDGETS[dataset]})
        cells["layer (linear)"], cells["layer (kNN)"] = row.linear_layer, row.knn_layer
        out[name] = cells
    frame = pd.DataFrame(out).T
    frame.attrs["caption"] = f"{DATASETS[dataset]}: test accuracy (%), mean ± std over the labelled draws"
    return frame


def linear(rows: dict[str, Row], budget: int) -> dict[str, evaluate.Spread]:
    """{row: linear-probe accuracy at its validation-chosen layer} at one budget."""
    return {name: row.linear[budget].best for name, row in rows.items()}


def best_pretext(rows: dict[str, Row], budget: int, readout: str = "linear") -> str:
    """The pretext row (not a fence) with the highest test accuracy at ``budget`` under ``readout`` (each row at its
    layer chosen on validation; the rows themselves are ranked on the test mean, which is what the board shows)."""
    return max((name for name in rows if name not in FENCES),
               key=lambda name: float(accuracy(rows[name], budget, readout)))


def verdicts(rows: dict[str, Row], dataset: str) -> pd.DataFrame:
    """Every pretext row against random init, budget by budget and for both classifiers: "higher", "lower" or "no
    difference" (the gap inside the spread of the draws, ``evaluate.differ``), with the gap in points."""
    def word(a: evaluate.Spread, b: evaluate.Spread) -> str:
        gap = float(a) - float(b)
        return f"{gap:+.1f} " + ("no difference" if not evaluate.differ(a, b) else "higher" if gap > 0 else "lower")

    out = {}
    for name, row in rows.items():
        if name == RANDOM:
            continue
        base = rows[RANDOM]
        cells = {f"linear, {b:,}": word(row.linear[b].best, base.linear[b].best) for b in BUDGETS[dataset]}
        cells.update({f"kNN, {b:,}": word(row.knn[b], base.knn[b]) for b in BUDGETS[dataset]})
        out[name] = cells
    frame = pd.DataFrame(out).T
    frame.attrs["caption"] = f"{DATASETS[dataset]}: each row minus random init, in points"
    return frame


def reading(rows: dict[str, Row], dataset: str) -> str:
    """The board in sentences, budget by budget (linear probe): the best pretext row, and which pretext rows beat
    random init, lose to it, or are within the spread of it."""
    lines = []
    for budget in BUDGETS[dataset]:
        base = rows[RANDOM].linear[budget].best
        groups: dict[str, list[str]] = {"beat random init": [], "no difference from it": [], "lose to it": []}
        for name, row in rows.items():
            if name in FENCES:
                continue
            value = row.linear[budget].best
            group = ("no difference from it" if not evaluate.differ(value, base)
                     else "beat random init" if value > base else "lose to it")
            groups[group].append(f"{name} ({float(value) - float(base):+.1f})")
        best = best_pretext(rows, budget)
        said = "; ".join(f"{group}: {', '.join(names)}" for group, names in groups.items() if names)
        lines.append(f"{DATASETS[dataset]}, {budget:,} labels: best pretext {best} "
                     f"{rows[best].linear[budget].best.text()} % (random init {base.text()} %, supervised "
                     f"{rows[SUPERVISED].linear[budget].best.text()} %); {said}")
    return "\n".join(lines)


def plot(rows: dict[str, Row], dataset: str):
    """The label-efficiency plot of one dataset: accuracy against the number of labels (log axis), linear probe on
    the left, kNN on the right, ± one std over the draws as error bars; the fences dashed."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
    budgets = BUDGETS[dataset]
    for i, (name, row) in enumerate(rows.items()):
        style = "--" if name in FENCES else "-"
        shift = np.array(budgets) * (1 + 0.015 * (i - len(rows) / 2))  # a little apart: error bars stay visible
        for ax, points in ((axes[0], [row.linear[b].best for b in budgets]), (axes[1], [row.knn[b] for b in budgets])):
            ax.errorbar(shift, [float(p) for p in points], [p.std for p in points], fmt=style, marker="o",
                        markersize=4, capsize=2, label=name, color=f"C{i}")
    for ax, what in zip(axes, ("linear probe", f"kNN (k = {NEIGHBOURS})"), strict=True):
        ax.set_xscale("log")
        ax.set_xticks(budgets, [f"{b:,}" for b in budgets])
        ax.minorticks_off()
        ax.set(title=f"{DATASETS[dataset]}, {what}", xlabel="labelled training images (layer chosen on validation)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("test accuracy (%)")
    axes[1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return show.finish(fig)


# --- beside each notebook's own number ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Reported:
    """A number another notebook recorded for a row of ours: where, which metric, and what its protocol differs in."""

    notebook: str  # results/lab/<notebook>.json
    metric: str
    budget: int  # the labelled images its number used (0: not a few-label probe)
    differs: str
    error: bool = False  # recorded as an error (%), shown as 100 - error


REPORTED = {
    ("mnist", RANDOM): Reported("05_transformations", "error_100_random_features", 100,
                                "05's layers (pooled to 3 x 3 conv5 size, plus conv5 global), 20,000 images", True),
    ("mnist", "denoising autoencoder"): Reported("04_autoencoders", "probe_100_denoising_masked_best", 100,
                                                 "600 steps of 64 on 20,000 digits, 04's pooling"),
    ("mnist", "egomotion"): Reported("05_transformations", "error_100_egomotion", 100,
                                     "400 steps on 20,000 images, 05's pooling", True),
    ("mnist", "contrastive (SimCLR)"): Reported("05_transformations", "error_100_contrastive", 100,
                                                "400 steps on 20,000 images, 05's pooling", True),
    ("mnist", "classes from sound"): Reported("08_sound_supervision", "probe_image_100_owens", 100,
                                              "08's tower (width 8), 300 steps on 20,000 images"),
    ("mnist", SUPERVISED): Reported("08_sound_supervision", "probe_image_100_supervised", 100,
                                    "08's tower (width 8), no augmentation"),
    ("cifar", RANDOM): Reported("07_split_brain", "probe_random_best", 1000, "07 feeds scaled Lab to every row"),
    ("cifar", "relative position"): Reported("02_relative_position", "shortcut_no_aberration_class_probe", 0,
                                             "02's shortcut lab: a short run, a conv3 probe on 02's split"),
    ("cifar", "denoising autoencoder"): Reported("07_split_brain", "probe_autoencoder_best", 1000,
                                                 "07's Lab -> Lab autoencoder: regression, no masking noise"),
    ("cifar", "colorization"): Reported("06_colorization", "probe_colorization", 2000,
                                        "2,000 labels, 400 steps, layers pooled to 2,048 numbers"),
    ("cifar", "split-brain (cl,cl)"): Reported("07_split_brain", "probe_split_brain_cl_best", 1000,
                                               "360 steps per half"),
    ("cifar", SUPERVISED): Reported("07_split_brain", "probe_supervised_best", 1000,
                                    "360 steps, no augmentation, scaled Lab input"),
}


def beside_the_notebooks(rows: dict[str, Row], dataset: str, recorded: dict[str, dict] | None = None) -> pd.DataFrame:
    """Each row's linear-probe accuracy here beside the number its own notebook recorded in ``results/lab`` (read
    only to be shown), at the nearest budget of ours, and what differs between the two protocols."""
    recorded = results.load("lab") if recorded is None else recorded
    out = {}
    for name, row in rows.items():
        reported = REPORTED.get((dataset, name))
        if reported is None:
            continue
        value = recorded.get(reported.notebook, {}).get("metrics", {}).get(reported.metric)
        theirs = "-" if value is None else f"{100.0 - value if reported.error else value:.1f}"
        ours_at = min(BUDGETS[dataset], key=lambda b: abs(b - reported.budget))
        out[name] = {"here (linear)": row.linear[ours_at].best.text(), "at labels": f"{ours_at:,}",
                     "its notebook": theirs, "notebook": reported.notebook,
                     "its labels": f"{reported.budget:,}" if reported.budget else "see note",
                     "what differs": reported.differs}
    return pd.DataFrame(out).T


def ranks(rows: dict[str, Row], dataset: str) -> pd.DataFrame:
    """The rank of every row (1 = best test mean) under each classifier and budget: where the two columns of a
    budget disagree, the protocol -- not the method alone -- decides the order."""
    out = {}
    for budget in BUDGETS[dataset]:
        for what, values in (("linear", linear(rows, budget)),
                             ("kNN", {name: row.knn[budget] for name, row in rows.items()})):
            order = sorted(values, key=lambda name: -float(values[name]))
            out[f"{what}, {budget:,}"] = {name: order.index(name) + 1 for name in rows}
    return pd.DataFrame(out)


# --- claims and metrics ------------------------------------------------------------------------------------------

def metrics(rows: dict[str, Row], dataset: str) -> dict[str, float]:
    """<dataset>_<labels>_<method>: linear-probe accuracy (%) at the layer chosen on validation, mean over the draws;
    with _std its std, with _knn (and _knn_std) the kNN classifier's."""
    prefix = "mnist" if dataset == "mnist" else "cifar"
    key = {m.name: m.key for m in methods(dataset)}
    out = {}
    for name, row in rows.items():
        for budget in BUDGETS[dataset]:
            stem = f"{prefix}_{budget}_{key[name]}"
            out[stem], out[f"{stem}_std"] = float(row.linear[budget].best), row.linear[budget].best.std
            out[f"{stem}_knn"], out[f"{stem}_knn_std"] = float(row.knn[budget]), row.knn[budget].std
    return out


READOUTS = ("linear", "kNN")


def accuracy(row: Row, budget: int, readout: str = "linear") -> evaluate.Spread:
    """A row's test accuracy at ``budget`` under one read-out ("linear" or "kNN"), at its layer chosen on validation."""
    if readout not in READOUTS:
        raise ValueError(f"readout must be one of {READOUTS}, got {readout!r}")
    return row.linear[budget].best if readout == "linear" else row.knn[budget]


def _claim(statement: str, a: evaluate.Spread, b: evaluate.Spread, names: tuple[str, str], capped_runs) -> None:
    checks.check_claim(statement, evaluate.beats(a, b), evaluate.compare_text(a, b, names), capped=capped_runs)


def check_claim_pretext_beats_random(rows: dict[str, Row], budget: int, dataset: str, readout: str = "linear",
                       capped_runs=()) -> None:
    """Claim: the best pretext row beats random init by more than the spread of the draws."""
    best = best_pretext(rows, budget, readout)
    _claim(f"on {DATASETS[dataset]} with {budget:,} labels the best pretext task ({best}) beats random init "
           f"({readout})", accuracy(rows[best], budget, readout), accuracy(rows[RANDOM], budget, readout),
           (best, RANDOM), capped_runs)


def check_claim_supervised_beats_random(rows: dict[str, Row], budget: int, dataset: str, readout: str = "linear",
                                  capped_runs=()) -> None:
    """Claim: the supervised fence beats random init: the protocol tells a trained network from an untrained one."""
    _claim(f"on {DATASETS[dataset]} with {budget:,} labels the supervised fence beats random init ({readout})",
           accuracy(rows[SUPERVISED], budget, readout), accuracy(rows[RANDOM], budget, readout),
           (SUPERVISED, RANDOM), capped_runs)


def check_every_pretext_beats_random(rows: dict[str, Row], budget: int, dataset: str, readout: str = "kNN",
                                     capped_runs=()) -> None:
    """Claim: every pretext row beats random init under ``readout`` (the weakest of them named as evidence)."""
    pretext = [name for name in rows if name not in FENCES]
    weakest = min(pretext, key=lambda name: float(accuracy(rows[name], budget, readout)) - spread(rows[name], budget,
                                                                                                   readout))
    base = accuracy(rows[RANDOM], budget, readout)
    holds = all(evaluate.beats(accuracy(rows[name], budget, readout), base) for name in pretext)
    checks.check_claim(f"on {DATASETS[dataset]} with {budget:,} labels every pretext task beats random init "
                       f"({readout})", holds, "weakest: " + evaluate.compare_text(
                           accuracy(rows[weakest], budget, readout), base, (weakest, RANDOM)), capped=capped_runs)


def spread(row: Row, budget: int, readout: str) -> float:
    return accuracy(row, budget, readout).std


# --- exercise checker -------------------------------------------------------------------------------------------

def check_knn_vote(fn) -> None:
    """Exercise: ``fn(similarity, labels, n_classes, temperature)`` returns each query's class by the weighted vote
    of its k nearest labelled examples (``evaluate.knn_vote``)."""
    with config.isolated_rng(0):  # the same test inputs every time; the notebook's random stream is left alone
        similarity = torch.rand(50, 7) * 2 - 1
        labels = torch.randint(0, 4, (50, 7))
    want = evaluate.knn_vote(similarity, labels, 4, 0.1)
    majority = torch.stack([torch.bincount(row, minlength=4).argmax() for row in labels])
    got = torch.as_tensor(fn(similarity, labels, 4, 0.1))
    checks.verdict("weighted kNN vote", [
        (lambda: got.shape == want.shape, lambda: f"expected one class per query, shape {tuple(want.shape)}, got "
                                                  f"{tuple(got.shape)}"),
        (lambda: not torch.equal(got, majority) or torch.equal(want, majority),
         "that is a plain majority vote: weight each neighbour's vote by exp(similarity / temperature)"),
        (lambda: torch.equal(got.long(), want), "add up exp(similarity / temperature) per class (scatter_add_ along "
                                                "dim 1 into a queries x n_classes tensor), then take the arg-max"),
    ])
