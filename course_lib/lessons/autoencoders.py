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
                      network's best layer chosen on a validation split held out of the training images;
* pictures: what each autoencoder is asked, reconstructions, the latent space (the bottleneck codes in 2-D: LDA fitted
  on the probe's labelled images, or PCA / t-SNE with no labels),
  errors against the masking level; the latent explorer (``widgets.latent_explorer``); the exercise checkers.

On MNIST, frozen *random* convolutional features are a strong baseline (a random ``conv3`` is far better than the
pixels). Masking noise alone leaves the best layer close to it; moved digits, which can only be put back by
recognising the shape, beat it clearly (notebook 04 records the numbers).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from course_lib import augment, checks, config, evaluate, nets, pretrained, seeds, show, train, widgets
from course_lib.pretext.autoencoder import AutoEncoder, mask_noise, reconstruction_loss

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
              per_class: int = LABELS_PER_CLASS, draws: int = 1, seed: int = 0) -> dict[str, evaluate.LayerScores]:
    """The layer-wise probe of every network: {name: ``evaluate.LayerScores``} over ``LAYERS`` (pixels first).

    ``labelled`` = (training images, their labels): each of ``draws`` probes learns from ``per_class`` of them per
    class; ``validation`` picks each network's best layer; ``test`` grades (mean and std over the draws).
    """
    (x, y), (x_val, y_val), (x_test, y_test) = labelled, validation, test
    scores = {}
    for name, backbone in backbones.items():
        train_f, val_f, test_f = (_features(backbone, images) for images in (x, x_val, x_test))
        scores[name] = evaluate.probe_layers(train_f, y, val_f, y_val, test_f, y_test, per_class=per_class,
                                             draws=draws, seed=seed)
    return scores


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
    labelled draws) and its std, and every layer of the ``per_layer`` networks."""
    out = {}
    for name, s in scores.items():
        out[f"probe_100_{KEYS[name]}_best"] = float(s.best)
        out[f"probe_100_{KEYS[name]}_best_std"] = s.best.std
    out["probe_100_pixels"] = float(next(iter(scores.values())).test["pixels"])
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

def check_mask_noise(fn) -> None:
    """Exercise: ``fn(x, fraction)`` zeroes round(fraction * H * W) pixels of every image, drawn per image."""
    with config.isolated_rng(0):  # the same test every time, and the notebook's random stream left as it was
        x = torch.rand(4, 1, 10, 10) + 0.1  # no zeros of its own
        out = fn(x.clone(), 0.3)
        small = fn(x[..., :6, :6].clone(), 0.3)  # 0.3 * 36 = 10.8 pixels: rounding and int() differ here
        checks.verdict("mask_noise", [
            (lambda: isinstance(out, torch.Tensor) and out.shape == x.shape,
             f"return a tensor of the input's shape {tuple(x.shape)}"),
            (lambda: (out == 0).flatten(1).sum(1).tolist() == [30] * 4,
             lambda: "with fraction 0.3 of 10 x 10 pixels, exactly 30 per image should be 0; you zeroed "
             f"{(out == 0).flatten(1).sum(1).tolist()}: pick exactly round(fraction * H * W) distinct pixels, "
             "e.g. torch.rand(n, H * W).argsort(1)[:, :k]"),
            (lambda: bool(((out == 0) | (out == x)).all()),
             "pixels that are not masked keep their value: multiply by a 0/1 mask, do not rescale"),
            (lambda: not torch.equal(out[0] == 0, out[1] == 0),
             "every image gets its own random mask: draw one random order per image, not one per batch"),
            (lambda: torch.equal(fn(x.clone(), 0.0), x), "fraction 0 leaves the image as it is"),
            (lambda: (torch.as_tensor(small) == 0).flatten(1).sum(1).tolist() == [round(0.3 * 36)] * 4,
             lambda: "with fraction 0.3 of 6 x 6 pixels (10.8) you zeroed "
             f"{(torch.as_tensor(small) == 0).flatten(1).sum(1).tolist()} per image: round the count to the nearest "
             "whole number, int() always rounds down"),
        ])


def check_reconstruction_loss(fn) -> None:
    """Exercise: ``fn(logits, clean)`` = mean binary cross-entropy of sigmoid(logits) against the clean image."""
    with config.isolated_rng(0):
        logits, clean = torch.randn(3, 1, 6, 6), torch.rand(3, 1, 6, 6)
    want = F.binary_cross_entropy_with_logits(logits, clean).item()
    fn = checks.guarded(fn)
    got = functools.cache(lambda: torch.as_tensor(fn(logits, clean)).float())
    big = torch.full((1, 1, 2, 2), 200.0)  # sigmoid(200) rounds to 1.0: log(1 - z) must not blow up
    checks.verdict("reconstruction loss", [
        (lambda: got().numel() == 1,
         lambda: f"your function returned shape {tuple(got().shape)}; expected one number: the loss of the whole "
         "batch, averaged over its images and pixels"),
        (lambda: abs(float(got()) - want) < 1e-4 * max(1.0, abs(want)),
         lambda: f"expected {want:.4f}, got {float(got()):.4f}: L_H(x, z) = -mean(x log z + (1 - x) log(1 - z)) with "
         "z = sigmoid(logits); F.binary_cross_entropy_with_logits does it stably"),
        (lambda: bool(torch.isfinite(torch.as_tensor(fn(big, torch.zeros_like(big))))),
         "with logits of 200 your loss is not finite: work with the logits (log-sigmoid), not the probabilities"),
    ])
