"""Notebook 10's pictures: the task, the drawings, one voice in many hands, the L1 optimum (per writer, per digit)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

from course_lib import evaluate, show
from course_lib.lessons.speech_to_image.evaluation import TestPairs, digit_targets, generate, judge_reads, per_digit
from course_lib.lessons.speech_to_image.training import Experiment
from course_lib.pretext import speech2image as s2i

# --- pictures -----------------------------------------------------------------------------------------------------

def show_task(ex: Experiment, n: int = 8, seed: int = 0):
    """What the network is asked: rows = the spoken digit's spectrogram, the identity (any digit, a style), the
    target (an image of the spoken digit in the same style)."""
    generator = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(ex.train_digits), generator=generator)[:n].to(ex.train_digits.device)
    identity, target, _ = s2i.make_pairs(ex.train_digits[idx], ex.images.x, ex.images.y, generator)
    specs = F.interpolate(ex.train_specs[idx], size=28, mode="bilinear").flip(-2)  # pitch up, as in a spectrogram
    specs = (specs - specs.amin((1, 2, 3), keepdim=True)) / (specs.amax((1, 2, 3), keepdim=True) -
                                                             specs.amin((1, 2, 3), keepdim=True))
    fig = show.image_rows({"input: speech": specs, "input: identity": identity, "target": target})
    for i, ax in enumerate(fig.axes[:n]):
        ax.set_title(f"says {int(ex.train_digits[idx[i]])}", fontsize=8)
    return fig


def show_generated(judge, models: dict, ex: Experiment, pairs: TestPairs, n: int = 10, seed: int = 0):
    """Test recordings drawn by each model: rows = identity, the spoken digit, then each model's drawing, titled
    with what the judge reads in it (green when it is the spoken digit)."""
    idx = torch.randperm(len(ex.test_digits), generator=torch.Generator().manual_seed(seed))[:n]
    idx = idx.to(ex.test_digits.device)
    drawn = {name: generate(model, ex.test_specs[idx], pairs.identity[idx]) for name, model in models.items()}
    fig, axes = plt.subplots(1 + len(drawn), n, figsize=(1.0 * n + 1.5, 1.25 * (1 + len(drawn))), squeeze=False)
    for i in range(n):
        axes[0, i].imshow(pairs.identity[idx[i], 0].cpu(), cmap="gray", vmin=0, vmax=1)
        axes[0, i].set_title(f"says {int(ex.test_digits[idx[i]])}", fontsize=9, fontweight="bold")
        for r, images in enumerate(drawn.values(), start=1):
            read = int(evaluate.embed(judge, images[i:i + 1]).argmax(1))
            axes[r, i].imshow(images[i, 0].cpu(), cmap="gray", vmin=0, vmax=1)
            axes[r, i].set_title(f"reads {read}", fontsize=8,
                                 color="green" if read == int(ex.test_digits[idx[i]]) else "red")
    for ax in axes.flat:
        ax.set(xticks=[], yticks=[])
    for r, name in enumerate(["identity (input)", *drawn]):
        axes[r, 0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
    return show.finish(fig)


def show_one_voice_many_writers(model, ex: Experiment, digit: int = 3, n: int = 8, seed: int = 0):
    """One recording of ``digit`` drawn with ``n`` different identities: the style should follow the identity."""
    generator = torch.Generator().manual_seed(seed)
    recording = int((ex.test_digits == digit).nonzero()[0])
    pick = torch.randint(len(ex.test_images), (n,), generator=generator).to(ex.test_images.x.device)
    identity = s2i.apply_style(ex.test_images.x[pick], s2i.random_styles(n, generator, ex.test_images.x.device))
    drawn = generate(model, ex.test_specs[recording:recording + 1].expand(n, -1, -1, -1), identity)
    return show.image_rows({"identity": identity, f"'{digit}', drawn": drawn})


def show_l1_optimum(model, ex: Experiment, pairs: TestPairs, n: int = 8, seed: int = 0):
    """Why the drawings are blurred: rows = the identity, the network's drawing, and the L1-optimal drawing (the
    per-pixel median of every training image of the spoken digit written in the identity's style), then one real
    image of the spoken digit in that style (what a sharp answer would look like)."""
    idx = torch.randperm(len(ex.test_digits), generator=torch.Generator().manual_seed(seed))[:n]
    idx = idx.to(ex.test_digits.device)
    drawn = generate(model, ex.test_specs[idx], pairs.identity[idx])
    optimum, real = [], []
    for i in idx.tolist():
        same_digit = ex.images.x[ex.images.y == ex.test_digits[i]]
        optimum.append(s2i.l1_optimum(same_digit, pairs.style[i]))
        real.append(s2i.apply_style(same_digit[:1], pairs.style[i:i + 1])[0])
    fig = show.image_rows({"identity": pairs.identity[idx], "drawn": drawn,
                           "L1 optimum (median)": torch.stack(optimum), "one real digit": torch.stack(real)})
    for i, ax in zip(idx.tolist(), fig.axes[:n], strict=True):
        ax.set_title(f"says {int(ex.test_digits[i])}", fontsize=8)
    return fig


def show_your_l1_optimal(optimal, judge, model, ex: Experiment, pairs: TestPairs, seed: int = 0):
    """What a network that knows only the spoken digit would draw: for each digit, ``optimal`` (the student's
    ``l1_optimal``, or the course's) of the training targets of that digit in random styles (``digit_targets``),
    beside the generator's drawing of a test recording of the digit and the targets' mean (the L2 optimum). Prints
    how many of the ten L1-optimal and mean images the judge reads as their digit; titles say what it reads."""
    targets = digit_targets(ex, seed=seed)
    medians, means = per_digit(optimal, targets), torch.stack([t.mean(0) for t in targets])
    first = [int((ex.test_digits == d).nonzero()[0]) for d in range(10)]  # the first test recording of each digit
    drawn = generate(model, ex.test_specs[first], pairs.identity[first])
    rows = {"drawn (a test recording)": drawn, "L1 optimum (median)": medians, "L2 optimum (mean)": means}
    reads = {name: judge_reads(judge, images) for name, images in rows.items()}
    right = {name: int((read == torch.arange(10)).sum()) for name, read in reads.items()}
    print(f"knowing only the digit: the judge reads {right['L1 optimum (median)']} of the 10 L1-optimal images "
          f"({10 * right['L1 optimum (median)']} %) and {right['L2 optimum (mean)']} of the 10 means "
          f"({10 * right['L2 optimum (mean)']} %) as their digit (chance 10 %)")
    fig = show.image_rows(rows)
    for r, read in enumerate(reads.values()):
        for d, ax in enumerate(fig.axes[10 * r:10 * (r + 1)]):
            ax.set_title(f"says {d}, reads {int(read[d])}" if r == 0 else f"reads {int(read[d])}", fontsize=8,
                         color="green" if int(read[d]) == d else "red")
    return fig
