"""Autoencoder features (notebook 04): train autoencoders on unlabelled MNIST, probe every layer with 100 labels.

The pretext task itself -- the model, masking noise, the reconstruction loss -- is ``course_lib.pretext.autoencoder``
(Vincent, Larochelle, Bengio & Manzagol, ICML 2008). This module runs the notebook's experiment around it:

* ``RECIPES``         three ways to corrupt the input: none (a plain autoencoder), masking noise (Vincent's denoising
                      autoencoder), or a small random shift / rotation / rescaling of the digit ("moved digits");
                      the target is always the clean, unmoved image;
* ``train_recipe``    one autoencoder per recipe, all from the *same* initial weights, which are also the
                      random-init baseline (so every comparison is "the same network, before and after");
* ``probe_all``       the shared protocol at every depth: pixels, conv1 ... conv5 pooled to equal size (as
                      ``evaluate.stage_features`` pools them) and the bottleneck (the globally pooled conv5), each
                      probed with 10 labels per digit in several labelled draws (``evaluate.probe_layers``), every
                      network's best layer and the probe's C (``evaluate.PROBE_CS``) chosen on a validation split
                      held out of the training images;
* pictures: what each autoencoder is asked, reconstructions, the latent space (the bottleneck codes in 2-D: LDA fitted
  on the probe's labelled images, or PCA / t-SNE with no labels),
  errors against the masking level; the latent explorer (``widgets.latent_explorer``);
* the exercises: checkers of the student's ``mask_noise`` and reconstruction loss, and ``train_with_yours``, a short
  masked-pixels run that trains with the two functions the student wrote.

On MNIST, frozen *random* convolutional features are a strong baseline (a random ``conv3`` is far better than the
pixels). Masking noise alone leaves the best layer close to it; moved digits, which can only be put back by
recognising the shape, beat it clearly (notebook 04 records the numbers).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from course_lib import augment, checks, config, evaluate, nets, pretrained, seeds, show, train, widgets
from course_lib.pretext.autoencoder import AutoEncoder, cross_entropy, mask_noise, reconstruction_loss

NOTEBOOK = "04_autoencoders"  # its runs' shipped weights are named after it

LAYERS = ("pixels", *nets.STAGES, "bottleneck")
RANDOM = "random init"
LABELS_PER_CLASS = 10  # 100 labelled images in all: the few-label protocol of the course
NOISE = 0.25  # masking noise nu of the masked-pixels recipe: the fraction of pixels zeroed (Vincent et al. 2008)


@dataclass(frozen=True)
class Sizes(config.Profile):
    """Notebook 04's sizes, beside the shared ones (``sizes.width``, ``sizes.max_seconds``, ...)."""

    train_images: int  # MNIST training images: the validation split, then the unlabelled rest (labels drawn there)
    validation: int  # training images held out, with labels, only to choose each network's best layer
    steps: int  # optimiser steps of each autoencoder (plain and the two denoising ones)
    batch: int  # images per autoencoder step (fewer than batch_size: more steps for the same compute)
    latent_points: int  # test images in the picture of the latent space and in the latent explorer


SIZES = config.lesson_sizes(
    Sizes,
    ci=dict(train_images=10_000, validation=1000, steps=200, batch=64, latent_points=1000),
    lab=dict(train_images=20_000, validation=2000, steps=600, batch=64, latent_points=1500),
    full=dict(train_images=60_000, validation=5000, steps=3000, batch=256, latent_points=5000),
)


@dataclass(frozen=True)
class Recipe:
    """How one autoencoder corrupts its input, q_D(x~ | x), before reconstructing the clean, unmoved image."""

    name: str  # the row label in tables and plots
    key: str  # the name in recorded metrics
    masked: bool  # zero a fraction nu of the pixels (Vincent's masking noise)
    moved: bool  # shift, rotate and rescale the digit a little (``augment.random_affine``: 10 degrees, 10 %)

    def corrupt(self, x: torch.Tensor, noise: float) -> torch.Tensor:
        """The input this autoencoder sees for clean images ``x``."""
        if self.moved:
            x = augment.random_affine(x)
        return mask_noise(x, noise) if self.masked else x


RECIPES = (
    Recipe("autoencoder", "autoencoder", masked=False, moved=False),
    Recipe("denoising: masked pixels", "denoising_masked", masked=True, moved=False),
    Recipe("denoising: moved digits", "denoising_moved", masked=False, moved=True),
)
KEYS = {RANDOM: "random", **{r.name: r.key for r in RECIPES}}


def initial_backbone(sizes: Sizes, seed: int, device: torch.device | str = "cpu", channels: int = 1) -> nets.Backbone:
    """The initial weights every autoencoder starts from; frozen as they are, the random-init baseline. ``channels``:
    of the images it reads (1 for MNIST; the scoreboard also trains on colour photos)."""
    return nets.random_backbone(channels, sizes.width, seed, device)


def train_recipe(recipe: Recipe, x: torch.Tensor, sizes: Sizes, seed: int = 0, progress: bool = True,
                 noise: float = NOISE, notebook: str = NOTEBOOK, desc: str | None = None):
    """Train one autoencoder on unlabelled images ``x`` (on their device); returns (model, history).

    ``noise`` is the masking noise nu of a masked recipe (exercise 3 tries others). ``notebook`` and ``desc``: whose
    run it is and its name there (default: this notebook's, named after the recipe); the scoreboard (12) trains this
    recipe at its own sizes under its own names.
    """
    backbone = initial_backbone(sizes, seed, x.device, channels=x.shape[1])
    desc = desc or recipe.name + ("" if noise == NOISE else f", noise {noise:g}")
    with config.isolated_rng(seed):  # the decoder's initial weights and the corruptions drawn: alike for every recipe
        model = AutoEncoder(backbone, tuple(x.shape[1:])).to(x.device).to(memory_format=torch.channels_last)
        loss = functools.partial(reconstruction_loss, corrupt=functools.partial(recipe.corrupt, noise=noise))
        history = pretrained.load_or_train(
            model, f"{notebook}/{desc}",
            lambda: train.fit(model, train.batches(x, batch_size=sizes.batch, seed=seed), loss, steps=sizes.steps,
                              max_seconds=sizes.max_seconds, desc=recipe.name, progress=progress),
            sizes=sizes, seed=seed, loss=loss)
    return model.eval(), history


def train_all(x: torch.Tensor, sizes: Sizes, seed: int = 0, progress: bool = True):
    """Every recipe: ({name: model}, {name: history})."""
    runs = {r.name: train_recipe(r, x, sizes, seed, progress) for r in RECIPES}
    return {name: run[0] for name, run in runs.items()}, {name: run[1] for name, run in runs.items()}


def show_training(histories: dict[str, train.History]):
    """Reconstruction error of the clean image during training, one curve per recipe."""
    return show.training(histories, "mse", ylabel="MSE to the clean image", title="training (from corrupted inputs)",
                         logy=True)


# --- the layer-wise probe -------------------------------------------------------------------------------------

def layer_features(backbone: nets.Backbone, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """conv1 ... conv5 pooled to equal size (``evaluate.stage_features``) and the bottleneck, from one pass.

    At 28 x 28 the conv5 map (3 x 3) is small enough to be kept whole, so its mean over positions is the bottleneck
    (``backbone.embed``) without a second pass through the network.
    """
    features = evaluate.stage_features(backbone, x)
    conv5 = features["conv5"].view(len(x), backbone.channels["conv5"], -1)
    return {**features, "bottleneck": conv5.mean(2)}


def _features(backbone: nets.Backbone, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Every layer of ``LAYERS``: the pixels, then ``layer_features``."""
    return {"pixels": x.flatten(1).float().cpu(), **layer_features(backbone, x)}


def probe_all(backbones: dict[str, nets.Backbone], labelled, validation, test, *,
              per_class: int = LABELS_PER_CLASS, draws: int = 1, seed: int = 0,
              Cs=evaluate.PROBE_CS) -> dict[str, evaluate.LayerScores]:
    """The layer-wise probe of every network: {name: ``evaluate.LayerScores``} over ``LAYERS`` (pixels first).

    ``labelled`` = (training images, their labels): each of ``draws`` probes learns from ``per_class`` of them per
    class; ``validation`` picks each network's best layer, the probe's C at every layer (of ``Cs``) and random init's
    read (as initialised or with BatchNorm recalibrated on the training images, ``evaluate.random_at_its_best``);
    ``test`` grades (mean and std over the draws).
    """
    (x, y), (x_val, y_val), (x_test, y_test) = labelled, validation, test

    def probed(backbone: nets.Backbone, name: str) -> evaluate.LayerScores:
        train_f, val_f, test_f = (_features(backbone, images) for images in (x, x_val, x_test))
        return evaluate.probe_layers(train_f, y, val_f, y_val, test_f, y_test, per_class=per_class, draws=draws,
                                     seed=seed, Cs=Cs)

    return evaluate.probe_each(backbones, probed, x, random_row=RANDOM)


def show_table(scores: dict[str, evaluate.LayerScores]) -> pd.DataFrame:
    """The table as the notebook prints it (``evaluate.layer_table``): accuracies rounded to 0.1 %."""
    return evaluate.layer_table(scores).round(1)


def plot_layers(scores: dict[str, evaluate.LayerScores],
                title: str = "linear probe with 100 labels, layer by layer"):
    """Accuracy against depth, one line per network with a band of ± one std over the labelled draws, and a ring
    around each network's best layer as the validation split chose it."""
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    steps = np.arange(len(LAYERS))
    for name, s in scores.items():
        means = np.array([float(s.test[layer]) for layer in LAYERS])
        stds = np.array([s.test[layer].std for layer in LAYERS])
        (line,) = ax.plot(steps, means, marker="o", label=name, linestyle="--" if name == RANDOM else "-")
        ax.fill_between(steps, means - stds, means + stds, color=line.get_color(), alpha=0.15, linewidth=0)
        best = LAYERS.index(s.best_layer)
        ax.plot(steps[best], means[best], marker="o", markersize=12, fillstyle="none", color=line.get_color())
    ax.set_xticks(steps, LAYERS)
    ax.set(xlabel="layer (input -> bottleneck); ring: best layer on validation", ylabel="test accuracy (%)",
           title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return show.finish(fig)


def metrics(scores: dict[str, evaluate.LayerScores],
            per_layer: tuple[str, ...] = (RANDOM, "denoising: moved digits")) -> dict:
    """The numbers to record: every network's test accuracy at its best layer (chosen on validation, mean over the
    labelled draws) and its std, every layer of the ``per_layer`` networks, and which read random init was taken at."""
    out = {}
    for name, s in scores.items():
        out[f"probe_100_{KEYS[name]}_best"] = float(s.best)
        out[f"probe_100_{KEYS[name]}_best_std"] = s.best.std
    out["probe_100_pixels"] = float(next(iter(scores.values())).test["pixels"])
    if RANDOM in scores:  # 1 where random init's BatchNorm-recalibrated read was the better on validation
        out[f"probe_100_{KEYS[RANDOM]}_recalibrated"] = float(scores[RANDOM].read == evaluate.RECALIBRATED)
    for name in per_layer:
        out.update({f"probe_100_{KEYS[name]}_{layer}": float(scores[name].test[layer]) for layer in LAYERS[1:]})
    return out


beats = evaluate.beats  # the notebook's claims call lesson.beats


def capped(histories: dict[str, train.History]) -> list[str]:
    """The names of the trainings that stopped at their time budget (recorded, and named beside a claim)."""
    return [name for name, history in histories.items() if history.capped]


def _ordering(prefix: str, statement: str, better: str, than: str | tuple[str, ...]) -> seeds.Ordering:
    """An ordering of recorded metrics, named without their common ``prefix``: probe accuracies (%, higher is
    better, ``probe_100_``) or reconstruction errors (MSE, lower is better, ``reconstruction_mse_``)."""
    others = tuple(prefix + name for name in ((than,) if isinstance(than, str) else than))
    return seeds.Ordering(statement, prefix + better, others if len(others) > 1 else others[0],
                          higher_is_better=prefix.startswith("probe"))


_probe = functools.partial(_ordering, "probe_100_")
_mse = functools.partial(_ordering, "reconstruction_mse_")

# Every ordering the notebook states, on the metrics it records, for its tables over pretraining seeds
# (``seeds.table(NOTEBOOK, ...)``): probe accuracies first, its two claims (lab) at their head, then reconstruction
# errors. A tie the text states ("no difference") is an ordering too: its verdict should then read "no difference".
# Only the random and moved-digits networks are recorded layer by layer.
PROBE_ORDERINGS = [
    _probe("moved digits' best layer beats random init's best layer", "denoising_moved_best", "random_best"),
    _probe("moved digits' bottleneck beats random init's bottleneck", "denoising_moved_bottleneck",
           "random_bottleneck"),
    _probe("moved digits' best layer beats the pixels (the ci claim)", "denoising_moved_best", "pixels"),
    _probe("plain autoencoder beats random init at their best layers", "autoencoder_best", "random_best"),
    _probe("masked pixels beats random init at their best layers", "denoising_masked_best", "random_best"),
    _probe("masked pixels vs the plain autoencoder at their best layers: no better", "denoising_masked_best",
           "autoencoder_best"),
    _probe("moved digits beats the plain and masked-pixels autoencoders (best layers)", "denoising_moved_best",
           ("autoencoder_best", "denoising_masked_best")),
    _probe("random init's best layer beats the pixels", "random_best", "pixels"),
    _probe("random init: conv3 beats its deeper layers", "random_conv3", ("random_conv4", "random_conv5")),
    _probe("random init's bottleneck vs the pixels: no better", "random_bottleneck", "pixels"),
    *(_probe(f"training makes {layer} useful: moved digits beats random init at {layer}", f"denoising_moved_{layer}",
             f"random_{layer}") for layer in ("conv4", "conv5")),
]
RECONSTRUCTION_ORDERINGS = [
    _mse("the plain autoencoder is best on clean images (MSE)", "autoencoder_clean",
         ("denoising_masked_clean", "denoising_moved_clean")),
    _mse(f"the masked-pixels autoencoder fills {NOISE:.0%} holes better than the plain one (MSE)",
         "denoising_masked_masked", "autoencoder_masked"),
    _mse("only the moved-digits autoencoder undoes a move (MSE)", "denoising_moved_moved",
         ("autoencoder_moved", "denoising_masked_moved")),
]
ORDERINGS = [*PROBE_ORDERINGS, *RECONSTRUCTION_ORDERINGS]


# --- pictures -------------------------------------------------------------------------------------------------

def _corrupted(x: torch.Tensor, noise: float, seed: int) -> dict[str, torch.Tensor]:
    """Test images corrupted both ways, drawn from ``seed``: a picture does not change what the notebook draws next."""
    with config.isolated_rng(seed):
        return {"masked pixels": mask_noise(x, noise), "moved digits": augment.random_affine(x)}


def _rows(rows: list[tuple[str, torch.Tensor]]):
    """Rows of grey images, each row named on its left."""
    n = len(rows[0][1])
    fig, axes = plt.subplots(len(rows), n, figsize=(1.0 * n + 2.0, 1.05 * len(rows)), squeeze=False)
    for r, (name, images) in enumerate(rows):
        for i in range(n):
            axes[r, i].imshow(images[i, 0].cpu().numpy(), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            axes[r, i].set_xticks([])
            axes[r, i].set_yticks([])
        axes[r, 0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
    return show.finish(fig)


def show_task(x: torch.Tensor, noise: float, seed: int = 0):
    """What each autoencoder sees (its input) and what it must output (always the clean image)."""
    corrupted = _corrupted(x, noise, seed)
    return _rows([("target: the image", x), ("input, autoencoder", x),
                  (f"input, masked ({noise:.0%})", corrupted["masked pixels"]),
                  ("input, moved", corrupted["moved digits"])])


@torch.no_grad()
def show_reconstructions(models: dict[str, AutoEncoder], x: torch.Tensor, noise: float, seed: int = 0):
    """Test images; each corruption, with what the plain autoencoder and the one trained on it make of it."""
    rows = [("test image", x)]
    for (what, images), recipe in zip(_corrupted(x, noise, seed).items(), RECIPES[1:], strict=True):
        rows.append((what, images))
        rows += [(f"{name} ->", models[name](images)) for name in (RECIPES[0].name, recipe.name)]
    return _rows(rows)


def codes(backbone: nets.Backbone, x: torch.Tensor) -> torch.Tensor:
    """The bottleneck codes (globally pooled conv5) of images ``x``, on the CPU."""
    return evaluate.embed(backbone.embed, x)


def project_2d(features: torch.Tensor, method: str = "pca", seed: int = 0, fit=None) -> np.ndarray:
    """2-D coordinates of feature vectors: PCA (linear, the two directions of largest variance), LDA (linear, the two
    directions that best separate the classes of ``fit`` = (features, labels): the probe's labelled images, not the
    points drawn) or t-SNE (slow, keeps neighbours)."""
    from sklearn.decomposition import PCA
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.manifold import TSNE

    a = features.numpy().astype(np.float64)
    if method == "pca":
        return PCA(2, random_state=seed).fit_transform(a)
    if method == "lda":
        if fit is None:
            raise ValueError("method 'lda' needs fit=(features, labels): the labelled images choosing its directions")
        lda = LinearDiscriminantAnalysis(n_components=2, solver="eigen", shrinkage="auto")  # shrunk: 100 images
        return lda.fit(fit[0].numpy().astype(np.float64), np.asarray(fit[1])).transform(a)
    if method == "tsne":
        return TSNE(2, init="pca", perplexity=30, random_state=seed).fit_transform(a)
    raise ValueError(f"method must be 'pca', 'lda' or 'tsne', got {method!r}")


def show_latent_space(backbones: dict[str, nets.Backbone], x: torch.Tensor, y: torch.Tensor, method: str = "lda",
                      seed: int = 0, labelled: tuple[torch.Tensor, torch.Tensor] | None = None):
    """The pixels and each network's bottleneck codes of test images in 2-D, coloured by digit.

    ``method="lda"`` (the default) reads each code as the probe does: one linear map to 2-D, fitted on the
    ``labelled`` images (images, labels: the probe's 100) and drawn on the test images ``x``. ``"pca"`` and
    ``"tsne"`` use no labels at all (``labelled`` is then ignored). Hinton & Salakhutdinov (2006) drew the same
    comparison with codes trained to be 2-D, against PCA of the pixels.
    """
    if method == "lda" and labelled is None:
        raise ValueError("method 'lda' needs labelled=(images, labels): the labelled images that fit the 2-D map")

    def panels(images):
        return {"pixels": images.flatten(1).float().cpu(), **{name: codes(b, images) for name, b in backbones.items()}}

    shown, fitted = panels(x), panels(labelled[0]) if method == "lda" else None
    fig, axes = plt.subplots(1, len(shown), figsize=(2.6 * len(shown) + 0.8, 3.1), squeeze=False,
                             layout="constrained", dpi=72)  # thousands of points: a light picture
    labels = y.cpu().numpy()
    for ax, (name, features) in zip(axes[0], shown.items(), strict=True):
        fit = (fitted[name], labelled[1].cpu()) if fitted else None
        xy = project_2d(features, method, seed, fit)
        points = ax.scatter(xy[:, 0], xy[:, 1], c=labels, cmap="tab10", s=4, vmin=-0.5, vmax=9.5, linewidths=0,
                            antialiased=False)  # crisp dots: a picture a few times lighter
        ax.set_title(name, fontsize=9)
        ax.set(xticks=[], yticks=[])
    fig.colorbar(points, ax=axes[0].tolist(), ticks=range(10), label="digit", shrink=0.8)
    how = f"LDA fitted on {len(labelled[0])} labelled images" if method == "lda" else method.upper() + ", no labels"
    fig.suptitle(f"{len(x)} test images: pixels and bottleneck codes ({how})", fontsize=10)
    plt.close(fig)  # not show.finish: a constrained layout places the colour bar itself
    return fig


@torch.no_grad()
def corruption_errors(models: dict[str, AutoEncoder], x: torch.Tensor, levels=(0.0, 0.25, 0.5, 0.75),
                      seed: int = 0) -> pd.DataFrame:
    """MSE between the clean test images and each model's output from a corrupted copy: masked at every level nu
    (nu = 0: the clean image itself), and moved. The same corrupted images for every model."""
    masked = {f"masked {nu:g}": _corrupted(x, nu, seed)["masked pixels"] for nu in levels}
    inputs = {**masked, "moved": _corrupted(x, 0.0, seed)["moved digits"]}
    return pd.DataFrame({name: {what: F.mse_loss(model(images), x).item() for what, images in inputs.items()}
                         for name, model in models.items()}).T


def plot_hole_filling(errors: pd.DataFrame, trained_at: float):
    """The masked columns of ``corruption_errors`` against the masking level."""
    columns = [c for c in errors.columns if c.startswith("masked ")]
    levels = [float(c.split()[1]) for c in columns]
    fig, ax = plt.subplots(figsize=(5, 3.2))
    for name, row in errors.iterrows():
        ax.plot(levels, row[columns].values, marker="o", label=name)
    ax.axvline(trained_at, color="gray", linestyle=":", label="nu of the masked-pixels training")
    ax.set(xlabel="masked fraction of the test image (nu)", ylabel="MSE to the clean image",
           title="filling the holes")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return show.finish(fig)


def error_metrics(errors: pd.DataFrame, noise: float) -> dict[str, float]:
    """The reconstruction errors to record: clean, masked at the training level ``noise``, and moved inputs."""
    columns = {"clean": "masked 0", "masked": f"masked {noise:g}", "moved": "moved"}
    return {f"reconstruction_mse_{KEYS[name]}_{what}": float(errors.loc[name, column])
            for name in errors.index for what, column in columns.items()}


def explorer(model: AutoEncoder, images: torch.Tensor, n_directions: int = 4):
    """The latent explorer (``widgets.latent_explorer``) of an autoencoder: its codes are the conv5 maps the
    decoder reads, and the decoder turns a code back into an image."""
    return widgets.latent_explorer(model.backbone, lambda code: torch.sigmoid(model.decoder(code)), images,
                                   n_directions=n_directions)


def show_walk(demo: widgets.Demo, first: int = 0, second: int = 1, steps: int = 8):
    """A static strip of the explorer's pictures from image ``first`` to image ``second`` (no kernel needed)."""
    mixes = np.linspace(0.0, 1.0, steps)
    pictures = np.stack([demo.render(first=first, second=second, mix=float(t)) for t in mixes])
    return show.image_grid(pictures[:, None], [f"mix {t:.2f}" for t in mixes], ncols=steps, size=1.1)


# --- exercise checkers -----------------------------------------------------------------------------------------

# (N, C, H, W, fraction): a notebook-sized batch, small images where round(), int() and ceil() give different
# counts (10.8, 24.3 pixels), and colour images, where a pixel is masked in all its channels
MASK_CASES = ((4, 1, 10, 10, 0.3), (3, 1, 6, 6, 0.3), (2, 3, 9, 9, 0.3), (5, 1, 28, 28, NOISE))


def _masked_pixels(out: torch.Tensor) -> torch.Tensor:
    """How many pixels of each image are 0 in every channel."""
    return (out == 0).all(1).flatten(1).sum(1)


def _count_advice(got: list[int], h: int, w: int, fraction: float) -> str:
    """What a wrong count of masked pixels usually comes from, in words."""
    exact = fraction * h * w
    if len(set(got)) > 1 and max(got) <= round(exact):
        return ("the count changes from image to image and stays at or below it: pixels drawn with replacement "
                "(torch.randint) can be drawn twice; draw k distinct pixels (a random order of the H x W places)")
    if len(set(got)) > 1:
        return ("the count changes from image to image: masking each pixel with probability fraction gives about "
                "that many, not exactly that many; choose exactly k distinct pixels per image")
    if got[0] == int(exact):
        return "int() always rounds down: round the count to the nearest whole number"
    if got[0] == math.ceil(exact):
        return "rounding up (ceil) gives one too many here: round the count to the nearest whole number"
    return "k = round(fraction * H * W), counted over the H x W pixels of one image (not over channels or the batch)"


def check_mask_noise(fn) -> None:
    """Exercise: ``fn(x, fraction)`` zeroes exactly round(fraction * H * W) pixels of every image (all channels of a
    pixel), drawn afresh per image and per call, keeps the other pixels as they are, and leaves ``x`` unchanged:
    the training loss reads the same ``x`` as its clean target. Tried on the batches of ``MASK_CASES``."""
    with config.isolated_rng(0):  # the same test every time, and the notebook's random stream left as it was
        images = [torch.rand(n, c, h, w) + 0.1 for n, c, h, w, _ in MASK_CASES]  # no zeros of their own
        given = [x.clone() for x in images]
        answers = [checks.answer(fn, x, case[-1]) for x, case in zip(given, MASK_CASES, strict=True)]
        again = checks.answer(fn, images[0].clone(), MASK_CASES[0][-1])
        ends = checks.answer(lambda x: (fn(x.clone(), 0.0), fn(x.clone(), 1.0)), images[1])
        _check_mask(answers, again, ends, images, given)


def _check_mask(answers, again, ends, images, given) -> None:
    """``check_mask_noise``'s tests, in the order a student meets them (a shape before counts)."""
    def out(i: int) -> torch.Tensor:
        return answers[i]()

    def counts(i: int) -> list[int]:
        return _masked_pixels(out(i)).tolist()

    def count_hint(i: int) -> str:
        n, _, h, w, fraction = MASK_CASES[i]
        return (f"with fraction {fraction} of {h} x {w} pixels, every image should have exactly "
                f"round({fraction * h * w:g}) = {round(fraction * h * w)} masked pixels; yours: {counts(i)}: "
                + _count_advice(counts(i), h, w, fraction))

    shapes = ", ".join(f"{n} x {c} x {h} x {w}" for n, c, h, w, _ in MASK_CASES)
    cases = range(len(MASK_CASES))
    checks.verdict("mask_noise", [
        *(checks.returns(answers[i], f"the checker calls it with batches of N x C x H x W images ({shapes}) and a "
                                     "fraction such as 0.3: a size written into the function fails on the others")
          for i in cases),
        *(checks.has_shape(answers[i], images[i].shape, "return the masked images, in the input's shape")
          for i in cases),
        (lambda: all(isinstance(out(i), torch.Tensor) for i in cases),
         lambda: f"you returned a {type(out(0)).__name__}: return a torch tensor (no NumPy), as training feeds it on"),
        (lambda: all(out(i).dtype == images[i].dtype for i in cases),
         lambda: f"your images came back as {next(out(i).dtype for i in cases if out(i).dtype != images[i].dtype)}; "
                 "keep the input's dtype (float32): a mask of another dtype changes it"),
        (lambda: all(torch.equal(given[i], images[i]) for i in cases),
         "your function changed the images it was given, in place: training reads that same tensor as the clean "
         "target, so the network would be asked to reproduce the holes; return a masked copy instead"),
        (lambda: all(bool(((out(i) == 0) | (out(i) == images[i])).all()) for i in cases),
         "the pixels you keep must keep their value, and the masked ones become 0: multiply by a 0/1 mask (dropout "
         "rescales the rest; filling with a mean or noise is another corruption)"),
        (lambda: all(torch.equal((out(i) == 0).all(1), (out(i) == 0).any(1)) for i in cases),
         "in colour images (2 x 3 x 9 x 9) your holes differ between channels: a chosen pixel is masked in all its "
         "channels, so draw the pixels over H x W and use the same mask for every channel"),
        *((lambda i=i: counts(i) == [round(MASK_CASES[i][-1] * MASK_CASES[i][2] * MASK_CASES[i][3])] * len(out(i)),
           lambda i=i: count_hint(i)) for i in cases),
        (lambda: all(len({tuple(m.flatten().tolist()) for m in (out(i) == 0).all(1)}) == len(out(i))
                     for i in (0, 3)),
         "some images of a batch got the same holes: every image gets its own random mask, drawn per image"),
        (lambda: not torch.equal(out(0) == 0, again() == 0),
         "two calls on the same images gave the same holes: draw a new mask every call (no torch.manual_seed or "
         "fixed generator inside), or every training batch would have the same holes"),
        (lambda: torch.equal(ends()[0], images[1]) and bool((ends()[1] == 0).all()),
         "fraction 0 should leave the images as they are, and fraction 1 mask every pixel"),
    ])


# (logits, clean) of the loss checker: soft targets, binary ones at the notebook's size, colour images that are not
# square, and logits of +-30 or more, where sigmoid rounds to exactly 0 or 1 in float32
def _loss_cases() -> list[tuple[torch.Tensor, torch.Tensor]]:
    with config.isolated_rng(1):
        return [(2 * torch.randn(3, 1, 6, 6), torch.rand(3, 1, 6, 6)),
                (3 * torch.randn(4, 1, 28, 28), (torch.rand(4, 1, 28, 28) > 0.7).float()),
                (torch.randn(2, 3, 5, 7), torch.rand(2, 3, 5, 7)),
                (torch.tensor([30.0, -30.0, 40.0, 5.0]).view(1, 1, 2, 2), torch.tensor([0.0, 1.0, 0.0, 1.0]).view(
                    1, 1, 2, 2))]


def _loss_mistakes(logits: torch.Tensor, clean: torch.Tensor) -> dict[str, torch.Tensor]:
    """The losses the usual wrong answers give, each with the words that name the mistake (never the answer)."""
    right = F.binary_cross_entropy_with_logits(logits, clean)
    z = torch.sigmoid(logits)
    per_image = clean[0].numel()
    return {
        "the sigmoid is applied twice: the loss takes the logits as they are (binary_cross_entropy_with_logits "
        "applies the sigmoid itself)": F.binary_cross_entropy_with_logits(z, clean),
        "summed, not averaged: the loss is the mean over images, channels and pixels": right * clean.numel(),
        "summed over the pixels of each image, then averaged over images: average over the pixels too":
            right * per_image,
        "that is the squared error of the probabilities, not the cross-entropy L_H": F.mse_loss(z, clean),
        "the sign: L_H is minus the mean of x log z + (1 - x) log(1 - z), a positive number": -right,
        "one term is missing: L_H has x log z for the ink and (1 - x) log(1 - z) for the background":
            -(clean * F.logsigmoid(logits)).mean(),
        "the roles are swapped: the clean image x is the target, z = sigmoid(logits) the prediction":
            F.binary_cross_entropy_with_logits(clean, z),
        "the logs are taken of the probabilities: at logits like +-30, sigmoid rounds to exactly 0 or 1 in float32 "
        "and log(0) is capped (F.binary_cross_entropy caps it at -100) or clamped by an epsilon; take log z and "
        "log(1 - z) from the logits": F.binary_cross_entropy(z, clean),
    }


def check_reconstruction_loss(fn) -> None:
    """Exercise: ``fn(logits, clean)`` = mean binary cross-entropy of sigmoid(logits) against the clean image, as
    training calls it: logits that need gradients, on the batches of ``_loss_cases``. The value and the gradient
    to the logits must be the library's (``cross_entropy``); the hints name the usual mistakes."""
    cases = _loss_cases()

    def run(loss, i: int) -> tuple[object, torch.Tensor | None]:
        logits, clean = cases[i][0].clone().requires_grad_(), cases[i][1].clone()
        value = loss(logits, clean)
        if isinstance(value, torch.Tensor) and value.requires_grad and value.numel() == 1:
            try:
                value.sum().backward()
            except RuntimeError:  # a graph cut somewhere: the gradient stays None and says so
                pass
        return value, logits.grad

    want = [(float(v.detach()), grad) for v, grad in (run(cross_entropy, i)
                                                       for i in range(len(cases)))]
    answers = [checks.answer(run, fn, i) for i in range(len(cases))]
    _check_loss(cases, want, answers)


def _check_loss(cases, want, answers) -> None:
    """``check_reconstruction_loss``'s tests, in the order a student meets them."""
    def got(i: int) -> object:
        return answers[i]()[0]

    def value(i: int) -> float:
        return checks.scalar(got(i))

    def value_hint() -> str:
        i = next(i for i in range(len(cases)) if not checks.close(value(i), want[i][0]))
        logits, clean = cases[i]
        named = [mistake for mistake, loss in _loss_mistakes(logits, clean).items()
                 if checks.close(value(i), float(loss))]
        where = "logits of +-30 and 40" if i == 3 else "random logits"
        advice = named[0] if named else ("right on ordinary logits but not on large ones: take log z and log(1 - z) "
                                         "from the logits, as log-sigmoid does" if i == 3 else
                                         "go through L_H term by term (the hint below helps)")
        return (f"on {where} and a {' x '.join(map(str, clean.shape))} batch of clean images the loss is "
                f"{want[i][0]:.4f}, you gave {value(i):.4f}: {advice}")

    cases_ = range(len(cases))
    shapes = ", ".join(" x ".join(map(str, clean.shape)) for _, clean in cases)
    checks.verdict("reconstruction loss", [
        *(checks.returns(answers[i], f"the checker calls it as training does: logits (any real numbers, not "
                                     f"probabilities; a tensor that needs gradients) and clean images in [0, 1], "
                                     f"{shapes}: F.binary_cross_entropy refuses logits, and NumPy refuses a tensor "
                                     "that needs gradients") for i in cases_),
        *(checks.has_shape(lambda i=i: got(i), (), "the loss of the whole batch is one number, the mean over its "
                                                    "images, channels and pixels") for i in cases_),
        (lambda: all(isinstance(got(i), torch.Tensor) for i in cases_),
         lambda: f"you returned a {type(got(0)).__name__}: keep the loss a torch tensor (no .item(), float() or "
                 "NumPy), training back-propagates through it"),
        (lambda: all(bool(torch.isfinite(got(i)).all()) for i in range(3)),
         "your loss is nan or inf on ordinary random logits: the logits are not probabilities (they can be "
         "negative or above 1); the probability is z = sigmoid(logits)"),
        (lambda: bool(torch.isfinite(got(3)).all()),
         "with logits of +-30 and 40 your loss is not finite: sigmoid rounds to exactly 0 or 1 in float32 and "
         "log(0) = -inf; take log z and log(1 - z) from the logits"),
        (lambda: all(got(i).requires_grad for i in cases_),
         "the loss carries no gradient (computed under torch.no_grad(), or from detached values): training "
         "back-propagates through it"),
        (lambda: all(checks.close(value(i), want[i][0]) for i in cases_), value_hint),
        (lambda: all(answers[i]()[1] is not None and torch.allclose(
            answers[i]()[1], want[i][1], atol=1e-4 * float(want[i][1].abs().max()), rtol=0) for i in cases_),
         "the value is right but the gradient to the logits is not: part of the computation uses detached values "
         "(.detach(), .data), so training would follow another loss"),
    ])


# --- the exercises at work: a short denoising run with the student's functions ---------------------------------------

# Steps of the short masked-pixels run that a student's own mask_noise and reconstruction loss train (after the
# exercises): enough to leave the mean-image level well behind, short enough to rerun after every edit.
YOUR_RUN_STEPS = {"ci": 80, "lab": 300, "full": 1000}


def train_with_yours(mask, loss, x: torch.Tensor, sizes: Sizes, seed: int = 0):
    """A fresh masked-pixels autoencoder trained for ``YOUR_RUN_STEPS`` steps with ``mask(x, fraction)`` as its
    corruption (at ``NOISE``) and ``loss(logits, clean)`` as its loss (a student's, or the course's): (model,
    history). Never saved: it shows the two functions at work, it is not one of the notebook's rows."""
    backbone = initial_backbone(sizes, seed, x.device, channels=x.shape[1])
    with config.isolated_rng(seed):
        model = AutoEncoder(backbone, tuple(x.shape[1:])).to(x.device).to(memory_format=torch.channels_last)
        objective = functools.partial(reconstruction_loss, corrupt=lambda images: mask(images, NOISE),
                                      criterion=loss)
        history = train.fit(model, train.batches(x, batch_size=sizes.batch, seed=seed), objective,
                            steps=YOUR_RUN_STEPS[sizes.name], max_seconds=sizes.max_seconds,
                            desc="your denoising autoencoder")
    return model.eval(), history


def mean_image_loss(x: torch.Tensor) -> float:
    """The chance-like level of the reconstruction loss: L_H of the mean image of ``x``, predicted for every image."""
    mean = x.mean(0, keepdim=True).clamp(1e-6, 1 - 1e-6)
    return F.binary_cross_entropy(mean.expand_as(x), x).item()


def floor_loss(x: torch.Tensor) -> float:
    """L_H of a perfect reconstruction z = x: above 0, as the grey edge pixels of a digit are neither 0 nor 1."""
    return F.binary_cross_entropy(x.clamp(1e-6, 1 - 1e-6), x).item()


def show_your_run(history: train.History, x: torch.Tensor):
    """The short run's reconstruction loss against predicting the mean training image of ``x``, with one line."""
    chance = mean_image_loss(x)
    print(f"after {history.step[-1]} steps: reconstruction loss {history.last():.3f} on masked training digits "
          f"(predicting the mean training image: {chance:.3f}; a perfect reconstruction: {floor_loss(x):.3f})")
    return show.against_chance(history, "loss", chance, ylabel="reconstruction loss L_H",
                               title="masked pixels, trained by your two functions")


@torch.no_grad()
def show_your_reconstructions(model: AutoEncoder, x: torch.Tensor, mask, seed: int = 0):
    """Test digits, masked by ``mask`` at ``NOISE``, and what the short run's autoencoder makes of them."""
    with config.isolated_rng(seed):
        masked = mask(x, NOISE)
    return _rows([("test image", x), (f"masked ({NOISE:.0%})", masked), ("reconstruction", model(masked))])
