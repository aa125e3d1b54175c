"""Colorization (notebook 06): train colorizers on CIFAR-10, ablate the loss and the temperature, probe, demo.

The method itself -- Lab, the quantised ab bins, soft encoding, rebalancing, the annealed mean, colourfulness -- is
``course_lib.pretext.colorization`` (Zhang, Isola & Efros, ECCV 2016). This module runs the notebook's experiment:

* ``ColourSpace.fit``  the Q ab bins and the rebalancing weights w, from the training images' colours;
* ``train``            one colorizer per loss (``METHODS``), all from the *same* initial weights, which are also the
                       random-init baseline of the transfer probe;
* ``colour_table``     the ablation panel in numbers, for the test images as each method colours them (and the
                       rebalanced classifier decoded at T = 1, 0.38, 0.1): how colourful (Hasler & Suesstrunk 2003)
                       and how right (the paper's AuC of the ab error, over all pixels and per colour);
* ``probe_table``      the transfer probe: a linear probe of CIFAR-10 labels on frozen features, layer by layer,
                       of the colorization backbone and of the same network at random init, each row's best layer
                       chosen on a validation split, mean ± std over labelled draws;
* ``ORDERINGS``        every ordering the notebook states, on its recorded metrics, for its table over pretraining
                       seeds (``course_lib.seeds``);
* pictures, the "Let's test it!" demo (``widgets.colorization_demo``);
* the exercise: the checker of the student's annealed mean, and ``show_your_decoding``, the trained colorizer's
  test photos decoded by it at every temperature of the panel.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import matplotlib.pyplot as plt
import pandas as pd
import torch
import torch.nn.functional as F

from course_lib import checks, config, evaluate, nets, pretrained, seeds, show, train, widgets
from course_lib.pretext import colorization as col

NOTEBOOK = "06_colorization"  # its runs' shipped weights are named after it

METHODS = ("l2 regression", "classification", "classification + rebalancing")
KEYS = {"l2 regression": "l2", "classification": "classification", "classification + rebalancing": "rebalanced",
        "random init": "random", "colorization": "colorization"}
TEMPERATURES = (1.0, col.T_PAPER, 0.1)
COLOURFULNESS_IMAGES = 1000  # test photos the colourfulness is averaged over (each is coloured six ways)


@dataclass(frozen=True)
class Sizes(config.Profile):
    """Notebook 06's sizes, beside the shared ones (``sizes.n_train``, ``sizes.width``, ``sizes.batch_size``, ...)."""

    steps: int  # optimiser steps of each colorizer (l2, classification, classification + rebalancing)
    seconds: float  # time cap of each colorizer's training (stops early, says so)
    probe_labels: int  # labelled CIFAR-10 training photos of each transfer probe (a tenth of them per class)
    validation: int  # training photos held out (with labels) to choose the probe's best layer; nothing trains on them


SIZES = config.lesson_sizes(
    Sizes,
    ci=dict(steps=150, seconds=40, probe_labels=500, validation=1000),
    lab=dict(steps=400, seconds=60, probe_labels=2000, validation=1000),
    full=dict(steps=3000, seconds=200, probe_labels=10_000, validation=5000),
)


@dataclass
class ColourSpace:
    """The quantised ab space of a training set: bin centres (Q x 2), p~ and the rebalancing weights w."""

    centres: torch.Tensor
    p_smooth: torch.Tensor
    weights: torch.Tensor

    @classmethod
    def fit(cls, rgb: torch.Tensor, lam: float = col.LAMBDA) -> ColourSpace:
        """Bins in the sRGB gamut; p from the training images' ab at the output side, smoothed; w from p~."""
        centres = col.ab_gamut().to(rgb.device)
        _, ab = col.split_lab(rgb)
        p_smooth = col.smooth(col.empirical_distribution(F.avg_pool2d(ab, col.OUTPUT_STRIDE), centres), centres)
        return cls(centres, p_smooth, col.rebalancing_weights(p_smooth, lam))

    @property
    def q(self) -> int:
        return len(self.centres)


def initial_backbone(sizes: Sizes, seed: int, device: torch.device | str = "cpu") -> nets.Backbone:
    """The initial weights every colorizer starts from; frozen as they are, the random-init baseline."""
    return nets.random_backbone(1, sizes.width, seed, device)


def loss_of(method: str, space: ColourSpace):
    """The ``train.fit`` loss of one method, and the number of output channels it needs."""
    if method == "l2 regression":
        return col.regression_loss, 2
    if method == "classification":
        return functools.partial(col.classification_loss, centres=space.centres), space.q
    if method == "classification + rebalancing":
        return functools.partial(col.classification_loss, centres=space.centres, weights=space.weights), space.q
    raise ValueError(f"unknown method {method!r}; choose from {METHODS}")


def train_colorizer(method: str, rgb: torch.Tensor, space: ColourSpace, sizes: Sizes, seed: int = 0,
                    progress: bool = True, notebook: str = NOTEBOOK, desc: str | None = None):
    """Train one colorizer on unlabelled RGB images (on their device); returns (model, history). ``notebook`` and
    ``desc``: whose run it is and its name there (default: this notebook's, named after the method); the scoreboard
    (12) trains this recipe at its own sizes under its own names."""
    desc = desc or method
    loss, out_channels = loss_of(method, space)
    backbone = initial_backbone(sizes, seed, rgb.device)
    with config.isolated_rng(seed):  # the head's initial weights: the same for every method
        model = col.Colorizer(backbone, out_channels, image_size=rgb.shape[-1]).to(rgb.device)
        model = model.to(memory_format=torch.channels_last)
        history = pretrained.load_or_train(
            model, f"{notebook}/{desc}",
            lambda: train.fit(model, train.batches(rgb, batch_size=sizes.batch_size, seed=seed), loss,
                              steps=sizes.steps, max_seconds=sizes.seconds, desc=method, progress=progress),
            sizes=sizes, seed=seed, loss=loss)
    return model.eval(), history


def train_all(rgb: torch.Tensor, space: ColourSpace, sizes: Sizes, seed: int = 0, progress: bool = True):
    """Every method: ({method: model}, {method: history})."""
    runs = {m: train_colorizer(m, rgb, space, sizes, seed, progress) for m in METHODS}
    return {m: run[0] for m, run in runs.items()}, {m: run[1] for m, run in runs.items()}


def colorize(models: dict, method: str, rgb: torch.Tensor, space: ColourSpace,
             temperature: float = col.T_PAPER) -> torch.Tensor:
    """The test images as one method colours them (classifiers decoded with the annealed mean at ``temperature``)."""
    centres = None if method == "l2 regression" else space.centres
    return col.colorize(models[method], rgb, centres, temperature)


# --- the ablation panel ----------------------------------------------------------------------------------------

def panel(models: dict, rgb: torch.Tensor, space: ColourSpace) -> dict[str, torch.Tensor]:
    """{row name: colorized images}: each method at T = 0.38, the rebalanced one at every temperature."""
    rows = {m: colorize(models, m, rgb, space) for m in METHODS}
    for t in TEMPERATURES:
        rows[f"rebalanced, T = {t:g}"] = colorize(models, METHODS[-1], rgb, space, t)
    return rows


COLOURFUL, AUC, AUC_PER_COLOUR = "colourfulness M", "AuC (%)", "AuC per colour (%)"


def colour_table(models: dict, rgb: torch.Tensor, space: ColourSpace) -> pd.DataFrame:
    """The test images as the truth, grey (the input) and every panel row colour them, measured two ways:

    * how colourful: the mean colourfulness M (Hasler & Suesstrunk), which a wrong but vivid colour raises too;
    * how right: the AuC of the ab error (``col.ab_auc``) over all pixels, where grey is a strong answer because
      most pixels are nearly grey, and per colour (``col.per_colour_weights``: every true colour counts the same),
      where the rare saturated colours count as much as the greys.

    Both are measured on the pictures as shown (colours outside the sRGB gamut clipped)."""
    rows = {"ground truth": rgb, "grey (the input)": col.grey(rgb), **panel(models, rgb, space)}
    _, truth = col.split_lab(rgb)
    per_colour = col.per_colour_weights(truth, space.centres)

    def measured(images):
        _, ab = col.split_lab(images)
        return {COLOURFUL: col.colourfulness(images).mean().item(), AUC: col.ab_auc(ab, truth),
                AUC_PER_COLOUR: col.ab_auc(ab, truth, per_colour)}

    return pd.DataFrame({name: measured(images) for name, images in rows.items()}).T


def show_panel(models: dict, rgb: torch.Tensor, space: ColourSpace):
    """The ablation as pictures: the truth, the grey input, and each panel row, for the same test images."""
    rows = {"ground truth": rgb, "input X_L": col.grey(rgb), **panel(models, rgb, space)}
    return show.image_rows(rows)


# --- what the network is asked -----------------------------------------------------------------------------------

def show_task(rgb: torch.Tensor, space: ColourSpace):
    """Input and target as pictures: the image, X_L (what the network sees), X_ab shown at constant lightness
    (what it must predict), and the bin q* of each output pixel (the class of the classification loss)."""
    lightness, ab = col.split_lab(rgb)
    flat = torch.full_like(lightness, 65.0)  # the colour alone, at one lightness for every pixel
    ab_small = F.avg_pool2d(ab, col.OUTPUT_STRIDE)
    q_star = space.centres[col.nearest_bin(ab_small, space.centres)].permute(0, 3, 1, 2)
    side = ab_small.shape[-1]
    rows = {"image": rgb, "input: X_L": col.grey(rgb), "target: X_ab": col.to_rgb(flat, ab),
            f"target: bin q* ({side}x{side}, Q={space.q})": col.to_rgb(
                flat, F.interpolate(q_star, scale_factor=float(col.OUTPUT_STRIDE)))}
    return show.image_rows(rows)


def show_colour_space(space: ColourSpace):
    """The Q bins in the ab plane: p~ (log scale), how rare each colour is, and the weight w it gets."""
    ab = space.centres.cpu().numpy()
    swatch = col.to_rgb(torch.full((1, 1, 1, space.q), 65.0), space.centres.cpu().T.reshape(1, 2, 1, space.q))
    fig, axes = plt.subplots(1, 3, figsize=(10, 3.3))
    axes[0].scatter(ab[:, 1], ab[:, 0], c=swatch[0, :, 0].T.numpy(), marker="s", s=30)
    axes[0].set_title(f"the Q = {space.q} bins (grid {col.GRID})", fontsize=9)
    rarest_shown = 1e-6  # p~ of far bins is ~0 after smoothing: show them at this floor
    for ax, values, title in ((axes[1], space.p_smooth.clamp_min(rarest_shown).log10(), "log10 p~ (CIFAR-10)"),
                              (axes[2], space.weights.log10(), "log10 w (lambda = 1/2)")):
        points = ax.scatter(ab[:, 1], ab[:, 0], c=values.cpu().numpy(), marker="s", s=30, cmap="viridis")
        fig.colorbar(points, ax=ax)
        ax.set_title(title, fontsize=9)
    for ax in axes:
        ax.set(xlabel="b", ylabel="a", aspect="equal")
    return show.finish(fig)


def show_training(histories: dict[str, train.History]):
    """Each method's training loss in a panel of its own (different losses: compare shapes, not heights)."""
    return show.training(histories, separate=True)


# --- the transfer probe ------------------------------------------------------------------------------------------

def lightness_input(rgb: torch.Tensor) -> torch.Tensor:
    """What the colorization backbone takes: X_L scaled to [-1, 1]."""
    return col.network_input(col.split_lab(rgb)[0])


RANDOM_ROW = "random init"  # the probe table's random-init row, read at its best (``evaluate.random_at_its_best``)


def probe_table(backbones: dict[str, nets.Backbone], labelled, validation, test, stages=nets.STAGES, *,
                per_class: int | None = None, draws: int = 1, seed: int = 0, Cs=evaluate.PROBE_CS) -> pd.DataFrame:
    """Linear-probe accuracy (%) of CIFAR-10 labels at every stage of each frozen backbone (rows) from X_L
    (``evaluate.probe_table``): ``draws`` probes of ``per_class`` labelled photos per class drawn from ``labelled``,
    each row's best layer and the probe's C there (of ``Cs``) chosen on ``validation``, the test
    accuracy there as mean ± std over the draws; the ``RANDOM_ROW`` at its best read (as initialised or BatchNorm
    recalibrated, chosen on validation too). The fitted probes are runs named "transfer probe: <row>" (shipped
    weights with COURSE_PRETRAINED=1)."""
    (x, y), (x_val, y_val), (x_test, y_test) = labelled, validation, test
    with pretrained.Runs(NOTEBOOK, "linear probes", per_class=per_class, draws=draws, seed=seed) as runs:
        return evaluate.probe_table(backbones, (lightness_input(x), y), (lightness_input(x_val), y_val),
                                    (lightness_input(x_test), y_test), stages, per_class=per_class, draws=draws,
                                    seed=seed, desc="transfer probe", trained=runs, random_row=RANDOM_ROW,
                                    Cs=Cs)


def _row_key(row: str) -> str:
    """The name of a colour-table row in recorded metrics: grey, l2, classification, rebalanced, rebalanced_t0_38."""
    if row.startswith("rebalanced, T = "):
        return "rebalanced_t" + row.removeprefix("rebalanced, T = ").replace(".", "_")
    return {"ground truth": "truth", "grey (the input)": "grey", **KEYS}[row]


def metrics(colours: pd.DataFrame, probes: pd.DataFrame) -> dict[str, float]:
    """The numbers to record: colourfulness and both AuCs of every row, and the probes: each row's test accuracy
    at its validation-chosen layer (``probe_<row>``, mean over the draws), its std, and every stage (and for random
    init, ``probe_random_recalibrated``: 1 where its recalibrated read was chosen)."""
    out = {f"colourfulness_{_row_key(row)}": colours.loc[row, COLOURFUL]
           for row in colours.index if row != "grey (the input)"}
    for row in colours.index.drop("ground truth"):  # the truth's AuC is 100 by definition
        out[f"auc_{_row_key(row)}"] = colours.loc[row, AUC]
        out[f"auc_per_colour_{_row_key(row)}"] = colours.loc[row, AUC_PER_COLOUR]
    stages = [column for column in probes.columns if column in nets.STAGES]
    for name, row in probes.iterrows():
        out[f"probe_{KEYS[name]}"] = float(row[evaluate.AT_BEST])
        out[f"probe_{KEYS[name]}_std"] = float(row[evaluate.STD])
        out.update({f"probe_{KEYS[name]}_{stage}": float(row[stage]) for stage in stages})
        if name == RANDOM_ROW:  # 1 where the BatchNorm-recalibrated read was the better one on validation
            out[f"probe_{KEYS[name]}_recalibrated"] = float(evaluate.read_of(probes, name) == evaluate.RECALIBRATED)
    return {k: float(v) for k, v in out.items()}


beats = evaluate.beats  # the notebook's claims call lesson.beats

# Every ordering the notebook states, on the metrics it records, for its table over pretraining seeds
# (``seeds.table(NOTEBOOK, ORDERINGS)``). The first and the last are the claims it asserts; the rest it reports.
ORDERINGS = [
    seeds.Ordering("rebalanced classification is more colourful than l2 regression (M)",
                   "colourfulness_rebalanced", "colourfulness_l2"),
    seeds.Ordering("plain classification is not more colourful than l2 regression (M)",
                   "colourfulness_l2", "colourfulness_classification"),
    seeds.Ordering("rebalancing brings the colour back: above plain classification (M)",
                   "colourfulness_rebalanced", "colourfulness_classification"),
    seeds.Ordering("the temperature: T = 0.1 more colourful than T = 1 (M)",
                   "colourfulness_rebalanced_t0_1", "colourfulness_rebalanced_t1"),
    seeds.Ordering("l2 regression above grey (AuC)", "auc_l2", "auc_grey"),
    seeds.Ordering("plain classification above grey (AuC)", "auc_classification", "auc_grey"),
    seeds.Ordering("the rebalanced network falls below grey (AuC)", "auc_grey", "auc_rebalanced"),
    seeds.Ordering("l2 regression above grey (AuC per colour)", "auc_per_colour_l2", "auc_per_colour_grey"),
    seeds.Ordering("rebalanced above l2 and plain classification (AuC per colour)",
                   "auc_per_colour_rebalanced", ("auc_per_colour_l2", "auc_per_colour_classification")),
    seeds.Ordering("rebalanced: T = 1 above T = 0.1 (AuC per colour)",
                   "auc_per_colour_rebalanced_t1", "auc_per_colour_rebalanced_t0_1"),
    seeds.Ordering("colorization features beat random init (linear probe, best layer on validation)",
                   "probe_colorization", "probe_random"),
]


def capped(histories: dict[str, train.History]) -> list[str]:
    """The methods whose training stopped at its time budget (recorded, and named beside a claim)."""
    return [name for name, history in histories.items() if history.capped]


# --- "Let's test it!" --------------------------------------------------------------------------------------------

def bundled_photos(side: int = 128) -> dict[str, torch.Tensor]:
    """Photos that ship with scikit-image (no download), centre-cropped square, ``side`` pixels, 1 x 3 x side x side."""
    import skimage.data

    return {name: widgets.square_image(getattr(skimage.data, name)(), side) for name in ("astronaut", "chelsea",
                                                                                          "coffee")}


def colorize_any(model: col.Colorizer, space: ColourSpace, rgb: torch.Tensor, temperature: float = col.T_PAPER,
                 side: int = 32) -> torch.Tensor:
    """Colour an image of any size with a network trained at ``side`` x ``side``: predict ab on a shrunk copy,
    then put it (enlarged) on the full-size lightness -- colour varies slowly, lightness carries the detail."""
    device = next(model.parameters()).device
    rgb = rgb.to(device)
    small = F.interpolate(rgb, size=(side, side), mode="bilinear", antialias=True, align_corners=False)
    with torch.no_grad():
        logits = model.eval()(lightness_input(small))
    ab = col.annealed_mean(logits, space.centres, temperature)
    return col.to_rgb(col.split_lab(rgb)[0], ab).cpu()


def demo(model: col.Colorizer, space: ColourSpace, test_rgb: torch.Tensor, n_test: int = 6,
         side: int = 128) -> widgets.Demo:
    """The "Let's test it!" demo: CIFAR test images, bundled photos, or an upload, coloured by ``model``."""
    # CIFAR images enlarged (nearest) to the photos' size, so that all show alike; the network shrinks them back
    images = {f"CIFAR test #{i}": F.interpolate(test_rgb[i:i + 1].cpu(), size=(side, side), mode="nearest")
              for i in range(n_test)}
    images.update({f"photo: {name}": photo for name, photo in bundled_photos(side).items()})
    return widgets.colorization_demo(functools.partial(colorize_any, model, space), images)


def show_photos(model: col.Colorizer, space: ColourSpace, temperature: float = col.T_PAPER):
    """The demo without a kernel: each bundled photo, its grey input and the network's colours."""
    photos = bundled_photos()
    rows = {"photo": torch.cat(list(photos.values())),
            "input X_L": col.grey(torch.cat(list(photos.values()))),
            f"colorized, T = {temperature:g}": torch.cat([colorize_any(model, space, p, temperature)
                                                          for p in photos.values()])}
    return show.image_rows(rows, size=2.0)


# --- exercise checker -------------------------------------------------------------------------------------------

annealed_mean = col.annealed_mean  # the course's, for the run after the exercise while the student's is not accepted

# (N, Q, H, W, T): the paper's T on three bins, the plain mean (T = 1) on images that are not square, the notebook's
# own bins at T = 0.1, and a T above 1 (flatter than the mean), where T multiplied and T divided differ most
# (N, Q, H, W, T), Q = 0 for the notebook's own bins; the last case, at a T so small that the probabilities raised to
# 1 / T underflow in float32 (every pixel, for logits of scale 2 over the notebook's bins), is where a literal
# exp(log z / T) / sum gives nan while the annealed mean itself is finite
ANNEALED_CASES = ((2, 3, 4, 4, col.T_PAPER), (3, 7, 2, 5, 1.0), (1, 0, 3, 3, 0.1), (2, 5, 3, 2, 2.5),
                  (1, 0, 3, 3, 0.01))
SMALL_T_CASE = 4


def _annealed_cases() -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor, float]]:
    """(logits, centres, weights of a random loss to compare gradients, T) of every case; Q = 0 stands for the
    notebook's own bins (``col.ab_gamut``)."""
    gamut = col.ab_gamut()
    with config.isolated_rng(2):
        cases = []
        for n, q, h, w, t in ANNEALED_CASES:
            centres = gamut if q == 0 else (torch.rand(q, 2) * 200 - 100).round()
            cases.append((2 * torch.randn(n, len(centres), h, w), centres, torch.randn(n, 2, h, w), t))
        return cases


def _annealed_mistakes(logits: torch.Tensor, centres: torch.Tensor, t: float) -> dict[str, torch.Tensor]:
    """The colours the usual wrong answers give, each with the words that name the mistake (never the answer)."""
    def weigh(f: torch.Tensor) -> torch.Tensor:
        return torch.einsum("nqhw,qc->nchw", f, centres)

    wrong_axis = "the softmax runs over the wrong axis: f_T is a distribution over the Q bins, dim 1 of N x Q x H x W"
    return {
        "the temperature is multiplied: f_T divides the log-probabilities by T": weigh((logits * t).softmax(1)),
        "the temperature is left out: this is the plain mean (T = 1) whatever T is": weigh(logits.softmax(1)),
        "that weighs the centres by log-probabilities: f_T(z) is a distribution again (exponentiate, then "
        "normalise)": weigh((logits / t).log_softmax(1)),
        "that is the mode (the centre of the most likely bin), the limit T -> 0, not the annealed mean":
            centres[logits.argmax(1)].permute(0, 3, 1, 2),
        "z ** (1 / T) is not normalised again: f_T(z) must sum to 1 over the bins": weigh(logits.softmax(1) ** (1 / t)),
        "the temperature divides the probabilities, not their logs: f_T(z) = exp(log z / T) / sum": weigh(
            (logits.softmax(1) / t).softmax(1)),
        wrong_axis + " (you used the batch, dim 0)": weigh((logits / t).softmax(0)),
        wrong_axis + " (you used the last axis)": weigh((logits / t).softmax(-1)),
        wrong_axis + " (you used the rows, dim 2)": weigh((logits / t).softmax(2)),
    }


def _shape_advice(got: object, n: int, q: int, h: int, w: int) -> str:
    """What a wrong shape of the colours usually comes from."""
    shape = tuple(getattr(got, "shape", ()))
    if shape == (n, h, w, 2):
        return "the two ab channels go in dim 1, as the Q bins do in the logits (N x 2 x H x W)"
    if shape == (n, q, h, w):
        return "one map per bin: weigh each bin's centre by f_T and sum over the Q bins"
    if shape == (n, 2) or shape == (2,):
        return "one colour per image (or for everything): the annealed mean is taken at every pixel"
    return "one ab colour (2 numbers) at every pixel of every image"


def check_annealed_mean(fn) -> None:
    """Exercise: ``fn(logits, centres, T)`` = the annealed mean H(Z) = sum_q f_T(z)_q * centre_q at every pixel,
    compared with ``col.annealed_mean`` on the cases of ``ANNEALED_CASES`` (values, and gradients to the logits),
    and near the mode as T -> 0. Hints name the usual mistakes."""
    cases = _annealed_cases()

    def run(annealed, i: int) -> tuple[object, torch.Tensor | None]:
        logits, centres, weights, t = cases[i]
        logits = logits.clone().requires_grad_()
        got = annealed(logits, centres.clone(), t)
        if isinstance(got, torch.Tensor) and got.requires_grad and got.shape == weights.shape:
            (got * weights).sum().backward()
        return got, logits.grad

    want = [(got.detach(), grad) for got, grad in (run(col.annealed_mean, i) for i in range(len(cases)))]
    answers = [checks.answer(run, fn, i) for i in range(len(cases))]
    logits, centres, _, _ = cases[1]
    sharp = logits.scatter_add(1, logits.argmax(1, keepdim=True), torch.full_like(logits[:, :1], 3.0))
    near_mode = checks.answer(fn, sharp, centres, 0.02)  # the top bin ahead by at least 3: f_T is almost one-hot
    _check_annealed(cases, want, answers, near_mode, centres[sharp.argmax(1)].permute(0, 3, 1, 2))


def _check_annealed(cases, want, answers, near_mode, mode) -> None:
    """``check_annealed_mean``'s tests, in the order a student meets them (a shape before values)."""
    def got(i: int) -> torch.Tensor:
        return torch.as_tensor(answers[i]()[0]).detach().float()

    def close(i: int, other: torch.Tensor) -> bool:
        return bool(torch.allclose(got(i), other.float(), atol=1e-3, rtol=1e-4))

    def value_hint(among: list[int] | None = None) -> str:
        i = next(i for i in (among or order) if not close(i, want[i][0]))
        logits, centres, _, t = cases[i]
        named = [mistake for mistake, wrong in _annealed_mistakes(logits, centres, t).items()
                 if wrong.shape == got(i).shape and close(i, wrong)]
        return (f"on random logits ({' x '.join(map(str, logits.shape))}, Q = {len(centres)} bins) at T = {t:g} your "
                "colours differ from the annealed mean: " + (named[0] if named else
                                                             "go through f_T and the expectation step by step (the "
                                                             "hint below helps)"))

    order = [0, 3, 2, 1]  # the paper's T first, T = 1 (where several mistakes coincide with the answer) last
    regular = [i for i in range(len(cases)) if i != SMALL_T_CASE]

    def small_t_hint() -> str:
        logits, centres, _, t = cases[SMALL_T_CASE]
        bad = int((~torch.isfinite(got(SMALL_T_CASE))).any(1).sum())
        pixels = logits.shape[0] * logits.shape[2] * logits.shape[3]
        return (f"at T = {t:g}, on random logits of scale 2 over Q = {len(centres)} bins, your colours hold nan or inf "
                f"at {bad} of {pixels} pixels (the annealed mean there is finite, nearly the mode): at so small a T "
                "the probabilities raised to the power 1 / T underflow to 0 in every bin (and 0 / 0 is nan), or "
                "overflow. Keep f_T in log space until it is normalised, where no number is that small or large")

    sizes = ", ".join(f"{n} x {q or 'Q'} x {h} x {w} at T = {t:g}" for n, q, h, w, t in ANNEALED_CASES)
    checks.verdict("annealed mean", [
        *(checks.returns(answers[i], f"the checker calls it with logits N x Q x H x W that need gradients ({sizes}) "
                                     "and centres Q x 2: NumPy refuses a tensor that needs gradients, and a number "
                                     "of bins or a size written into the function fails on the other cases")
          for i in range(len(cases))),
        *(checks.has_shape(lambda i=i: answers[i]()[0], want[i][0].shape,
                           lambda i=i: _shape_advice(answers[i]()[0], *ANNEALED_CASES[i][:4]))
          for i in range(len(cases))),
        (lambda: all(isinstance(answers[i]()[0], torch.Tensor) for i in range(len(cases))),
         lambda: f"you returned a {type(answers[0]()[0]).__name__}: return a torch tensor, as the colorizer puts it "
                 "back on the lightness with torch"),
        (lambda: all(bool(torch.isfinite(got(i)).all()) for i in regular),
         "your colours hold nan or inf: the logits are not probabilities (they can be negative: log of a negative "
         "number is nan); z = softmax(logits) over the bins, or work with the logits directly"),
        (lambda: all(close(i, want[i][0]) for i in order), value_hint),
        (lambda: bool(torch.isfinite(got(SMALL_T_CASE)).all()), small_t_hint),
        (lambda: close(SMALL_T_CASE, want[SMALL_T_CASE][0]), lambda: value_hint([SMALL_T_CASE])),
        (lambda: all(answers[i]()[0].requires_grad and answers[i]()[1] is not None for i in range(len(cases))),
         "your colours carry no gradient back to the logits (.detach(), .data, .numpy() or torch.no_grad inside): "
         "keep it one torch computation from the logits"),
        (lambda: all(torch.allclose(answers[i]()[1], want[i][1], atol=1e-4 * float(want[i][1].abs().max()), rtol=0)
                     for i in regular),  # a tolerance on the scale of the gradient: float32 rounding (at T = 0.01
         # it reaches 1e-3 of the scale for a right answer in log space, so that case is left out)
         "the colours are right but their gradient to the logits is not: part of the computation uses detached "
         "values (.detach(), .data)"),
        (lambda: bool(torch.allclose(torch.as_tensor(near_mode()).detach().float(), mode, atol=0.5)),
         "as T -> 0 (T = 0.02 here) the annealed mean should become the mode, the centre of the most likely bin: "
         "is your f_T numerically safe at small T (divide the logits, not the probabilities, and let softmax "
         "normalise)?"),
    ])


# --- the exercise at work: the trained colorizer decoded by the student's annealed mean ------------------------------

@torch.no_grad()
def decode_with(decode, model: col.Colorizer, rgb: torch.Tensor, space: ColourSpace,
                temperatures=TEMPERATURES, batch_size: int = 500) -> dict[float, torch.Tensor]:
    """{T: ``rgb`` colorized by ``model``, its class scores decoded by ``decode(logits, centres, T)``} (a student's
    annealed mean, or the course's): the network runs once, every temperature decodes the same scores."""
    out = {t: [] for t in temperatures}
    for start in range(0, len(rgb), batch_size):
        lightness, _ = col.split_lab(rgb[start:start + batch_size])
        logits = model.eval()(col.network_input(lightness))
        for t in temperatures:
            out[t].append(col.to_rgb(lightness, torch.as_tensor(decode(logits, space.centres, t)).to(logits)))
    return {t: torch.cat(images) for t, images in out.items()}


def show_your_decoding(decode, model: col.Colorizer, rgb: torch.Tensor, space: ColourSpace, shown: int = 8):
    """The test photos ``rgb`` colorized by the trained ``model`` through ``decode`` at every temperature: one line
    with the mean colourfulness M of each, beside the true photos', and the first ``shown`` as pictures."""
    coloured = decode_with(decode, model, rgb, space)
    m = {t: col.colourfulness(images).mean().item() for t, images in coloured.items()}
    said = ", ".join(f"{value:.1f} at T = {t:g}" for t, value in m.items())
    truth, grey = (col.colourfulness(images).mean().item() for images in (rgb, col.grey(rgb)))
    print(f"decoded by this annealed mean, {len(rgb)} test photos: colourfulness M = {said} "
          f"(the true photos: {truth:.1f}; the grey input: {grey:.1f})")
    rows = {"ground truth": rgb[:shown], "input X_L": col.grey(rgb[:shown]),
            **{f"T = {t:g} (M = {m[t]:.1f})": images[:shown] for t, images in coloured.items()}}
    return show.image_rows(rows)
