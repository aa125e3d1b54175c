"""Notebook 07's exercises: the checker of the concatenation F(X), the checker of the split-brain loss (the main
one), and the short run of fresh halves a student's loss trains."""

from __future__ import annotations

import functools
from collections.abc import Callable

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn

from course_lib import checks, config, nets, show, train
from course_lib.lessons.split_brain.training import Sizes
from course_lib.pretext import colorization as col
from course_lib.pretext import split_brain as sb


def check_concatenation(fn) -> None:
    """Exercise: ``fn(first, second)`` concatenates two halves' feature maps (N x C x H x W each) into F(X); compared
    with the library's F(X) of two random halves. The hints name the usual mistakes: the wrong order of the halves,
    the wrong axis, interleaved channels, adding instead of concatenating."""
    with config.isolated_rng(0):  # the same test maps every time, and the notebook's random stream is left alone
        model = sb.SplitBrain(nets.Backbone(1, 4), nets.Backbone(2, 4)).eval()  # random halves: L -> ab, ab -> L
        lab = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        first, second = (half.features(lab, ["conv2"])["conv2"] for half in model.halves)
        want = model.features(lab, ["conv2"])["conv2"]  # the library's F(X)
    answer = checks.answer(fn, first.clone(), second.clone())
    n, c, h, w = first.shape

    def shape_advice() -> str:
        shapes = {
            (2 * n, c, h, w): "you joined the halves along the batch axis: that makes more images, not more channels",
            (n, c, h, 2 * w): "you joined the halves along the width: that makes a wider map, not more channels",
            (n, c, 2 * h, w): "you joined the halves along the height: that makes a taller map, not more channels",
            (n, c, h, w): "that is one half's number of channels: adding or averaging the halves mixes their channels",
            (n, 2, c, h, w): "you stacked the halves on a new axis: F(X) is a map with the channels of both halves",
            (2, n, c, h, w): "you stacked the halves on a new axis: F(X) is a map with the channels of both halves",
        }
        return shapes.get(tuple(answer().shape), "F(X) keeps the N images and the H x W of the maps, with the "
                                                 "channels of both halves")

    def value_hint() -> str:
        got = answer().to(want.dtype)
        if torch.equal(got, torch.cat([second, first], 1)):
            return "the halves are in the wrong order: F(X) = {F1(X1), F2(X2)} puts the first half's channels first"
        if torch.equal(got, torch.stack([first, second], 2).flatten(1, 2)):
            return ("the channels of the two halves are interleaved (one of each, in turn): F(X) keeps each half's "
                    "channels together, one block after the other")
        return ("the shape is right but not the values: F(X) is every channel of the first half, unchanged, then "
                "every channel of the second")

    checks.verdict("split-brain features", [
        checks.returns(answer, f"the checker gives it two feature maps of the same {n} images, each {n} x {c} x {h} x "
                               f"{w} (N x C x H x W)"),
        (lambda: isinstance(answer(), torch.Tensor),
         lambda: f"you returned a {type(answer()).__name__}: return F(X) as one tensor, one feature map"),
        checks.has_shape(answer, want.shape, shape_advice),
        (lambda: torch.equal(answer().to(want.dtype), want), value_hint),
    ])


# --- the main exercise: the split-brain loss, checked, then at work ----------------------------------------------

# (images, side, width of L -> ab, width of ab -> L, seed): several sizes and seeds, the halves of different widths
LOSS_CASES = ((3, 16, 4, 4, 0), (5, 8, 4, 2, 1), (4, 12, 2, 4, 2))
HALVES = ("L → ab", "ab → L")


def _halves(case: tuple, q: int) -> tuple[col.Colorizer, col.Colorizer]:
    """A case's two fresh halves, in training mode: L -> ab (reads 1 channel, Q scores), ab -> L (2, L_BINS)."""
    _, side, width_l, width_ab, seed = case
    with config.isolated_rng(seed):
        return (col.Colorizer(nets.Backbone(1, width_l), q, side).train(),
                col.Colorizer(nets.Backbone(2, width_ab), sb.L_BINS, side).train())


def _gradient(half: torch.nn.Module) -> torch.Tensor | None:
    """All the gradients that reached a half's weights, as one vector; None if none did."""
    weights = list(half.parameters())
    if all(w.grad is None for w in weights):
        return None
    return torch.cat([(w.grad if w.grad is not None else torch.zeros_like(w)).flatten() for w in weights])


def _run(loss, case: tuple, centres: torch.Tensor):
    """``loss(l_to_ab, ab_to_l, lab, centres)`` on a case's fresh halves and random Lab images: (what it returned,
    the gradient of each half's weights after a backward pass through it, None where none reached)."""
    n, side, *_, seed = case
    with config.isolated_rng(seed):
        lab = sb.scaled_lab(torch.rand(n, 3, side, side))
    halves = _halves(case, len(centres))
    value = loss(*halves, lab.clone(), centres)
    if isinstance(value, torch.Tensor) and value.requires_grad and value.numel() == 1:
        value.backward()
    return value, tuple(_gradient(half) for half in halves)


def _close(got: torch.Tensor | None, want: torch.Tensor, tolerance: float = 1e-4) -> bool:
    return got is not None and float((got - want).norm()) <= tolerance * max(float(want.norm()), 1e-12)


def _pooled(x: torch.Tensor) -> torch.Tensor:
    return F.avg_pool2d(x, col.OUTPUT_STRIDE)


def _sampled(x: torch.Tensor) -> torch.Tensor:
    """One pixel of each output block instead of its average (a wrong target)."""
    return x[:, :, ::col.OUTPUT_STRIDE, ::col.OUTPUT_STRIDE]


def _l_bins(lab: torch.Tensor, pool=_pooled) -> torch.Tensor:
    return sb.lightness_bins((pool(lab[:, :1])[:, 0] + 1.0) * col.L_SCALE)


def _ab_term(reads, target) -> Callable:
    """One wrong L -> ab term: ``reads(lab)`` its input, ``target(scores, lab, centres)`` its loss."""
    return lambda l_to_ab, ab_to_l, lab, centres: target(l_to_ab(reads(lab)), lab, centres)


def _l_term(reads, target) -> Callable:
    """One wrong ab -> L term: ``reads(lab)`` its input, ``target(scores, lab)`` its loss."""
    return lambda l_to_ab, ab_to_l, lab, centres: target(ab_to_l(reads(lab)), lab)


def _soft(scores, lab, centres, pool=_pooled, scale=col.AB_SCALE):
    return col.soft_cross_entropy(scores, pool(lab[:, 1:]) * scale, centres)[0]


def _l_mistakes() -> list[tuple[str, Callable]]:
    """The L -> ab half's usual mistakes, each with the words that name it (never the answer)."""
    lightness = lambda lab: lab[:, :1]  # noqa: E731
    reads_colour = "the L → ab half reads a colour channel: it reads the lightness and predicts the colour"
    coarse = "an output pixel stands for the whole block of input pixels under it"
    return [
        (reads_colour, _ab_term(lambda lab: lab[:, 1:2], _soft)),
        (reads_colour, _ab_term(lambda lab: lab[:, 2:3], _soft)),
        ("the L → ab half is asked for the lightness it reads: each half predicts the channels it does not see",
         _ab_term(lightness, lambda s, lab, c: F.cross_entropy(s, _l_bins(lab)))),
        ("the colour targets are in the network's scale (about -1 to 1): the ab bins are in Lab units",
         _ab_term(lightness, lambda s, lab, c: _soft(s, lab, c, scale=1.0))),
        (f"the colour targets take one pixel of each block at the output side: {coarse}",
         _ab_term(lightness, lambda s, lab, c: _soft(s, lab, c, pool=_sampled))),
        ("the colour targets are hard labels (one bin per pixel): the course soft-encodes each colour over its "
         "nearest bins, as in notebook 06",
         _ab_term(lightness, lambda s, lab, c: F.cross_entropy(s, col.nearest_bin(_pooled(lab[:, 1:]) * col.AB_SCALE,
                                                                                    c)))),
    ]


def _ab_mistakes() -> list[tuple[str, Callable]]:
    """The ab -> L half's usual mistakes, each with the words that name it (never the answer)."""
    colour = lambda lab: lab[:, 1:]  # noqa: E731
    coarse = "an output pixel stands for the whole block of input pixels under it"

    def rounded(lab):  # the nearest bin instead of the one whose range holds the value
        lightness = (_pooled(lab[:, :1])[:, 0] + 1.0) * col.L_SCALE
        return (lightness / (100 / sb.L_BINS)).round().long().clamp(0, sb.L_BINS - 1)

    return [
        ("the ab → L half reads the lightness too: it reads only the colour, and predicts the lightness",
         _l_term(lambda lab: lab[:, :2], lambda s, lab: F.cross_entropy(s, _l_bins(lab)))),
        ("the lightness targets are binned in the network's scale (about -1 to 1): the L bins cover L from 0 to 100",
         _l_term(colour, lambda s, lab: F.cross_entropy(s, sb.lightness_bins(_pooled(lab[:, :1])[:, 0])))),
        ("the lightness is rounded to the nearest bin: a bin holds the values from its lower edge up to the next",
         _l_term(colour, lambda s, lab: F.cross_entropy(s, rounded(lab)))),
        (f"the lightness targets take one pixel of each block at the output side: {coarse}",
         _l_term(colour, lambda s, lab: F.cross_entropy(s, _l_bins(lab, pool=_sampled)))),
    ]


def _diagnosis(got: tuple, want: tuple, case: tuple, centres: torch.Tensor) -> str:
    """What is wrong, read from the gradients that reached each half (a half's gradient comes from its own term
    only): a multiple of the course's loss, or one of the usual mistakes of that half's term."""
    wrong = [k for k in range(2) if not _close(got[k], want[k])]
    if not wrong:
        return "each half gets the course's gradients, but the value is off: a term that depends on neither half?"
    ratios = {k: float(got[k] @ want[k] / (want[k] @ want[k])) for k in wrong}
    if all(_close(got[k], ratios[k] * want[k]) for k in wrong):
        if len(wrong) == 2 and all(abs(r - 0.5) < 1e-3 for r in ratios.values()):
            return ("you averaged the two halves' losses: each half is trained by the whole of its own loss, so the "
                    "two add up")
        k = wrong[0]
        return (f"the {HALVES[k]} half's loss is {ratios[k]:.3g} times the course's: averaged or summed over the "
                "wrong things? The course averages each half's loss over all its output pixels")
    for k in wrong:
        for words, mistake in (_l_mistakes, _ab_mistakes)[k]():
            if _close(got[k], _run(mistake, case, centres)[1][k]):
                return words
    return (f"the {HALVES[wrong[0]]} half's loss is not the course's: compare what it reads, what it predicts and how "
            "its targets are made with the text above (the hint below helps)")


def check_split_brain_loss(fn) -> None:
    """Exercise: ``fn(l_to_ab, ab_to_l, lab, centres)`` = the split-brain (cl, cl) loss of both halves, compared with
    ``sb.split_brain_loss`` on fresh random halves and random Lab images of three sizes and seeds (``LOSS_CASES``,
    the halves of different widths in two): its value, and the gradients that reach each half's weights. The hints
    name the usual mistakes: one direction only, a half reading the other half's channels or predicting its own,
    targets not quantised the course's way, the halves averaged, detached values."""
    centres = col.ab_gamut()
    want = [_run(sb.split_brain_loss, case, centres) for case in LOSS_CASES]
    answers = [checks.answer(_run, fn, case, centres) for case in LOSS_CASES]

    def value(i: int):
        return answers[i]()[0]

    def grads(i: int):
        return answers[i]()[1]

    def call(i: int) -> str:
        n, side = LOSS_CASES[i][:2]
        return (f"the checker calls it with l_to_ab (reads 1 channel: the lightness), ab_to_l (reads 2: the colour), "
                f"lab ({n} x 3 x {side} x {side}, scaled Lab) and centres (the {len(centres)} ab bins): an error about "
                "channels means a half got channels it does not read (the wrong slice, or the wrong axis); one about "
                "sizes or targets, targets not at the side of the predictions, or not bin numbers of that half")

    def value_hint() -> str:
        i = next(i for i in range(len(LOSS_CASES)) if not _value_close(value(i), want[i][0]))
        n, side = LOSS_CASES[i][:2]
        numbers = (f"for {n} Lab images of {side} x {side} the split-brain loss is {_number(want[i][0]):.4f}, you "
                   f"gave {_number(value(i)):.4f}: ")
        if i > 0 and all(_close(g, w) for g, w in zip(grads(0), want[0][1], strict=True)):
            return numbers + "right on the first case but not on this one: a size or a number written into it?"
        return numbers + _diagnosis(grads(i), want[i][1], LOSS_CASES[i], centres)

    one_number = "the split-brain loss is one number for the batch, both halves' losses together"
    checks.verdict("split-brain loss", [
        checks.returns(answers[0], call(0)),
        checks.has_shape(lambda: value(0), (), one_number),
        *(test for i in (1, 2) for test in (
            checks.returns(answers[i], f"it ran on the first case but not on another, {call(i)}"),
            checks.has_shape(lambda i=i: value(i), (), one_number))),
        (lambda: all(isinstance(value(i), torch.Tensor) and value(i).requires_grad for i in range(len(LOSS_CASES))),
         "your loss carries no gradient: keep it a torch tensor computed from the halves' predictions (no .item(), "
         "NumPy or torch.no_grad()); training back-propagates through it"),
        *((lambda k=k: all(grads(i)[k] is not None and bool(grads(i)[k].any()) for i in range(len(LOSS_CASES))),
           f"the {half} half gets no gradient from your loss: only one direction is trained (or that half's "
           "prediction was detached); a split-brain autoencoder trains both halves")
          for k, half in enumerate(HALVES)),
        (lambda: all(_value_close(value(i), want[i][0]) for i in range(len(LOSS_CASES))), value_hint),
        (lambda: all(_close(g, w) for i in range(len(LOSS_CASES)) for g, w in zip(grads(i), want[i][1], strict=True)),
         "the value is right but the gradients are not: part of the loss is computed from detached values "
         "(.detach(), .data), so training would follow another loss"),
    ])


def _number(value) -> float:
    return float(torch.as_tensor(value).detach())


def _value_close(got, want: torch.Tensor) -> bool:
    return abs(_number(got) - _number(want)) <= 1e-4 * max(1.0, abs(_number(want)))


# Steps of the short run a student's own split-brain loss trains (after the exercise): enough for both halves to leave
# their chance levels behind, short enough to rerun after every edit.
YOUR_RUN_STEPS = {"ci": 30, "lab": 120, "full": 300}


def train_with_your_loss(loss: Callable, lab: torch.Tensor, centres: torch.Tensor, sizes: Sizes,
                         seed: int = 0) -> train.History:
    """Two fresh half-width halves, L -> ab and ab -> L (cl), trained at once for ``YOUR_RUN_STEPS`` steps by
    ``loss(l_to_ab, ab_to_l, lab, centres)`` (a student's split-brain loss, or the course's) through
    ``sb.split_brain_step``; the history logs each half's own accuracy. Never saved: it shows a loss at work, it is not
    one of the table's rows."""
    width, side = sizes.network_width // 2, lab.shape[-1]
    backbones = [nets.random_backbone(channels, width, seed, lab.device) for channels in (1, 2)]
    with config.isolated_rng(seed):  # the heads' initial weights: the same for the same seed
        halves = nn.ModuleList([col.Colorizer(backbones[0], len(centres), side),
                                col.Colorizer(backbones[1], sb.L_BINS, side)])
    halves = halves.to(lab.device).to(memory_format=torch.channels_last)
    steps = YOUR_RUN_STEPS[sizes.name]
    step = functools.partial(sb.split_brain_step, centres=centres, loss=loss)
    return train.fit(halves, train.batches(lab, batch_size=sizes.batch_size, seed=seed), step, steps=steps,
                     max_seconds=sizes.seconds, log_every=max(1, steps // 10), desc="your split-brain loss")


@torch.no_grad()
def commonest_bin(lab: torch.Tensor, centres: torch.Tensor, images: int = 1000) -> dict[str, float]:
    """How often each half would be right by always answering the commonest bin of the training images (greyish
    colours, a middle lightness): what a half gets from the frequencies of the bins alone, without looking."""
    pooled = F.avg_pool2d(lab[:images], col.OUTPUT_STRIDE)
    bins = {"acc_ab": col.nearest_bin(pooled[:, 1:] * col.AB_SCALE, centres),
            "acc_l": sb.lightness_bins((pooled[:, 0] + 1.0) * col.L_SCALE)}
    return {key: float(torch.bincount(b.flatten()).max()) / b.numel() for key, b in bins.items()}


def show_your_run(history: train.History, lab: torch.Tensor, centres: torch.Tensor):
    """Each half's accuracy in the short run against its chance level (1 / Q ab bins, 1 / L_BINS lightness bins),
    and beside it what always answering the commonest bin would get: one line, and one panel per half."""
    chance = {"acc_ab": 1 / len(centres), "acc_l": 1 / sb.L_BINS}
    commonest = commonest_bin(lab, centres)
    said = {"acc_ab": "L → ab: the colour's bin", "acc_l": "ab → L: the lightness's bin"}
    print(f"after {history.step[-1]} steps: " + "; ".join(
        f"{said[key]} {history.last(key):.1%} of output pixels (chance {chance[key]:.1%}, always the commonest bin "
        f"{commonest[key]:.1%})" for key in chance))
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
    for ax, key in zip(axes, chance, strict=True):
        ax.plot(history.step, history[key], marker="o", markersize=3, label="this run")
        ax.axhline(chance[key], color="grey", linestyle="--", label=f"chance ({chance[key]:.1%})")
        ax.axhline(commonest[key], color="grey", linestyle=":",
                   label=f"always the commonest bin ({commonest[key]:.1%})")
        ax.set(xlabel="step", ylabel="right bin (pretext accuracy)", title=said[key], ylim=(0, None))
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    return show.finish(fig)
