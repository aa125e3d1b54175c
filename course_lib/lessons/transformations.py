"""Learning by transforming images (notebook 05): pretext tasks on unlabelled MNIST, judged at 100 ... 10,000 labels.

Two ways to learn from the unlabelled training digits, one backbone each:

* ``egomotion``    predict the transformation between two views (Agrawal, Carreira & Malik 2015);
* ``contrastive``  recognise the other view of the same image among the batch (SimCLR, Chen et al. 2020).

The protocol, the same for every row: a validation split is carved from the training digits (it chooses, the test set
only grades). Each backbone is frozen; its layers conv1 ... conv5 are average-pooled to the size of the code the
egomotion head reads (conv5 at 3 x 3), plus conv5 averaged globally; a linear probe is trained on ``label_draws``
labelled subsets of 100 images (10 per digit), and the layer with the best *validation* accuracy is the row's layer
for every label budget. Test error is the mean ± std over the draws. Two baselines frame it: the same protocol on
the frozen *random-init* backbone every pretext run starts from, and the same network trained end to end *from
scratch* on each labelled subset, with the augmentation the contrastive views use, stopped early on the validation
split.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import pandas as pd
import torch

from course_lib import checkpoints, checks, config, evaluate, nets, show, train
from course_lib.pretext import transformations

METHODS = ("egomotion", "contrastive")
RANDOM, SCRATCH = "random features", "scratch"
GLOBAL = "conv5 global"  # conv5 averaged over all positions: what ``Backbone.embed`` gives


@dataclass(frozen=True)
class Sizes(config.Profile):
    """Notebook 05's sizes, beside the shared ones (``sizes.width``, ``sizes.label_draws``, ``sizes.max_seconds``)."""

    train_images: int  # MNIST training images loaded (validation split included; their labels are hidden)
    val_images: int  # held out of them to choose layers and stopping points on
    steps: int  # optimiser steps of each pretext task (the same for every method)
    label_budgets: tuple[int, ...]  # labelled training images in total (a tenth of them per digit)
    scratch_steps: int  # at most this many optimiser steps for the from-scratch baseline on each labelled subset
    scratch_every: int  # ... graded on the validation split every this many steps
    scratch_patience: int  # ... and stopped when that many gradings in a row did not beat the best


SIZES = config.lesson_sizes(
    Sizes,
    ci=dict(train_images=10_000, val_images=1_000, steps=80, label_budgets=(100, 1_000), scratch_steps=100,
            scratch_every=20, scratch_patience=3),
    lab=dict(train_images=20_000, val_images=1_000, steps=400, label_budgets=(100, 300, 1_000, 10_000),
             scratch_steps=300, scratch_every=25, scratch_patience=4),
    full=dict(train_images=60_000, val_images=5_000, steps=3_000, label_budgets=(100, 300, 1_000, 10_000),
              scratch_steps=1_500, scratch_every=50, scratch_patience=6),
)

# A labelled subset this large covers most of each digit's pool, so its draws barely differ: one draw is enough.
ONE_DRAW_FROM = 10_000


# --- pretraining ----------------------------------------------------------------------------------------------

def pretext_model(method: str, backbone: nets.Backbone):
    """The model and ``train.fit`` loss of one pretext task, around ``backbone``."""
    if method == "egomotion":
        return transformations.EgomotionNet(backbone), transformations.egomotion_loss
    if method == "contrastive":
        return transformations.SimCLR(backbone), transformations.simclr_loss
    raise ValueError(f"unknown method {method!r}; choose from {METHODS}")


def pretrain(method: str, x: torch.Tensor, sizes: Sizes, seed: int = 0):
    """Train a fresh backbone with one pretext task on unlabelled images ``x``; returns (backbone, history)."""
    backbone = nets.random_backbone(x.shape[1], sizes.width, seed, x.device)
    torch.manual_seed(seed)  # the head's initial weights and the pairs drawn: the same stream for every method
    model, loss = pretext_model(method, backbone)
    history = train.fit(model.to(x.device), train.batches(x, batch_size=sizes.batch_size, seed=seed), loss,
                        steps=sizes.steps, max_seconds=sizes.max_seconds, desc=method)
    return backbone.eval(), history


def random_features(sizes: Sizes, seed: int = 0, device: torch.device | str = "cpu") -> nets.Backbone:
    """The random-init baseline: the backbone every pretext run starts from (the same seed), trained by nothing,
    probed like the others (frozen, in eval mode)."""
    return nets.random_backbone(1, sizes.width, seed, device)


def split(x: torch.Tensor, y: torch.Tensor, sizes: Sizes, seed: int = 0):
    """``((x_train, y_train), (x_val, y_val))``: the validation split that chooses layers and stopping points."""
    return evaluate.split_validation(x, y, sizes.val_images, seed)


def capped_runs(histories: dict[str, train.History]) -> list[str]:
    """The names of the runs that stopped at their time budget (for ``session.record`` and the claims)."""
    return [name for name, history in histories.items() if history.capped]


# --- the probe: every layer, the layer chosen on validation ---------------------------------------------------

def layer_features(backbone: nets.Backbone, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """{layer: features} of a frozen backbone, one pass: conv1 ... conv5 average-pooled to the size of the code
    the egomotion head reads (conv5 at 3 x 3, ``EgomotionNet.code_side``), and conv5 averaged globally."""
    side = transformations.EgomotionNet.code_side
    features = evaluate.stage_features(backbone, x, nets.STAGES, target_dim=backbone.channels["conv5"] * side**2)
    cells = features["conv5"].view(len(x), backbone.channels["conv5"], -1)
    # the mean of the 3 x 3 cells is the global average: conv5 of a 28 x 28 digit is 3 x 3, so the cells are its pixels
    features[GLOBAL] = cells.mean(2)
    return features


def labelled_subset(y: torch.Tensor, budget: int, seed: int = 0, draw: int = 0) -> torch.Tensor:
    """Indices of ``budget`` labelled images, ``budget / 10`` of each digit; draw d uses seed + 1000 d, the
    subsets ``evaluate.probe_layers`` draws, so every row sees the same labelled images."""
    return evaluate.few_labels(y, budget // 10, seed + 1000 * draw)


def draws_at(budget: int, sizes: Sizes) -> int:
    """Labelled subsets averaged at one budget: ``label_draws``, one from ``ONE_DRAW_FROM`` labels on."""
    return 1 if budget >= ONE_DRAW_FROM else sizes.label_draws


def as_error(accuracy: evaluate.Spread) -> evaluate.Spread:
    """Test error (%) from test accuracy, keeping the spread of the draws."""
    return evaluate.Spread(100.0 - float(accuracy), accuracy.std, accuracy.draws)


@dataclass
class Probed:
    """One frozen backbone under the protocol: the layer-wise probe at the smallest budget (which chooses the
    layer, on validation), the chosen layer, and the test error there at every budget."""

    layers: evaluate.LayerScores
    errors: dict[int, evaluate.Spread]

    @property
    def layer(self) -> str:
        return self.layers.best_layer


def probe(backbone: nets.Backbone, train_xy, val_xy, test_xy, sizes: Sizes, seed: int = 0,
          desc: str | None = None) -> Probed:
    """Embed once; probe every layer at the smallest budget, keep the layer best on validation, and probe that
    layer at the other budgets (choosing again at every budget would cost a probe per layer and budget). With
    ``desc``, the fitted probes are checkpointed runs ("probe of <desc>"), loaded with COURSE_PRETRAINED=1."""
    (x, y), (x_val, y_val), (x_test, y_test) = train_xy, val_xy, test_xy
    features = [layer_features(backbone, images) for images in (x, x_val, x_test)]
    labels = (y.cpu(), y_val.cpu(), y_test.cpu())

    def probe_at(budget: int, layers) -> evaluate.LayerScores:
        train_f, val_f, test_f = ({layer: f[layer] for layer in layers} for f in features)
        return evaluate.probe_layers(train_f, labels[0], val_f, labels[1], test_f, labels[2], per_class=budget // 10,
                                     draws=draws_at(budget, sizes), seed=seed, desc=desc and f"probe of {desc}")

    first, *rest = sorted(sizes.label_budgets)
    chosen = probe_at(first, features[0])
    errors = {first: as_error(chosen.best)}
    errors.update({budget: as_error(probe_at(budget, [chosen.best_layer]).best) for budget in rest})
    return Probed(chosen, errors)


def layer_errors(probes: dict[str, Probed]) -> pd.DataFrame:
    """The layer-wise table at the smallest budget, as test error (%): one column per layer, then each row's layer
    chosen on validation, the error there and its std over the labelled draws."""
    table = evaluate.layer_table({name: p.layers for name, p in probes.items()})
    numeric = [c for c in table.columns if c not in (evaluate.BEST_LAYER, evaluate.STD)]
    table[numeric] = 100.0 - table[numeric].astype(float)
    return table.rename(columns={evaluate.AT_BEST: "error at that layer"}).round(2)


# --- the from-scratch baseline, stopped on validation ---------------------------------------------------------

class EarlyStopping:
    """Watch one training run on validation data: grade it every ``every`` steps, keep the best weights, and end
    its stream of batches once ``patience`` gradings in a row have not beaten the best (``train.fit`` then stops:
    its data ran out). ``finish`` grades the last step and puts the best weights back."""

    def __init__(self, model: torch.nn.Module, val_xy, every: int, patience: int):
        self.model, self.val_xy, self.every, self.patience = model, val_xy, every, patience
        self.curve: list[tuple[int, float]] = []  # (step, validation accuracy %)
        self.best_step, self.best_accuracy, self.stopped_early = 0, -1.0, False
        self._since_best = 0
        self._best_weights: dict[str, torch.Tensor] | None = None

    def stream(self, batches):
        """``batches``, cut short when validation accuracy stops rising."""
        for step, batch in enumerate(batches):  # ``step`` optimiser steps are done when batch ``step`` is asked for
            if step and step % self.every == 0:
                self.grade(step)
                if self._since_best >= self.patience:
                    self.stopped_early = True
                    return
            yield batch

    def grade(self, step: int) -> None:
        accuracy = evaluate.accuracy(self.model, *self.val_xy)  # in eval mode
        self.model.train()  # back to training: BatchNorm uses batch statistics again
        self.curve.append((step, accuracy))
        if accuracy > self.best_accuracy:
            self.best_step, self.best_accuracy, self._since_best = step, accuracy, 0
            self._best_weights = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        else:
            self._since_best += 1

    def finish(self, steps_done: int) -> None:
        """Grade the last step (unless just graded), then keep the best weights, in eval mode."""
        if not self.curve or self.curve[-1][0] != steps_done:
            self.grade(steps_done)
        self.model.load_state_dict(self._best_weights)
        self.model.eval()

    def after_training(self, steps: int):
        """``train.fit``'s ``after`` hook: finish (the best weights are the ones a checkpoint keeps) and log the
        validation curve into the run's history, so a run loaded from a checkpoint still has it."""
        def after(model, history) -> None:
            self.finish(self.curve[-1][0] if self.stopped_early else steps)
            history.values["val_step"] = [float(step) for step, _ in self.curve]
            history.values["val_accuracy"] = [accuracy for _, accuracy in self.curve]
            history.values["best_step"] = [float(self.best_step)]
            history.values["stopped_early"] = [float(self.stopped_early)]
        return after


@dataclass
class ScratchRun:
    """One from-scratch training on one labelled subset: its test error at the step chosen on validation."""

    budget: int
    error: float
    curve: list[tuple[int, float]] = field(repr=False)  # (step, validation accuracy %)
    best_step: int
    stopped_early: bool  # False: it used all ``scratch_steps`` (validation accuracy may still have been rising)


def scratch_run(train_xy, idx: torch.Tensor, val_xy, test_xy, sizes: Sizes, seed: int = 0,
                augment=transformations.digit_view, desc: str | None = None) -> ScratchRun:
    """Train the network end to end on the labelled images ``idx``, with the contrastive views' augmentation
    (``augment``), until validation accuracy stops rising; test error (%) with the best validation weights.
    The run is named ``desc`` (default "scratch, <n> labels"; ``scratch`` adds the draw): its checkpoint's name."""
    (x, y), (x_test, y_test) = train_xy, test_xy
    idx = idx.to(x.device)
    backbone = nets.random_backbone(x.shape[1], sizes.width, seed, x.device)
    torch.manual_seed(seed)  # the head's initial weights and the augmentations: the same for every budget
    model = nets.Classifier(backbone, 10).to(x.device)
    watch = EarlyStopping(model, val_xy, sizes.scratch_every, sizes.scratch_patience)
    batches = train.batches(x[idx], y[idx], batch_size=sizes.batch_size, seed=seed, augment=augment)

    def cross_entropy(model, batch):
        return torch.nn.functional.cross_entropy(model(batch[0]), batch[1])

    history = train.fit(model, watch.stream(batches), cross_entropy, steps=sizes.scratch_steps, progress=False,
                        desc=desc or f"{SCRATCH}, {len(idx)} labels", after=watch.after_training(sizes.scratch_steps))
    curve = [(int(step), accuracy) for step, accuracy in zip(history["val_step"], history["val_accuracy"],
                                                              strict=True)]
    return ScratchRun(len(idx), 100.0 - evaluate.accuracy(model, x_test, y_test), curve, int(history["best_step"][0]),
                      bool(history["stopped_early"][0]))


def scratch(train_xy, val_xy, test_xy, sizes: Sizes, seed: int = 0) -> dict[int, list[ScratchRun]]:
    """{budget: one ``ScratchRun`` per labelled draw}, on the same labelled subsets the probes use."""
    y = train_xy[1].cpu()
    with checkpoints.one_line_for("from-scratch runs"):
        return {budget: [scratch_run(train_xy, labelled_subset(y, budget, seed, d), val_xy, test_xy, sizes, seed,
                                     desc=f"{SCRATCH}, {budget} labels, draw {d + 1}")
                         for d in range(draws_at(budget, sizes))]
                for budget in sizes.label_budgets}


def scratch_errors(runs: dict[int, list[ScratchRun]]) -> dict[int, evaluate.Spread]:
    return {budget: evaluate.Spread.of(run.error for run in rs) for budget, rs in runs.items()}


def show_scratch_curves(runs: dict[int, list[ScratchRun]]):
    """Validation accuracy of every from-scratch run against its steps; a dot marks the step it kept."""
    fig, ax = plt.subplots(figsize=(6, 3.4))
    for (budget, rs), colour in zip(runs.items(), plt.rcParams["axes.prop_cycle"].by_key()["color"], strict=False):
        for i, run in enumerate(rs):
            steps, accuracy = zip(*run.curve, strict=True)
            ax.plot(steps, accuracy, color=colour, alpha=0.8, label=f"{budget} labels" if i == 0 else None)
            ax.plot(run.best_step, dict(run.curve)[run.best_step], "o", color=colour)
    ax.set(xlabel="optimiser step", ylabel="validation accuracy (%)", ylim=(max(0, ax.get_ylim()[0]), 100),
           title="scratch baseline: stopped when validation accuracy stops rising")
    ax.legend()
    ax.grid(alpha=0.3)
    return show.finish(fig)


# --- the comparison -------------------------------------------------------------------------------------------

@dataclass
class Benchmark:
    probes: dict[str, Probed]  # every frozen backbone under the protocol
    scratch: dict[int, list[ScratchRun]]

    @property
    def errors(self) -> dict[str, dict[int, evaluate.Spread]]:
        """{row: {label budget: test error % (mean ± std over draws)}}, the scratch row last."""
        return {**{name: p.errors for name, p in self.probes.items()}, SCRATCH: scratch_errors(self.scratch)}


def benchmark(backbones: dict[str, nets.Backbone], train_xy, val_xy, test_xy, sizes: Sizes, seed: int = 0):
    """Every frozen backbone (linear probe at its layer chosen on validation) and scratch training, on the same
    labelled draws."""
    with checkpoints.one_line_for("linear probes"):
        probes = {name: probe(backbone, train_xy, val_xy, test_xy, sizes, seed, desc=name)
                  for name, backbone in backbones.items()}
    return Benchmark(probes, scratch(train_xy, val_xy, test_xy, sizes, seed))


def error_table(result: Benchmark) -> pd.DataFrame:
    """Test error (%) as "mean ± std" over the labelled draws: one row per method, one column per label budget,
    and the layer each frozen row is probed at (chosen on validation)."""
    errors = result.errors
    table = pd.DataFrame({name: {f"{k} labels": v.text() for k, v in row.items()} for name, row in errors.items()}).T
    table["layer (val)"] = [result.probes[name].layer if name in result.probes else "end to end" for name in errors]
    return table


def compare_errors(a: evaluate.Spread, b: evaluate.Spread, names: tuple[str, str]) -> str:
    """"a 7.8 ± 0.5 % vs b 13.5 ± 1.1 %: a lower error", or "...: no difference at this scale" when the gap is
    inside the spread of the draws (``evaluate.differ``)."""
    return evaluate.compare_text(a, b, names, unit=" % error", lower_is_better=True)


def best_method(result: Benchmark) -> str:
    """The pretext method whose probe scores best on the *validation* split at the smallest budget (at its layer)."""
    return max(METHODS, key=lambda m: result.probes[m].layers.val[result.probes[m].layer])


def slide_rows(result: Benchmark) -> dict[str, tuple[str | None, str | None]]:
    """The rows for ``papers.side_by_side("agrawal2015", ...)``: the slide's 8.7 % beside our *egomotion* (its
    layer chosen on validation, the pooling its head reads, the global average) and random-init features."""
    ego, rand = result.probes["egomotion"], result.probes[RANDOM]

    def at(layer: str) -> str:
        return as_error(ego.layers.test[layer]).text()

    return {
        "MNIST error, 100 labels (lecture slide)": ("MNIST error with 100 labels", None),
        f"ours: egomotion, frozen, linear probe at {ego.layer} (chosen on validation)": (None, ego.errors[100].text()),
        "ours: egomotion, conv5 pooled 3 x 3, as its head reads it": (None, at("conv5")),
        "ours: egomotion, conv5 averaged globally": (None, at(GLOBAL)),
        f"ours: random-init features at {rand.layer} (chosen on validation)": (None, rand.errors[100].text()),
    }


def headline_metrics(result: Benchmark) -> dict[str, float]:
    """The numbers ``session.record`` keeps: mean and std of every row's error at 100 and 1,000 labels, and
    egomotion's error at the pooling its head reads and averaged globally."""
    metrics = {}
    for name, row in result.errors.items():
        for budget in (100, 1000):
            key = f"error_{budget}_{name.replace(' ', '_')}"
            metrics[key], metrics[f"{key}_std"] = float(row[budget]), row[budget].std
    ego = result.probes["egomotion"].layers.test
    metrics["error_100_egomotion_conv5_3x3"] = 100.0 - float(ego["conv5"])
    metrics["error_100_egomotion_conv5_global"] = 100.0 - float(ego[GLOBAL])
    return metrics


CHANCE_ERROR = 90.0  # ten digits


def check_claim(result: Benchmark, profile: str, capped: list[str] | tuple[str, ...] = ()) -> None:
    """The notebook's claim. ``lab`` / ``full``: the pretext method chosen on validation beats random-init features
    at 100 labels, both at their layer chosen on validation, by more than the spread of the draws. ``ci`` (80 pretext
    steps, too few for that margin on every seed): the weaker claim that its error is far below chance."""
    best = best_method(result)
    ours, floor = result.errors[best][100], result.errors[RANDOM][100]
    if profile == "ci":
        checks.check_claim(f"frozen {best} features are far better than chance at 100 labels (error < 50 %, "
                           f"chance {CHANCE_ERROR:.0f} %)", ours < 50.0, f"{best} {ours.text()} %", capped=capped)
        return
    checks.check_claim("frozen self-supervised features beat frozen random-init ones at 100 labels, both at their "
                       "layer chosen on validation, by more than the spread of the draws",
                       ours < floor and evaluate.differ(ours, floor),
                       compare_errors(ours, floor, (best, RANDOM)), capped=capped)


def nt_xent_code() -> str:
    """The lines that compute NT-Xent, as they stand in ``course_lib/pretext/transformations.py``."""
    return "\n".join(inspect.getsource(fn) for fn in (transformations._contrastive_logits, transformations.nt_xent))


# --- exercise checkers ---------------------------------------------------------------------------------------

def _nt_xent_with_self(z1: torch.Tensor, z2: torch.Tensor, temperature: float) -> torch.Tensor:
    """The classic mistake, for a checker's hint: NT-Xent with each view left in its own denominator (k = i)."""
    z = torch.nn.functional.normalize(torch.cat([z1, z2]), dim=1)
    positives = torch.arange(len(z)).roll(len(z1))
    return torch.nn.functional.cross_entropy(z @ z.T / temperature, positives)


def check_nt_xent(fn) -> None:
    """Exercise: ``fn(z1, z2, temperature)`` = NT-Xent, compared with ``transformations.nt_xent`` on random
    projections at two temperatures, and on views identical to their partners (images orthogonal), where a view
    left among its own negatives shows most."""
    with config.isolated_rng(0):  # the same test projections every time; the notebook's random stream untouched
        cases = [(torch.randn(8, 16), torch.randn(8, 16), 0.3), (torch.randn(5, 7), torch.randn(5, 7), 0.1)]
    same = torch.eye(8)[:4]
    cases.append((same, same.clone(), 0.5))
    want = [float(transformations.nt_xent(*case)) for case in cases]
    z1, z2, tau = cases[0]
    first = torch.as_tensor(fn(z1.clone().requires_grad_(), z2.clone().requires_grad_(), tau))
    trainable = first.requires_grad
    got = [first.detach(), *(torch.as_tensor(fn(*case)).detach() for case in cases[1:])]

    def close(i: int, value: float) -> bool:
        return abs(float(got[i]) - value) < 1e-4 * max(1.0, abs(value))

    def hint(i: int) -> str:
        z1, _, tau = cases[i]
        what = "each view equal to its partner" if i == 2 else "random z1, z2"
        numbers = (f"for {what} ({z1.shape[0]} x {z1.shape[1]}) at temperature {tau} NT-Xent is {want[i]:.4f}, "
                   f"you gave {float(got[i]):.4f}: ")
        if close(i, float(_nt_xent_with_self(*cases[i]))):
            return numbers + ("each view is still among its own negatives; leave k = i out of the denominator (fill "
                              "the diagonal of the 2N x 2N similarity matrix with -inf before the softmax)")
        return numbers + ("scale every z to unit length, divide the 2N x 2N cosines by the temperature, leave k = i "
                          "out, and average -log softmax at each view's partner (row i of z1 pairs with row i of z2) "
                          "over all 2N views")

    checks.verdict("NT-Xent", [
        (lambda: all(g.numel() == 1 for g in got),
         lambda: "return one number, the mean of l_i over the 2N views; you gave shape "
                 f"{next(tuple(g.shape) for g in got if g.numel() != 1)}"),
        (lambda: trainable,
         "keep the loss a torch tensor computed from z1 and z2 (no .item(), no NumPy): training back-propagates "
         "through it"),
        *((lambda i=i: close(i, want[i]), lambda i=i: hint(i)) for i in (2, 0, 1)),
    ])


def check_rotation_bins(fn) -> None:
    """Exercise: ``fn(degrees)`` puts angles in [-30, 30) into 20 bins of 3 degrees, as the pretext labels."""
    bins = transformations.EgomotionBins()
    angles = torch.tensor([-30.0, -29.9, -27.0, -0.1, 0.0, 2.9, 3.0, 29.9])
    expected = bins.rotation_class(angles)
    answer = torch.as_tensor(fn(angles))
    checks.exercise("rotation bins", answer.shape == expected.shape and torch.equal(answer.long(), expected),
                    f"for angles {angles.tolist()} the bins are {expected.tolist()}, you gave {answer.tolist()}: "
                    "shift by 30 degrees, divide by the bin width (3 degrees), round down")


# --- pictures -------------------------------------------------------------------------------------------------

def show_pretexts(images: torch.Tensor, seed: int = 0, n: int = 6):
    """What each pretext task asks, as pictures: the two views it sees and, for egomotion, the label it predicts."""
    x = images[:n].cpu()
    with config.isolated_rng(seed):  # a picture should not change what the notebook trains next
        bins = transformations.EgomotionBins()
        first, second, classes = transformations.egomotion_pairs(x, bins)
        view1, view2 = transformations.simclr_views(x)
    shift = torch.stack([classes["tx"], classes["ty"]], 1) - bins.max_shift
    width = 2 * bins.max_degrees / bins.rotation_bins
    rotation = [f"{-bins.max_degrees + width * int(c):+.0f}…{-bins.max_degrees + width * (int(c) + 1):+.0f}°"
                for c in classes["rotation"]]
    rows = [x, first, second, view1, view2]
    titles = (["image"] * n + ["egomotion: view T0(x)"] + [""] * (n - 1)
              + [f"T: {int(sx):+d},{int(sy):+d} px, {r}" for (sx, sy), r in zip(shift.tolist(), rotation, strict=True)]
              + ["view t(x)"] + [""] * (n - 1) + ["view t'(x): the positive"] + [""] * (n - 1))
    return show.image_grid(torch.cat(rows), titles, ncols=n, size=1.4)

